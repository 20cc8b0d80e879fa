/// \file ferx/cuda/dispatch/svm_predict.cuh
/// The device side of ferx::cuda::svm_predictor (declared in ferx/learn/kernel_svm.hpp, which
/// includes this file at its end under nvcc): the model's device arrays, the batch scratch, and
/// the per-batch work enqueued on the policy's stream (see the class comment for the scheme).
/// svm_upload allocates and synchronises once; svm_decide_device enqueues only; svm_decide_host
/// copies in and out and synchronises (it returns host data). Link CUDA::cublas.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/cuda/blas.cuh>
#include <ferx/cuda/kernels/svm.cuh>
#include <ferx/cuda/memory.cuh>
#include <ferx/cuda/runtime.cuh>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace detail {
FERX_ARCH_NAMESPACE_BEGIN

// C [m x n] = A' [m x k] . B [k x n] in column-major terms (row-major: C' = B' . A).
inline void svm_gemm_tn(cublasHandle_t h, int m, int n, int k, const float* a, const float* b, float* c) {
    const float one = 1.f, zero = 0.f;
    cuda::check_cublas(cublasSgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, &one, a, k, b, k, &zero, c, m),
                       "ferx::svm_predictor", "cublasSgemm");
}
inline void svm_gemm_tn(cublasHandle_t h, int m, int n, int k, const double* a, const double* b, double* c) {
    const double one = 1.0, zero = 0.0;
    cuda::check_cublas(cublasDgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, &one, a, k, b, k, &zero, c, m),
                       "ferx::svm_predictor", "cublasDgemm");
}
template <class T>
cuda::device_buffer<T> svm_upload_array(const T* host, std::size_t n, cudaStream_t stream, const char* where) {
    cuda::device_buffer<T> d(n);
    if (n > 0)
        cuda::check(cudaMemcpyAsync(d.data(), host, n * sizeof(T), cudaMemcpyHostToDevice, stream), where, "cudaMemcpyAsync");
    return d;
}

// The policy's stream, after checking that a device is present (before cuBLAS is touched).
inline cudaStream_t svm_device_stream(const exec::cuda_policy& policy) {
    cuda::require_device("ferx::svm_predictor");
    return policy.stream();
}

template <class Kernel, class T>
struct svm_device_state {
    exec::cuda_policy policy;
    Kernel kernel;
    std::size_t dim, s, p, max_batch;
    cuda::blas_handle blas;
    cuda::device_buffer<T> sv, x, dots;
    cuda::device_buffer<double> sv_norm, coef, rho, x_norm, kv, dec;

    svm_device_state(const exec::cuda_policy& pol, const Kernel& k, std::size_t d, std::size_t s_count, std::size_t p_count,
                     std::size_t batch)
        : policy(pol), kernel(k), dim(d), s(s_count), p(p_count), max_batch(batch), blas(svm_device_stream(pol)) {}
};

template <class Kernel, class T>
std::shared_ptr<svm_device_state<Kernel, T>> svm_upload(const exec::cuda_policy& policy, const Kernel& kernel, const T* sv,
                                                       const double* sv_norm, const double* coef, const double* rho,
                                                       std::size_t s, std::size_t dim, std::size_t p, std::size_t max_batch) {
    constexpr const char* where = "ferx::svm_predictor";
    auto st = std::make_shared<svm_device_state<Kernel, T>>(policy, kernel, dim, s, p, max_batch);
    cudaStream_t stream = policy.stream();
    st->sv = svm_upload_array(sv, s * dim, stream, where);
    st->sv_norm = svm_upload_array(sv_norm, s, stream, where);
    st->coef = svm_upload_array(coef, s * p, stream, where);
    st->rho = svm_upload_array(rho, p, stream, where);
    st->x = cuda::device_buffer<T>(max_batch * dim);
    st->x_norm = cuda::device_buffer<double>(max_batch);
    if (Kernel::uses_dot) st->dots = cuda::device_buffer<T>(max_batch * s);
    st->kv = cuda::device_buffer<double>(max_batch * s);
    st->dec = cuda::device_buffer<double>(max_batch * p);
    cuda::synchronize(policy);  // the host arrays may go once this returns
    return st;
}

