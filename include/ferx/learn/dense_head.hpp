/// \file ferx/learn/dense_head.hpp
/// A small fully connected classifier ("dense head") trained on the CPU, for transfer learning
/// on cached CNN features: dense layers with ReLU, inverted dropout (training only), softmax
/// cross-entropy with optional class weights and L2 weight decay, Adam on shuffled mini-batches.
///
///     ferx::dense_head_params p;                 // one hidden layer of 128, dropout 0.5, Adam
///     p.class_weight = ferx::balanced_class_weights(y_train, 7);
///     auto head = ferx::fit_dense_head(ferx::exec::seq, x_train, y_train, p);   // x [n, d]
///     ferx::label_vector labels = ferx::predict(ferx::exec::par, head, x_test);
///     ferx::save_dense_head("head.ferx", head);  // model_io format, section "dense_head"
///
/// Training is deterministic for a given seed: initialisation, shuffling and dropout masks come
/// from one std::mt19937_64 (whose output the standard fixes) and the arithmetic runs on the
/// calling thread in a fixed order, so `seq` and `par` give the same weights bit for bit; `par`
/// parallelises prediction over rows. Values are double precision throughout.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/learn/dataset.hpp>
#include <ferx/learn/model_io.hpp>

#include <xtensor/xbuilder.hpp>
#include <xtensor/xtensor.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN

/// Hyper-parameters of fit_dense_head.
struct dense_head_params {
    std::vector<std::size_t> hidden{128};  ///< widths of the hidden layers (ReLU); empty: softmax regression
    double dropout = 0.5;                  ///< drop probability on each hidden layer's output, in [0, 1)
    double learning_rate = 1e-3;           ///< Adam step size, > 0
    double beta1 = 0.9;                    ///< Adam first-moment decay, in [0, 1)
    double beta2 = 0.999;                  ///< Adam second-moment decay, in [0, 1)
    double epsilon = 1e-8;                 ///< Adam denominator guard, > 0
    double weight_decay = 0.0;             ///< L2 penalty 0.5 * wd * |W|^2 on the weights (not biases), >= 0
    std::size_t batch_size = 32;           ///< samples per Adam step, > 0
    std::size_t epochs = 100;              ///< passes over the shuffled training set, > 0
    std::vector<double> class_weight;      ///< empty, or one positive factor per class on its loss terms
    std::uint64_t seed = 1;                ///< initialisation, shuffling and dropout
    int n_classes = 0;                     ///< K; 0: the largest label + 1 (set it when a class may be absent from y)
};

/// One dense layer: out = w x + b.
struct dense_layer {
    xt::xtensor<double, 2> w;  ///< [out, in]
    std::vector<double> b;     ///< out biases
};

/// A fitted dense head: layers[0..L-2] are followed by ReLU, layers[L-1] gives the K logits.
struct dense_head_model {
    std::size_t dim = 0;               ///< input features d
    int n_classes = 0;                 ///< K
    std::vector<dense_layer> layers;   ///< L >= 1
    std::vector<double> epoch_loss;    ///< mean training loss of each epoch (diagnostics; not saved)
};

/// Class weights n / (K * count_k) (classes absent from y get 1): each class then contributes
/// the same total weight to the loss.
inline std::vector<double> balanced_class_weights(const label_vector& y, int n_classes) {
    detail::require(n_classes > 0, "ferx::balanced_class_weights", "no classes");
    std::vector<double> count(static_cast<std::size_t>(n_classes), 0.0), w(count.size(), 1.0);
    for (int l : y) {
        detail::require(l >= 0 && l < n_classes, "ferx::balanced_class_weights",
                        "label " + std::to_string(l) + " is not a class index");
        count[static_cast<std::size_t>(l)] += 1;
    }
    for (std::size_t k = 0; k < w.size(); ++k)
        if (count[k] > 0) w[k] = static_cast<double>(y.size()) / (static_cast<double>(n_classes) * count[k]);
    return w;
}

