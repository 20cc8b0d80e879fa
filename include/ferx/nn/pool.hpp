/// \file ferx/nn/pool.hpp
/// Pooling on NCHW float32: MaxPool and AveragePool (kernel, stride, dilation, asymmetric pads,
/// auto_pad, ceil_mode, count_include_pad) and GlobalAveragePool, as ONNX defines them.
/// MaxPool ignores padded positions and propagates NaN; AveragePool divides by the taps inside
/// the input (count_include_pad = 0) or inside the padded input (= 1).
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/nn/conv.hpp>
#include <ferx/nn/gemm.hpp>

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {

/// A resolved 2-D pooling: input N x C x H x W, output N x C x OH x OW.
struct pool_geometry {
    std::int64_t n = 0, c = 0, h = 0, w = 0;
    window_params win;
    std::int64_t oh = 0, ow = 0;
    bool count_include_pad = false;
};

/// Resolves and checks a pooling window over an N x C x H x W input (ferx::error naming `where`).
inline pool_geometry make_pool_geometry(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w,
                                        window_params win, bool count_include_pad, const std::string& where) {
    if (win.kernel_h < 1 || win.kernel_w < 1 || win.stride_h < 1 || win.stride_w < 1 || win.dilation_h < 1 ||
        win.dilation_w < 1)
        throw error(where, "kernel, strides and dilations must be >= 1");
    if (win.pad_top < 0 || win.pad_left < 0 || win.pad_bottom < 0 || win.pad_right < 0)
        throw error(where, "pads must be >= 0");
    pool_geometry g;
    g.n = n, g.c = c, g.h = h, g.w = w, g.count_include_pad = count_include_pad;
    g.oh = window_output(h, win.kernel_h, win.stride_h, win.dilation_h, win.padding, win.ceil_mode, win.pad_top, win.pad_bottom);
    g.ow = window_output(w, win.kernel_w, win.stride_w, win.dilation_w, win.padding, win.ceil_mode, win.pad_left, win.pad_right);
    g.win = win;
    if (g.oh < 1 || g.ow < 1)
        throw error(where, "the window is larger than the padded input " + std::to_string(h) + "x" + std::to_string(w));
    return g;
}

namespace detail {
enum class pool_kind { max, average };

/// One output pixel of a pool (shared by the CPU loops and the CUDA kernel), computed in float;
/// T is the stored element type (float, or __half in the CUDA fp16 path).
template <class T>
FERX_HOST_DEVICE inline float pool_pixel(pool_kind kind, const pool_geometry& g, const T* plane, std::int64_t oy,
                                         std::int64_t ox) {
    const window_params& w = g.win;
    float best = -HUGE_VALF, sum = 0.f;
    std::int64_t inside = 0, padded = 0;
    bool nan = false;
    for (std::int64_t ky = 0; ky < w.kernel_h; ++ky) {
        const std::int64_t iy = oy * w.stride_h - w.pad_top + ky * w.dilation_h;
        if (iy >= g.h + w.pad_bottom) break;
        for (std::int64_t kx = 0; kx < w.kernel_w; ++kx) {
            const std::int64_t ix = ox * w.stride_w - w.pad_left + kx * w.dilation_w;
            if (ix >= g.w + w.pad_right) break;
            ++padded;
            if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
            const float v = static_cast<float>(plane[iy * g.w + ix]);
            ++inside;
            sum += v;
            best = v > best ? v : best;
            nan = nan || v != v;
        }
    }
    if (kind == pool_kind::max) return nan ? NAN : best;
    const std::int64_t count = g.count_include_pad ? padded : inside;
    return count > 0 ? sum / static_cast<float>(count) : 0.f;
}

// First output index whose window starts inside the input, and one past the last whose window
// ends inside it (for one axis).
inline void pool_interior(std::int64_t in, std::int64_t out, std::int64_t k, std::int64_t s, std::int64_t d,
                          std::int64_t pad, std::int64_t& lo, std::int64_t& hi) {
    const std::int64_t span = (k - 1) * d;
    lo = std::min(out, (pad + s - 1) / s);
    hi = in - span + pad > 0 ? std::min(out, (in - 1 - span + pad) / s + 1) : 0;
    hi = std::max(lo, hi);
}

// NaN-propagating maximum in tap order: v replaces best when larger, and a NaN tap sticks.
inline float max_tap(float best, float v) { return (v > best || v != v) ? v : best; }

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
// acc[j] = max_tap(acc[j], r[j]) for j in [0, n), 16 at a time. (The maskz_ forms of the
// intrinsics avoid GCC 12's spurious -Wmaybe-uninitialized on _mm512_max_ps.)
__attribute__((target("avx512f"))) inline void max_rows_avx512(float* acc, const float* r, std::int64_t n) {
    for (std::int64_t j = 0; j < n; j += 16) {
        const __mmask16 m = static_cast<__mmask16>(n - j >= 16 ? 0xFFFF : (1u << (n - j)) - 1u);
        const __m512 v = _mm512_maskz_loadu_ps(m, r + j), best = _mm512_maskz_loadu_ps(m, acc + j);
        const __m512 res = _mm512_mask_mov_ps(_mm512_maskz_max_ps(0xFFFF, v, best), _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), v);
        _mm512_mask_storeu_ps(acc + j, m, res);
    }
}

// o[ox] = maximum of c[ox * sw + kx * dw] over kx in [0, kw) (NaN if any tap is NaN), for
// strides 1 and 2, 16 outputs at a time (stride 2 de-interleaves two loads).
__attribute__((target("avx512f"))) inline void max_cols_avx512(const float* c, std::int64_t ow, std::int64_t kw,
                                                                std::int64_t sw, std::int64_t dw, float* o) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    for (std::int64_t ox = 0; ox < ow; ox += 16) {
        const std::int64_t n = std::min<std::int64_t>(16, ow - ox);
        const __mmask16 m = static_cast<__mmask16>(n >= 16 ? 0xFFFF : (1u << n) - 1u);
        // stride 2: elements 0 .. 2n - 2 of the tap's run, in two loads
        const std::int64_t span = 2 * n - 1;
        const __mmask16 lo = static_cast<__mmask16>(span >= 16 ? 0xFFFF : (1u << span) - 1u);
        const __mmask16 hi = static_cast<__mmask16>(span > 16 ? (1u << (span - 16)) - 1u : 0u);
        __m512 best = _mm512_set1_ps(-HUGE_VALF);
        __mmask16 nan = 0;
        for (std::int64_t kx = 0; kx < kw; ++kx) {
            const float* t = c + ox * sw + kx * dw;
            const __m512 v = sw == 1 ? _mm512_maskz_loadu_ps(m, t)
                                     : _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(lo, t), even,
                                                              _mm512_maskz_loadu_ps(hi, t + 16));
            nan = static_cast<__mmask16>(nan | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q));
            best = _mm512_maskz_max_ps(0xFFFF, v, best);
        }
        _mm512_mask_storeu_ps(o + ox, m, _mm512_mask_mov_ps(best, nan, _mm512_set1_ps(NAN)));
    }
}
#endif

