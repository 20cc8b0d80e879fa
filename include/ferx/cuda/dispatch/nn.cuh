/// \file ferx/cuda/dispatch/nn.cuh
/// The `exec::cuda` backend of the nn ops: the same functions as the host headers, taking
/// device pointers and enqueuing on the policy's stream. Convolution is im2col into caller
/// scratch + cuBLAS GEMM (strided-batched over the images of a chunk, one call per group);
/// pointwise convolutions multiply the input directly and depthwise ones run a direct kernel.
/// Gemm and MatMul call cuBLAS with the transposes as flags. Link CUDA::cublas.
///
/// The ops that call cuBLAS (`conv2d`, `gemm`, `matmul`) take a `nn::cuda_blas_policy`
/// (ferx/nn/blas_policy.hpp): exec::cuda plus the handle, owned by a resident object (a
/// `cuda::blas_handle`, or the session's device state) and bound to the policy's stream by each
/// op. The others take exec::cuda. Every op only enqueues on the stream: no synchronisation.
/// Nothing here allocates: scratch comes from the caller (the session's arena).
///
/// Each op is a template in `nn::detail` (`device_conv2d<T>`, ...) on the stored element type:
/// float, or __half for the session's fp16 option (`session_options::precision`), where the
/// GEMMs are cublasGemmStridedBatchedEx with half inputs and outputs, fp32 accumulation
/// (CUBLAS_COMPUTE_32F; cuBLAS may use tensor cores) and the kernels compute in float. The public
/// functions below are the float32 ones.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/cuda/blas.cuh>
#include <ferx/cuda/kernels/nn.cuh>
#include <ferx/cuda/runtime.cuh>
#include <ferx/nn/activation.hpp>
#include <ferx/nn/blas_policy.hpp>
#include <ferx/nn/conv.hpp>
#include <ferx/nn/elementwise.hpp>
#include <ferx/nn/layout.hpp>
#include <ferx/nn/pool.hpp>

