/// \file ferx/cuda/kernels/farneback.cuh
/// CUDA kernels of Farneback dense optical flow (ferx/cuda/dispatch/farneback.cuh enqueues them;
/// the host algorithm is ferx/flow/farneback.hpp). Every kernel walks its work items with a
/// grid-stride loop, one thread per output value (pixel, pixel channel, or a column / row of a
/// running sum), and computes each value with the operations of the host loop in their order,
/// each rounded on its own (the `_rn` helpers of ferx/core/rounding.hpp, the per-pixel steps of
/// ferx/flow/detail/farneback_core.hpp):
///   fb_convert      frame -> float plane (times 255 for float frames)
///   fb_vtaps        dst row y = sum_k taps[k] src row clamp(y + k - r), every channel
///   fb_htaps        dst col x = sum_k taps[k] src col clamp(x + k - r), ch channels interleaved
///   fb_resize       bilinear resampling through host tables (detail::fb_resize_axis), times mul
///   fb_expand_v/_h  the polynomial expansion: column moments (3 channels), then the six moments
///                   along the rows and the five coefficients (bx, by, a11, a22, a12)
///   fb_matrices     G11, G12, G22, h1, h2 per pixel (detail::fb_matrices_pixel)
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

/// The bilinear table of one axis on the device (see detail::fb_axis_table).
struct fb_axis_view {
    const int* i0;
    const int* i1;
    const float* w;
};

