/// \file ferx/cuda/kernels/farneback.cuh
/// CUDA kernels of Farneback dense optical flow (ferx/cuda/dispatch/farneback.cuh enqueues them;
/// the host algorithm is ferx/flow/farneback.hpp). Every kernel walks its work items with a
/// grid-stride loop, one thread per output value (pixel, pixel channel, or a column / row of a
/// running sum), and computes each value by one work-item function of
/// ferx/flow/detail/farneback_core.hpp: the operations of the host loop in their order, each
/// rounded on its own (the `_rn` helpers of ferx/core/rounding.hpp):
///   fb_convert      frame -> float plane (times 255 for float frames)
///   fb_vtaps        dst row y = sum_k taps[k] src row clamp(y + k - r), every channel
///   fb_htaps        dst col x = sum_k taps[k] src col clamp(x + k - r), ch channels interleaved
///   fb_resize       bilinear resampling through host tables (detail::fb_resize_axis), times mul
///   fb_expand_v/_h  the polynomial expansion: column moments (3 channels), then the six moments
///                   along the rows and the five coefficients (bx, by, a11, a22, a12)
///   fb_matrices     G11, G12, G22, h1, h2 per pixel (detail::fb_matrices_terms)
///   fb_box_v/_h     the box window's running sums: a thread per column (down the rows), then a
///                   thread per row and channel (along the row), in the host's order
///   fb_solve        the 2 x 2 solve per pixel (detail::fb_solve_pixel)
///   fb_store        the level-0 flow plane into a strided flow_vector view
/// Kernels live in an unnamed namespace (one copy per translation unit and architecture list).
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/rounding.hpp>
#include <ferx/core/view.hpp>
#include <ferx/flow/detail/farneback_core.hpp>

#include <cstdint>

FERX_NAMESPACE_BEGIN
namespace cuda {
namespace kernels {
FERX_ARCH_NAMESPACE_BEGIN

using fb_axis_view = ferx::detail::fb_axis_view;
using fb_expand_coeffs = ferx::detail::fb_expand_coeffs;

namespace {

inline constexpr int fb_threads = 256;

#define FERX_FB_FOR_EACH(i, n) \
    for (index_t i = index_t(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); i += index_t(gridDim.x) * blockDim.x)

template <class T>
__global__ void fb_convert(const T* src, index_t pitch, index_t rows, index_t cols, float mul, float* dst) {
    FERX_FB_FOR_EACH(i, rows * cols) ferx::detail::fb_convert_item(src, pitch, cols, mul, dst, i);
}

__global__ void fb_vtaps(const float* src, float* dst, index_t rows, index_t width, const float* taps, index_t r) {
    FERX_FB_FOR_EACH(i, rows * width) ferx::detail::fb_vtaps_item(src, dst, rows, width, taps, r, i);
}

__global__ void fb_htaps(const float* src, float* dst, index_t rows, index_t cols, index_t ch, const float* taps, index_t r) {
    FERX_FB_FOR_EACH(i, rows * cols * ch) ferx::detail::fb_htaps_item(src, dst, cols, ch, taps, r, i);
}

__global__ void fb_resize(const float* src, index_t pitch, index_t ch, float* dst, index_t rows, index_t cols,
                          fb_axis_view ax, fb_axis_view ay, float mul) {
    FERX_FB_FOR_EACH(i, rows * cols * ch) ferx::detail::fb_resize_item(src, pitch, ch, dst, cols, ax, ay, mul, i);
}

__global__ void fb_expand_v(const float* img, index_t rows, index_t cols, const float* g, const float* xg,
                            const float* xxg, index_t r, float* out3) {
    FERX_FB_FOR_EACH(i, rows * cols) ferx::detail::fb_expand_v_item(img, rows, cols, g, xg, xxg, r, out3, i);
}

__global__ void fb_expand_h(const float* v3, index_t rows, index_t cols, const float* g, const float* xg, const float* xxg,
                            index_t r, fb_expand_coeffs k, float* out5) {
    FERX_FB_FOR_EACH(i, rows * cols) ferx::detail::fb_expand_h_item(v3, cols, g, xg, xxg, r, k, out5, i);
}

__global__ void fb_matrices(const float* r0, const float* r1, const float* flow, index_t rows, index_t cols, float* m) {
    FERX_FB_FOR_EACH(i, rows * cols) ferx::detail::fb_matrices_item(r0, r1, flow, rows, cols, m, i);
}

/// A thread per float column (width = cols * 5).
__global__ void fb_box_v(const float* m, float* dst, index_t rows, index_t width, index_t r) {
    FERX_FB_FOR_EACH(i, width) ferx::detail::fb_box_v_item(m, dst, rows, width, r, i);
}

/// A thread per row and channel (rows * 5).
__global__ void fb_box_h(const float* src, float* dst, index_t rows, index_t cols, index_t r) {
    FERX_FB_FOR_EACH(i, rows * 5) ferx::detail::fb_box_h_item(src, dst, cols, r, i);
}

__global__ void fb_solve(const float* s, float* flow, index_t n, float scale) {
    FERX_FB_FOR_EACH(i, n) ferx::detail::fb_solve_pixel(s + 5 * i, scale, flow + 2 * i);
}

__global__ void fb_store(const float* flow, index_t rows, index_t cols, float* out, index_t pitch) {
    FERX_FB_FOR_EACH(i, rows * cols) ferx::detail::fb_store_item(flow, cols, out, pitch, i);
}

#undef FERX_FB_FOR_EACH

}  // namespace

FERX_ARCH_NAMESPACE_END
}  // namespace kernels
}  // namespace cuda
FERX_NAMESPACE_END