#include <cublas_v2.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {
namespace detail {

inline constexpr const char* cuda_where = "ferx::nn (cuda)";

/// Blocks for a grid-stride kernel over n elements (at most 2^20 blocks; the loop covers the rest).
inline unsigned nn_blocks(std::int64_t n) {
    const std::int64_t b = (n + cuda::kernels::nn_threads - 1) / cuda::kernels::nn_threads;
    return static_cast<unsigned>(std::max<std::int64_t>(1, std::min<std::int64_t>(b, std::int64_t{1} << 20)));
}

/// The policy's cuBLAS handle, bound to its stream (host-side; no synchronisation).
inline cublasHandle_t bound_blas(const cuda_blas_policy& policy) {
    if (!policy.blas()) throw error(cuda_where, "the cuda_blas_policy has no cuBLAS handle (make one with a ferx::cuda::blas_handle)");
    cuda::check_cublas(cublasSetStream(policy.blas(), policy.stream()), cuda_where, "cublasSetStream");
    return policy.blas();
}

inline int blas_int(std::int64_t v) {
    if (v > std::numeric_limits<int>::max()) throw error(cuda_where, "a matrix extent exceeds cuBLAS's int range");
    return static_cast<int>(v);
}

/// Images per im2col chunk: the column matrices of a chunk stay within 2^25 elements (128 MiB in
/// float, 64 MiB in half).
inline std::int64_t conv_chunk_images(const conv_geometry& g) {
    const std::int64_t per = std::max<std::int64_t>(1, g.k() * g.oh * g.ow);
    return std::max<std::int64_t>(1, std::min<std::int64_t>(g.n, (std::int64_t{1} << 25) / per));
}

// Row-major C [m x n] = A [m x k] . B [k x n] (+ strided batches), as column-major
// C' = B' . A' for cuBLAS. ta / tb: A stored k x m / B stored n x k.
inline void gemm_rows(cublasHandle_t h, bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, const float* a,
                      const float* b, float* c, std::int64_t batches = 1, std::int64_t stride_a = 0, std::int64_t stride_b = 0,
                      std::int64_t stride_c = 0) {
    const float one = 1.f, zero = 0.f;
    const int lda = blas_int(ta ? m : k), ldb = blas_int(tb ? k : n);
    cuda::check_cublas(cublasSgemmStridedBatched(h, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, blas_int(n),
                                                 blas_int(m), blas_int(k), &one, b, ldb, stride_b, a, lda, stride_a, &zero, c,
                                                 blas_int(n), stride_c, blas_int(batches)),
                       cuda_where, "cublasSgemmStridedBatched");
}

// The same product on half operands and result, accumulated in fp32 (alpha and beta are floats
// with CUBLAS_COMPUTE_32F); cuBLAS's default math mode lets it use tensor cores.
inline void gemm_rows(cublasHandle_t h, bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, const __half* a,
                      const __half* b, __half* c, std::int64_t batches = 1, std::int64_t stride_a = 0,
                      std::int64_t stride_b = 0, std::int64_t stride_c = 0) {
    const float one = 1.f, zero = 0.f;
    const int lda = blas_int(ta ? m : k), ldb = blas_int(tb ? k : n);
    cuda::check_cublas(cublasGemmStridedBatchedEx(h, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, blas_int(n),
                                                  blas_int(m), blas_int(k), &one, b, CUDA_R_16F, ldb, stride_b, a, CUDA_R_16F, lda,
                                                  stride_a, &zero, c, CUDA_R_16F, blas_int(n), stride_c, blas_int(batches),
                                                  CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                       cuda_where, "cublasGemmStridedBatchedEx (fp16, fp32 accumulation)");
}

}  // namespace detail

/// Elements of device scratch `conv2d` needs (im2col of one chunk of images, in the stored type;
/// 0 for pointwise and depthwise convolutions).
inline std::size_t conv2d_scratch_floats(const exec::cuda_policy&, const conv_geometry& g) {
    if (g.depthwise() || g.pointwise()) return 0;
    return static_cast<std::size_t>(detail::conv_chunk_images(g) * g.k() * g.oh * g.ow);
}
inline std::size_t conv2d_scratch_floats(const cuda_blas_policy& policy, const conv_geometry& g) {
    return conv2d_scratch_floats(policy.cuda(), g);
}

namespace detail {

// The ops on stored element type T (float or __half); see the public float functions below.

template <class T>
void device_conv2d(const cuda_blas_policy& policy, const conv_geometry& g, const T* d_x, const T* d_w,
                   const T* d_bias, T* d_y, T* d_scratch, const unary_op& post) {
    namespace k = cuda::kernels;
    cudaStream_t stream = policy.stream();
    const std::int64_t pixels = g.oh * g.ow, total = g.n * g.m * pixels;
    if (g.depthwise()) {
        k::nn_depthwise<T><<<nn_blocks(total), k::nn_threads, 0, stream>>>(g, d_x, d_w, d_bias, post, d_y);
        cuda::check_launch(cuda_where);
        return;
    }
    cublasHandle_t blas = bound_blas(policy);
    const std::int64_t cg = g.c_per_group(), mg = g.m_per_group(), kk = g.k();
    const std::int64_t chunk = g.pointwise() ? g.n : conv_chunk_images(g);
    for (std::int64_t i0 = 0; i0 < g.n; i0 += chunk) {
        const std::int64_t count = std::min(chunk, g.n - i0);
        for (std::int64_t grp = 0; grp < g.group; ++grp) {
            const T* b = d_x + (i0 * g.c + grp * cg) * g.h * g.w;
            std::int64_t stride_b = g.c * g.h * g.w;
            if (!g.pointwise()) {
                k::nn_im2col<T><<<nn_blocks(count * kk * pixels), k::nn_threads, 0, stream>>>(g, d_x + i0 * g.c * g.h * g.w, grp,
                                                                                             count, d_scratch);
                cuda::check_launch(cuda_where);
                b = d_scratch;
                stride_b = kk * pixels;
            }
            gemm_rows(blas, false, false, mg, pixels, kk, d_w + grp * mg * kk, b, d_y + (i0 * g.m + grp * mg) * pixels, count, 0,
                      stride_b, g.m * pixels);
        }
    }
    if (d_bias || post.kind != unary_kind::identity) {
        k::nn_bias_post<T><<<nn_blocks(total), k::nn_threads, 0, stream>>>(total, g.m, pixels, d_bias, post, d_y);
        cuda::check_launch(cuda_where);
    }
}

template <class T>
void device_unary(const exec::cuda_policy& policy, const unary_op& op, const T* d_x, T* d_y, std::int64_t count) {
    namespace k = cuda::kernels;
    k::nn_unary<T><<<nn_blocks(count), k::nn_threads, 0, policy.stream()>>>(op, d_x, d_y, count);
    cuda::check_launch(cuda_where);
}

template <class T>
void device_channel_affine(const exec::cuda_policy& policy, std::int64_t n, std::int64_t c, std::int64_t inner, const T* d_scale,
                           const T* d_shift, const T* d_x, T* d_y, const unary_op& post) {
    namespace k = cuda::kernels;
    const std::int64_t total = n * c * inner;
    k::nn_channel_affine<T><<<nn_blocks(total), k::nn_threads, 0, policy.stream()>>>(total, c, inner, d_scale, d_shift, post, d_x,
                                                                                    d_y);
    cuda::check_launch(cuda_where);
}

template <class T>
void device_pool(const exec::cuda_policy& policy, pool_kind kind, const pool_geometry& g, const T* d_x, T* d_y) {
    namespace k = cuda::kernels;
    k::nn_pool<T><<<nn_blocks(g.n * g.c * g.oh * g.ow), k::nn_threads, 0, policy.stream()>>>(kind, g, d_x, d_y);
    cuda::check_launch(cuda_where);
}

template <class T>
void device_global_average_pool(const exec::cuda_policy& policy, std::int64_t planes, std::int64_t inner, const T* d_x, T* d_y) {
    namespace k = cuda::kernels;
    if (planes > (std::int64_t{1} << 23)) throw error(cuda_where, "GlobalAveragePool over more than 2^23 planes");
    k::nn_global_average_pool<T><<<nn_blocks(planes * 32), k::nn_threads, 0, policy.stream()>>>(planes, inner, d_x, d_y);
    cuda::check_launch(cuda_where);
}

template <class T>
void device_binary(const exec::cuda_policy& policy, binary_kind kind, const broadcast_geometry& g, const T* d_a, const T* d_b,
                   T* d_y) {
    namespace k = cuda::kernels;
    k::nn_binary<T><<<nn_blocks(g.count), k::nn_threads, 0, policy.stream()>>>(kind, g, d_a, d_b, d_y);
    cuda::check_launch(cuda_where);
}

template <class T>
void device_transpose(const exec::cuda_policy& policy, const transpose_geometry& g, const T* d_x, T* d_y) {
    namespace k = cuda::kernels;
    k::nn_transpose<T><<<nn_blocks(g.count), k::nn_threads, 0, policy.stream()>>>(g, d_x, d_y);
    cuda::check_launch(cuda_where);
}

template <class T>
void device_pad(const exec::cuda_policy& policy, const pad_geometry& g, const T* d_x, T* d_y) {
    namespace k = cuda::kernels;
    k::nn_pad<T><<<nn_blocks(g.count), k::nn_threads, 0, policy.stream()>>>(g, d_x, d_y);
    cuda::check_launch(cuda_where);
}

template <class T>
void device_softmax(const exec::cuda_policy& policy, std::int64_t outer, std::int64_t len, std::int64_t inner, const T* d_x,
                    T* d_y) {
    namespace k = cuda::kernels;
    k::nn_softmax<T><<<nn_blocks(outer * inner), k::nn_threads, 0, policy.stream()>>>(outer, len, inner, d_x, d_y);
    cuda::check_launch(cuda_where);
}

// One 2-D copy per input.
template <class T>
void device_concat(const exec::cuda_policy& policy, std::int64_t outer, const std::vector<const T*>& d_xs,
                   const std::vector<std::int64_t>& widths, T* d_y) {
    std::int64_t total = 0, at = 0;
    for (auto w : widths) total += w;
    for (std::size_t i = 0; i < d_xs.size(); ++i) {
        if (widths[i] > 0 && outer > 0)
            cuda::check(cudaMemcpy2DAsync(d_y + at, static_cast<std::size_t>(total) * sizeof(T), d_xs[i],
                                          static_cast<std::size_t>(widths[i]) * sizeof(T), static_cast<std::size_t>(widths[i]) * sizeof(T),
                                          static_cast<std::size_t>(outer), cudaMemcpyDeviceToDevice, policy.stream()),
                        cuda_where, "cudaMemcpy2DAsync");
        at += widths[i];
    }
}

template <class T>
void device_gemm(const cuda_blas_policy& policy, bool trans_a, bool trans_b, std::int64_t m, std::int64_t n,
                 std::int64_t k, float alpha, const T* d_a, const T* d_b, float beta, const T* d_c, std::int64_t cs0,
                 std::int64_t cs1, T* d_y) {
    namespace kn = cuda::kernels;
    cublasHandle_t blas = bound_blas(policy);
    gemm_rows(blas, trans_a, trans_b, m, n, k, d_a, d_b, d_y);
    if (alpha != 1.f || d_c) {
        kn::nn_gemm_epilogue<T><<<nn_blocks(m * n), kn::nn_threads, 0, policy.stream()>>>(m, n, alpha, beta, d_c, cs0, cs1, d_y);
        cuda::check_launch(cuda_where);
    }
}

template <class T>
void device_matmul(const cuda_blas_policy& policy, std::int64_t batches, std::int64_t m, std::int64_t n,
                   std::int64_t k, const T* d_a, std::int64_t stride_a, const T* d_b, std::int64_t stride_b, T* d_y) {
    cublasHandle_t blas = bound_blas(policy);
    gemm_rows(blas, false, false, m, n, k, d_a, d_b, d_y, batches, stride_a, stride_b, m * n);
}

}  // namespace detail

/// y = post(conv(x, w) + bias) on the device (see the host overload for the layouts).
inline void conv2d(const cuda_blas_policy& policy, const conv_geometry& g, const float* d_x,
                   const float* d_w, const float* d_bias, float* d_y, float* d_scratch, const unary_op& post = {}) {
    detail::device_conv2d(policy, g, d_x, d_w, d_bias, d_y, d_scratch, post);
}

inline void unary(const exec::cuda_policy& policy, const unary_op& op, const float* d_x, float* d_y, std::int64_t count) {
    detail::device_unary(policy, op, d_x, d_y, count);
}

inline void channel_affine(const exec::cuda_policy& policy, std::int64_t n, std::int64_t c, std::int64_t inner,
                           const float* d_scale, const float* d_shift, const float* d_x, float* d_y, const unary_op& post = {}) {
    detail::device_channel_affine(policy, n, c, inner, d_scale, d_shift, d_x, d_y, post);
}

inline void max_pool(const exec::cuda_policy& policy, const pool_geometry& g, const float* d_x, float* d_y) {
    detail::device_pool(policy, detail::pool_kind::max, g, d_x, d_y);
}

inline void average_pool(const exec::cuda_policy& policy, const pool_geometry& g, const float* d_x, float* d_y) {
    detail::device_pool(policy, detail::pool_kind::average, g, d_x, d_y);
}

inline void global_average_pool(const exec::cuda_policy& policy, std::int64_t planes, std::int64_t inner, const float* d_x,
                                float* d_y) {
    detail::device_global_average_pool(policy, planes, inner, d_x, d_y);
}

inline void binary(const exec::cuda_policy& policy, binary_kind kind, const broadcast_geometry& g, const float* d_a,
                   const float* d_b, float* d_y) {
    detail::device_binary(policy, kind, g, d_a, d_b, d_y);
}

inline void transpose(const exec::cuda_policy& policy, const transpose_geometry& g, const float* d_x, float* d_y) {
    detail::device_transpose(policy, g, d_x, d_y);
}

inline void pad(const exec::cuda_policy& policy, const pad_geometry& g, const float* d_x, float* d_y) {
    detail::device_pad(policy, g, d_x, d_y);
}

inline void softmax(const exec::cuda_policy& policy, std::int64_t outer, std::int64_t len, std::int64_t inner, const float* d_x,
                    float* d_y) {
    detail::device_softmax(policy, outer, len, inner, d_x, d_y);
}

/// Concatenation (see the host overload): one 2-D copy per input.
inline void concat(const exec::cuda_policy& policy, std::int64_t outer, const std::vector<const float*>& d_xs,
                   const std::vector<std::int64_t>& widths, float* d_y) {
    detail::device_concat(policy, outer, d_xs, widths, d_y);
}

/// Y [m x n] = alpha * op(A) . op(B) + beta * C (C broadcast with element strides cs0, cs1;
/// null for none): ONNX Gemm on the device.
inline void gemm(const cuda_blas_policy& policy, bool trans_a, bool trans_b, std::int64_t m, std::int64_t n,
                 std::int64_t k, float alpha, const float* d_a, const float* d_b, float beta, const float* d_c, std::int64_t cs0,
                 std::int64_t cs1, float* d_y) {
    detail::device_gemm(policy, trans_a, trans_b, m, n, k, alpha, d_a, d_b, beta, d_c, cs0, cs1, d_y);
}

/// Batched row-major products: y[i] = a[i] . b[i] for i < batches (a, b strides in floats; 0
/// broadcasts one matrix).
inline void matmul(const cuda_blas_policy& policy, std::int64_t batches, std::int64_t m, std::int64_t n,
                   std::int64_t k, const float* d_a, std::int64_t stride_a, const float* d_b, std::int64_t stride_b, float* d_y) {
    detail::device_matmul(policy, batches, m, n, k, d_a, stride_a, d_b, stride_b, d_y);
}

}  // namespace nn
FERX_NAMESPACE_END
