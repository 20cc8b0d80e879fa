/// \file ferx/cuda/dispatch/nn_recurrent.cuh
/// The session's LSTM, GRU and RNN steps on the device (float32), with the host kernel's
/// semantics (ferx/nn/recurrent.hpp): per direction, x W^T for every step at once (one cuBLAS
/// product), the biases added, then per step h R^T (cuBLAS) and one kernel for the cell update
/// of every (batch row, unit), writing Y as it goes; the final states into Y_h and Y_c. The
/// outputs are packed as the host op packs them (Y, Y_h, then Y_c for LSTM). Sequence lengths
/// are read back once to be checked (a length outside [0, T] or not whole is a ferx::error
/// naming the node). Included by ferx/cuda/dispatch/nn_session.cuh.
#pragma once

#include <ferx/cuda/dispatch/nn.cuh>
#include <ferx/cuda/kernels/nn_recurrent.cuh>
#include <ferx/cuda/runtime.cuh>
#include <ferx/nn/ir.hpp>
#include <ferx/nn/ops/recurrent.hpp>

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {
namespace detail {

/// Whether `step` is an LSTM, GRU or RNN step (ferx/nn/ops/recurrent.hpp).
inline bool is_recurrent_step(const nn_step& step) {
    return step.kind == step_kind::extension && step.def && step.def->parse == &recurrent_op::parse;
}

/// Floats of device scratch a recurrent step needs: per direction xw [T*B, GH], gates [B, GH],
/// h, c, r (.) h and (r (.) h) Rh^T [B, H] each.
inline std::size_t device_recurrent_scratch_floats(const nn_step& step) {
    const recurrent_params& p = recurrent_op::params_of(step);
    const std::int64_t T = step.d0, B = step.d1, GH = p.gates() * p.hidden;
    return static_cast<std::size_t>(p.directions * (T * B * GH + B * GH + 4 * B * p.hidden));
}

/// Runs the recurrent step `step` on the device: `in` its `n_in` inputs' device addresses (null
/// for an omitted one, in ONNX's order), `y` its packed output, `scratch`
/// device_recurrent_scratch_floats.
inline void device_recurrent(const cuda_blas_policy& policy, const nn_step& step, const float* const* in, std::size_t n_in, float* y,
                             float* scratch) {
    namespace kn = cuda::kernels;
    constexpr const char* where = "ferx::nn::session::run (cuda)";
    const recurrent_params& p = recurrent_op::params_of(step);
    const std::int64_t T = step.d0, B = step.d1, I = step.d2, H = p.hidden, D = p.directions, G = p.gates(), GH = G * H;
    const auto input = [&](std::size_t i) -> const float* { return i < n_in ? in[i] : nullptr; };
    const float *x = input(0), *w = input(1), *r = input(2), *bias = input(3), *lens = input(4), *h0 = input(5);
    const float* c0 = p.cell == rnn_cell::lstm ? input(6) : nullptr;
    const float* peep = p.cell == rnn_cell::lstm ? input(7) : nullptr;
    const auto fail = [&](const std::string& why) {
        throw error(where, "node '" + step.node + "' (" + step.op + "): " + why);
    };
    if (!x || !w || !r) fail("X, W and R are required");
    const auto acts = p.resolved_activations();
    const std::size_t na = rnn_activation_count(p.cell);
    if (acts.size() != na * static_cast<std::size_t>(D)) fail(std::to_string(acts.size()) + " activations for " + std::to_string(D) + " direction(s)");
    cudaStream_t stream = policy.stream();
    if (lens && B > 0) {  // checked as the host op checks them
        std::vector<float> host(static_cast<std::size_t>(B));
        cuda::check(cudaMemcpyAsync(host.data(), lens, host.size() * sizeof(float), cudaMemcpyDeviceToHost, stream), where, "cudaMemcpyAsync");
        cuda::check(cudaStreamSynchronize(stream), where, "cudaStreamSynchronize");
        for (std::int64_t b = 0; b < B; ++b) {
            const float v = host[static_cast<std::size_t>(b)];
            if (!(v >= 0.f && v <= static_cast<float>(T) && v == std::floor(v)))
                fail("sequence_lens[" + std::to_string(b) + "] = " + std::to_string(v) + " is not a length in [0, " + std::to_string(T) + "]");
        }
    }
    float* y_h = y + T * D * B * H;
    float* y_c = p.cell == rnn_cell::lstm ? y_h + D * B * H : nullptr;
    if (T * D * B * H > 0)
        cuda::check(cudaMemsetAsync(y, 0, static_cast<std::size_t>(T * D * B * H) * sizeof(float), stream), where, "cudaMemsetAsync");
    if (B == 0) return;
    cublasHandle_t blas = bound_blas(policy);
    const bool lbr = p.cell == rnn_cell::gru && p.linear_before_reset;
    const std::int64_t per_direction = T * B * GH + B * GH + 4 * B * H;
    for (std::int64_t d = 0; d < D; ++d) {
        float* xw = scratch + d * per_direction;
        float* gates = xw + T * B * GH;
        float* h = gates + B * GH;
        float* c = h + B * H;
        float* rh = c + B * H;
        float* hr = rh + B * H;
        const float* wd = w + d * GH * I;
        const float* rd = r + d * GH * H;
        if (T > 0) {
            gemm_rows(blas, false, true, T * B, GH, I, x, wd, xw);  // x W^T: [T*B, I] . [GH, I]^T
            if (bias) {
                kn::rnn_add_bias<<<nn_blocks(T * B * GH), kn::nn_threads, 0, stream>>>(xw, T * B, GH, H, bias + d * 2 * GH,
                                                                                       bias + d * 2 * GH + GH, lbr);
                cuda::check_launch(where);
            }
        }
        kn::rnn_init_state<<<nn_blocks(B * H), kn::nn_threads, 0, stream>>>(h, c, h0, c0, B, H, D, d, p.layout);
        cuda::check_launch(where);
        kn::rnn_step_args a;
        a.T = T, a.B = B, a.H = H, a.GH = GH, a.D = D, a.d = d, a.layout = static_cast<int>(p.layout);
        a.backward = D == 2 ? d == 1 : p.reverse;
        a.lbr = lbr, a.cell = p.cell, a.clip = p.clip;
        const nn::rnn_activation* ad = acts.data() + d * static_cast<std::int64_t>(na);
        a.f = ad[0];
        a.g = p.cell != rnn_cell::rnn ? ad[1] : ad[0];
        a.hact = p.cell == rnn_cell::lstm ? ad[2] : ad[0];
        a.xw = xw, a.gates = gates, a.hr = hr, a.h = h, a.c = c, a.rh = rh, a.y = y, a.lens = lens;
        a.rbh = lbr && bias ? bias + d * 2 * GH + GH + 2 * H : nullptr;
        a.peep = peep ? peep + d * 3 * H : nullptr;
        for (std::int64_t k = 0; k < T; ++k) {
            a.k = k;
            gemm_rows(blas, false, true, B, GH, H, h, rd, gates);  // h R^T (every gate; GRU's h-gate read only with lbr)
            if (p.cell == rnn_cell::gru && !lbr) {
                kn::gru_reset<<<nn_blocks(B * H), kn::nn_threads, 0, stream>>>(a);
                cuda::check_launch(where);
                gemm_rows(blas, false, true, B, H, H, rh, rd + 2 * H * H, hr);  // (r (.) h) Rh^T
            }
            kn::rnn_cell_step<<<nn_blocks(B * H), kn::nn_threads, 0, stream>>>(a);
            cuda::check_launch(where);
        }
        kn::rnn_final_state<<<nn_blocks(B * H), kn::nn_threads, 0, stream>>>(h, c, y_h, y_c, B, H, D, d, p.layout);
        cuda::check_launch(where);
    }
}

}  // namespace detail
}  // namespace nn
FERX_NAMESPACE_END
