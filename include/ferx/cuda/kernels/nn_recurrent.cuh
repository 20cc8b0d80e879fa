/// \file ferx/cuda/kernels/nn_recurrent.cuh
/// Device kernels of the recurrent layers (LSTM, GRU, RNN with ONNX's equations, as
/// ferx/nn/recurrent.hpp computes them on the host): biases into the input products, initial
/// states, GRU's reset gate, the cell update of one step for every (batch row, unit), and the
/// final states. The matrix products are cuBLAS's (ferx/cuda/dispatch/nn_recurrent.cuh).
/// Float32 only.
#pragma once

#include <ferx/cuda/kernels/nn.cuh>
#include <ferx/nn/recurrent.hpp>

#include <cstdint>

FERX_NAMESPACE_BEGIN
namespace cuda {
namespace kernels {
namespace {

/// What the kernels of one direction and step read.
struct rnn_step_args {
    std::int64_t T = 0, B = 0, H = 0, GH = 0, D = 1, d = 0, k = 0;
    int layout = 0;
    bool backward = false, lbr = false;
    nn::rnn_cell cell = nn::rnn_cell::lstm;
    float clip = 0.f;
    nn::rnn_activation f, g, hact;    // the cell's activations (RNN: f only; GRU: f, g)
    const float* xw = nullptr;        // [T*B, GH]: x W^T + biases, rows in x's order
    const float* gates = nullptr;     // [B, GH]: h R^T of this step
    const float* hr = nullptr;        // [B, H]: GRU (r (.) h) Rh^T (without linear_before_reset)
    const float* rbh = nullptr;       // GRU with linear_before_reset: R's h-gate bias, or null
    const float* peep = nullptr;      // LSTM peepholes of this direction [3H], or null
    const float* lens = nullptr;      // [B] sequence lengths, or null (all T)
    float* h = nullptr;               // [B, H]
    float* c = nullptr;               // [B, H]
    float* rh = nullptr;              // [B, H]: GRU r (.) h
    float* y = nullptr;               // Y, or null
};

__device__ inline float rnn_clipped(float clip, float v) { return clip > 0.f ? fminf(clip, fmaxf(-clip, v)) : v; }
__device__ inline std::int64_t rnn_len(const rnn_step_args& a, std::int64_t b) {
    return a.lens ? static_cast<std::int64_t>(a.lens[b]) : a.T;
}
__device__ inline std::int64_t rnn_x_row(const rnn_step_args& a, std::int64_t t, std::int64_t b) {
    return a.layout == 0 ? t * a.B + b : b * a.T + t;
}

__global__ void rnn_add_bias(float* xw, std::int64_t rows, std::int64_t GH, std::int64_t H, const float* wb, const float* rb,
                             bool lbr) {
    for (auto i = grid_first(); i < rows * GH; i += grid_step()) {
        const std::int64_t g = i % GH;
        xw[i] += wb[g] + ((lbr && g >= 2 * H) ? 0.f : rb[g]);
    }
}

__global__ void rnn_init_state(float* h, float* c, const float* h0, const float* c0, std::int64_t B, std::int64_t H,
                               std::int64_t D, std::int64_t d, int layout) {
    for (auto i = grid_first(); i < B * H; i += grid_step()) {
        const std::int64_t b = i / H, j = i % H;
        const std::int64_t s0 = layout == 0 ? (d * B + b) * H + j : (b * D + d) * H + j;
        h[i] = h0 ? h0[s0] : 0.f;
        c[i] = c0 ? c0[s0] : 0.f;
    }
}

__global__ void gru_reset(rnn_step_args a) {
    for (auto i = grid_first(); i < a.B * a.H; i += grid_step()) {
        const std::int64_t b = i / a.H, j = i % a.H, n = rnn_len(a, b);
        if (a.k >= n) continue;
        const std::int64_t t = a.backward ? n - 1 - a.k : a.k;
        const float* xr = a.xw + rnn_x_row(a, t, b) * a.GH;
        a.rh[i] = a.f(rnn_clipped(a.clip, xr[a.H + j] + a.gates[b * a.GH + a.H + j])) * a.h[i];
    }
}

__global__ void rnn_cell_step(rnn_step_args a) {
    for (auto i = grid_first(); i < a.B * a.H; i += grid_step()) {
        const std::int64_t b = i / a.H, j = i % a.H, n = rnn_len(a, b);
        if (a.k >= n) continue;
        const std::int64_t t = a.backward ? n - 1 - a.k : a.k, H = a.H;
        const float* xr = a.xw + rnn_x_row(a, t, b) * a.GH;
        const float* gr = a.gates + b * a.GH;
        float hn;
        switch (a.cell) {
        case nn::rnn_cell::rnn: hn = a.f(rnn_clipped(a.clip, xr[j] + gr[j])); break;
        case nn::rnn_cell::gru: {
            const float z = a.f(rnn_clipped(a.clip, xr[j] + gr[j]));
            float cand;
            if (a.lbr) {
                const float rg = a.f(rnn_clipped(a.clip, xr[H + j] + gr[H + j]));
                cand = a.g(rnn_clipped(a.clip, xr[2 * H + j] + rg * (gr[2 * H + j] + (a.rbh ? a.rbh[j] : 0.f))));
            } else {
                cand = a.g(rnn_clipped(a.clip, xr[2 * H + j] + a.hr[i]));
            }
            hn = (1.f - z) * cand + z * a.h[i];
            break;
        }
        default: {  // lstm
            const float cprev = a.c[i];
            float ig = xr[j] + gr[j], og = xr[H + j] + gr[H + j], fg = xr[2 * H + j] + gr[2 * H + j];
            const float cg = xr[3 * H + j] + gr[3 * H + j];
            if (a.peep) ig += a.peep[j] * cprev, fg += a.peep[2 * H + j] * cprev;
            const float i_ = a.f(rnn_clipped(a.clip, ig)), f_ = a.f(rnn_clipped(a.clip, fg)), c_ = a.g(rnn_clipped(a.clip, cg));
            const float cn = f_ * cprev + i_ * c_;
            if (a.peep) og += a.peep[H + j] * cn;
            a.c[i] = cn;
            hn = a.f(rnn_clipped(a.clip, og)) * a.hact(cn);
            break;
        }
        }
        a.h[i] = hn;
        if (a.y) {
            const std::int64_t at = a.layout == 0 ? ((t * a.D + a.d) * a.B + b) * H : ((b * a.T + t) * a.D + a.d) * H;
            a.y[at + j] = hn;
        }
    }
}

__global__ void rnn_final_state(const float* h, const float* c, float* y_h, float* y_c, std::int64_t B, std::int64_t H,
                                std::int64_t D, std::int64_t d, int layout) {
    for (auto i = grid_first(); i < B * H; i += grid_step()) {
        const std::int64_t b = i / H, j = i % H;
        const std::int64_t o = (layout == 0 ? (d * B + b) * H : (b * D + d) * H) + j;
        if (y_h) y_h[o] = h[i];
        if (y_c) y_c[o] = c[i];
    }
}

}  // namespace
}  // namespace kernels
}  // namespace cuda
FERX_NAMESPACE_END
