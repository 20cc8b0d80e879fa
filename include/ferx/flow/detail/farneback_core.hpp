/// \file ferx/flow/detail/farneback_core.hpp
/// What the host Farneback (ferx/flow/farneback.hpp) and its CUDA backend
/// (ferx/cuda/dispatch/farneback.cuh, ferx/cuda/kernels/farneback.cuh) share:
///   - fb_cuda_plan: the tables the host computes once (the polynomial filters and the entries of
///     the inverse normal matrix, the blur taps of every level, the window's taps, the level
///     sizes), filled by ferx::cuda::farneback_estimator from the very functions the host solver
///     uses, so the device starts from the same floats;
///   - fb_resize_axis: the bilinear resampling tables of one axis (detail::fb_resize's arithmetic);
///   - FERX_HOST_DEVICE per-pixel steps written with the `_rn` helpers of ferx/core/rounding.hpp in
///     the host loops' order of operations (every product and sum rounded on its own, no fused
///     multiply-add), so that each step gives the host's floats bit for bit.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/rounding.hpp>
#include <ferx/core/view.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace detail {

/// Everything a device Farneback needs from the parameters, computed on the host.
struct fb_cuda_plan {
    index_t rows = 0, cols = 0;
    std::vector<std::pair<index_t, index_t>> sizes;  ///< level k = 0 .. L: rows, cols
    int iterations = 1;
    int poly_n = 5;                ///< the expansion's radius
    bool gaussian_window = false;
    bool smooth_first_level = true;
    double pyr_scale = 0.5;
    float box_scale = 1.f;         ///< 1 / winsize^2 for the box (r = winsize / 2), 1 for the Gaussian
    index_t box_radius = 0;        ///< winsize / 2
    std::vector<float> g, xg, xxg; ///< the expansion's 1-D filters (2 poly_n + 1 taps)
    /// The inverse normal matrix's entries the expansion uses (fb_expansion_kernel::ig, as floats).
    float i1 = 0, i2 = 0, i5 = 0, i30 = 0, i33 = 0, i34 = 0, i40 = 0, i43 = 0, i44 = 0;
    std::vector<float> smooth0;                   ///< level 0's blur taps ([1 2 1] / 4)
    std::vector<std::vector<float>> level_blur;   ///< taps of the blur before level l (index l; [0] unused)
    std::vector<float> window;                    ///< the Gaussian window's taps (2 (winsize / 2) + 1)
};

/// The bilinear resampling table of one axis, src -> dst samples (pixel centres, clamped): for
/// each destination index, the two source indices and the weight of the second, as
/// detail::fb_resize computes them (in double, the weight rounded to float).
struct fb_axis_table {
    std::vector<int> i0, i1;
    std::vector<float> w;
};
inline fb_axis_table fb_resize_axis(index_t src, index_t dst) {
    fb_axis_table t;
    t.i0.resize(static_cast<std::size_t>(dst));
    t.i1.resize(t.i0.size());
    t.w.resize(t.i0.size());
    const double s = double(src) / double(dst);
    for (index_t x = 0; x < dst; ++x) {
        double p = (double(x) + 0.5) * s - 0.5;
        if (p < 0) p = 0;
        index_t i = static_cast<index_t>(std::floor(p));
        if (i >= src - 1) {
            i = src - 1;
            p = double(i);
        }
        t.i0[std::size_t(x)] = static_cast<int>(i);
        t.i1[std::size_t(x)] = static_cast<int>(std::min(i + 1, src - 1));
        t.w[std::size_t(x)] = static_cast<float>(p - double(i));
    }
    return t;
}

FERX_HOST_DEVICE inline index_t fb_clamp_idx(index_t v, index_t n) { return v < 0 ? 0 : v >= n ? n - 1 : v; }

/// The border weight of index i of n (0.14, 0.14, 0.4472, 0.8781, 1 from either edge inwards),
/// as detail::farneback_matrices: the product of the two edges' factors.
FERX_HOST_DEVICE inline float fb_border_weight(index_t i, index_t n) {
    const float border[5] = {0.14f, 0.14f, 0.4472f, 0.8781f, 1.f};
    const float lo = i < 5 ? border[i] : 1.f;
    const float hi = i >= n - 5 ? border[n - 1 - i] : 1.f;
    return mul_rn(lo, hi);
}

/// a * (1 - w) + b * w, rounded step by step (detail::fb_resize's interpolation).
FERX_HOST_DEVICE inline float fb_lerp(float a, float b, float w) {
    return add_rn(mul_rn(a, sub_rn(1.f, w)), mul_rn(b, w));
}

