/// \file ferx/nn/recurrent.hpp
/// Recurrent layers with ONNX's semantics: LSTM, GRU and RNN over [seq, batch, input] (layout 0)
/// or [batch, seq, input] (layout 1) float32 sequences; forward, reverse and bidirectional;
/// initial states; per-sequence lengths (`sequence_lens`); peepholes (LSTM); `clip`; GRU's
/// `linear_before_reset`; the activations ONNX lists (defaults: Sigmoid, Tanh, Tanh for LSTM,
/// Sigmoid, Tanh for GRU, Tanh for RNN). Usable from C++ on its own (`recurrent`) and, through
/// the session, as the ops "LSTM", "GRU" and "RNN" (their outputs Y, Y_h and Y_c).
///
/// Weights as ONNX stores them, per direction: W [G*H, input], R [G*H, H], B [2*G*H] (W's bias
/// then R's), with the gates in ONNX's order (LSTM i, o, f, c; GRU z, r, h; RNN one). Each step
/// is  gates = x_t W^T + h_{t-1} R^T + biases  (one product for all time steps for the input
/// part, one per step for the recurrent part), then the cell's update. With sequence lengths,
/// batch element b runs steps [0, len_b) (the reverse direction from len_b - 1 down to 0), its
/// Y is 0 from len_b on, and its Y_h / Y_c are the states after its last step.
///
///     ferx::nn::recurrent_params p;
///     p.cell = ferx::nn::rnn_cell::lstm;
///     p.hidden = 108;
///     std::vector<float> scratch(ferx::nn::recurrent_scratch_floats(p, seq, batch, input));
///     ferx::nn::recurrent(ferx::exec::par, p, {seq, batch, input}, {x, w, r, b}, {y, y_h, y_c}, scratch.data());
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/nn/gemm.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {

enum class rnn_cell { rnn, gru, lstm };

/// Gates per cell: RNN 1, GRU 3 (z, r, h), LSTM 4 (i, o, f, c).
constexpr std::int64_t rnn_gates(rnn_cell c) noexcept { return c == rnn_cell::lstm ? 4 : (c == rnn_cell::gru ? 3 : 1); }
/// Activations per direction: RNN 1 (f), GRU 2 (f, g), LSTM 3 (f, g, h).
constexpr std::size_t rnn_activation_count(rnn_cell c) noexcept { return c == rnn_cell::lstm ? 3 : (c == rnn_cell::gru ? 2 : 1); }

/// One of the activation functions ONNX allows in recurrent ops, with its alpha and beta.
struct rnn_activation {
    enum class kind { sigmoid, tanh, relu, hard_sigmoid, leaky_relu, thresholded_relu, scaled_tanh, affine, elu, softsign, softplus };
    kind k = kind::sigmoid;
    float alpha = 0.f, beta = 0.f;

    /// The function at x (on the host, and in CUDA kernels: ferx/cuda/kernels/nn_recurrent.cuh).
    FERX_HOST_DEVICE float operator()(float x) const {
#ifdef __CUDA_ARCH__
#define FERX_RNN_EXP expf
#define FERX_RNN_TANH tanhf
#define FERX_RNN_FABS fabsf
#define FERX_RNN_LOG1P log1pf
#else
#define FERX_RNN_EXP std::exp
#define FERX_RNN_TANH std::tanh
#define FERX_RNN_FABS std::fabs
#define FERX_RNN_LOG1P std::log1p
#endif
        float r = x;
        switch (k) {
        case kind::sigmoid: r = 1.f / (1.f + FERX_RNN_EXP(-x)); break;
        case kind::tanh: r = FERX_RNN_TANH(x); break;
        case kind::relu: r = x < 0.f ? 0.f : x; break;
        case kind::hard_sigmoid: {
            const float v = alpha * x + beta, m = v < 1.f ? v : 1.f;  // max(0, min(1, v)), as std::max / std::min order them
            r = 0.f < m ? m : 0.f;
            break;
        }
        case kind::leaky_relu: r = x < 0.f ? alpha * x : x; break;
        case kind::thresholded_relu: r = x > alpha ? x : 0.f; break;
        case kind::scaled_tanh: r = alpha * FERX_RNN_TANH(beta * x); break;
        case kind::affine: r = alpha * x + beta; break;
        case kind::elu: r = x < 0.f ? alpha * (FERX_RNN_EXP(x) - 1.f) : x; break;
        case kind::softsign: r = x / (1.f + FERX_RNN_FABS(x)); break;
        case kind::softplus: r = FERX_RNN_LOG1P(FERX_RNN_EXP(-FERX_RNN_FABS(x))) + (x < 0.f ? 0.f : x); break;
        }
#undef FERX_RNN_EXP
#undef FERX_RNN_TANH
#undef FERX_RNN_FABS
#undef FERX_RNN_LOG1P
        return r;
    }

    /// How many of alpha, beta the function reads (activation_alpha/beta are consumed in order
    /// by the functions that read them).
    int uses_alpha() const noexcept {
        return k == kind::hard_sigmoid || k == kind::leaky_relu || k == kind::thresholded_relu || k == kind::scaled_tanh ||
               k == kind::affine || k == kind::elu;
    }
    int uses_beta() const noexcept { return k == kind::hard_sigmoid || k == kind::scaled_tanh || k == kind::affine; }

    /// The function named `name` (ONNX's spelling, case-insensitive as ONNX Runtime reads it)
    /// with ONNX's default alpha and beta; false for an unknown name.
    static bool from_name(const std::string& name, rnn_activation& out) {
        std::string n;
        for (char c : name) n += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        struct entry {
            const char* name;
            kind k;
            float alpha, beta;
        };
        static const entry table[] = {{"sigmoid", kind::sigmoid, 0.f, 0.f},
                                      {"tanh", kind::tanh, 0.f, 0.f},
                                      {"relu", kind::relu, 0.f, 0.f},
                                      {"hardsigmoid", kind::hard_sigmoid, 0.2f, 0.5f},
                                      {"leakyrelu", kind::leaky_relu, 0.01f, 0.f},
                                      {"thresholdedrelu", kind::thresholded_relu, 1.f, 0.f},
                                      {"scaledtanh", kind::scaled_tanh, 1.f, 1.f},
                                      {"affine", kind::affine, 1.f, 0.f},
                                      {"elu", kind::elu, 1.f, 0.f},
                                      {"softsign", kind::softsign, 0.f, 0.f},
                                      {"softplus", kind::softplus, 0.f, 0.f}};
        for (const auto& e : table)
            if (n == e.name) {
                out = {e.k, e.alpha, e.beta};
                return true;
            }
        return false;
    }
};

/// What a recurrent layer is (ONNX's attributes).
struct recurrent_params {
    rnn_cell cell = rnn_cell::lstm;
    std::int64_t hidden = 0;            ///< hidden_size
    std::int64_t directions = 1;        ///< 1, or 2 for bidirectional
    bool reverse = false;               ///< direction "reverse" (with directions == 1)
    int layout = 0;                     ///< 0: [seq, batch, ...]; 1: [batch, seq, ...]
    float clip = 0.f;                   ///< > 0: gate pre-activations clipped to [-clip, clip]
    bool linear_before_reset = false;   ///< GRU only
    /// rnn_activation_count(cell) per direction (forward first); empty: the defaults.
    std::vector<rnn_activation> activations;

    std::int64_t gates() const noexcept { return rnn_gates(cell); }
    /// The activations, defaults filled in.
    std::vector<rnn_activation> resolved_activations() const {
        if (!activations.empty()) return activations;
        using k = rnn_activation::kind;
        std::vector<rnn_activation> a;
        for (std::int64_t d = 0; d < directions; ++d) {
            if (cell == rnn_cell::rnn) a.push_back({k::tanh});
            else a.push_back({k::sigmoid}), a.push_back({k::tanh});
            if (cell == rnn_cell::lstm) a.push_back({k::tanh});
        }
        return a;
    }
};

/// Extents of the input sequence.
struct recurrent_shape {
    std::int64_t seq = 0, batch = 0, input = 0;
};

/// The layer's inputs (host pointers; nullptr for the optional ones that are absent), laid out as
/// ONNX's: x per `layout`; w [D, G*H, input]; r [D, G*H, H]; b [D, 2*G*H]; lens [batch] (whole
/// numbers as floats, each in [0, seq]); h0, c0 [D, batch, H] (layout 1: [batch, D, H]);
/// peep [D, 3*H] (LSTM: i, o, f).
struct recurrent_inputs {
    const float* x = nullptr;
    const float* w = nullptr;
    const float* r = nullptr;
    const float* b = nullptr;
    const float* lens = nullptr;
    const float* h0 = nullptr;
    const float* c0 = nullptr;
    const float* peep = nullptr;
};

/// The layer's outputs (any may be nullptr): y [seq, D, batch, H] (layout 1: [batch, seq, D, H]),
/// y_h and y_c [D, batch, H] (layout 1: [batch, D, H]; y_c for LSTM only).
struct recurrent_outputs {
    float* y = nullptr;
    float* y_h = nullptr;
    float* y_c = nullptr;
};

/// Floats of scratch `recurrent` needs.
inline std::size_t recurrent_scratch_floats(const recurrent_params& p, const recurrent_shape& s) {
    const std::int64_t gh = p.gates() * p.hidden, h = p.hidden;
    const std::int64_t per_direction = s.input * gh + h * gh + s.seq * s.batch * gh + s.batch * gh + 4 * s.batch * h;
    return static_cast<std::size_t>(p.directions * per_direction);
}

namespace detail {

// One direction of the layer: d is the direction's index (its slot in the weights and outputs),
// backward whether it runs from each sequence's end.
inline void recurrent_direction(const exec::sequenced_policy& seqp, const exec::parallel_policy* par, const recurrent_params& p,
                                const recurrent_shape& sh, const recurrent_inputs& in, const recurrent_outputs& out, std::int64_t d,
                                bool backward, const rnn_activation* act, float* scratch) {
    const std::int64_t T = sh.seq, B = sh.batch, I = sh.input, H = p.hidden, G = p.gates(), GH = G * H, D = p.directions;
    float* wt = scratch;         // [I, GH]: W^T
    float* rt = wt + I * GH;     // [H, GH]: R^T
    float* xw = rt + H * GH;     // [T*B, GH]: x W^T + biases, rows in x's order
    float* gates = xw + T * B * GH;  // [B, GH]: h R^T of this step
    float* h = gates + B * GH;   // [B, H]
    float* c = h + B * H;        // [B, H]
    float* rh = c + B * H;       // [B, H]: GRU r (.) h
    float* hr = rh + B * H;      // [B, H]: GRU (r (.) h) Rh^T
    const float* w = in.w + d * GH * I;
    const float* r = in.r + d * GH * H;
    for (std::int64_t g = 0; g < GH; ++g) {
        for (std::int64_t i = 0; i < I; ++i) wt[i * GH + g] = w[g * I + i];
        for (std::int64_t i = 0; i < H; ++i) rt[i * GH + g] = r[g * H + i];
    }
    // x W^T for every step at once (x is [T*B, I] in layout 0, [B*T, I] in layout 1); split
    // over the pool only when each thread gets 4M multiply-adds or more (a few hundred
    // microseconds): below that, waking the workers cost more than the split saved (measured on
    // an AMD EPYC, 2 vCPUs: the 2.2M-MAC product of LSTM h108 x 40 steps at batch 1 made par
    // 20 % slower than seq).
    const bool split_input = par && T * B * GH * I >= (std::int64_t(1) << 22) * std::int64_t(ferx::detail::concurrency(*par));
    if (split_input) gemm(*par, T * B, GH, I, in.x, I, wt, GH, xw, GH);
    else gemm(seqp, T * B, GH, I, in.x, I, wt, GH, xw, GH);
    const bool lbr = p.cell == rnn_cell::gru && p.linear_before_reset;
    if (in.b) {
        const float* wb = in.b + d * 2 * GH;
        const float* rb = wb + GH;
        for (std::int64_t row = 0; row < T * B; ++row)
            for (std::int64_t g = 0; g < GH; ++g)
                // GRU with linear_before_reset adds R's h-gate bias inside the reset (below).
                xw[row * GH + g] += wb[g] + ((lbr && g >= 2 * H) ? 0.f : rb[g]);
    }
    const float* rbh = (lbr && in.b) ? in.b + d * 2 * GH + GH + 2 * H : nullptr;
    // Initial states.
    for (std::int64_t b = 0; b < B; ++b)
        for (std::int64_t j = 0; j < H; ++j) {
            const std::int64_t s0 = p.layout == 0 ? (d * B + b) * H + j : (b * D + d) * H + j;
            h[b * H + j] = in.h0 ? in.h0[s0] : 0.f;
            c[b * H + j] = in.c0 ? in.c0[s0] : 0.f;
        }
    std::vector<std::int64_t> len(static_cast<std::size_t>(B), T);
    if (in.lens)
        for (std::int64_t b = 0; b < B; ++b) len[static_cast<std::size_t>(b)] = static_cast<std::int64_t>(in.lens[b]);
    const float clip = p.clip;
    const auto clipped = [clip](float v) { return clip > 0.f ? std::max(-clip, std::min(clip, v)) : v; };
    const float* peep = in.peep ? in.peep + d * 3 * H : nullptr;
    const rnn_activation f = act[0], g = p.cell != rnn_cell::rnn ? act[1] : act[0], hact = p.cell == rnn_cell::lstm ? act[2] : act[0];
    const auto x_row = [&](std::int64_t t, std::int64_t b) { return p.layout == 0 ? t * B + b : b * T + t; };
    const auto y_at = [&](std::int64_t t, std::int64_t b) { return p.layout == 0 ? ((t * D + d) * B + b) * H : ((b * T + t) * D + d) * H; };
    const std::int64_t rec_cols = p.cell == rnn_cell::gru && !lbr ? 2 * H : GH;
    // The batch rows [b0, b1) through every step. Rows are independent, so under `par` each
    // thread takes a block of rows through the whole sequence (one dispatch per layer, not one
    // per step); blocks start at multiples of 8 rows, where the gemm kernels' row blocking
    // restarts, so every element is computed as under `seq`, bit for bit.
    const auto run_rows = [&](std::int64_t b0, std::int64_t b1) {
        const std::int64_t rows = b1 - b0;
        for (std::int64_t k = 0; k < T; ++k) {
            // h R^T (the h-gate of a GRU without linear_before_reset comes after the reset).
            gemm(seqp, rows, rec_cols, H, h + b0 * H, H, rt, GH, gates + b0 * GH, GH);
            if (p.cell == rnn_cell::gru && !lbr) {
                for (std::int64_t b = b0; b < b1; ++b) {
                    if (k >= len[static_cast<std::size_t>(b)]) continue;
                    const std::int64_t t = backward ? len[static_cast<std::size_t>(b)] - 1 - k : k;
                    const float* xr = xw + x_row(t, b) * GH;
                    for (std::int64_t j = 0; j < H; ++j) {
                        const float rg = f(clipped(xr[H + j] + gates[b * GH + H + j]));
                        rh[b * H + j] = rg * h[b * H + j];
                    }
                }
                gemm(seqp, rows, H, H, rh + b0 * H, H, rt + 2 * H, GH, hr + b0 * H, H);
            }
            for (std::int64_t b = b0; b < b1; ++b) {
                const std::int64_t n = len[static_cast<std::size_t>(b)];
                if (k >= n) continue;
                const std::int64_t t = backward ? n - 1 - k : k;
                const float* xr = xw + x_row(t, b) * GH;
                const float* gr = gates + b * GH;
                float* hb = h + b * H;
                float* cb = c + b * H;
                switch (p.cell) {
                case rnn_cell::rnn:
                    for (std::int64_t j = 0; j < H; ++j) hb[j] = f(clipped(xr[j] + gr[j]));
                    break;
                case rnn_cell::gru:
                    for (std::int64_t j = 0; j < H; ++j) {
                        const float z = f(clipped(xr[j] + gr[j]));
                        float cand;
                        if (lbr) {
                            const float rg = f(clipped(xr[H + j] + gr[H + j]));
                            cand = g(clipped(xr[2 * H + j] + rg * (gr[2 * H + j] + (rbh ? rbh[j] : 0.f))));
                        } else {
                            cand = g(clipped(xr[2 * H + j] + hr[b * H + j]));
                        }
                        hb[j] = (1.f - z) * cand + z * hb[j];
                    }
                    break;
                case rnn_cell::lstm:
                    for (std::int64_t j = 0; j < H; ++j) {
                        const float cprev = cb[j];
                        float ig = xr[j] + gr[j], og = xr[H + j] + gr[H + j], fg = xr[2 * H + j] + gr[2 * H + j];
                        const float cg = xr[3 * H + j] + gr[3 * H + j];
                        if (peep) ig += peep[j] * cprev, fg += peep[2 * H + j] * cprev;
                        const float i_ = f(clipped(ig)), f_ = f(clipped(fg)), c_ = g(clipped(cg));
                        const float cn = f_ * cprev + i_ * c_;
                        if (peep) og += peep[H + j] * cn;
                        const float o_ = f(clipped(og));
                        cb[j] = cn;
                        hb[j] = o_ * hact(cn);
                    }
                    break;
                }
                if (out.y) std::copy(hb, hb + H, out.y + y_at(t, b));
            }
        }
    };
    constexpr std::int64_t row_block = 8;
    const std::int64_t threads = par ? static_cast<std::int64_t>(ferx::detail::concurrency(*par)) : 1;
    if (threads >= 2 && B >= 2 * row_block) {
        const std::int64_t per = (B + threads - 1) / threads, chunk = (per + row_block - 1) / row_block * row_block;
        const std::int64_t chunks = (B + chunk - 1) / chunk;
        ferx::detail::for_each_range(*par, chunks, 1, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
            for (std::ptrdiff_t q = lo; q < hi; ++q) run_rows(q * chunk, std::min<std::int64_t>(B, (q + 1) * chunk));
        });
    } else {
        run_rows(0, B);
    }
    for (std::int64_t b = 0; b < B; ++b) {
        const std::int64_t o = p.layout == 0 ? (d * B + b) * H : (b * D + d) * H;
        if (out.y_h) std::copy(h + b * H, h + (b + 1) * H, out.y_h + o);
        if (out.y_c) std::copy(c + b * H, c + (b + 1) * H, out.y_c + o);
    }
}

}  // namespace detail

