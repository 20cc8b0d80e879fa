/// \file ferx/cuda/dispatch/nn_session.cuh
/// `ferx::nn::session::run(exec::cuda, inputs)`: a compiled plan (ferx/nn/plan.hpp) executed on
/// the device by `detail::run_plan_cuda`, which reads only the public `nn::compiled_plan`.
/// On the first cuda run the weights are uploaded once; the device arena mirrors the host plan
/// (same offsets, in elements) and grows only when a plan needs more, as does the im2col
/// scratch. Inputs are copied from the host, and every readable value (outputs, kept values) is
/// copied back into the host arena, so `outputs()` and `value()` read the same way after a cuda
/// run.
///
/// Storage follows `session_options::precision`: float32, or __half (fp16) — weights converted
/// on upload (a finite weight beyond half's range, +-65504, is a ferx::error), activations and
/// im2col scratch in half, the float32 inputs converted to half on the device after their copy
/// and the readable values converted back to float32 before theirs (through a float staging
/// buffer); graph inputs read back by `value` are the caller's float32 values.
/// The device state (weights, arena, scratch and the cuBLAS handle, which the matrix ops get
/// through a `nn::cuda_blas_policy`) is resident in the session's `detail::device_slot`; a run
/// allocates only when its plan needs more than the last one, and synchronises once, at its end.
/// Extension steps: LSTM / GRU / RNN have device kernels (float32, ferx/cuda/dispatch/
/// nn_recurrent.cuh); the others run by their host kernels inside a float32 run
/// (`run_step_on_host`), and an fp16 session refuses them.
/// Included at the end of ferx/nn/session.hpp when compiled by nvcc. Link CUDA::cublas.
#pragma once