template <class Kernel, class T>
void svm_decide_device(svm_device_state<Kernel, T>& st, const T* d_x, std::size_t b, double* d_out) {
    constexpr const char* where = "ferx::decision_function (cuda)";
    namespace k = cuda::kernels;
    cudaStream_t stream = st.policy.stream();
    const long long bs = static_cast<long long>(b), ss = static_cast<long long>(st.s), ps = static_cast<long long>(st.p),
                    ds = static_cast<long long>(st.dim);
    const auto blocks = [](long long items) { return static_cast<unsigned>((items + k::svm_block - 1) / k::svm_block); };
    if constexpr (Kernel::uses_dot) {
        k::row_norms<T><<<static_cast<unsigned>((bs + k::svm_norm_warps - 1) / k::svm_norm_warps), 32 * k::svm_norm_warps, 0,
                          stream>>>(d_x, bs, ds, st.x_norm.data());
        cuda::check_launch(where);
        // dots [b, S] row-major = column-major [S, b] = SV'(col-major [d, S])' . X (col-major [d, b]).
        svm_gemm_tn(st.blas.get(), static_cast<int>(st.s), static_cast<int>(b), static_cast<int>(st.dim), st.sv.data(), d_x,
                    st.dots.data());
        k::kernel_from_dots<Kernel, T><<<blocks(bs * ss), k::svm_block, 0, stream>>>(
            st.kernel, st.dots.data(), st.x_norm.data(), st.sv_norm.data(), bs, ss, st.kv.data());
        cuda::check_launch(where);
    } else {
        const dim3 block(k::svm_tile, k::svm_tile);
        const dim3 grid(static_cast<unsigned>((ss + k::svm_tile - 1) / k::svm_tile),
                        static_cast<unsigned>((bs + k::svm_tile - 1) / k::svm_tile));
        k::kernel_direct<Kernel, T><<<grid, block, 0, stream>>>(st.kernel, d_x, st.sv.data(), bs, ss, ds, st.kv.data());
        cuda::check_launch(where);
    }
    k::fill_minus_rho<double><<<blocks(bs * ps), k::svm_block, 0, stream>>>(st.rho.data(), bs, ps, d_out);
    cuda::check_launch(where);
    // out [b, P] row-major = column-major [P, b] += coef (col-major [P, S]) . kv (col-major [S, b]).
    const double one = 1.0;
    cuda::check_cublas(cublasDgemm(st.blas.get(), CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(st.p), static_cast<int>(b),
                                   static_cast<int>(st.s), &one, st.coef.data(), static_cast<int>(st.p), st.kv.data(),
                                   static_cast<int>(st.s), &one, d_out, static_cast<int>(st.p)),
                       where, "cublasDgemm");
}

template <class Kernel, class T>
void svm_decide_host(svm_device_state<Kernel, T>& st, const T* x, std::size_t b, double* out) {
    constexpr const char* where = "ferx::decision_function (cuda)";
    cudaStream_t stream = st.policy.stream();
    cuda::check(cudaMemcpyAsync(st.x.data(), x, b * st.dim * sizeof(T), cudaMemcpyHostToDevice, stream), where,
                "cudaMemcpyAsync");
    svm_decide_device(st, st.x.data(), b, st.dec.data());
    cuda::check(cudaMemcpyAsync(out, st.dec.data(), b * st.p * sizeof(double), cudaMemcpyDeviceToHost, stream), where,
                "cudaMemcpyAsync");
    cuda::synchronize(st.policy);
}

FERX_ARCH_NAMESPACE_END
}  // namespace detail
FERX_NAMESPACE_END
