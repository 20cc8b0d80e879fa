/// \file ferx/cuda/kernels/svm.cuh
/// Device kernels of batched SVM prediction (ferx/cuda/dispatch/svm_predict.cuh): squared row
/// norms, kernel values from a GEMM of dot products, kernel values of the non-dot kernels
/// (chi2, intersection) by shared-memory tiles, and the rho offsets. Row-major throughout.
#pragma once

#include <ferx/core/config.hpp>

#include <cuda_runtime.h>

#include <cstddef>

FERX_NAMESPACE_BEGIN
namespace cuda {
namespace kernels {
FERX_ARCH_NAMESPACE_BEGIN

/// Threads per block of the one-dimensional kernels; warps per block of the row-norm kernel.
inline constexpr int svm_block = 256;
inline constexpr int svm_norm_warps = 8;
/// Tile edge of the non-dot kernel evaluation (tile x tile threads, tile features per step).
inline constexpr int svm_tile = 16;

/// norm[r] = sum_k x[r, k]^2 for rows r < n of x [n, d] (one warp per row).
template <class T>
__global__ void row_norms(const T* __restrict__ x, long long n, long long d, double* __restrict__ norm) {
    const long long row = static_cast<long long>(blockIdx.x) * svm_norm_warps + threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    if (row >= n) return;
    const T* r = x + row * d;
    double s = 0;
    for (long long k = lane; k < d; k += 32) s += static_cast<double>(r[k]) * static_cast<double>(r[k]);
    for (int off = 16; off > 0; off /= 2) s += __shfl_down_sync(0xffffffffu, s, off);
    if (lane == 0) norm[row] = s;
}

/// kv[i, s] = kernel.from_dot(dots[i, s], x_norm[i], sv_norm[s]) for the dot-product kernels.
template <class Kernel, class T>
__global__ void kernel_from_dots(Kernel kernel, const T* __restrict__ dots, const double* __restrict__ x_norm,
                                 const double* __restrict__ sv_norm, long long rows, long long s_count,
                                 double* __restrict__ kv) {
    const long long idx = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (idx >= rows * s_count) return;
    const long long i = idx / s_count, s = idx % s_count;
    kv[idx] = kernel.from_dot(static_cast<double>(dots[idx]), sv_norm[s], x_norm[i]);
}

/// kv[i, s] = kernel.finish(sum_k Kernel::term(x[i, k], sv[s, k])) for chi2 / intersection,
/// with svm_tile x svm_tile tiles of both matrices staged in shared memory.
template <class Kernel, class T>
__global__ void kernel_direct(Kernel kernel, const T* __restrict__ x, const T* __restrict__ sv, long long rows,
                              long long s_count, long long d, double* __restrict__ kv) {
    __shared__ T xs[svm_tile][svm_tile + 1];
    __shared__ T ss[svm_tile][svm_tile + 1];
    const long long i = static_cast<long long>(blockIdx.y) * svm_tile + threadIdx.y;
    const long long s = static_cast<long long>(blockIdx.x) * svm_tile + threadIdx.x;
    const long long s_load = static_cast<long long>(blockIdx.x) * svm_tile + threadIdx.y;
    T acc = 0;
    for (long long k0 = 0; k0 < d; k0 += svm_tile) {
        const long long k = k0 + threadIdx.x;
        xs[threadIdx.y][threadIdx.x] = (i < rows && k < d) ? x[i * d + k] : T(0);
        ss[threadIdx.y][threadIdx.x] = (s_load < s_count && k < d) ? sv[s_load * d + k] : T(0);
        __syncthreads();
        const long long kmax = d - k0 < svm_tile ? d - k0 : svm_tile;
        for (long long t = 0; t < kmax; ++t) acc += Kernel::term(xs[threadIdx.y][t], ss[threadIdx.x][t]);
        __syncthreads();
    }
    if (i < rows && s < s_count) kv[i * s_count + s] = kernel.finish(static_cast<double>(acc));
}

/// dec[i, p] = -rho[p] for rows i < rows (the GEMM then adds kv . coef).
template <class R>
__global__ void fill_minus_rho(const R* __restrict__ rho, long long rows, long long p_count, R* __restrict__ dec) {
    const long long idx = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (idx < rows * p_count) dec[idx] = -rho[idx % p_count];
}

FERX_ARCH_NAMESPACE_END
}  // namespace kernels
}  // namespace cuda
FERX_NAMESPACE_END
