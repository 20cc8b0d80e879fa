/// \file ferx/learn/sequence_head.hpp
/// A sequence classifier ("sequence head") trained on the CPU: one recurrent layer (LSTM or GRU)
/// over a clip's per-frame features, its last hidden state through dropout and dense layers
/// (ReLU) to K logits; softmax cross-entropy with optional class weights and L2 weight decay,
/// back-propagation through time, Adam on shuffled mini-batches, optional gradient-norm
/// clipping. The CNN-LSTM of the FER theses is this head on per-frame CNN features:
///
///     ferx::sequence_head_params p;              // LSTM(108) -> dropout -> FC 256 -> FC K
///     p.class_weight = ferx::balanced_class_weights(y_train, 7);
///     std::vector<xt::xtensor<float, 2>> clips = ...;               // one [T_i, d] per clip
///     auto head = ferx::fit_sequence_head(ferx::exec::seq, clips, y_train, p);
///     ferx::label_vector labels = ferx::predict(ferx::exec::par, head, test_clips);
///     ferx::save_model("head.ferx", head);                           // section "sequence_head"
///     ferx::nn::session s(ferx::sequence_head_graph(head));          // or ferx::nn::save_onnx(...)
///
/// Cells follow ONNX's equations with the default activations (and ONNX's gate order, so the
/// weights go into an ONNX LSTM / GRU node as they are): LSTM gates i, o, f, c; GRU gates
/// z, r, h with linear_before_reset = 1 (the reset gate multiplies R_h h + Rb_h, as cuDNN and
/// PyTorch compute it). The state starts at zero; clips may differ in length (T_i >= 1), and the
/// classifier reads the state after each clip's last frame.
///
/// Training is deterministic for a given seed: initialisation (recurrent weights uniform in
/// +-1/sqrt(H), biases 0 but the LSTM forget gate's input bias 1; dense layers as the dense
/// head), shuffling and dropout masks come from one std::mt19937_64 and the arithmetic runs on
/// the calling thread in a fixed order, so `seq` and `par` give the same weights bit for bit;
/// `par` parallelises prediction over clips. Values are double precision throughout.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/learn/dataset.hpp>
#include <ferx/learn/dense_head.hpp>
#include <ferx/learn/model_io.hpp>
#include <ferx/nn/builder.hpp>
#include <ferx/nn/graph.hpp>

#include <xtensor/xbuilder.hpp>
#include <xtensor/xtensor.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN

/// The recurrent cell of a sequence head.
enum class recurrent_cell { lstm, gru };

/// Hyper-parameters of fit_sequence_head.
struct sequence_head_params {
    recurrent_cell cell = recurrent_cell::lstm;
    std::size_t hidden_size = 108;         ///< H, the recurrent state's width, > 0
    std::vector<std::size_t> dense{256};   ///< widths of the dense layers (ReLU) after the recurrent layer
    double dropout = 0.5;                  ///< drop probability on the last state and on each dense layer's output, in [0, 1)
    double learning_rate = 1e-3;           ///< Adam step size, > 0
    double beta1 = 0.9;                    ///< Adam first-moment decay, in [0, 1)
    double beta2 = 0.999;                  ///< Adam second-moment decay, in [0, 1)
    double epsilon = 1e-8;                 ///< Adam denominator guard, > 0
    double weight_decay = 0.0;             ///< L2 penalty 0.5 * wd * |W|^2 on every weight matrix (not biases), >= 0
    double clip_norm = 0.0;                ///< > 0: scale each step's gradient down to this global L2 norm; 0: no clipping
    std::size_t batch_size = 16;           ///< clips per Adam step, > 0
    std::size_t epochs = 100;              ///< passes over the shuffled training clips, > 0
    std::vector<double> class_weight;      ///< empty, or one positive factor per class on its loss terms
    std::uint64_t seed = 1;                ///< initialisation, shuffling and dropout
    int n_classes = 0;                     ///< K; 0: the largest label + 1
};

