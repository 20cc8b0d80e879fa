/// \file ferx/cuda/dispatch/svm_predict.cuh
/// The `exec::cuda` backend of ferx::decision_function / ferx::predict for kernel C-SVC models:
/// batches of samples against the support vectors on the device.
///
///   dot-product kernels (linear, poly, rbf, sigmoid): dots = X_batch . SV' by cuBLAS GEMM (in T),
///     then k = kernel.from_dot(dot, |sv|^2, |x|^2) elementwise (in double);
///   chi2, intersection: k by a tiled kernel (ferx/cuda/kernels/svm.cuh);
///   decisions = k [b, S] . coef [S, P] - rho by a double-precision cuBLAS GEMM.
///
/// `svm_predictor` uploads the model once and keeps scratch for `max_batch` samples (sized from a
/// memory budget), so repeated calls allocate nothing; the free functions build one per call.
/// Link CUDA::cublas. Needs a device: without one, ferx::error (never a CPU fallback).
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/cuda/blas.cuh>
#include <ferx/cuda/kernels/svm.cuh>
#include <ferx/cuda/memory.cuh>
#include <ferx/cuda/runtime.cuh>
#include <ferx/learn/kernel_svm.hpp>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace cuda {

namespace detail {
// C [m x n] = A' [m x k] . B [k x n] in column-major terms (row-major: C' = B' . A).
inline void gemm_tn(cublasHandle_t h, int m, int n, int k, const float* a, const float* b, float* c) {
    const float one = 1.f, zero = 0.f;
    check_cublas(cublasSgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, &one, a, k, b, k, &zero, c, m), "ferx::svm_predictor",
                 "cublasSgemm");
}
inline void gemm_tn(cublasHandle_t h, int m, int n, int k, const double* a, const double* b, double* c) {
    const double one = 1.0, zero = 0.0;
    check_cublas(cublasDgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, &one, a, k, b, k, &zero, c, m), "ferx::svm_predictor",
                 "cublasDgemm");
}
template <class T>
device_buffer<T> upload(const T* host, std::size_t n, cudaStream_t stream, const char* where) {
    device_buffer<T> d(n);
    if (n > 0) check(cudaMemcpyAsync(d.data(), host, n * sizeof(T), cudaMemcpyHostToDevice, stream), where, "cudaMemcpyAsync");
    return d;
}
}  // namespace detail

/// A kernel C-SVC model resident on the device, with scratch for batches of samples.
template <class Kernel, class T>
class svm_predictor {
public:
    /// \param budget_bytes device scratch for one batch (dots, kernel values, decisions, input)
    svm_predictor(const exec::cuda_policy& policy, const svc_model<Kernel, T>& m, std::size_t budget_bytes = std::size_t(256) << 20)
        : policy_(policy), dim_(m.dim), s_(m.n_support()), p_(m.tasks.size()), tasks_(m.tasks), n_classes_(m.n_classes),
          kernel_(m.kernel), blas_(device_stream(policy)) {
        constexpr const char* where = "ferx::svm_predictor";
        ferx::detail::require(s_ > 0 && dim_ > 0, where, "the model has no support vectors");
        constexpr std::size_t int_max = static_cast<std::size_t>(std::numeric_limits<int>::max());
        ferx::detail::require(s_ <= int_max && dim_ <= int_max && p_ <= int_max, where,
                              "the model is too large for cuBLAS's int dimensions");
        cudaStream_t st = policy.stream();
        sv_ = detail::upload(m.support_vectors.data(), s_ * dim_, st, where);
        const auto norms = ferx::detail::row_norms(m.support_vectors);
        sv_norm_ = detail::upload(norms.data(), s_, st, where);
        coef_ = detail::upload(m.coef.data(), s_ * p_, st, where);
        rho_ = detail::upload(m.rho.data(), p_, st, where);
        const std::size_t per_row = dim_ * sizeof(T) + s_ * (sizeof(T) + sizeof(double)) + p_ * sizeof(double) + sizeof(double);
        max_batch_ = std::max<std::size_t>(1, std::min<std::size_t>(budget_bytes / per_row, 65536));
        x_ = device_buffer<T>(max_batch_ * dim_);
        x_norm_ = device_buffer<double>(max_batch_);
        if (Kernel::uses_dot) dots_ = device_buffer<T>(max_batch_ * s_);
        kv_ = device_buffer<double>(max_batch_ * s_);
        dec_ = device_buffer<double>(max_batch_ * p_);
        synchronize(policy);
    }

    std::size_t max_batch() const { return max_batch_; }