/// One pixel of detail::farneback_matrices: e0 = the first frame's expansion at (x, y) (bx, by,
/// a11, a22, a12), r1 = the second frame's expansion (rows x cols x 5, packed), (dx, dy) the
/// current flow at the pixel, w the border weight; writes G11, G12, G22, h1, h2 to d.
FERX_HOST_DEVICE inline void fb_matrices_terms(const float* e0, const float* r1, index_t rows, index_t cols, index_t x,
                                               index_t y, float dx, float dy, float w, float* d) {
    const float fx = add_rn(float(x), dx), fy = add_rn(float(y), dy);
    // inside: the bilinear neighbours (x1, y1) .. (x1 + 1, y1 + 1) are in the frame, tested on the
    // floats (a huge or NaN flow never reaches the integer conversion); for finite flows the same
    // test as floor(fx) < cols - 1, floor(fy) < rows - 1.
    const bool inside = fx >= 0 && fy >= 0 && fx < float(cols - 1) && fy < float(rows - 1);
    float q[5] = {0, 0, 0, 0, 0};
    if (inside) {
        const index_t x1 = static_cast<index_t>(fx), y1 = static_cast<index_t>(fy);  // floor: both >= 0
        const float ax = sub_rn(fx, float(x1)), ay = sub_rn(fy, float(y1));
        const float w00 = mul_rn(sub_rn(1.f, ax), sub_rn(1.f, ay)), w01 = mul_rn(ax, sub_rn(1.f, ay));
        const float w10 = mul_rn(sub_rn(1.f, ax), ay), w11 = mul_rn(ax, ay);
        const float* p0 = r1 + (y1 * cols + x1) * 5;
        const float* p1 = p0 + cols * 5;
        for (int c = 0; c < 5; ++c)
            q[c] = add_rn(add_rn(add_rn(mul_rn(w00, p0[c]), mul_rn(w01, p0[5 + c])), mul_rn(w10, p1[c])),
                          mul_rn(w11, p1[5 + c]));
    }
    const float half = inside ? 0.5f : 1.f;
    const float a11 = mul_rn(add_rn(e0[2], q[2]), half), a22 = mul_rn(add_rn(e0[3], q[3]), half);
    const float a12 = mul_rn(add_rn(e0[4], q[4]), half);
    float b1 = mul_rn(sub_rn(e0[0], q[0]), 0.5f), b2 = mul_rn(sub_rn(e0[1], q[1]), 0.5f);
    b1 = add_rn(b1, add_rn(mul_rn(a11, dx), mul_rn(a12, dy)));
    b2 = add_rn(b2, add_rn(mul_rn(a12, dx), mul_rn(a22, dy)));
    const float s11 = mul_rn(a11, w), s22 = mul_rn(a22, w), s12 = mul_rn(a12, w), t1 = mul_rn(b1, w), t2 = mul_rn(b2, w);
    d[0] = add_rn(mul_rn(s11, s11), mul_rn(s12, s12));
    d[1] = mul_rn(s12, add_rn(s11, s22));
    d[2] = add_rn(mul_rn(s12, s12), mul_rn(s22, s22));
    d[3] = add_rn(mul_rn(s11, t1), mul_rn(s12, t2));
    d[4] = add_rn(mul_rn(s12, t1), mul_rn(s22, t2));
}

/// One pixel of detail::farneback_solve: the window sums q (G11, G12, G22, h1, h2) times `scale`,
/// the 2 x 2 system solved with the determinant regularised by 1e-3; writes (dx, dy) to f.
FERX_HOST_DEVICE inline void fb_solve_pixel(const float* q, float scale, float* f) {
    const float g11 = mul_rn(q[0], scale), g12 = mul_rn(q[1], scale), g22 = mul_rn(q[2], scale);
    const float h1 = mul_rn(q[3], scale), h2 = mul_rn(q[4], scale);
    const float idet = div_rn(1.f, add_rn(sub_rn(mul_rn(g11, g22), mul_rn(g12, g12)), 1e-3f));
    f[0] = mul_rn(sub_rn(mul_rn(g22, h1), mul_rn(g12, h2)), idet);
    f[1] = mul_rn(sub_rn(mul_rn(g11, h2), mul_rn(g12, h1)), idet);
}


// ---- one work item of each device kernel (ferx/cuda/kernels/farneback.cuh), host-callable too ----

/// The bilinear table of one axis in (device) memory (see fb_axis_table).
struct fb_axis_view {
    const int* i0;
    const int* i1;
    const float* w;
};

/// The expansion's entries of the inverse normal matrix (see fb_cuda_plan).
struct fb_expand_coeffs {
    float i1, i2, i5, i30, i33, i34, i40, i43, i44;
};

/// Pixel i of rows x cols: dst[i] = mul * float(src(y, x)), src rows `pitch` pixels apart.
template <class T>
FERX_HOST_DEVICE inline void fb_convert_item(const T* src, index_t pitch, index_t cols, float mul, float* dst, index_t i) {
    const index_t y = i / cols, x = i - y * cols;
    dst[i] = mul_rn(mul, static_cast<float>(src[y * pitch + x]));
}

