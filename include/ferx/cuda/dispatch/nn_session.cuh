/// \file ferx/cuda/dispatch/nn_session.cuh
/// `ferx::nn::session::run(exec::cuda, inputs)`: the session's plan executed on the device.
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
/// Included at the end of ferx/nn/session.hpp when compiled by nvcc. Link CUDA::cublas.
#pragma once

#include <ferx/cuda/blas.cuh>
#include <ferx/cuda/dispatch/nn.cuh>
#include <ferx/cuda/kernels/nn.cuh>
#include <ferx/cuda/memory.cuh>
#include <ferx/cuda/runtime.cuh>
#include <ferx/nn/session.hpp>

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
    std::size_t bytes() const { return weights.bytes() + arena.bytes() + scratch.bytes() + stage.bytes(); }
};

}  // namespace detail

/// The session internals the cuda backend reads (a friend of `session`).
struct cuda_session_access {
    static std::vector<tensor_ref> run(session& s, const exec::cuda_policy& policy, const std::vector<tensor_ref>& inputs) {
        if (s.options_.precision == precision::fp16) return run_as<__half>(s, policy, inputs);
        return run_as<float>(s, policy, inputs);
    }

private:
    static constexpr const char* where = "ferx::nn::session::run (cuda)";

    template <class T>
    static std::vector<tensor_ref> run_as(session& s, const exec::cuda_policy& policy, const std::vector<tensor_ref>& inputs) {
        constexpr bool half = std::is_same<T, __half>::value;
        namespace k = cuda::kernels;
        cuda::require_device(where);
        cudaStream_t stream = policy.stream();
        s.prepare(inputs);
        if (!s.device_) s.device_ = upload<T>(s, policy);
        auto& st = *static_cast<detail::nn_cuda_state<T>*>(s.device_.get());
        if (st.arena.size() < s.arena_floats_) st.arena = cuda::device_buffer<T>(s.arena_floats_);
        std::size_t scratch = 0;
        for (const auto& step : s.steps_)
            if (step.kind == detail::step_kind::conv) scratch = std::max(scratch, conv2d_scratch_floats(policy, step.conv));
        if (st.scratch.size() < scratch) st.scratch = cuda::device_buffer<T>(scratch);
        if constexpr (half) {
            std::size_t stage = 0;
            for (int id : s.readable_) stage = std::max(stage, static_cast<std::size_t>(element_count(s.shp(id))));
            if (st.stage.size() < stage) st.stage = cuda::device_buffer<float>(stage);
        }

        auto dptr = [&](int id) -> T* {
            if (id < 0) return nullptr;
            const auto& v = s.values_[static_cast<std::size_t>(id)];
            if (v.weight >= 0) return st.weights.data() + st.weight_offsets[static_cast<std::size_t>(v.weight)];
            return st.arena.data() + s.offsets_[static_cast<std::size_t>(v.storage)];
        };
        for (std::size_t i = 0; i < inputs.size(); ++i) {
            if (!inputs[i].data && inputs[i].element_count() > 0) throw error(where, "input '" + s.input_names_[i] + "' has no data");
            const std::int64_t n = inputs[i].element_count();
            const std::size_t bytes = static_cast<std::size_t>(n) * sizeof(float);
            const int id = s.input_ids_[i];
            if constexpr (half) {
                // Through the float stage, converted on the device; the host copy (read by `value`)
                // keeps the caller's float32 values.
                if (n == 0) continue;
                cuda::check(cudaMemcpyAsync(st.stage.data(), inputs[i].data, bytes, cudaMemcpyHostToDevice, stream), where,
                            "cudaMemcpyAsync");
                k::nn_convert<float, T><<<detail::nn_blocks(n), k::nn_threads, 0, stream>>>(st.stage.data(), dptr(id), n);
                cuda::check_launch(where);
                std::memcpy(s.host_ptr(id), inputs[i].data, bytes);
            } else {
                cuda::check(cudaMemcpyAsync(dptr(id), inputs[i].data, bytes, cudaMemcpyHostToDevice, stream), where, "cudaMemcpyAsync");
            }
        }
        for (auto& step : s.steps_) run_step(policy, st, step, dptr);
        for (int id : s.readable_) {
            const auto& v = s.values_[static_cast<std::size_t>(id)];
            if (v.weight >= 0 || v.storage < 0) continue;
            const std::int64_t n = element_count(v.shape);
            const std::size_t bytes = static_cast<std::size_t>(n) * sizeof(float);
            if constexpr (half) {
                if (v.input >= 0 || n == 0) continue;  // inputs: copied on the host above
                k::nn_convert<T, float><<<detail::nn_blocks(n), k::nn_threads, 0, stream>>>(dptr(id), st.stage.data(), n);
                cuda::check_launch(where);
                cuda::check(cudaMemcpyAsync(s.host_ptr(id), st.stage.data(), bytes, cudaMemcpyDeviceToHost, stream), where,
                            "cudaMemcpyAsync");
            } else {
                cuda::check(cudaMemcpyAsync(s.host_ptr(id), dptr(id), bytes, cudaMemcpyDeviceToHost, stream), where, "cudaMemcpyAsync");
            }
        }
        cuda::synchronize(policy);
        s.device_bytes_ = st.bytes();
        return s.outputs();
    }