namespace detail {

/// Uniform double in [0, 1) from the top 53 bits of one draw (portable, unlike the distributions).
inline double unit_uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

template <class T>
void check_finite_rows(const xt::xtensor<T, 2>& x, const char* where) {
    for (std::size_t i = 0; i < x.shape(0); ++i)
        for (std::size_t j = 0; j < x.shape(1); ++j)
            require(std::isfinite(static_cast<double>(x(i, j))), where,
                    "feature " + std::to_string(j) + " of sample " + std::to_string(i) + " is not finite");
}

/// One sample's pass through dense layers: act[0] the input (set by the caller), act[l + 1] the
/// output of layer l (after ReLU and dropout for the hidden layers; the logits for the last);
/// mask[l] the factor (0, or 1 / keep when kept) applied to layer l's ReLU output.
struct dense_pass {
    std::vector<std::vector<double>> act, mask;
};

/// Forward pass of `p.act[0]` through `layers` (ReLU after all but the last). With `rng`
/// non-null and dropout > 0, inverted dropout on each hidden layer's output (training).
inline void dense_forward(const std::vector<dense_layer>& layers, dense_pass& p, double dropout, std::mt19937_64* rng) {
    const std::size_t L = layers.size();
    p.act.resize(L + 1);
    p.mask.resize(L);
    const double keep = 1.0 - dropout, inv_keep = 1.0 / keep;
    for (std::size_t l = 0; l < L; ++l) {
        const auto& ly = layers[l];
        const std::size_t out = ly.w.shape(0), in = ly.w.shape(1);
        auto& a = p.act[l + 1];
        a.resize(out);
        for (std::size_t o = 0; o < out; ++o) {
            const double* w = &ly.w(o, 0);
            double s = ly.b[o];
            for (std::size_t j = 0; j < in; ++j) s += w[j] * p.act[l][j];
            a[o] = s;
        }
        if (l + 1 < L) {
            p.mask[l].assign(out, 1.0);
            for (std::size_t o = 0; o < out; ++o) {
                if (a[o] < 0) a[o] = 0, p.mask[l][o] = 0;
                if (rng && dropout > 0) {
                    const double factor = unit_uniform(*rng) < keep ? inv_keep : 0.0;
                    a[o] *= factor;
                    p.mask[l][o] *= factor;
                }
            }
        }
    }
}

/// Backward pass: `delta` holds d loss / d logits on entry; the layers' gradients are added to
/// dw and db. With `input_gradient`, `delta` holds d loss / d act[0] on return.
inline void dense_backward(const std::vector<dense_layer>& layers, const dense_pass& p, std::vector<double>& delta,
                           std::vector<xt::xtensor<double, 2>>& dw, std::vector<std::vector<double>>& db, bool input_gradient) {
    std::vector<double> prev;
    for (std::size_t l = layers.size(); l-- > 0;) {
        const auto& ly = layers[l];
        const std::size_t out = ly.w.shape(0), in = ly.w.shape(1);
        for (std::size_t o = 0; o < out; ++o) {
            db[l][o] += delta[o];
            double* g = &dw[l](o, 0);
            for (std::size_t j = 0; j < in; ++j) g[j] += delta[o] * p.act[l][j];
        }
        if (l == 0 && !input_gradient) break;
        prev.assign(in, 0.0);
        for (std::size_t o = 0; o < out; ++o) {
            const double* w = &ly.w(o, 0);
            for (std::size_t j = 0; j < in; ++j) prev[j] += w[j] * delta[o];
        }
        if (l > 0)
            for (std::size_t j = 0; j < in; ++j) prev[j] *= p.mask[l - 1][j];
        delta.swap(prev);
    }
}

/// Weighted softmax cross-entropy of logits z for `label`: returns cw * CE and sets
/// delta = d (cw * CE) / d z = cw * (softmax(z) - onehot(label)).
inline double softmax_cross_entropy(const std::vector<double>& z, int label, double cw, std::vector<double>& delta) {
    const double zmax = *std::max_element(z.begin(), z.end());
    double sum = 0;
    for (double v : z) sum += std::exp(v - zmax);
    delta.resize(z.size());
    for (std::size_t k = 0; k < z.size(); ++k) delta[k] = cw * std::exp(z[k] - zmax) / sum;
    delta[static_cast<std::size_t>(label)] -= cw;
    return cw * (std::log(sum) - (z[static_cast<std::size_t>(label)] - zmax));
}

/// Dense layers widths[0] -> widths[1] -> ... : weights He-uniform (ReLU layers) or
/// Glorot-uniform (the last), biases 0, drawn from `rng` in order.
inline std::vector<dense_layer> init_dense_layers(const std::vector<std::size_t>& widths, std::mt19937_64& rng) {
    std::vector<dense_layer> layers;
    for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
        const std::size_t in = widths[l], out = widths[l + 1];
        const bool last = l + 2 == widths.size();
        const double limit = last ? std::sqrt(6.0 / static_cast<double>(in + out)) : std::sqrt(6.0 / static_cast<double>(in));
        dense_layer ly;
        ly.w = xt::xtensor<double, 2>({out, in});
        for (auto& v : ly.w) v = (2 * unit_uniform(rng) - 1) * limit;
        ly.b.assign(out, 0.0);
        layers.push_back(std::move(ly));
    }
    return layers;
}