/// Runs the layer (see the file comment); `scratch` holds recurrent_scratch_floats(p, s) floats.
/// ferx::error for parameters or lengths ONNX does not allow. `par` runs the two directions of
/// a bidirectional layer on two threads, and otherwise splits the matrix products over the pool;
/// both give the same values as `seq` (each element is summed in the same order).
template <class Policy>
void recurrent(const Policy& policy, const recurrent_params& p, const recurrent_shape& s, const recurrent_inputs& in,
               const recurrent_outputs& out, float* scratch) {
    static_assert(is_host_policy_v<Policy>, "ferx::nn::recurrent: host policies only (exec::seq, exec::par)");
    constexpr const char* where = "ferx::nn::recurrent";
    ferx::detail::require(p.hidden > 0, where, "hidden_size must be positive");
    ferx::detail::require(p.directions == 1 || p.directions == 2, where, "directions must be 1 or 2");
    ferx::detail::require(p.layout == 0 || p.layout == 1, where, "layout must be 0 or 1");
    ferx::detail::require(s.seq >= 0 && s.batch >= 0 && s.input > 0, where, "bad sequence extents");
    ferx::detail::require(in.x && in.w && in.r, where, "X, W and R are required");
    const auto acts = p.resolved_activations();
    ferx::detail::require(acts.size() == rnn_activation_count(p.cell) * static_cast<std::size_t>(p.directions), where,
                          std::to_string(acts.size()) + " activations for " + std::to_string(p.directions) + " direction(s)");
    if (in.lens)
        for (std::int64_t b = 0; b < s.batch; ++b) {
            const float v = in.lens[b];
            ferx::detail::require(v >= 0.f && v <= static_cast<float>(s.seq) && v == std::floor(v), where,
                                  "sequence_lens[" + std::to_string(b) + "] = " + std::to_string(v) + " is not a length in [0, " +
                                      std::to_string(s.seq) + "]");
        }
    const std::int64_t T = s.seq, B = s.batch, H = p.hidden, D = p.directions;
    if (out.y) std::fill(out.y, out.y + T * D * B * H, 0.f);
    const std::size_t per_direction = recurrent_scratch_floats(p, s) / static_cast<std::size_t>(D);
    const std::size_t na = rnn_activation_count(p.cell);
    constexpr bool parallel = std::is_same<std::decay_t<Policy>, exec::parallel_policy>::value;
    const exec::parallel_policy* parp = nullptr;
    if constexpr (parallel) parp = &policy;
    const auto direction = [&](std::int64_t d, const exec::parallel_policy* inner) {
        detail::recurrent_direction(exec::seq, inner, p, s, in, out, d, D == 2 ? d == 1 : p.reverse, acts.data() + d * na,
                                    scratch + static_cast<std::size_t>(d) * per_direction);
    };
    if (parallel && D == 2 && ferx::detail::concurrency(policy) >= 2) {
        ferx::detail::for_each_range(policy, 2, 1, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
            for (std::ptrdiff_t d = lo; d < hi; ++d) direction(d, nullptr);
        });
    } else {
        for (std::int64_t d = 0; d < D; ++d) direction(d, parp);
    }
}

}  // namespace nn
FERX_NAMESPACE_END