// Floats of the column-maximum buffer of one max-pool output row: the padded run of input
// columns the row's windows cover.
inline std::int64_t max_pool_run(const pool_geometry& g) {
    return (g.ow - 1) * g.win.stride_w + (g.win.kernel_w - 1) * g.win.dilation_w + 1;
}

// One max-pool plane, separably. For each output row, `colmax` (max_pool_run(g) floats) gets
// the maxima over the window's rows of the padded run of columns (-inf at padded columns, NaN
// propagated), then each output the maximum over its window's columns. Padding counts as -inf,
// which never wins, so the result is pool_pixel's (only the sign of a zero maximum can differ
// when +0 and -0 tie).
inline void max_pool_plane(const pool_geometry& g, const float* plane, float* out, float* colmax) {
    const window_params& w = g.win;
    const std::int64_t run = max_pool_run(g);
    // Columns of the run inside the input: [j0, j1).
    const std::int64_t j0 = std::min(run, w.pad_left), j1 = std::max(j0, std::min(run, w.pad_left + g.w));
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
    const bool avx512 = gemm_has_avx512();
#endif
    for (std::int64_t oy = 0; oy < g.oh; ++oy) {
        std::fill(colmax, colmax + run, -HUGE_VALF);
        for (std::int64_t ky = 0; ky < w.kernel_h; ++ky) {
            const std::int64_t iy = oy * w.stride_h - w.pad_top + ky * w.dilation_h;
            if (iy < 0 || iy >= g.h) continue;
            const float* r = plane + iy * g.w - w.pad_left;
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
            if (avx512) {
                max_rows_avx512(colmax + j0, r + j0, j1 - j0);
                continue;
            }
#endif
            for (std::int64_t j = j0; j < j1; ++j) colmax[j] = max_tap(colmax[j], r[j]);
        }
        float* o = out + oy * g.ow;
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
        if (avx512 && w.stride_w <= 2) {
            max_cols_avx512(colmax, g.ow, w.kernel_w, w.stride_w, w.dilation_w, o);
            continue;
        }
#endif
        // Branch-free: the larger of each pair (maxss), and NaN taps noted bitwise.
        for (std::int64_t ox = 0; ox < g.ow; ++ox) {
            const float* c = colmax + ox * w.stride_w;
            float best = c[0];
            unsigned nan = static_cast<unsigned>(best != best);
            for (std::int64_t kx = 1; kx < w.kernel_w; ++kx) {
                const float v = c[kx * w.dilation_w];
                best = v > best ? v : best;
                nan |= static_cast<unsigned>(v != v);
            }
            o[ox] = nan ? NAN : best;
        }
    }
}