/// Adam (Kingma & Ba) with bias correction; `next_step()` once per update, before `update`.
struct adam_optimizer {
    double learning_rate, beta1, beta2, epsilon;
    double b1t = 1, b2t = 1;
    void next_step() {
        b1t *= beta1;
        b2t *= beta2;
    }
    void update(double* param, double* mom, double* var, const double* grad, std::size_t n) const {
        for (std::size_t q = 0; q < n; ++q) {
            mom[q] = beta1 * mom[q] + (1 - beta1) * grad[q];
            var[q] = beta2 * var[q] + (1 - beta2) * grad[q] * grad[q];
            param[q] -= learning_rate * (mom[q] / (1 - b1t)) / (std::sqrt(var[q] / (1 - b2t)) + epsilon);
        }
    }
};

/// K for training on labels y: `n_classes` when positive (every label below it), else the
/// largest label + 1; at least 2.
inline int training_class_count(const label_vector& y, int n_classes, const char* where) {
    int k = 0;
    for (int l : y) {
        require(l >= 0, where, "negative label " + std::to_string(l));
        k = std::max(k, l + 1);
    }
    if (n_classes > 0) {
        require(k <= n_classes, where, "label " + std::to_string(k - 1) + " for " + std::to_string(n_classes) + " classes");
        k = n_classes;
    }
    require(k >= 2, where, "needs at least two classes");
    return k;
}

/// Softmax of each row of z, in place.
inline void softmax_rows(xt::xtensor<double, 2>& z) {
    for (std::size_t i = 0; i < z.shape(0); ++i) {
        double zmax = -std::numeric_limits<double>::infinity(), sum = 0;
        for (std::size_t k = 0; k < z.shape(1); ++k) zmax = std::max(zmax, z(i, k));
        for (std::size_t k = 0; k < z.shape(1); ++k) sum += (z(i, k) = std::exp(z(i, k) - zmax));
        for (std::size_t k = 0; k < z.shape(1); ++k) z(i, k) /= sum;
    }
}

/// The index of each row's largest value (the lowest on ties).
inline label_vector argmax_rows(const xt::xtensor<double, 2>& z) {
    label_vector out(z.shape(0));
    for (std::size_t i = 0; i < z.shape(0); ++i) {
        std::size_t best = 0;
        for (std::size_t k = 1; k < z.shape(1); ++k)
            if (z(i, k) > z(i, best)) best = k;
        out[i] = static_cast<int>(best);
    }
    return out;
}

/// Writes dense layers as `layers L`, then per layer `layer out in`, w, b.
inline void write_dense_layers(std::ostream& o, const std::vector<dense_layer>& layers) {
    o << "layers " << layers.size() << '\n';
    for (const auto& ly : layers) {
        o << "layer " << ly.w.shape(0) << ' ' << ly.w.shape(1) << '\n';
        write_values(o, "w", ly.w.data(), ly.w.size());
        write_values(o, "b", ly.b.data(), ly.b.size());
    }
}

