/// \file ferx/cuda/kernels/nn.cuh
/// CUDA kernels of the nn ops (NCHW float32). Elementwise kernels use one thread per output
/// element in grid-stride loops; the per-element formulas (activations, pooling windows,
/// broadcasting, pad sources) are the host-device functions of the ferx/nn headers, so the
/// device computes exactly what `seq` defines. Convolution is im2col (below) + cuBLAS SGEMM in
/// ferx/cuda/dispatch/nn.cuh, or the direct depthwise kernel.
/// Kernels live in an unnamed namespace (one copy per translation unit and GPU architecture list).
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/nn/activation.hpp>
#include <ferx/nn/conv.hpp>
#include <ferx/nn/elementwise.hpp>
#include <ferx/nn/layout.hpp>
#include <ferx/nn/pool.hpp>
#include <ferx/nn/softmax.hpp>

#include <cstdint>

FERX_NAMESPACE_BEGIN
namespace cuda {
namespace kernels {
namespace {

/// Threads per block of every nn kernel.
inline constexpr int nn_threads = 256;

/// Grid-stride loops: for (auto i = grid_first(); i < n; i += grid_step()).
__device__ inline std::int64_t grid_first() { return static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ inline std::int64_t grid_step() { return static_cast<std::int64_t>(gridDim.x) * blockDim.x; }

/// col[(img, k), p] for images [0, count) of one group, pixels [0, P): col is count x K x P.
__global__ void nn_im2col(nn::conv_geometry g, const float* __restrict__ x, std::int64_t group, std::int64_t count,
                          float* __restrict__ col) {
    const std::int64_t k = g.k(), pixels = g.oh * g.ow, total = count * k * pixels;
    const std::int64_t cg = g.c_per_group();
    for (std::int64_t i = grid_first(); i < total; i += grid_step()) {
        const std::int64_t p = i % pixels, row = (i / pixels) % k, img = i / (pixels * k);
        const std::int64_t kx = row % g.win.kernel_w, ky = (row / g.win.kernel_w) % g.win.kernel_h;
        const std::int64_t ci = row / (g.win.kernel_w * g.win.kernel_h);
        const std::int64_t oy = p / g.ow, ox = p % g.ow;
        const std::int64_t iy = oy * g.win.stride_h - g.win.pad_top + ky * g.win.dilation_h;
        const std::int64_t ix = ox * g.win.stride_w - g.win.pad_left + kx * g.win.dilation_w;
        const float* plane = x + ((img * g.c) + group * cg + ci) * g.h * g.w;
        col[i] = (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w) ? plane[iy * g.w + ix] : 0.f;
    }
}

/// y[n, m, p] = post(y[n, m, p] + bias[m]) (bias may be null).
__global__ void nn_bias_post(std::int64_t total, std::int64_t m, std::int64_t pixels, const float* __restrict__ bias,
                             nn::unary_op post, float* __restrict__ y) {
    for (std::int64_t i = grid_first(); i < total; i += grid_step()) {
        const float b = bias ? bias[(i / pixels) % m] : 0.f;
        y[i] = post(y[i] + b);
    }
}

/// Depthwise convolution, one thread per output element (taps in ky, kx order, as seq).
__global__ void nn_depthwise(nn::conv_geometry g, const float* __restrict__ x, const float* __restrict__ w,
                             const float* __restrict__ bias, nn::unary_op post, float* __restrict__ y) {
    const std::int64_t pixels = g.oh * g.ow, total = g.n * g.c * pixels;
    for (std::int64_t i = grid_first(); i < total; i += grid_step()) {
        const std::int64_t p = i % pixels, plane = i / pixels, ch = plane % g.c;
        const std::int64_t oy = p / g.ow, ox = p % g.ow;
        const float* xp = x + plane * g.h * g.w;
        const float* wp = w + ch * g.win.kernel_h * g.win.kernel_w;
        float acc = 0.f;
        for (std::int64_t ky = 0; ky < g.win.kernel_h; ++ky) {
            const std::int64_t iy = oy * g.win.stride_h - g.win.pad_top + ky * g.win.dilation_h;
            if (iy < 0 || iy >= g.h) continue;
            for (std::int64_t kx = 0; kx < g.win.kernel_w; ++kx) {
                const std::int64_t ix = ox * g.win.stride_w - g.win.pad_left + kx * g.win.dilation_w;
                if (ix < 0 || ix >= g.w) continue;
                acc += xp[iy * g.w + ix] * wp[ky * g.win.kernel_w + kx];
            }
        }
        y[i] = post(acc + (bias ? bias[ch] : 0.f));
    }
}

__global__ void nn_unary(nn::unary_op op, const float* x, float* y, std::int64_t n) {
    for (std::int64_t i = grid_first(); i < n; i += grid_step()) y[i] = op(x[i]);
}

__global__ void nn_channel_affine(std::int64_t total, std::int64_t c, std::int64_t inner, const float* __restrict__ scale,
                                  const float* __restrict__ shift, nn::unary_op post, const float* x, float* y) {
    for (std::int64_t i = grid_first(); i < total; i += grid_step()) {
        const std::int64_t ch = (i / inner) % c;
        y[i] = post(x[i] * scale[ch] + shift[ch]);
    }
}

__global__ void nn_pool(nn::detail::pool_kind kind, nn::pool_geometry g, const float* __restrict__ x, float* __restrict__ y) {
    const std::int64_t pixels = g.oh * g.ow, total = g.n * g.c * pixels;
    for (std::int64_t i = grid_first(); i < total; i += grid_step()) {
        const std::int64_t p = i % pixels, plane = i / pixels;
        y[i] = nn::detail::pool_pixel(kind, g, x + plane * g.h * g.w, p / g.ow, p % g.ow);
    }
}

/// One warp per plane: the mean of `inner` values (a tree sum: may differ from seq's ordered
/// sum in the last bits).
__global__ void nn_global_average_pool(std::int64_t planes, std::int64_t inner, const float* __restrict__ x,
                                       float* __restrict__ y) {
    const std::int64_t warp = (static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
    const int lane = static_cast<int>(threadIdx.x & 31u);
    if (warp >= planes) return;
    float s = 0.f;
    for (std::int64_t i = lane; i < inner; i += 32) s += x[warp * inner + i];
    for (int off = 16; off > 0; off >>= 1) s += __shfl_down_sync(0xffffffffu, s, off);
    if (lane == 0) y[warp] = s / static_cast<float>(inner);
}

__global__ void nn_binary(nn::binary_kind kind, nn::broadcast_geometry g, const float* __restrict__ a,
                          const float* __restrict__ b, float* __restrict__ y) {
    for (std::int64_t i = grid_first(); i < g.count; i += grid_step()) {
        std::int64_t ao, bo;
        nn::detail::broadcast_offsets(g, g.rank, i, ao, bo);
        y[i] = nn::detail::apply_binary(kind, a[ao], b[bo]);
    }
}

__global__ void nn_transpose(nn::transpose_geometry g, const float* __restrict__ x, float* __restrict__ y) {
    for (std::int64_t i = grid_first(); i < g.count; i += grid_step()) {
        std::int64_t rest = i, off = 0;
        for (int d = g.rank - 1; d >= 0; --d) {
            off += (rest % g.out[d]) * g.in_stride[d];
            rest /= g.out[d];
        }
        y[i] = x[off];
    }
}

__global__ void nn_pad(nn::pad_geometry g, const float* __restrict__ x, float* __restrict__ y) {
    for (std::int64_t i = grid_first(); i < g.count; i += grid_step()) {
        const std::int64_t s = nn::detail::pad_source(g, i);
        y[i] = s < 0 ? g.value : x[s];
    }
}

/// One thread per softmax slice (len values spaced `inner` apart).
__global__ void nn_softmax(std::int64_t outer, std::int64_t len, std::int64_t inner, const float* __restrict__ x,
                           float* __restrict__ y) {
    for (std::int64_t s = grid_first(); s < outer * inner; s += grid_step()) {
        const std::int64_t o = s / inner, i = s % inner;
        nn::detail::softmax_slice(x + o * len * inner + i, y + o * len * inner + i, len, inner);
    }
}

/// y[i, j] = alpha * y[i, j] + beta * c[i * cs0 + j * cs1] (c may be null) over m x n.
__global__ void nn_gemm_epilogue(std::int64_t m, std::int64_t n, float alpha, float beta, const float* __restrict__ c,
                                 std::int64_t cs0, std::int64_t cs1, float* __restrict__ y) {
    for (std::int64_t i = grid_first(); i < m * n; i += grid_step()) {
        float v = alpha * y[i];
        if (c) v += beta * c[(i / n) * cs0 + (i % n) * cs1];
        y[i] = v;
    }
}

}  // namespace
}  // namespace kernels
}  // namespace cuda
FERX_NAMESPACE_END