/// Float i of rows x width: the vertical taps (radius r) of its column, replicated rows
/// (detail::fb_vertical_taps).
FERX_HOST_DEVICE inline void fb_vtaps_item(const float* src, float* dst, index_t rows, index_t width, const float* taps,
                                           index_t r, index_t i) {
    const index_t y = i / width, c = i - y * width;
    float d = 0.f;
    for (index_t k = -r; k <= r; ++k) d = add_rn(d, mul_rn(taps[k + r], src[fb_clamp_idx(y + k, rows) * width + c]));
    dst[i] = d;
}

/// Float i of rows x cols x ch: the horizontal taps (radius r) of its row and channel, replicated
/// columns (detail::fb_blur's and detail::farneback_window's horizontal passes).
FERX_HOST_DEVICE inline void fb_htaps_item(const float* src, float* dst, index_t cols, index_t ch, const float* taps,
                                           index_t r, index_t i) {
    const index_t width = cols * ch, y = i / width, j = i - y * width, x = j / ch, c = j - x * ch;
    const float* s = src + y * width + c;
    float d = 0.f;
    for (index_t k = 0; k <= 2 * r; ++k) d = add_rn(d, mul_rn(taps[k], s[fb_clamp_idx(x + k - r, cols) * ch]));
    dst[i] = d;
}

/// Float i of the resampled plane (cols x ch per row; src rows `pitch` floats apart), times mul
/// (detail::fb_resize).
FERX_HOST_DEVICE inline void fb_resize_item(const float* src, index_t pitch, index_t ch, float* dst, index_t cols,
                                            fb_axis_view ax, fb_axis_view ay, float mul, index_t i) {
    const index_t width = cols * ch, y = i / width, j = i - y * width, x = j / ch, c = j - x * ch;
    const float* a = src + index_t(ay.i0[y]) * pitch;
    const float* b = src + index_t(ay.i1[y]) * pitch;
    const index_t x0 = index_t(ax.i0[x]) * ch + c, x1 = index_t(ax.i1[x]) * ch + c;
    const float top = fb_lerp(a[x0], a[x1], ax.w[x]), bot = fb_lerp(b[x0], b[x1], ax.w[x]);
    dst[i] = mul_rn(fb_lerp(top, bot, ay.w[y]), mul);
}

/// Pixel i of the expansion's vertical pass: v0 = sum g f, v1 = sum y g f, v2 = sum y^2 g f over
/// rows y - r .. y + r (replicated), rows y + t and y - t folded (detail::farneback_expand).
FERX_HOST_DEVICE inline void fb_expand_v_item(const float* img, index_t rows, index_t cols, const float* g, const float* xg,
                                              const float* xxg, index_t r, float* out3, index_t i) {
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

/// Pixel i of the expansion's horizontal pass: the six moments along the row (replicated
/// columns), then bx, by, a11, a22, a12 (detail::farneback_expand).
FERX_HOST_DEVICE inline void fb_expand_h_item(const float* v3, index_t cols, const float* g, const float* xg,
                                              const float* xxg, index_t r, const fb_expand_coeffs& k, float* out5,
                                              index_t i) {
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

/// Pixel i: G11, G12, G22, h1, h2 for the current flow (rows x cols x 2, packed).
FERX_HOST_DEVICE inline void fb_matrices_item(const float* r0, const float* r1, const float* flow, index_t rows,
                                              index_t cols, float* m, index_t i) {
    const index_t y = i / cols, x = i - y * cols;
    const float w = mul_rn(fb_border_weight(y, rows), fb_border_weight(x, cols));
    fb_matrices_terms(r0 + 5 * i, r1, rows, cols, x, y, flow[2 * i], flow[2 * i + 1], w, m + 5 * i);
}

/// Float column i of rows x width: the box window's running sum down the column, rows
/// y - r .. y + r replicated (detail::farneback_window).
FERX_HOST_DEVICE inline void fb_box_v_item(const float* m, float* dst, index_t rows, index_t width, index_t r, index_t i) {
    float acc = 0.f;
    for (index_t k = -r; k <= r; ++k) acc = add_rn(acc, m[fb_clamp_idx(k, rows) * width + i]);
    for (index_t y = 0; y < rows; ++y) {
        dst[y * width + i] = acc;
        acc = add_rn(acc, sub_rn(m[fb_clamp_idx(y + r + 1, rows) * width + i], m[fb_clamp_idx(y - r, rows) * width + i]));
    }
}

/// Row and channel i (= y * 5 + c) of rows x cols x 5: the box window's running sum along the row,
/// columns x - r .. x + r replicated (detail::farneback_window).
FERX_HOST_DEVICE inline void fb_box_h_item(const float* src, float* dst, index_t cols, index_t r, index_t i) {
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

/// Pixel i: the flow plane (rows x cols x 2, packed) into a flow_vector array (rows `pitch` apart).
FERX_HOST_DEVICE inline void fb_store_item(const float* flow, index_t cols, float* out, index_t pitch, index_t i) {
    const index_t y = i / cols, x = i - y * cols;
    out[2 * (y * pitch + x)] = flow[2 * i];
    out[2 * (y * pitch + x) + 1] = flow[2 * i + 1];
}

}  // namespace detail
FERX_NAMESPACE_END