/// Reads what write_dense_layers wrote: the first layer takes `in` inputs, each layer's shape
/// chains to the next, and the last gives `outputs` values (else r.fail).
inline std::vector<dense_layer> read_dense_layers(model_reader& r, std::size_t in, std::size_t outputs) {
    r.expect("layers");
    std::vector<dense_layer> layers(r.count(1024));
    if (layers.empty()) r.fail("no dense layers");
    for (auto& ly : layers) {
        r.expect("layer");
        const std::size_t out = r.count(1u << 24), lin = r.count(1u << 24);
        if (lin != in || out == 0) r.fail("dense layer shapes do not chain");
        r.require_values(out, in + 1, "layer " + std::to_string(&ly - layers.data()));  // w[out x in], b[out]
        ly.w = xt::xtensor<double, 2>({out, in});
        r.expect("w");
        for (auto& v : ly.w) v = r.number();
        r.expect("b");
        ly.b.resize(out);
        for (auto& v : ly.b) v = r.number();
        in = out;
    }
    if (in != outputs) r.fail("the last dense layer gives " + std::to_string(in) + " outputs, not " + std::to_string(outputs));
    return layers;
}

/// Gradients of the loss with respect to every layer's weights and biases.
struct dense_head_gradient {
    std::vector<xt::xtensor<double, 2>> dw;
    std::vector<std::vector<double>> db;
    double loss = 0;  ///< the loss these are the gradients of
};

/// Forward and backward pass over `rows` of x: loss = (1/B) sum_i cw[y_i] * CE_i
/// + 0.5 * wd * sum |W|^2, and its gradient. With `rng` non-null, inverted dropout with
/// probability `dropout` is applied to each hidden layer's ReLU output (training); otherwise none.
template <class T>
dense_head_gradient dense_head_loss_gradient(const dense_head_model& m, const xt::xtensor<T, 2>& x, const label_vector& y,
                                             const std::size_t* rows, std::size_t count, const std::vector<double>& class_weight,
                                             double weight_decay, double dropout, std::mt19937_64* rng) {
    const std::size_t L = m.layers.size();
    dense_head_gradient g;
    g.dw.resize(L);
    g.db.resize(L);
    for (std::size_t l = 0; l < L; ++l) {
        g.dw[l] = xt::zeros<double>(m.layers[l].w.shape());
        g.db[l].assign(m.layers[l].b.size(), 0.0);
    }
    dense_pass pass;
    pass.act.resize(1);
    std::vector<double> delta;
    for (std::size_t r = 0; r < count; ++r) {
        const std::size_t i = rows[r];
        pass.act[0].resize(m.dim);
        for (std::size_t j = 0; j < m.dim; ++j) pass.act[0][j] = static_cast<double>(x(i, j));
        dense_forward(m.layers, pass, dropout, rng);
        const int label = y[i];
        const double cw = class_weight.empty() ? 1.0 : class_weight[static_cast<std::size_t>(label)];
        g.loss += softmax_cross_entropy(pass.act[L], label, cw, delta);
        dense_backward(m.layers, pass, delta, g.dw, g.db, false);
    }
    const double scale = count ? 1.0 / static_cast<double>(count) : 0.0;
    g.loss *= scale;
    for (std::size_t l = 0; l < L; ++l) {
        auto& w = m.layers[l].w;
        for (std::size_t q = 0; q < w.size(); ++q) {
            g.dw[l].data()[q] = g.dw[l].data()[q] * scale + weight_decay * w.data()[q];
            g.loss += 0.5 * weight_decay * w.data()[q] * w.data()[q];
        }
        for (auto& v : g.db[l]) v *= scale;
    }
    return g;
}