/// A fitted sequence head. With G = 4 (LSTM) or 3 (GRU) gates, in ONNX's order:
/// pre-activations a = w x_t + wb + r h_{t-1} + rb (GRU's h gate: w_h x_t + wb_h + z_r * (r_h h + rb_h)).
struct sequence_head_model {
    recurrent_cell cell = recurrent_cell::lstm;
    std::size_t dim = 0;               ///< per-frame features d
    std::size_t hidden = 0;            ///< H
    int n_classes = 0;                 ///< K
    xt::xtensor<double, 2> w;          ///< [G H, d] input weights
    xt::xtensor<double, 2> r;          ///< [G H, H] recurrent weights
    std::vector<double> wb, rb;        ///< [G H] input and recurrent biases
    std::vector<dense_layer> layers;   ///< H -> dense... -> K (ReLU after all but the last)
    std::vector<double> epoch_loss;    ///< mean training loss of each epoch (diagnostics; not saved)

    std::size_t gates() const noexcept { return cell == recurrent_cell::lstm ? 4 : 3; }
};

namespace detail {

inline double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

/// What one clip's forward pass keeps for its backward pass: per step t (0-based) the gates
/// after their activations (gates[t G H ...]), the states h_t and (LSTM) c_t at (t + 1) H with
/// h_0 = c_0 = 0 at 0, and (GRU) r_h h_{t-1} + rb_h at t H.
struct recurrent_trace {
    std::size_t steps = 0;
    std::vector<double> gates, h, c, rh;
    const double* last() const { return h.data() + steps * (h.size() / (steps + 1)); }
};

template <class T>
void recurrent_forward(const sequence_head_model& m, const xt::xtensor<T, 2>& x, recurrent_trace& tr) {
    const std::size_t H = m.hidden, G = m.gates(), d = m.dim, steps = x.shape(0);
    tr.steps = steps;
    tr.gates.assign(steps * G * H, 0.0);
    tr.h.assign((steps + 1) * H, 0.0);
    if (m.cell == recurrent_cell::lstm) tr.c.assign((steps + 1) * H, 0.0);
    else tr.rh.assign(steps * H, 0.0);
    std::vector<double> xt_(d), a(G * H);
    for (std::size_t t = 0; t < steps; ++t) {
        for (std::size_t j = 0; j < d; ++j) xt_[j] = static_cast<double>(x(t, j));
        const double* hp = tr.h.data() + t * H;
        double* g = tr.gates.data() + t * G * H;
        for (std::size_t q = 0; q < G * H; ++q) {
            const double* wq = &m.w(q, 0);
            double s = m.wb[q];
            for (std::size_t j = 0; j < d; ++j) s += wq[j] * xt_[j];
            a[q] = s;
        }
        double* h = tr.h.data() + (t + 1) * H;
        if (m.cell == recurrent_cell::lstm) {
            for (std::size_t q = 0; q < G * H; ++q) {
                const double* rq = &m.r(q, 0);
                double s = a[q] + m.rb[q];
                for (std::size_t j = 0; j < H; ++j) s += rq[j] * hp[j];
                g[q] = q < 3 * H ? sigmoid(s) : std::tanh(s);
            }
            const double* cp = tr.c.data() + t * H;
            double* c = tr.c.data() + (t + 1) * H;
            for (std::size_t j = 0; j < H; ++j) {
                c[j] = g[2 * H + j] * cp[j] + g[j] * g[3 * H + j];
                h[j] = g[H + j] * std::tanh(c[j]);
            }
        } else {
            double* rh = tr.rh.data() + t * H;
            for (std::size_t q = 0; q < G * H; ++q) {
                const double* rq = &m.r(q, 0);
                double s = m.rb[q];
                for (std::size_t j = 0; j < H; ++j) s += rq[j] * hp[j];
                if (q < 2 * H) g[q] = sigmoid(a[q] + s);
                else rh[q - 2 * H] = s;
            }
            for (std::size_t j = 0; j < H; ++j) {
                g[2 * H + j] = std::tanh(a[2 * H + j] + g[H + j] * rh[j]);
                h[j] = (1 - g[j]) * g[2 * H + j] + g[j] * hp[j];
            }
        }
    }
}

/// Back-propagation through time: dh is d loss / d h_T on entry; the recurrent weights'
/// gradients are added to g.
template <class T>
void recurrent_backward(const sequence_head_model& m, const xt::xtensor<T, 2>& x, const recurrent_trace& tr,
                        std::vector<double> dh, sequence_head_model& g) {
    const std::size_t H = m.hidden, G = m.gates(), d = m.dim;
    std::vector<double> dc(H, 0.0), daw(G * H), dar(G * H), dh_prev(H);
    for (std::size_t t = tr.steps; t-- > 0;) {
        const double* gt = tr.gates.data() + t * G * H;
        const double* hp = tr.h.data() + t * H;
        if (m.cell == recurrent_cell::lstm) {
            const double* cp = tr.c.data() + t * H;
            const double* c = tr.c.data() + (t + 1) * H;
            for (std::size_t j = 0; j < H; ++j) {
                const double i = gt[j], o = gt[H + j], f = gt[2 * H + j], z = gt[3 * H + j], tc = std::tanh(c[j]);
                const double dcj = dc[j] + dh[j] * o * (1 - tc * tc);
                daw[j] = dcj * z * i * (1 - i);
                daw[H + j] = dh[j] * tc * o * (1 - o);
                daw[2 * H + j] = dcj * cp[j] * f * (1 - f);
                daw[3 * H + j] = dcj * i * (1 - z * z);
                dc[j] = dcj * f;
            }
            std::copy(daw.begin(), daw.end(), dar.begin());
            std::fill(dh_prev.begin(), dh_prev.end(), 0.0);
        } else {
            const double* rh = tr.rh.data() + t * H;
            for (std::size_t j = 0; j < H; ++j) {
                const double z = gt[j], rr = gt[H + j], n = gt[2 * H + j];
                const double dn = dh[j] * (1 - z) * (1 - n * n);  // d loss / d (n's pre-activation)
                daw[j] = dar[j] = dh[j] * (hp[j] - n) * z * (1 - z);
                daw[H + j] = dar[H + j] = dn * rh[j] * rr * (1 - rr);
                daw[2 * H + j] = dn;
                dar[2 * H + j] = dn * rr;
                dh_prev[j] = dh[j] * z;
            }
        }
        for (std::size_t q = 0; q < G * H; ++q) {
            double* gw = &g.w(q, 0);
            for (std::size_t j = 0; j < d; ++j) gw[j] += daw[q] * static_cast<double>(x(t, j));
            g.wb[q] += daw[q];
            double* gr = &g.r(q, 0);
            const double* rq = &m.r(q, 0);
            for (std::size_t j = 0; j < H; ++j) {
                gr[j] += dar[q] * hp[j];
                dh_prev[j] += rq[j] * dar[q];
            }
            g.rb[q] += dar[q];
        }
        dh.swap(dh_prev);
    }
}

/// A model of m's shapes with every parameter 0 (gradients, Adam moments).
inline sequence_head_model zeros_like(const sequence_head_model& m) {
    sequence_head_model z;
    z.cell = m.cell, z.dim = m.dim, z.hidden = m.hidden, z.n_classes = m.n_classes;
    z.w = xt::zeros<double>(m.w.shape());
    z.r = xt::zeros<double>(m.r.shape());
    z.wb.assign(m.wb.size(), 0.0);
    z.rb.assign(m.rb.size(), 0.0);
    for (const auto& ly : m.layers) z.layers.push_back({xt::zeros<double>(ly.w.shape()), std::vector<double>(ly.b.size(), 0.0)});
    return z;
}

/// A contiguous block of parameters: its values, their count, and whether weight decay applies.
struct parameter_block {
    double* p;
    std::size_t n;
    bool decay;
};

/// Every parameter of m, in a fixed order (the same for models of the same shapes).
inline std::vector<parameter_block> parameter_blocks(sequence_head_model& m) {
    std::vector<parameter_block> b{{m.w.data(), m.w.size(), true},
                                   {m.r.data(), m.r.size(), true},
                                   {m.wb.data(), m.wb.size(), false},
                                   {m.rb.data(), m.rb.size(), false}};
    for (auto& ly : m.layers) {
        b.push_back({ly.w.data(), ly.w.size(), true});
        b.push_back({ly.b.data(), ly.b.size(), false});
    }
    return b;
}

/// Forward and backward pass over `rows` of xs: loss = (1/B) sum_i cw[y_i] * CE_i
/// + 0.5 * wd * sum |W|^2, returned, and its gradient in `grad` (a zeros_like(m), overwritten).
/// With `rng` non-null, inverted dropout with probability `dropout` on the last state and on
/// each dense hidden layer's output (training); otherwise none.
template <class T>
double sequence_head_loss_gradient(const sequence_head_model& m, const std::vector<xt::xtensor<T, 2>>& xs, const label_vector& y,
                                   const std::size_t* rows, std::size_t count, const std::vector<double>& class_weight,
                                   double weight_decay, double dropout, std::mt19937_64* rng, sequence_head_model& grad) {
    for (auto& b : parameter_blocks(grad)) std::fill(b.p, b.p + b.n, 0.0);
    const std::size_t H = m.hidden, L = m.layers.size();
    std::vector<xt::xtensor<double, 2>> dw(L);
    std::vector<std::vector<double>> db(L);
    recurrent_trace tr;
    dense_pass pass;
    pass.act.resize(1);
    std::vector<double> mask(H), delta;
    const double keep = 1.0 - dropout, inv_keep = 1.0 / keep;
    for (std::size_t l = 0; l < L; ++l) {  // dense_backward adds into these: grad's own (zeroed) storage
        dw[l] = std::move(grad.layers[l].w);
        db[l] = std::move(grad.layers[l].b);
    }
    double loss = 0;
    for (std::size_t r = 0; r < count; ++r) {
        const std::size_t i = rows[r];
        recurrent_forward(m, xs[i], tr);
        const double* h = tr.last();
        pass.act[0].assign(h, h + H);
        if (rng && dropout > 0)
            for (std::size_t j = 0; j < H; ++j) pass.act[0][j] *= (mask[j] = unit_uniform(*rng) < keep ? inv_keep : 0.0);
        dense_forward(m.layers, pass, dropout, rng);
        const int label = y[i];
        const double cw = class_weight.empty() ? 1.0 : class_weight[static_cast<std::size_t>(label)];
        loss += softmax_cross_entropy(pass.act[L], label, cw, delta);
        dense_backward(m.layers, pass, delta, dw, db, true);
        if (rng && dropout > 0)
            for (std::size_t j = 0; j < H; ++j) delta[j] *= mask[j];
        recurrent_backward(m, xs[i], tr, delta, grad);
    }
    for (std::size_t l = 0; l < L; ++l) {
        grad.layers[l].w = std::move(dw[l]);
        grad.layers[l].b = std::move(db[l]);
    }
    const double scale = count ? 1.0 / static_cast<double>(count) : 0.0;
    loss *= scale;
    auto& mm = const_cast<sequence_head_model&>(m);  // read only: parameter_blocks takes a mutable model
    const auto pb = parameter_blocks(mm);
    const auto gb = parameter_blocks(grad);
    for (std::size_t b = 0; b < pb.size(); ++b)
        for (std::size_t q = 0; q < pb[b].n; ++q) {
            gb[b].p[q] *= scale;
            if (pb[b].decay && weight_decay > 0) {
                gb[b].p[q] += weight_decay * pb[b].p[q];
                loss += 0.5 * weight_decay * pb[b].p[q] * pb[b].p[q];
            }
        }
    return loss;
}

template <class T>
void check_sequences(const std::vector<xt::xtensor<T, 2>>& xs, std::size_t dim, const char* where) {
    for (std::size_t i = 0; i < xs.size(); ++i) {
        require(xs[i].shape(0) > 0, where, "sequence " + std::to_string(i) + " has no frames");
        require(xs[i].shape(1) == dim, where,
                "sequence " + std::to_string(i) + " has " + std::to_string(xs[i].shape(1)) + " features per frame, " +
                    (dim == 0 ? std::string("none expected") : "the head takes " + std::to_string(dim)));
        for (std::size_t t = 0; t < xs[i].shape(0); ++t)
            for (std::size_t j = 0; j < dim; ++j)
                require(std::isfinite(static_cast<double>(xs[i](t, j))), where,
                        "feature " + std::to_string(j) + " of frame " + std::to_string(t) + " of sequence " + std::to_string(i) +
                            " is not finite");
    }
}

inline void check_sequence_head_params(const sequence_head_params& p, int n_classes, const char* where) {
    require(p.hidden_size > 0, where, "hidden_size must be positive");
    require(p.clip_norm >= 0 && std::isfinite(p.clip_norm), where, "clip_norm must be >= 0");
    dense_head_params d;
    d.hidden = p.dense, d.dropout = p.dropout, d.learning_rate = p.learning_rate, d.beta1 = p.beta1, d.beta2 = p.beta2;
    d.epsilon = p.epsilon, d.weight_decay = p.weight_decay, d.batch_size = p.batch_size, d.epochs = p.epochs;
    d.class_weight = p.class_weight;
    check_dense_head_params(d, n_classes, where);
}

/// Logits [n, K] of the clips xs.
template <class Policy, class T>
xt::xtensor<double, 2> sequence_head_logits(const Policy& policy, const sequence_head_model& m,
                                            const std::vector<xt::xtensor<T, 2>>& xs, const char* where) {
    require(!m.layers.empty() && m.hidden > 0, where, "the model has no layers (not fitted)");
    check_sequences(xs, m.dim, where);
    const std::size_t n = xs.size(), K = static_cast<std::size_t>(m.n_classes);
    xt::xtensor<double, 2> out({n, K});
    for_each_range(policy, static_cast<std::ptrdiff_t>(n), 4, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
        recurrent_trace tr;
        dense_pass pass;
        pass.act.resize(1);
        for (auto i = static_cast<std::size_t>(lo); i < static_cast<std::size_t>(hi); ++i) {
            recurrent_forward(m, xs[i], tr);
            pass.act[0].assign(tr.last(), tr.last() + m.hidden);
            dense_forward(m.layers, pass, 0.0, nullptr);
            for (std::size_t k = 0; k < K; ++k) out(i, k) = pass.act.back()[k];
        }
    });
    return out;
}

}  // namespace detail