#include <ferx/cuda/blas.cuh>
#include <ferx/cuda/dispatch/nn.cuh>
#include <ferx/cuda/dispatch/nn_recurrent.cuh>
#include <ferx/cuda/kernels/nn.cuh>
#include <ferx/cuda/memory.cuh>
#include <ferx/cuda/runtime.cuh>
#include <ferx/nn/blas_policy.hpp>
#include <ferx/nn/ir.hpp>
#include <ferx/nn/plan.hpp>
#include <ferx/nn/tensor_ref.hpp>

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {
namespace detail {

/// What a session holds on the device, T being the stored element type (float or __half).
template <class T>
struct nn_cuda_state {
    explicit nn_cuda_state(cudaStream_t stream) : blas(stream) {}
    cuda::blas_handle blas;
    cuda::device_buffer<T> weights;  // all weights, concatenated (each at a multiple of 16 elements)
    std::vector<std::size_t> weight_offsets;
    cuda::device_buffer<T> arena, scratch;
    cuda::device_buffer<float> stage;  // fp16: float32 inputs and outputs on their way through
    std::vector<const T*> ptrs;        // the inputs of a Concat step
    // Host fallback of extension ops without a CUDA kernel (float32): inputs copied back, the
    // host kernel's output and scratch.
    std::vector<std::vector<float>> host_in;
    std::vector<const float*> host_ptrs;
    std::vector<float> host_out, host_scratch;
    std::size_t bytes() const { return weights.bytes() + arena.bytes() + scratch.bytes() + stage.bytes(); }
};

inline constexpr const char* cuda_session_where = "ferx::nn::session::run (cuda)";

inline void require_cuda_session_device() { cuda::require_device(cuda_session_where); }

// The weights in T, concatenated at offsets that are multiples of 16 elements, in one copy.
template <class T>
std::shared_ptr<nn_cuda_state<T>> upload_weights(const compiled_plan& p, const exec::cuda_policy& policy) {
    auto st = std::make_shared<nn_cuda_state<T>>(policy.stream());
    std::size_t total = 0;
    for (const auto& w : p.weights) {
        st->weight_offsets.push_back(total);
        total += (w.data.size() + 15) / 16 * 16;
    }
    std::vector<T> host(total);
    for (std::size_t i = 0; i < p.weights.size(); ++i) {
        const auto& data = p.weights[i].data;
        for (std::size_t j = 0; j < data.size(); ++j) {
            if (std::is_same<T, __half>::value && std::isfinite(data[j]) && std::fabs(data[j]) > 65504.f)
                throw error(cuda_session_where, "a weight of " + std::to_string(data[j]) + " (value '" + p.weight_name(i) +
                                                    "') is beyond half precision's range (+-65504): use precision::fp32 for this graph",
                            p.source);
            host[st->weight_offsets[i] + j] = cuda::kernels::nn_cast<T>(data[j]);
        }
    }
    st->weights = cuda::device_buffer<T>(total);
    if (total > 0)
        cuda::check(cudaMemcpyAsync(st->weights.data(), host.data(), total * sizeof(T), cudaMemcpyHostToDevice, policy.stream()),
                    cuda_session_where, "cudaMemcpyAsync");
    cuda::synchronize(policy);  // `host` is pageable and about to go
    return st;
}

// One step on the device; `dptr(id)` is a value's device address.
// An extension step without a CUDA kernel, run by its host kernel inside a cuda run (float32):
// its inputs copied to the host (weights read from the plan's host copy), the host kernel on
// the calling thread, its output copied back to the device. Correct, not fast: every call waits
// for the stream twice.
template <class Ptr>
void run_step_on_host(const exec::cuda_policy& on, nn_cuda_state<float>& st, const compiled_plan& p, const nn_step& step, Ptr&& dptr) {
    cudaStream_t stream = on.stream();
    st.host_in.resize(step.in.size());
    st.host_ptrs.assign(step.in.size(), nullptr);
    for (std::size_t i = 0; i < step.in.size(); ++i) {
        const int id = step.in[i];
        if (id < 0) continue;
        const auto& v = p.value(id);
        if (v.weight >= 0) {
            st.host_ptrs[i] = p.weights[static_cast<std::size_t>(v.weight)].data.data();
            continue;
        }
        const std::size_t n = static_cast<std::size_t>(element_count(v.shape));
        st.host_in[i].resize(n);
        if (n > 0)
            cuda::check(cudaMemcpyAsync(st.host_in[i].data(), dptr(id), n * sizeof(float), cudaMemcpyDeviceToHost, stream),
                        cuda_session_where, "cudaMemcpyAsync");
        st.host_ptrs[i] = st.host_in[i].data();
    }
    const std::size_t n_out = static_cast<std::size_t>(element_count(p.shape(step.out)));
    st.host_out.resize(n_out);
    st.host_scratch.resize(step.def->scratch_floats(step));
    cuda::check(cudaStreamSynchronize(stream), cuda_session_where, "cudaStreamSynchronize");
    step.def->run_seq(exec::seq, op_args{step, st.host_ptrs.data(), st.host_out.data(), st.host_scratch.data()});
    if (n_out > 0)
        cuda::check(cudaMemcpyAsync(dptr(step.out), st.host_out.data(), n_out * sizeof(float), cudaMemcpyHostToDevice, stream),
                    cuda_session_where, "cudaMemcpyAsync");
    cuda::check(cudaStreamSynchronize(stream), cuda_session_where, "cudaStreamSynchronize");  // host_out is reused
}

template <class T, class Ptr>
void run_step_cuda(const cuda_blas_policy& policy, nn_cuda_state<T>& st, const compiled_plan& plan, const nn_step& step, Ptr&& dptr) {
    const exec::cuda_policy& on = policy.cuda();
    const T* x = dptr(step.in[0]);
    T* y = dptr(step.out);
    switch (step.kind) {
    case step_kind::alias: return;
    case step_kind::conv:
        return device_conv2d<T>(policy, step.conv, x, dptr(step.in[1]), step.in.size() > 2 ? dptr(step.in[2]) : nullptr, y,
                                st.scratch.data(), step.act);
    case step_kind::affine: return device_channel_affine<T>(on, step.d0, step.d1, step.d2, dptr(step.in[1]), dptr(step.in[2]), x, y, step.act);
    case step_kind::unary: return device_unary<T>(on, step.act, x, y, step.d0);
    case step_kind::max_pool: return device_pool<T>(on, pool_kind::max, step.pool, x, y);
    case step_kind::average_pool: return device_pool<T>(on, pool_kind::average, step.pool, x, y);
    case step_kind::global_average_pool: return device_global_average_pool<T>(on, step.d0, step.d1, x, y);
    case step_kind::binary: return device_binary<T>(on, step.bin, step.bc, x, dptr(step.in[1]), y);
    case step_kind::concat:
        st.ptrs.resize(step.in.size());
        for (std::size_t i = 0; i < step.in.size(); ++i) st.ptrs[i] = dptr(step.in[i]);
        return device_concat<T>(on, step.d0, st.ptrs, step.widths, y);
    case step_kind::transpose: return device_transpose<T>(on, step.tr, x, y);
    case step_kind::pad: return device_pad<T>(on, step.pd, x, y);
    case step_kind::softmax: return device_softmax<T>(on, step.d0, step.d1, step.d2, x, y);
    case step_kind::gemm: {
        const bool has_c = step.in.size() > 2 && step.in[2] >= 0;
        return device_gemm<T>(policy, step.trans_a, step.trans_b, step.d0, step.d1, step.d2, step.alpha, x, dptr(step.in[1]), step.beta,
                              has_c ? dptr(step.in[2]) : nullptr, has_c ? step.bc.a_stride[0] : 0, has_c ? step.bc.a_stride[1] : 0, y);
    }
    case step_kind::matmul: {
        const std::int64_t m = step.d0, n = step.d1, k = step.d2;
        const broadcast_geometry& b = step.batch_bc;
        for (std::int64_t i = 0; i < step.batches; ++i) {
            std::int64_t ao, bo;
            broadcast_offsets(b, b.rank, i, ao, bo);
            device_matmul<T>(policy, 1, m, n, k, x + ao * m * k, 0, dptr(step.in[1]) + bo * k * n, 0, y + i * m * n);
        }
        return;
    }
    case step_kind::extension: {
        if (step.def == &output_part_def()) {  // one output of a multi-output op, out of its packed value
            if (step.d1 > 0)
                cuda::check(cudaMemcpyAsync(y, x + step.d0, static_cast<std::size_t>(step.d1) * sizeof(T), cudaMemcpyDeviceToDevice, on.stream()),
                            cuda_session_where, "cudaMemcpyAsync");
            return;
        }
        if (is_recurrent_step(step)) {
            if constexpr (std::is_same<T, float>::value) {
                st.ptrs.resize(step.in.size());  // as Concat's: grows once, then reuses its capacity
                for (std::size_t i = 0; i < step.in.size(); ++i) st.ptrs[i] = dptr(step.in[i]);
                return device_recurrent(policy, step, st.ptrs.data(), st.ptrs.size(), y, st.scratch.data());
            } else {
                throw error(cuda_session_where, "node '" + step.node + "' (" + step.op + "): " + step.op +
                                                    " runs in float32 only on CUDA; use precision::fp32 for this graph");
            }
        }
        if constexpr (std::is_same<T, float>::value) {
            if (step.def && step.def->run_seq) return run_step_on_host(on, st, plan, step, dptr);
        }
        throw error(cuda_session_where, "node '" + step.node + "' (" + step.op + "): op " + step.op +
                                            " has no CUDA kernel, and fp16 sessions do not run host kernels; use precision::fp32 or exec::seq / exec::par");
    }
    }
}

template <class T>
void run_plan_cuda_as(const exec::cuda_policy& policy, const compiled_plan& p, device_slot& device, float* host_arena,
                      const std::vector<tensor_ref>& inputs) {
    constexpr bool half = std::is_same<T, __half>::value;
    namespace k = cuda::kernels;
    cudaStream_t stream = policy.stream();
    if (!device.state) device.state = upload_weights<T>(p, policy);
    auto& st = *static_cast<nn_cuda_state<T>*>(device.state.get());
    if (st.arena.size() < p.arena_floats) st.arena = cuda::device_buffer<T>(p.arena_floats);
    std::size_t scratch = 0;
    for (const auto& step : p.steps)
        if (step.kind == step_kind::conv) scratch = std::max(scratch, conv2d_scratch_floats(policy, step.conv));
        else if (is_recurrent_step(step))
            scratch = std::max(scratch, device_recurrent_scratch_floats(step));
    if (st.scratch.size() < scratch) st.scratch = cuda::device_buffer<T>(scratch);
    if constexpr (half) {
        std::size_t stage = 0;
        for (int id : p.readable) stage = std::max(stage, static_cast<std::size_t>(element_count(p.shape(id))));
        if (st.stage.size() < stage) st.stage = cuda::device_buffer<float>(stage);
    }

    auto dptr = [&](int id) -> T* {
        if (id < 0) return nullptr;
        const auto& v = p.value(id);
        if (v.weight >= 0) return st.weights.data() + st.weight_offsets[static_cast<std::size_t>(v.weight)];
        return st.arena.data() + p.offsets[static_cast<std::size_t>(v.storage)];
    };
    auto host_ptr = [&](int id) { return host_arena + p.offset(id); };
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        if (!inputs[i].data && inputs[i].element_count() > 0)
            throw error(cuda_session_where, "input '" + p.input_names[i] + "' has no data");
        const std::int64_t n = inputs[i].element_count();
        const std::size_t bytes = static_cast<std::size_t>(n) * sizeof(float);
        const int id = p.input_ids[i];
        if constexpr (half) {
            // Through the float stage, converted on the device; the host copy (read by `value`)
            // keeps the caller's float32 values.
            if (n == 0) continue;
            cuda::check(cudaMemcpyAsync(st.stage.data(), inputs[i].data, bytes, cudaMemcpyHostToDevice, stream), cuda_session_where,
                        "cudaMemcpyAsync");
            k::nn_convert<float, T><<<nn_blocks(n), k::nn_threads, 0, stream>>>(st.stage.data(), dptr(id), n);
            cuda::check_launch(cuda_session_where);
            std::memcpy(host_ptr(id), inputs[i].data, bytes);
        } else {
            cuda::check(cudaMemcpyAsync(dptr(id), inputs[i].data, bytes, cudaMemcpyHostToDevice, stream), cuda_session_where,
                        "cudaMemcpyAsync");
        }
    }
    const cuda_blas_policy with_blas(policy, st.blas.get());
    for (const auto& step : p.steps) run_step_cuda(with_blas, st, p, step, dptr);
    for (int id : p.readable) {
        const auto& v = p.value(id);
        if (v.weight >= 0 || v.storage < 0) continue;
        const std::int64_t n = element_count(v.shape);
        const std::size_t bytes = static_cast<std::size_t>(n) * sizeof(float);
        if constexpr (half) {
            if (v.input >= 0 || n == 0) continue;  // inputs: copied on the host above
            k::nn_convert<T, float><<<nn_blocks(n), k::nn_threads, 0, stream>>>(dptr(id), st.stage.data(), n);
            cuda::check_launch(cuda_session_where);
            cuda::check(cudaMemcpyAsync(host_ptr(id), st.stage.data(), bytes, cudaMemcpyDeviceToHost, stream), cuda_session_where,
                        "cudaMemcpyAsync");
        } else {
            cuda::check(cudaMemcpyAsync(host_ptr(id), dptr(id), bytes, cudaMemcpyDeviceToHost, stream), cuda_session_where,
                        "cudaMemcpyAsync");
        }
    }
    cuda::synchronize(policy);
    device.bytes = st.bytes();
}

/// Runs `p`, planned for `inputs` (whole batches), on the device (the caller checked that there
/// is one, `require_cuda_session_device`): uploads the weights on the
/// first call, copies the inputs in and the readable values into `host_arena` (laid out as
/// `p.offsets`), and synchronises the policy's stream before it returns.
inline void run_plan_cuda(const exec::cuda_policy& policy, const compiled_plan& p, device_slot& device, float* host_arena,
                          const std::vector<tensor_ref>& inputs) {
    if (p.options.precision == precision::fp16) return run_plan_cuda_as<__half>(policy, p, device, host_arena, inputs);
    run_plan_cuda_as<float>(policy, p, device, host_arena, inputs);
}

}  // namespace detail
}  // namespace nn
FERX_NAMESPACE_END