inline void check_dense_head_params(const dense_head_params& p, int n_classes, const char* where) {
    for (std::size_t h : p.hidden) require(h > 0, where, "a hidden layer of width 0");
    require(p.dropout >= 0 && p.dropout < 1, where, "dropout must be in [0, 1)");
    require(p.learning_rate > 0 && std::isfinite(p.learning_rate), where, "learning_rate must be positive");
    require(p.beta1 >= 0 && p.beta1 < 1 && p.beta2 >= 0 && p.beta2 < 1, where, "Adam betas must be in [0, 1)");
    require(p.epsilon > 0, where, "epsilon must be positive");
    require(p.weight_decay >= 0 && std::isfinite(p.weight_decay), where, "weight_decay must be >= 0");
    require(p.batch_size > 0, where, "batch_size must be positive");
    require(p.epochs > 0, where, "epochs must be positive");
    require(p.class_weight.empty() || p.class_weight.size() == static_cast<std::size_t>(n_classes), where,
            std::to_string(p.class_weight.size()) + " class weights for " + std::to_string(n_classes) + " classes");
    for (double w : p.class_weight) require(w > 0 && std::isfinite(w), where, "class weights must be positive and finite");
}

/// Logits [n, K] of the rows of x.
template <class Policy, class T>
xt::xtensor<double, 2> dense_head_logits(const Policy& policy, const dense_head_model& m, const xt::xtensor<T, 2>& x,
                                         const char* where) {
    require(!m.layers.empty(), where, "the model has no layers (not fitted)");
    require(x.shape(1) == m.dim, where,
            "the model takes " + std::to_string(m.dim) + " features, x has " + std::to_string(x.shape(1)));
    check_finite_rows(x, where);
    const std::size_t n = x.shape(0), K = static_cast<std::size_t>(m.n_classes);
    xt::xtensor<double, 2> out({n, K});
    for_each_range(policy, static_cast<std::ptrdiff_t>(n), 16, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
        dense_pass pass;
        pass.act.resize(1);
        for (auto i = static_cast<std::size_t>(lo); i < static_cast<std::size_t>(hi); ++i) {
            pass.act[0].resize(m.dim);
            for (std::size_t j = 0; j < m.dim; ++j) pass.act[0][j] = static_cast<double>(x(i, j));
            dense_forward(m.layers, pass, 0.0, nullptr);
            const auto& a = pass.act.back();
            for (std::size_t k = 0; k < K; ++k) out(i, k) = a[k];
        }
    });
    return out;
}

}  // namespace detail

/// Fits a dense head on x [n, d] (float or double) and labels y (0..K-1, K = params.n_classes or
/// else the largest label + 1, K >= 2).
/// Layers d -> hidden... -> K; weights He-uniform (ReLU layers) / Glorot-uniform (output layer),
/// biases 0. Each epoch shuffles the samples and takes Adam steps on mini-batches of
/// `batch_size` (the last one smaller). Throws ferx::error for an empty x, x and y of different
/// lengths, a non-finite feature, a negative label, fewer than two classes, or bad parameters.
template <class Policy, class T>
dense_head_model fit_dense_head(const Policy&, const xt::xtensor<T, 2>& x, const label_vector& y,
                                const dense_head_params& p = {}) {
    static_assert(is_host_policy_v<Policy>, "ferx::fit_dense_head: needs exec::seq or exec::par");
    constexpr const char* where = "ferx::fit_dense_head";
    detail::require(x.shape(0) > 0 && x.shape(1) > 0, where, "no training samples or no features");
    detail::require(x.shape(0) == y.size(), where,
                    std::to_string(y.size()) + " labels for " + std::to_string(x.shape(0)) + " samples");
    detail::check_finite_rows(x, where);
    const int k = detail::training_class_count(y, p.n_classes, where);
    detail::check_dense_head_params(p, k, where);

    dense_head_model m;
    m.dim = x.shape(1);
    m.n_classes = k;
    std::mt19937_64 rng(p.seed);
    std::vector<std::size_t> widths{m.dim};
    widths.insert(widths.end(), p.hidden.begin(), p.hidden.end());
    widths.push_back(static_cast<std::size_t>(k));
    m.layers = detail::init_dense_layers(widths, rng);

    // Adam state.
    const std::size_t L = m.layers.size();
    std::vector<xt::xtensor<double, 2>> mw(L), vw(L);
    std::vector<std::vector<double>> mb(L), vb(L);
    for (std::size_t l = 0; l < L; ++l) {
        mw[l] = xt::zeros<double>(m.layers[l].w.shape());
        vw[l] = mw[l];
        mb[l].assign(m.layers[l].b.size(), 0.0);
        vb[l] = mb[l];
    }
    const std::size_t n = x.shape(0);
    std::vector<std::size_t> order(n);
    for (std::size_t i = 0; i < n; ++i) order[i] = i;
    detail::adam_optimizer adam{p.learning_rate, p.beta1, p.beta2, p.epsilon};
    for (std::size_t e = 0; e < p.epochs; ++e) {
        for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
        double epoch_loss = 0;
        for (std::size_t s = 0; s < n; s += p.batch_size) {
            const std::size_t count = std::min(p.batch_size, n - s);
            const auto g = detail::dense_head_loss_gradient(m, x, y, order.data() + s, count, p.class_weight, p.weight_decay,
                                                            p.dropout, &rng);
            epoch_loss += g.loss * static_cast<double>(count);
            adam.next_step();
            for (std::size_t l = 0; l < L; ++l) {
                auto& ly = m.layers[l];
                adam.update(ly.w.data(), mw[l].data(), vw[l].data(), g.dw[l].data(), ly.w.size());
                adam.update(ly.b.data(), mb[l].data(), vb[l].data(), g.db[l].data(), ly.b.size());
            }
        }
        m.epoch_loss.push_back(epoch_loss / static_cast<double>(n));
    }
    return m;
}

