/// \file ferx/cuda/kernels/nn.cuh
/// CUDA kernels of the nn ops (NCHW). Every kernel is a template on the stored element type T:
/// float (the default path) or __half (the session's fp16 option), always computing in float —
/// values are widened on load (`nn_float`) and rounded to T on store (`nn_cast`). Elementwise
/// kernels use one thread per output element in grid-stride loops; the per-element formulas
/// (activations, pooling windows, broadcasting, pad sources, softmax) are the host-device
/// functions of the ferx/nn headers, so with T = float the device computes exactly what `seq`
/// defines. Convolution is im2col (below) + cuBLAS GEMM in ferx/cuda/dispatch/nn.cuh, or the
/// direct depthwise kernel.
/// Kernels live in an unnamed namespace (one copy per translation unit and GPU architecture list).
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/nn/activation.hpp>
#include <ferx/nn/conv.hpp>
#include <ferx/nn/elementwise.hpp>
#include <ferx/nn/layout.hpp>
#include <ferx/nn/pool.hpp>
#include <ferx/nn/softmax.hpp>

#include <cuda_fp16.h>

#include <cstdint>
#include <type_traits>

FERX_NAMESPACE_BEGIN
namespace cuda {
namespace kernels {
namespace {

/// Threads per block of every nn kernel.
inline constexpr int nn_threads = 256;

/// Grid-stride loops: for (auto i = grid_first(); i < n; i += grid_step()).
__device__ inline std::int64_t grid_first() { return static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ inline std::int64_t grid_step() { return static_cast<std::int64_t>(gridDim.x) * blockDim.x; }

/// A stored element widened to float (the arithmetic type of every kernel).
__host__ __device__ inline float nn_float(float v) { return v; }
__host__ __device__ inline float nn_float(__half v) { return __half2float(v); }

/// A float rounded to the stored type T (to nearest even for __half; beyond +-65504 it is +-inf).
template <class T>
__host__ __device__ inline T nn_cast(float v) {
    if constexpr (std::is_same<T, __half>::value) return __float2half_rn(v);
    else return v;
}

/// col[(img, k), p] for images [0, count) of one group, pixels [0, P): col is count x K x P.
template <class T>
__global__ void nn_im2col(nn::conv_geometry g, const T* __restrict__ x, std::int64_t group, std::int64_t count,
                          T* __restrict__ col) {
    const std::int64_t k = g.k(), pixels = g.oh * g.ow, total = count * k * pixels;
    const std::int64_t cg = g.c_per_group();
    for (std::int64_t i = grid_first(); i < total; i += grid_step()) {
        const std::int64_t p = i % pixels, row = (i / pixels) % k, img = i / (pixels * k);
        const std::int64_t kx = row % g.win.kernel_w, ky = (row / g.win.kernel_w) % g.win.kernel_h;
        const std::int64_t ci = row / (g.win.kernel_w * g.win.kernel_h);
        const std::int64_t oy = p / g.ow, ox = p % g.ow;
        const std::int64_t iy = oy * g.win.stride_h - g.win.pad_top + ky * g.win.dilation_h;
        const std::int64_t ix = ox * g.win.stride_w - g.win.pad_left + kx * g.win.dilation_w;
        const T* plane = x + ((img * g.c) + group * cg + ci) * g.h * g.w;
        col[i] = (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w) ? plane[iy * g.w + ix] : nn_cast<T>(0.f);
    }
}

/// y[n, m, p] = post(y[n, m, p] + bias[m]) (bias may be null).
template <class T>
__global__ void nn_bias_post(std::int64_t total, std::int64_t m, std::int64_t pixels, const T* __restrict__ bias,
                             nn::unary_op post, T* __restrict__ y) {
    for (std::int64_t i = grid_first(); i < total; i += grid_step()) {
        const float b = bias ? nn_float(bias[(i / pixels) % m]) : 0.f;
        y[i] = nn_cast<T>(post(nn_float(y[i]) + b));
    }
}

/// Depthwise convolution, one thread per output element (taps in ky, kx order, as seq).
template <class T>
__global__ void nn_depthwise(nn::conv_geometry g, const T* __restrict__ x, const T* __restrict__ w,
                             const T* __restrict__ bias, nn::unary_op post, T* __restrict__ y) {
    const std::int64_t pixels = g.oh * g.ow, total = g.n * g.c * pixels;
    for (std::int64_t i = grid_first(); i < total; i += grid_step()) {
        const std::int64_t p = i % pixels, plane = i / pixels, ch = plane % g.c;
        const std::int64_t oy = p / g.ow, ox = p % g.ow;
        const T* xp = x + plane * g.h * g.w;
        const T* wp = w + ch * g.win.kernel_h * g.win.kernel_w;
        float acc = 0.f;
        for (std::int64_t ky = 0; ky < g.win.kernel_h; ++ky) {
            const std::int64_t iy = oy * g.win.stride_h - g.win.pad_top + ky * g.win.dilation_h;
            if (iy < 0 || iy >= g.h) continue;
            for (std::int64_t kx = 0; kx < g.win.kernel_w; ++kx) {
                const std::int64_t ix = ox * g.win.stride_w - g.win.pad_left + kx * g.win.dilation_w;
                if (ix < 0 || ix >= g.w) continue;
                acc += nn_float(xp[iy * g.w + ix]) * nn_float(wp[ky * g.win.kernel_w + kx]);
            }
        }
        y[i] = nn_cast<T>(post(acc + (bias ? nn_float(bias[ch]) : 0.f)));
    }
}

template <class T>
__global__ void nn_unary(nn::unary_op op, const T* x, T* y, std::int64_t n) {
    for (std::int64_t i = grid_first(); i < n; i += grid_step()) y[i] = nn_cast<T>(op(nn_float(x[i])));
}

template <class T>
__global__ void nn_channel_affine(std::int64_t total, std::int64_t c, std::int64_t inner, const T* __restrict__ scale,
                                  const T* __restrict__ shift, nn::unary_op post, const T* x, T* y) {
    for (std::int64_t i = grid_first(); i < total; i += grid_step()) {
        const std::int64_t ch = (i / inner) % c;
        y[i] = nn_cast<T>(post(nn_float(x[i]) * nn_float(scale[ch]) + nn_float(shift[ch])));
    }
}

template <class T>
__global__ void nn_pool(nn::detail::pool_kind kind, nn::pool_geometry g, const T* __restrict__ x, T* __restrict__ y) {
    const std::int64_t pixels = g.oh * g.ow, total = g.n * g.c * pixels;
    for (std::int64_t i = grid_first(); i < total; i += grid_step()) {
        const std::int64_t p = i % pixels, plane = i / pixels;
        y[i] = nn_cast<T>(nn::detail::pool_pixel(kind, g, x + plane * g.h * g.w, p / g.ow, p % g.ow));
    }
}

/// One warp per plane: the mean of `inner` values (a tree sum in float: may differ from seq's
/// ordered sum in the last bits).
template <class T>
__global__ void nn_global_average_pool(std::int64_t planes, std::int64_t inner, const T* __restrict__ x, T* __restrict__ y) {
    const std::int64_t warp = (static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
    const int lane = static_cast<int>(threadIdx.x & 31u);
    if (warp >= planes) return;
    float s = 0.f;
    for (std::int64_t i = lane; i < inner; i += 32) s += nn_float(x[warp * inner + i]);
    for (int off = 16; off > 0; off >>= 1) s += __shfl_down_sync(0xffffffffu, s, off);
    if (lane == 0) y[warp] = nn_cast<T>(s / static_cast<float>(inner));
}

template <class T>
__global__ void nn_binary(nn::binary_kind kind, nn::broadcast_geometry g, const T* __restrict__ a, const T* __restrict__ b,
                          T* __restrict__ y) {
    for (std::int64_t i = grid_first(); i < g.count; i += grid_step()) {
        std::int64_t ao, bo;
        nn::detail::broadcast_offsets(g, g.rank, i, ao, bo);
        y[i] = nn_cast<T>(nn::detail::apply_binary(kind, nn_float(a[ao]), nn_float(b[bo])));
    }
}

template <class T>
__global__ void nn_transpose(nn::transpose_geometry g, const T* __restrict__ x, T* __restrict__ y) {
    for (std::int64_t i = grid_first(); i < g.count; i += grid_step()) {
        std::int64_t rest = i, off = 0;
        for (int d = g.rank - 1; d >= 0; --d) {
            off += (rest % g.out[d]) * g.in_stride[d];
            rest /= g.out[d];
        }
        y[i] = x[off];
    }
}

template <class T>
__global__ void nn_pad(nn::pad_geometry g, const T* __restrict__ x, T* __restrict__ y) {
    for (std::int64_t i = grid_first(); i < g.count; i += grid_step()) {
        const std::int64_t s = nn::detail::pad_source(g, i);
        y[i] = s < 0 ? nn_cast<T>(g.value) : x[s];
    }
}

/// One thread per softmax slice (len values spaced `inner` apart).
template <class T>
__global__ void nn_softmax(std::int64_t outer, std::int64_t len, std::int64_t inner, const T* __restrict__ x,
                           T* __restrict__ y) {
    for (std::int64_t s = grid_first(); s < outer * inner; s += grid_step()) {
        const std::int64_t o = s / inner, i = s % inner;
        nn::detail::softmax_slice(x + o * len * inner + i, y + o * len * inner + i, len, inner);
    }
}

/// y[i, j] = alpha * y[i, j] + beta * c[i * cs0 + j * cs1] (c may be null) over m x n.
template <class T>
__global__ void nn_gemm_epilogue(std::int64_t m, std::int64_t n, float alpha, float beta, const T* __restrict__ c,
                                 std::int64_t cs0, std::int64_t cs1, T* __restrict__ y) {
    for (std::int64_t i = grid_first(); i < m * n; i += grid_step()) {
        float v = alpha * nn_float(y[i]);
        if (c) v += beta * nn_float(c[(i / n) * cs0 + (i % n) * cs1]);
        y[i] = nn_cast<T>(v);
    }
}

/// y[i] = x[i] converted (float <-> __half) for i < n: the fp16 session's uploads and downloads.
template <class From, class To>
__global__ void nn_convert(const From* __restrict__ x, To* __restrict__ y, std::int64_t n) {
    for (std::int64_t i = grid_first(); i < n; i += grid_step()) y[i] = nn_cast<To>(nn_float(x[i]));
}

}  // namespace
}  // namespace kernels
}  // namespace cuda
FERX_NAMESPACE_END