/// Fits a sequence head on clips xs (each [T_i, d], T_i >= 1, float or double) and labels y
/// (0..K-1, K = params.n_classes or else the largest label + 1, K >= 2). Each epoch shuffles
/// the clips and takes Adam steps on mini-batches of `batch_size` (the last one smaller).
/// Throws ferx::error for no clips, xs and y of different lengths, an empty clip, clips of
/// different feature widths, a non-finite feature, a negative label, fewer than two classes, or
/// bad parameters.
template <class Policy, class T>
sequence_head_model fit_sequence_head(const Policy&, const std::vector<xt::xtensor<T, 2>>& xs, const label_vector& y,
                                      const sequence_head_params& p = {}) {
    static_assert(is_host_policy_v<Policy>, "ferx::fit_sequence_head: needs exec::seq or exec::par");
    constexpr const char* where = "ferx::fit_sequence_head";
    detail::require(!xs.empty(), where, "no training sequences");
    detail::require(xs.size() == y.size(), where, std::to_string(y.size()) + " labels for " + std::to_string(xs.size()) + " sequences");
    detail::require(xs[0].shape(1) > 0, where, "sequence 0 has no features");
    detail::check_sequences(xs, xs[0].shape(1), where);
    const int k = detail::training_class_count(y, p.n_classes, where);
    detail::check_sequence_head_params(p, k, where);

    sequence_head_model m;
    m.cell = p.cell;
    m.dim = xs[0].shape(1);
    m.hidden = p.hidden_size;
    m.n_classes = k;
    const std::size_t H = m.hidden, G = m.gates();
    std::mt19937_64 rng(p.seed);
    const double limit = 1.0 / std::sqrt(static_cast<double>(H));
    m.w = xt::xtensor<double, 2>({G * H, m.dim});
    m.r = xt::xtensor<double, 2>({G * H, H});
    for (auto& v : m.w) v = (2 * detail::unit_uniform(rng) - 1) * limit;
    for (auto& v : m.r) v = (2 * detail::unit_uniform(rng) - 1) * limit;
    m.wb.assign(G * H, 0.0);
    m.rb.assign(G * H, 0.0);
    if (m.cell == recurrent_cell::lstm) std::fill(m.wb.begin() + 2 * H, m.wb.begin() + 3 * H, 1.0);  // forget gate
    std::vector<std::size_t> widths{H};
    widths.insert(widths.end(), p.dense.begin(), p.dense.end());
    widths.push_back(static_cast<std::size_t>(k));
    m.layers = detail::init_dense_layers(widths, rng);

    auto grad = detail::zeros_like(m), mom = detail::zeros_like(m), var = detail::zeros_like(m);
    const auto pb = detail::parameter_blocks(m), gb = detail::parameter_blocks(grad), mb = detail::parameter_blocks(mom),
               vb = detail::parameter_blocks(var);
    const std::size_t n = xs.size();
    std::vector<std::size_t> order(n);
    for (std::size_t i = 0; i < n; ++i) order[i] = i;
    detail::adam_optimizer adam{p.learning_rate, p.beta1, p.beta2, p.epsilon};
    for (std::size_t e = 0; e < p.epochs; ++e) {
        for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
        double epoch_loss = 0;
        for (std::size_t s = 0; s < n; s += p.batch_size) {
            const std::size_t count = std::min(p.batch_size, n - s);
            const double loss = detail::sequence_head_loss_gradient(m, xs, y, order.data() + s, count, p.class_weight,
                                                                    p.weight_decay, p.dropout, &rng, grad);
            detail::require(std::isfinite(loss), where, "the training loss is not finite (epoch " + std::to_string(e) +
                                                            "): lower learning_rate or set clip_norm");
            epoch_loss += loss * static_cast<double>(count);
            if (p.clip_norm > 0) {
                double sq = 0;
                for (const auto& b : gb)
                    for (std::size_t q = 0; q < b.n; ++q) sq += b.p[q] * b.p[q];
                const double norm = std::sqrt(sq);
                if (norm > p.clip_norm)
                    for (const auto& b : gb)
                        for (std::size_t q = 0; q < b.n; ++q) b.p[q] *= p.clip_norm / norm;
            }
            adam.next_step();
            for (std::size_t b = 0; b < pb.size(); ++b) adam.update(pb[b].p, mb[b].p, vb[b].p, gb[b].p, pb[b].n);
        }
        m.epoch_loss.push_back(epoch_loss / static_cast<double>(n));
    }
    return m;
}

