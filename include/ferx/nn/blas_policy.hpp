/// \file ferx/nn/blas_policy.hpp
/// `ferx::nn::cuda_blas_policy`: the execution policy of the nn ops that multiply matrices on
/// the device (`conv2d`, `gemm`, `matmul` in ferx/cuda/dispatch/nn.cuh). It is `exec::cuda`
/// (the stream) plus the cuBLAS handle those ops call, so the handle travels with the policy
/// value instead of as an extra argument of each op:
///
///     ferx::cuda::blas_handle blas(stream);             // resident: create once, reuse
///     const auto on = ferx::exec::cuda.on(stream);
///     ferx::nn::conv2d(ferx::nn::cuda_blas_policy(on, blas.get()), g, d_x, d_w, d_b, d_y, d_scratch);
///     ferx::nn::unary(on, op, d_y, d_y, count);         // ops without cuBLAS take exec::cuda
///
/// The handle is not owned: its owner (a `cuda::blas_handle`, or a `nn::session`'s device
/// state) outlives the policy, and one handle serves one host thread at a time. Each op binds it
/// to the policy's stream (`cublasSetStream`, host-side, no synchronisation) before enqueuing.
/// This header never includes CUDA headers: the handle's type (`cublasContext*`, i.e.
/// `cublasHandle_t`) is opaque here.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/execution.hpp>

struct cublasContext;  // cublasHandle_t is `cublasContext*`

FERX_NAMESPACE_BEGIN
namespace nn {

class cuda_blas_policy {
public:
    constexpr cuda_blas_policy(const exec::cuda_policy& policy, cublasContext* blas) : policy_(policy), blas_(blas) {}
    /// The CUDA policy (its stream), for the ops that take `exec::cuda`.
    constexpr const exec::cuda_policy& cuda() const noexcept { return policy_; }
    constexpr CUstream_st* stream() const noexcept { return policy_.stream(); }
    constexpr cublasContext* blas() const noexcept { return blas_; }

private:
    exec::cuda_policy policy_;
    cublasContext* blas_;
};

}  // namespace nn
FERX_NAMESPACE_END
