/// \file ferx/cuda/dispatch/nn_session.cuh
/// `ferx::nn::session::run(exec::cuda, inputs)`: the session's plan executed on the device.
/// On the first cuda run the weights are uploaded once; the device arena mirrors the host plan
/// (same offsets) and grows only when a plan needs more, as does the im2col scratch. Inputs are
/// copied from the host, and every readable value (outputs, kept values) is copied back into
/// the host arena, so `outputs()` and `value()` read the same way after a cuda run.
/// Included at the end of ferx/nn/session.hpp when compiled by nvcc. Link CUDA::cublas.
#pragma once

#include <ferx/cuda/dispatch/nn.cuh>
#include <ferx/cuda/memory.cuh>
#include <ferx/cuda/runtime.cuh>
#include <ferx/nn/session.hpp>

#include <cuda_runtime.h>

#include <memory>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {
namespace detail {

/// What a session holds on the device.
struct nn_cuda_state {
    explicit nn_cuda_state(cudaStream_t stream) : blas(stream) {}
    cuda::blas_handle blas;
    cuda::device_buffer<float> weights;  // all weights, concatenated
    std::vector<std::size_t> weight_offsets;
    cuda::device_buffer<float> arena, scratch;
};

}  // namespace detail

/// The session internals the cuda backend reads (a friend of `session`).
struct cuda_session_access {
    static std::vector<tensor_ref> run(session& s, const exec::cuda_policy& policy, const std::vector<tensor_ref>& inputs) {
        constexpr const char* where = "ferx::nn::session::run (cuda)";
        cuda::require_device(where);
        cudaStream_t stream = policy.stream();
        s.prepare(inputs);
        if (!s.device_) {
            auto st = std::make_shared<detail::nn_cuda_state>(stream);
            std::size_t total = 0;
            for (const auto& w : s.weights_) {
                st->weight_offsets.push_back(total);
                total += w.data.size();
            }
            st->weights = cuda::device_buffer<float>(total);
            for (std::size_t i = 0; i < s.weights_.size(); ++i)
                if (!s.weights_[i].data.empty())
                    cuda::check(cudaMemcpyAsync(st->weights.data() + st->weight_offsets[i], s.weights_[i].data.data(),
                                                s.weights_[i].data.size() * sizeof(float), cudaMemcpyHostToDevice, stream),
                                where, "cudaMemcpyAsync");
            cuda::synchronize(policy);
            s.device_ = st;
        }
        auto& st = *static_cast<detail::nn_cuda_state*>(s.device_.get());
        if (st.arena.size() < s.arena_floats_) st.arena = cuda::device_buffer<float>(s.arena_floats_);
        std::size_t scratch = 0;
        for (const auto& step : s.steps_)
            if (step.kind == detail::step_kind::conv) scratch = std::max(scratch, conv2d_scratch_floats(policy, step.conv));
        if (st.scratch.size() < scratch) st.scratch = cuda::device_buffer<float>(scratch);

        auto dptr = [&](int id) -> float* {
            if (id < 0) return nullptr;
            const auto& v = s.values_[static_cast<std::size_t>(id)];
            if (v.weight >= 0) return st.weights.data() + st.weight_offsets[static_cast<std::size_t>(v.weight)];
            return st.arena.data() + s.offsets_[static_cast<std::size_t>(v.storage)];
        };
        for (std::size_t i = 0; i < inputs.size(); ++i) {
            if (!inputs[i].data && inputs[i].element_count() > 0) throw error(where, "input '" + s.input_names_[i] + "' has no data");
            cuda::check(cudaMemcpyAsync(dptr(s.input_ids_[i]), inputs[i].data, static_cast<std::size_t>(inputs[i].element_count()) * sizeof(float),
                                        cudaMemcpyHostToDevice, stream),
                        where, "cudaMemcpyAsync");
        }
        for (auto& step : s.steps_) run_step(policy, st, step, dptr);
        for (int id : s.readable_) {
            const auto& v = s.values_[static_cast<std::size_t>(id)];
            if (v.weight >= 0 || v.storage < 0) continue;
            cuda::check(cudaMemcpyAsync(s.host_ptr(id), dptr(id), static_cast<std::size_t>(element_count(v.shape)) * sizeof(float),
                                        cudaMemcpyDeviceToHost, stream),
                        where, "cudaMemcpyAsync");
        }
        cuda::synchronize(policy);
        return s.outputs();
    }

private:
    template <class Ptr>
    static void run_step(const exec::cuda_policy& policy, detail::nn_cuda_state& st, detail::nn_step& step, Ptr&& dptr) {
        using detail::step_kind;
        const float* x = dptr(step.in[0]);
        float* y = dptr(step.out);
        switch (step.kind) {
        case step_kind::alias: return;
        case step_kind::conv:
            return conv2d(policy, st.blas.get(), step.conv, x, dptr(step.in[1]), step.in.size() > 2 ? dptr(step.in[2]) : nullptr, y,
                          st.scratch.data(), step.act);
        case step_kind::affine: return channel_affine(policy, step.d0, step.d1, step.d2, dptr(step.in[1]), dptr(step.in[2]), x, y, step.act);
        case step_kind::unary: return unary(policy, step.act, x, y, step.d0);
        case step_kind::max_pool: return max_pool(policy, step.pool, x, y);
        case step_kind::average_pool: return average_pool(policy, step.pool, x, y);
        case step_kind::global_average_pool: return global_average_pool(policy, step.d0, step.d1, x, y);
        case step_kind::binary: return binary(policy, step.bin, step.bc, x, dptr(step.in[1]), y);
        case step_kind::concat:
            for (std::size_t i = 0; i < step.in.size(); ++i) step.ptrs[i] = dptr(step.in[i]);
            return concat(policy, step.d0, step.ptrs, step.widths, y);
        case step_kind::transpose: return transpose(policy, step.tr, x, y);
        case step_kind::pad: return pad(policy, step.pd, x, y);
        case step_kind::softmax: return softmax(policy, step.d0, step.d1, step.d2, x, y);
        case step_kind::gemm: {
            const bool has_c = step.in.size() > 2 && step.in[2] >= 0;
            return gemm(policy, st.blas.get(), step.trans_a, step.trans_b, step.d0, step.d1, step.d2, step.alpha, x, dptr(step.in[1]),
                        step.beta, has_c ? dptr(step.in[2]) : nullptr, has_c ? step.bc.a_stride[0] : 0,
                        has_c ? step.bc.a_stride[1] : 0, y);
        }
        case step_kind::matmul: {
            const std::int64_t m = step.d0, n = step.d1, k = step.d2;
            const broadcast_geometry& b = step.batch_bc;
            for (std::int64_t i = 0; i < step.batches; ++i) {
                std::int64_t ao, bo;
                detail::broadcast_offsets(b, b.rank, i, ao, bo);
                matmul(policy, st.blas.get(), 1, m, n, k, x + ao * m * k, 0, dptr(step.in[1]) + bo * k * n, 0, y + i * m * n);
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