    // The weights in T, concatenated at offsets that are multiples of 16 elements, in one copy.
    template <class T>
    static std::shared_ptr<void> upload(const session& s, const exec::cuda_policy& policy) {
        auto st = std::make_shared<detail::nn_cuda_state<T>>(policy.stream());
        std::size_t total = 0;
        for (const auto& w : s.weights_) {
            st->weight_offsets.push_back(total);
            total += (w.data.size() + 15) / 16 * 16;
        }
        std::vector<T> host(total);
        for (std::size_t i = 0; i < s.weights_.size(); ++i) {
            const auto& data = s.weights_[i].data;
            for (std::size_t j = 0; j < data.size(); ++j) {
                if (std::is_same<T, __half>::value && std::isfinite(data[j]) && std::fabs(data[j]) > 65504.f)
                    throw error(where, "a weight of " + std::to_string(data[j]) + " (value '" + weight_name(s, i) +
                                           "') is beyond half precision's range (+-65504): use precision::fp32 for this graph",
                                s.source_);
                host[st->weight_offsets[i] + j] = cuda::kernels::nn_cast<T>(data[j]);
            }
        }
        st->weights = cuda::device_buffer<T>(total);
        if (total > 0)
            cuda::check(cudaMemcpyAsync(st->weights.data(), host.data(), total * sizeof(T), cudaMemcpyHostToDevice, policy.stream()),
                        where, "cudaMemcpyAsync");
        cuda::synchronize(policy);  // `host` is pageable and about to go
        return st;
    }

    static std::string weight_name(const session& s, std::size_t index) {
        for (const auto& [name, id] : s.weight_ids_)
            if (static_cast<std::size_t>(id) == index) return name;
        return "?";
    }

    template <class T, class Ptr>
    static void run_step(const exec::cuda_policy& policy, detail::nn_cuda_state<T>& st, detail::nn_step& step, Ptr&& dptr) {
        using detail::step_kind;
        const T* x = dptr(step.in[0]);
        T* y = dptr(step.out);
        cublasHandle_t blas = st.blas.get();
        switch (step.kind) {
        case step_kind::alias: return;
        case step_kind::conv:
            return detail::device_conv2d<T>(policy, blas, step.conv, x, dptr(step.in[1]), step.in.size() > 2 ? dptr(step.in[2]) : nullptr,
                                            y, st.scratch.data(), step.act);
        case step_kind::affine:
            return detail::device_channel_affine<T>(policy, step.d0, step.d1, step.d2, dptr(step.in[1]), dptr(step.in[2]), x, y, step.act);
        case step_kind::unary: return detail::device_unary<T>(policy, step.act, x, y, step.d0);
        case step_kind::max_pool: return detail::device_pool<T>(policy, detail::pool_kind::max, step.pool, x, y);
        case step_kind::average_pool: return detail::device_pool<T>(policy, detail::pool_kind::average, step.pool, x, y);
        case step_kind::global_average_pool: return detail::device_global_average_pool<T>(policy, step.d0, step.d1, x, y);
        case step_kind::binary: return detail::device_binary<T>(policy, step.bin, step.bc, x, dptr(step.in[1]), y);
        case step_kind::concat:
            st.ptrs.resize(step.in.size());
            for (std::size_t i = 0; i < step.in.size(); ++i) st.ptrs[i] = dptr(step.in[i]);
            return detail::device_concat<T>(policy, step.d0, st.ptrs, step.widths, y);
        case step_kind::transpose: return detail::device_transpose<T>(policy, step.tr, x, y);
        case step_kind::pad: return detail::device_pad<T>(policy, step.pd, x, y);
        case step_kind::softmax: return detail::device_softmax<T>(policy, step.d0, step.d1, step.d2, x, y);
        case step_kind::gemm: {
            const bool has_c = step.in.size() > 2 && step.in[2] >= 0;
            return detail::device_gemm<T>(policy, blas, step.trans_a, step.trans_b, step.d0, step.d1, step.d2, step.alpha, x,
                                          dptr(step.in[1]), step.beta, has_c ? dptr(step.in[2]) : nullptr,
                                          has_c ? step.bc.a_stride[0] : 0, has_c ? step.bc.a_stride[1] : 0, y);
        }
        case step_kind::matmul: {
            const std::int64_t m = step.d0, n = step.d1, k = step.d2;
            const broadcast_geometry& b = step.batch_bc;
            for (std::int64_t i = 0; i < step.batches; ++i) {
                std::int64_t ao, bo;
                detail::broadcast_offsets(b, b.rank, i, ao, bo);
                detail::device_matmul<T>(policy, blas, 1, m, n, k, x + ao * m * k, 0, dptr(step.in[1]) + bo * k * n, 0, y + i * m * n);
            }
            return;
        }
        }
    }
};

inline std::vector<tensor_ref> session::run(const exec::cuda_policy& policy, const std::vector<tensor_ref>& inputs) {
    return cuda_session_access::run(*this, policy, inputs);
}

}  // namespace nn
FERX_NAMESPACE_END