/// Class probabilities [n, K] (softmax of the logits) of the rows of x [n, d]. Throws
/// ferx::error for an unfitted model, a feature count other than the model's, or a non-finite
/// feature.
template <class Policy, class T>
xt::xtensor<double, 2> predict_proba(const Policy& policy, const dense_head_model& m, const xt::xtensor<T, 2>& x) {
    auto z = detail::dense_head_logits(policy, m, x, "ferx::predict_proba");
    detail::softmax_rows(z);
    return z;
}

/// The most probable class of each row of x [n, d] (the lowest index on ties).
template <class Policy, class T>
label_vector predict(const Policy& policy, const dense_head_model& m, const xt::xtensor<T, 2>& x) {
    return detail::argmax_rows(detail::dense_head_logits(policy, m, x, "ferx::predict"));
}

/// Model files (ferx/learn/model_io.hpp): section "dense_head" (dim, n_classes, layers, then per
/// layer `layer out in`, w, b); an exact round trip. `model_writer::add`, `model_reader::read`,
/// `save_model` and `load_model` use these, as they do for every model type.
inline void write_section(model_writer& w, const dense_head_model& m) {
    std::ostream& o = w.begin_section("dense_head");
    o << "dim " << m.dim << "\nn_classes " << m.n_classes << '\n';
    detail::write_dense_layers(o, m.layers);
}

/// Reads a "dense_head" section; ferx::error naming the file when it is not one or its layer
/// shapes do not chain from dim to n_classes.
inline void read_section(model_reader& r, dense_head_model& m) {
    r.begin_section("dense_head");
    r.expect("dim");
    m.dim = r.count(1u << 24);
    r.expect("n_classes");
    m.n_classes = static_cast<int>(r.count(1u << 16));
    if (m.dim == 0 || m.n_classes < 2) r.fail("an empty dense head");
    m.layers = detail::read_dense_layers(r, m.dim, static_cast<std::size_t>(m.n_classes));
}

/// Appends the head to a model file as a section "dense_head" (= w.add(m)).
inline void add_dense_head(model_writer& w, const dense_head_model& m) { write_section(w, m); }

/// Reads the next section of `r` as a dense head (= r.read<dense_head_model>()).
inline dense_head_model read_dense_head(model_reader& r) { return r.read<dense_head_model>(); }

/// Writes one dense head to `path`.
inline void save_dense_head(const std::string& path, const dense_head_model& m) {
    model_writer w;
    add_dense_head(w, m);
    w.save(path);
}

/// Reads a file holding one dense head.
inline dense_head_model load_dense_head(const std::string& path) {
    model_reader r(path);
    auto m = read_dense_head(r);
    if (!r.done()) r.fail("more sections than the dense head");
    return m;
}

FERX_NAMESPACE_END