// One average-pool plane: the interior windows (entirely inside the input) without bounds
// checks, the rest by pool_pixel; both visit the taps in the same order, so the result is
// pool_pixel's.
inline void average_pool_plane(const pool_geometry& g, const float* plane, float* out) {
    const window_params& w = g.win;
    std::int64_t y0, y1, x0, x1;
    pool_interior(g.h, g.oh, w.kernel_h, w.stride_h, w.dilation_h, w.pad_top, y0, y1);
    pool_interior(g.w, g.ow, w.kernel_w, w.stride_w, w.dilation_w, w.pad_left, x0, x1);
    const float count = static_cast<float>(w.kernel_h * w.kernel_w);
    for (std::int64_t oy = 0; oy < g.oh; ++oy) {
        const bool row_inside = oy >= y0 && oy < y1;
        float* o = out + oy * g.ow;
        for (std::int64_t ox = 0; ox < g.ow; ++ox) {
            if (!row_inside || ox < x0 || ox >= x1) {
                o[ox] = pool_pixel(pool_kind::average, g, plane, oy, ox);
                continue;
            }
            const float* base = plane + (oy * w.stride_h - w.pad_top) * g.w + ox * w.stride_w - w.pad_left;
            float sum = 0.f;
            for (std::int64_t ky = 0; ky < w.kernel_h; ++ky) {
                const float* r = base + ky * w.dilation_h * g.w;
                for (std::int64_t kx = 0; kx < w.kernel_w; ++kx) sum += r[kx * w.dilation_w];
            }
            o[ox] = sum / count;  // inside the input, both counting rules give the full window
        }
    }
}

template <class Policy>
void pool(const Policy& policy, pool_kind kind, const pool_geometry& g, const float* x, float* y) {
    static_assert(is_host_policy_v<Policy>, "ferx::nn pooling: exec::seq, exec::par, or exec::cuda in a .cu file");
    ferx::detail::for_each_range(policy, g.n * g.c, 1, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
        std::vector<float> colmax(kind == pool_kind::max ? static_cast<std::size_t>(max_pool_run(g)) : 0);
        for (std::ptrdiff_t p = lo; p < hi; ++p) {
            if (kind == pool_kind::max)
                max_pool_plane(g, x + p * g.h * g.w, y + p * g.oh * g.ow, colmax.data());
            else
                average_pool_plane(g, x + p * g.h * g.w, y + p * g.oh * g.ow);
        }
    });
}
}  // namespace detail

/// y = MaxPool(x): x N x C x H x W, y N x C x OH x OW.
template <class Policy>
void max_pool(const Policy& policy, const pool_geometry& g, const float* x, float* y) {
    detail::pool(policy, detail::pool_kind::max, g, x, y);
}

/// y = AveragePool(x): x N x C x H x W, y N x C x OH x OW.
template <class Policy>
void average_pool(const Policy& policy, const pool_geometry& g, const float* x, float* y) {
    detail::pool(policy, detail::pool_kind::average, g, x, y);
}

/// y[p] = mean of x[p, 0 .. inner) for p in [0, planes): GlobalAveragePool with planes = N*C,
/// inner = H*W (summed in order, in float).
template <class Policy>
void global_average_pool(const Policy& policy, std::int64_t planes, std::int64_t inner, const float* x, float* y) {
    static_assert(is_host_policy_v<Policy>, "ferx::nn::global_average_pool: exec::seq, exec::par, or exec::cuda in a .cu file");
    ferx::detail::for_each_range(policy, planes, 64, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
        for (std::ptrdiff_t p = lo; p < hi; ++p) {
            float sum = 0.f;
            for (std::int64_t i = 0; i < inner; ++i) sum += x[p * inner + i];
            y[p] = sum / static_cast<float>(inner);
        }
    });
}

}  // namespace nn
FERX_NAMESPACE_END