    /// Decision values [n, P] of x [n, d] (host in, host out; synchronises the stream).
    xt::xtensor<double, 2> decision_function(const xt::xtensor<T, 2>& x) {
        constexpr const char* where = "ferx::decision_function (cuda)";
        ferx::detail::check_predict_features(x, dim_, where);
        ferx::detail::check_kernel_input<Kernel>(x, where);
        namespace k = kernels;
        cudaStream_t st = policy_.stream();
        const std::size_t n = x.shape(0);
        xt::xtensor<double, 2> out({n, p_});
        for (std::size_t b0 = 0; b0 < n; b0 += max_batch_) {
            const std::size_t b = std::min(max_batch_, n - b0);
            const long long bs = static_cast<long long>(b), ss = static_cast<long long>(s_), ps = static_cast<long long>(p_),
                            ds = static_cast<long long>(dim_);
            check(cudaMemcpyAsync(x_.data(), x.data() + b0 * dim_, b * dim_ * sizeof(T), cudaMemcpyHostToDevice, st), where,
                  "cudaMemcpyAsync");
            const auto blocks = [](long long items) { return static_cast<unsigned>((items + k::svm_block - 1) / k::svm_block); };
            if constexpr (Kernel::uses_dot) {
                k::row_norms<T><<<static_cast<unsigned>((bs + k::svm_norm_warps - 1) / k::svm_norm_warps), 32 * k::svm_norm_warps, 0, st>>>(
                    x_.data(), bs, ds, x_norm_.data());
                check_launch(where);
                // dots [b, S] row-major = column-major [S, b] = SV'(col-major [d, S])' . X (col-major [d, b]).
                detail::gemm_tn(blas_.get(), static_cast<int>(s_), static_cast<int>(b), static_cast<int>(dim_), sv_.data(),
                                x_.data(), dots_.data());
                k::kernel_from_dots<Kernel, T><<<blocks(bs * ss), k::svm_block, 0, st>>>(kernel_, dots_.data(), x_norm_.data(),
                                                                                       sv_norm_.data(), bs, ss, kv_.data());
                check_launch(where);
            } else {
                const dim3 block(k::svm_tile, k::svm_tile);
                const dim3 grid(static_cast<unsigned>((ss + k::svm_tile - 1) / k::svm_tile),
                                static_cast<unsigned>((bs + k::svm_tile - 1) / k::svm_tile));
                k::kernel_direct<Kernel, T><<<grid, block, 0, st>>>(kernel_, x_.data(), sv_.data(), bs, ss, ds, kv_.data());
                check_launch(where);
            }
            k::fill_minus_rho<double><<<blocks(bs * ps), k::svm_block, 0, st>>>(rho_.data(), bs, ps, dec_.data());
            check_launch(where);
            // dec [b, P] row-major = column-major [P, b] += coef (col-major [P, S]) . kv (col-major [S, b]).
            const double one = 1.0;
            check_cublas(cublasDgemm(blas_.get(), CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(p_), static_cast<int>(b),
                                     static_cast<int>(s_), &one, coef_.data(), static_cast<int>(p_), kv_.data(),
                                     static_cast<int>(s_), &one, dec_.data(), static_cast<int>(p_)),
                         where, "cublasDgemm");
            check(cudaMemcpyAsync(out.data() + b0 * p_, dec_.data(), b * p_ * sizeof(double), cudaMemcpyDeviceToHost, st),
                  where, "cudaMemcpyAsync");
            synchronize(policy_);
        }
        return out;
    }

    /// Predicted labels of x [n, d].
    label_vector predict(const xt::xtensor<T, 2>& x) { return labels_from_decisions(decision_function(x), tasks_, n_classes_); }

private:
    // The policy's stream, after checking that a device is present (before cuBLAS is touched).
    static cudaStream_t device_stream(const exec::cuda_policy& policy) {
        require_device("ferx::svm_predictor");
        return policy.stream();
    }

    exec::cuda_policy policy_;
    std::size_t dim_, s_, p_, max_batch_ = 0;
    std::vector<binary_task> tasks_;
    int n_classes_;
    Kernel kernel_;
    blas_handle blas_;
    device_buffer<T> sv_, x_, dots_;
    device_buffer<double> sv_norm_, coef_, rho_, x_norm_, kv_, dec_;
};

}  // namespace cuda

/// Decision values [n, P] of a kernel C-SVC on the device (host data in and out).
template <class Kernel, class T>
xt::xtensor<double, 2> decision_function(const exec::cuda_policy& policy, const svc_model<Kernel, T>& m, const xt::xtensor<T, 2>& x) {
    return cuda::svm_predictor<Kernel, T>(policy, m).decision_function(x);
}

/// Predicted labels of x [n, d] on the device.
template <class Kernel, class T>
label_vector predict(const exec::cuda_policy& policy, const svc_model<Kernel, T>& m, const xt::xtensor<T, 2>& x) {
    return cuda::svm_predictor<Kernel, T>(policy, m).predict(x);
}

FERX_NAMESPACE_END