/// Class probabilities [n, K] (softmax of the logits) of clips xs. Throws ferx::error for an
/// unfitted model, an empty clip, a feature width other than the model's, or a non-finite feature.
template <class Policy, class T>
xt::xtensor<double, 2> predict_proba(const Policy& policy, const sequence_head_model& m, const std::vector<xt::xtensor<T, 2>>& xs) {
    auto z = detail::sequence_head_logits(policy, m, xs, "ferx::predict_proba");
    detail::softmax_rows(z);
    return z;
}

/// The most probable class of each clip (the lowest index on ties).
template <class Policy, class T>
label_vector predict(const Policy& policy, const sequence_head_model& m, const std::vector<xt::xtensor<T, 2>>& xs) {
    return detail::argmax_rows(detail::sequence_head_logits(policy, m, xs, "ferx::predict"));
}

/// The head as a network graph the nn session runs (and ferx::nn::save_onnx writes):
/// input "sequence" [N, T, d] (every clip of a run the same length T; dynamic N and T),
/// Transpose to [T, N, d], an ONNX LSTM / GRU node (layout 0, the one every runtime has: ONNX
/// Runtime refuses layout 1 for LSTM), its Y_h [1, N, H] transposed to [N, 1, H], Flatten,
/// Gemm + Relu per dense layer, outputs "logits" [N, K] and "probabilities" (Softmax). Opset 14.
inline nn::graph sequence_head_graph(const sequence_head_model& m, const std::string& name = "ferx_sequence_head") {
    detail::require(!m.layers.empty() && m.hidden > 0, "ferx::sequence_head_graph", "the model has no layers (not fitted)");
    const auto G = static_cast<std::int64_t>(m.gates()), H = static_cast<std::int64_t>(m.hidden),
               d = static_cast<std::int64_t>(m.dim);
    const auto floats = [](const double* v, std::size_t n) { return std::vector<float>(v, v + n); };
    std::vector<float> bias = floats(m.wb.data(), m.wb.size());
    bias.insert(bias.end(), m.rb.begin(), m.rb.end());
    nn::graph_builder b(name);
    b.opset(14).input("sequence", {-1, -1, d});
    b.initializer("W", {{1, G * H, d}, floats(m.w.data(), m.w.size())});
    b.initializer("R", {{1, G * H, H}, floats(m.r.data(), m.r.size())});
    b.initializer("B", {{1, 2 * G * H}, bias});
    std::map<std::string, nn::attribute> attrs{{"hidden_size", std::int64_t{H}}};
    if (m.cell == recurrent_cell::gru) attrs["linear_before_reset"] = std::int64_t{1};
    const nn::attribute swap01 = std::vector<std::int64_t>{1, 0, 2};
    b.node("Transpose", {"sequence"}, {"time_major"}, {{"perm", swap01}}, "to_time_major");
    b.node(m.cell == recurrent_cell::lstm ? "LSTM" : "GRU", {"time_major", "W", "R", "B"}, {"", "state"}, attrs, "recurrent");
    b.node("Transpose", {"state"}, {"state_nh"}, {{"perm", swap01}}, "to_batch_major");
    b.node("Flatten", {"state_nh"}, {"h0"}, {{"axis", std::int64_t{1}}}, "flatten");
    for (std::size_t l = 0; l < m.layers.size(); ++l) {
        const auto& ly = m.layers[l];
        const std::string i = std::to_string(l), in = "h" + i;
        const bool last = l + 1 == m.layers.size();
        const auto out = static_cast<std::int64_t>(ly.w.shape(0)), lin = static_cast<std::int64_t>(ly.w.shape(1));
        b.initializer("dense" + i + ".w", {{out, lin}, floats(ly.w.data(), ly.w.size())});
        b.initializer("dense" + i + ".b", {{out}, floats(ly.b.data(), ly.b.size())});
        const std::string y = last ? "logits" : "z" + i;
        b.node("Gemm", {in, "dense" + i + ".w", "dense" + i + ".b"}, {y}, {{"transB", std::int64_t{1}}}, "dense" + i);
        if (!last) b.node("Relu", {y}, {"h" + std::to_string(l + 1)}, {}, "relu" + i);
    }
    b.node("Softmax", {"logits"}, {"probabilities"}, {{"axis", std::int64_t{1}}}, "softmax");
    const std::vector<std::int64_t> out_shape{-1, static_cast<std::int64_t>(m.n_classes)};
    return b.output("logits", out_shape).output("probabilities", out_shape).build();
}