namespace {

inline constexpr int fb_threads = 256;

__device__ inline index_t fb_first() { return index_t(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ inline index_t fb_step() { return index_t(gridDim.x) * blockDim.x; }

/// dst[y * cols + x] = mul * float(src(y, x)); src rows `pitch` elements apart.
template <class T>
__global__ void fb_convert(const T* src, index_t pitch, index_t rows, index_t cols, float mul, float* dst) {
    const index_t n = rows * cols;
    for (index_t i = fb_first(); i < n; i += fb_step()) {
        const index_t y = i / cols, x = i - y * cols;
        dst[i] = ferx::detail::mul_rn(mul, static_cast<float>(src[y * pitch + x]));
    }
}

/// Vertical taps over rows x width floats (width = cols * channels), replicated rows.
__global__ void fb_vtaps(const float* src, float* dst, index_t rows, index_t width, const float* taps, index_t r) {
    using namespace ferx::detail;
    const index_t n = rows * width;
    for (index_t i = fb_first(); i < n; i += fb_step()) {
        const index_t y = i / width, c = i - y * width;
        float d = 0.f;
        for (index_t k = -r; k <= r; ++k) d = add_rn(d, mul_rn(taps[k + r], src[fb_clamp_idx(y + k, rows) * width + c]));
        dst[i] = d;
    }
}

/// Horizontal taps over rows x cols pixels of ch interleaved channels, replicated columns.
__global__ void fb_htaps(const float* src, float* dst, index_t rows, index_t cols, index_t ch, const float* taps, index_t r) {
    using namespace ferx::detail;
    const index_t width = cols * ch, n = rows * width;
    for (index_t i = fb_first(); i < n; i += fb_step()) {
        const index_t y = i / width, j = i - y * width, x = j / ch, c = j - x * ch;
        const float* s = src + y * width + c;
        float d = 0.f;
        for (index_t k = 0; k <= 2 * r; ++k) d = add_rn(d, mul_rn(taps[k], s[fb_clamp_idx(x + k - r, cols) * ch]));
        dst[i] = d;
    }
}

/// Bilinear resampling of a plane of ch interleaved channels (src rows `pitch` floats apart) to
/// rows x cols through the tables ax (columns) and ay (rows); values times mul.
__global__ void fb_resize(const float* src, index_t pitch, index_t ch, float* dst, index_t rows, index_t cols,
                          fb_axis_view ax, fb_axis_view ay, float mul) {
    using namespace ferx::detail;
    const index_t width = cols * ch, n = rows * width;
    for (index_t i = fb_first(); i < n; i += fb_step()) {
        const index_t y = i / width, j = i - y * width, x = j / ch, c = j - x * ch;
        const float* a = src + index_t(ay.i0[y]) * pitch;
        const float* b = src + index_t(ay.i1[y]) * pitch;
        const index_t x0 = index_t(ax.i0[x]) * ch + c, x1 = index_t(ax.i1[x]) * ch + c;
        const float w = ax.w[x], wy = ay.w[y];
        const float top = fb_lerp(a[x0], a[x1], w), bot = fb_lerp(b[x0], b[x1], w);
        dst[i] = mul_rn(fb_lerp(top, bot, wy), mul);
    }
}

/// The expansion's vertical pass: per pixel, v0 = sum g f, v1 = sum y g f, v2 = sum y^2 g f over
/// rows y - r .. y + r (replicated), folded as the host does (rows y + t and y - t together).
__global__ void fb_expand_v(const float* img, index_t rows, index_t cols, const float* g, const float* xg,
                            const float* xxg, index_t r, float* out3) {
    using namespace ferx::detail;
    const index_t n = rows * cols;
    for (index_t i = fb_first(); i < n; i += fb_step()) {
        const index_t y = i / cols, x = i - y * cols;
        float a0 = mul_rn(g[r], img[i]), a1 = 0.f, a2 = 0.f;
        for (index_t t = 1; t <= r; ++t) {
            const float sp = img[fb_clamp_idx(y + t, rows) * cols + x], sm = img[fb_clamp_idx(y - t, rows) * cols + x];
            const float e = add_rn(sp, sm), o = sub_rn(sp, sm);
            a0 = add_rn(a0, mul_rn(g[t + r], e));
            a1 = add_rn(a1, mul_rn(xg[t + r], o));
            a2 = add_rn(a2, mul_rn(xxg[t + r], e));
        }
        out3[3 * i] = a0;
        out3[3 * i + 1] = a1;
        out3[3 * i + 2] = a2;
    }
}

/// The expansion's coefficients of the inverse normal matrix (see fb_cuda_plan).
struct fb_expand_coeffs {
    float i1, i2, i5, i30, i33, i34, i40, i43, i44;
};

/// The expansion's horizontal pass: the six moments along the row (replicated columns) and the
/// five coefficients bx, by, a11, a22, a12 per pixel.
__global__ void fb_expand_h(const float* v3, index_t rows, index_t cols, const float* g, const float* xg, const float* xxg,
                            index_t r, fb_expand_coeffs k, float* out5) {
    using namespace ferx::detail;
    const index_t n = rows * cols;
    for (index_t i = fb_first(); i < n; i += fb_step()) {
        const index_t y = i / cols, x = i - y * cols;
        const float* row = v3 + y * cols * 3;
        const float g0 = g[r];
        float m0 = mul_rn(g0, row[3 * x]), m2 = mul_rn(g0, row[3 * x + 1]), m4 = mul_rn(g0, row[3 * x + 2]);
        float m1 = 0.f, m3 = 0.f, m5 = 0.f;
        for (index_t t = 1; t <= r; ++t) {
            const float* p = row + 3 * fb_clamp_idx(x + t, cols);
            const float* q = row + 3 * fb_clamp_idx(x - t, cols);
            const float gt = g[t + r], xgt = xg[t + r], xxgt = xxg[t + r];
            const float e0 = add_rn(p[0], q[0]), o0 = sub_rn(p[0], q[0]);
            const float e1 = add_rn(p[1], q[1]), o1 = sub_rn(p[1], q[1]);
            m0 = add_rn(m0, mul_rn(gt, e0));
            m1 = add_rn(m1, mul_rn(xgt, o0));
            m2 = add_rn(m2, mul_rn(gt, e1));
            m3 = add_rn(m3, mul_rn(xxgt, e0));
            m4 = add_rn(m4, mul_rn(gt, add_rn(p[2], q[2])));
            m5 = add_rn(m5, mul_rn(xgt, o1));
        }
        float* o = out5 + 5 * i;
        o[0] = mul_rn(k.i1, m1);
        o[1] = mul_rn(k.i2, m2);
        o[2] = add_rn(add_rn(mul_rn(k.i30, m0), mul_rn(k.i33, m3)), mul_rn(k.i34, m4));
        o[3] = add_rn(add_rn(mul_rn(k.i40, m0), mul_rn(k.i43, m3)), mul_rn(k.i44, m4));
        o[4] = mul_rn(mul_rn(0.5f, k.i5), m5);
    }
}

/// G11, G12, G22, h1, h2 of every pixel for the current flow (rows x cols x 2).
__global__ void fb_matrices(const float* r0, const float* r1, const float* flow, index_t rows, index_t cols, float* m) {
    using namespace ferx::detail;
    const index_t n = rows * cols;
    for (index_t i = fb_first(); i < n; i += fb_step()) {
        const index_t y = i / cols, x = i - y * cols;
        const float w = mul_rn(fb_border_weight(y, rows), fb_border_weight(x, cols));
        fb_matrices_pixel(r0 + 5 * i, r1, rows, cols, x, y, flow[2 * i], flow[2 * i + 1], w, m + 5 * i);
    }
}

/// The box window down the columns: a thread per float column i of rows x width (width =
/// cols * 5) keeps the running sum of rows y - r .. y + r (replicated), as the host's loop.
__global__ void fb_box_v(const float* m, float* dst, index_t rows, index_t width, index_t r) {
    using namespace ferx::detail;
    for (index_t i = fb_first(); i < width; i += fb_step()) {
        float acc = 0.f;
        for (index_t k = -r; k <= r; ++k) acc = add_rn(acc, m[fb_clamp_idx(k, rows) * width + i]);
        for (index_t y = 0; y < rows; ++y) {
            dst[y * width + i] = acc;
            acc = add_rn(acc, sub_rn(m[fb_clamp_idx(y + r + 1, rows) * width + i], m[fb_clamp_idx(y - r, rows) * width + i]));
        }
    }
}

/// The box window along the rows: a thread per row and channel keeps the running sum of columns
/// x - r .. x + r (replicated), as the host's loop.
__global__ void fb_box_h(const float* src, float* dst, index_t rows, index_t cols, index_t r) {
    using namespace ferx::detail;
    const index_t n = rows * 5;
    for (index_t i = fb_first(); i < n; i += fb_step()) {
        const index_t y = i / 5, c = i - y * 5;
        const float* s = src + y * cols * 5 + c;
        float* d = dst + y * cols * 5 + c;
        float acc = 0.f;
        for (index_t k = 0; k <= 2 * r; ++k) acc = add_rn(acc, s[fb_clamp_idx(k - r, cols) * 5]);
        for (index_t x = 0; x < cols; ++x) {
            d[x * 5] = acc;
            if (x + 1 == cols) break;
            acc = add_rn(acc, sub_rn(s[fb_clamp_idx(x + r + 1, cols) * 5], s[fb_clamp_idx(x - r, cols) * 5]));
        }
    }
}

/// The 2 x 2 solve of every pixel: window sums (5 per pixel) -> flow (2 per pixel).
__global__ void fb_solve(const float* s, float* flow, index_t n, float scale) {
    for (index_t i = fb_first(); i < n; i += fb_step()) ferx::detail::fb_solve_pixel(s + 5 * i, scale, flow + 2 * i);
}

/// The flow plane (rows x cols x 2, packed) into a flow_vector view (rows `pitch` vectors apart).
__global__ void fb_store(const float* flow, index_t rows, index_t cols, float* out, index_t pitch) {
    const index_t n = rows * cols;
    for (index_t i = fb_first(); i < n; i += fb_step()) {
        const index_t y = i / cols, x = i - y * cols;
        out[2 * (y * pitch + x)] = flow[2 * i];
        out[2 * (y * pitch + x) + 1] = flow[2 * i + 1];
    }
}

}  // namespace

FERX_ARCH_NAMESPACE_END
}  // namespace kernels
}  // namespace cuda
FERX_NAMESPACE_END