/// Model files (ferx/learn/model_io.hpp): section "sequence_head" (cell, dim, hidden,
/// n_classes, w, r, wb, rb, then the dense layers as in "dense_head"); an exact round trip.
inline void write_section(model_writer& w, const sequence_head_model& m) {
    std::ostream& o = w.begin_section("sequence_head");
    o << "cell " << (m.cell == recurrent_cell::lstm ? "lstm" : "gru") << "\ndim " << m.dim << "\nhidden " << m.hidden
      << "\nn_classes " << m.n_classes << '\n';
    detail::write_values(o, "w", m.w.data(), m.w.size());
    detail::write_values(o, "r", m.r.data(), m.r.size());
    detail::write_values(o, "wb", m.wb.data(), m.wb.size());
    detail::write_values(o, "rb", m.rb.data(), m.rb.size());
    detail::write_dense_layers(o, m.layers);
}

/// Reads a "sequence_head" section; ferx::error naming the file when it is not one, names
/// another cell, or its shapes do not chain.
inline void read_section(model_reader& r, sequence_head_model& m) {
    r.begin_section("sequence_head");
    r.expect("cell");
    const std::string cell = r.word();
    if (cell == "lstm") m.cell = recurrent_cell::lstm;
    else if (cell == "gru") m.cell = recurrent_cell::gru;
    else r.fail("unknown recurrent cell '" + cell + "' (lstm or gru)");
    r.expect("dim");
    m.dim = r.count(1u << 24);
    r.expect("hidden");
    m.hidden = r.count(1u << 16);
    r.expect("n_classes");
    m.n_classes = static_cast<int>(r.count(1u << 16));
    if (m.dim == 0 || m.hidden == 0 || m.n_classes < 2) r.fail("an empty sequence head");
    const std::size_t GH = m.gates() * m.hidden;
    r.require_values(GH, m.dim + m.hidden + 2, "the recurrent layer");
    m.w = xt::xtensor<double, 2>({GH, m.dim});
    m.r = xt::xtensor<double, 2>({GH, m.hidden});
    r.expect("w");
    for (auto& v : m.w) v = r.number();
    r.expect("r");
    for (auto& v : m.r) v = r.number();
    m.wb.resize(GH);
    m.rb.resize(GH);
    r.expect("wb");
    for (auto& v : m.wb) v = r.number();
    r.expect("rb");
    for (auto& v : m.rb) v = r.number();
    m.layers = detail::read_dense_layers(r, m.hidden, static_cast<std::size_t>(m.n_classes));
}

FERX_NAMESPACE_END
