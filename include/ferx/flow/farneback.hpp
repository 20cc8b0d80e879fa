/// \file ferx/flow/farneback.hpp
/// Dense optical flow by polynomial expansion (G. Farnebäck, "Two-frame motion estimation based
/// on polynomial expansion", SCIA 2003), with the parameters, defaults and structure of OpenCV's
/// cv::calcOpticalFlowFarneback / cv::FarnebackOpticalFlow, so the two compare one for one.
///
/// Polynomial expansion. Around each pixel, f(x) ~ x^T A x + b^T x + c is fitted by weighted least
/// squares over a (2 poly_n + 1)^2 neighbourhood with Gaussian weights of sigma poly_sigma (the
/// basis 1, x, y, x^2, y^2, xy; border pixels replicated): six separable correlations (kernels
/// g, x g, x^2 g along rows, then along columns) and the inverse of the 6 x 6 normal matrix.
///
/// Displacement. With the expansions (A0, b0) of the first frame at x and (A1, b1) of the second at
/// x + d (bilinear; where x + d leaves the frame, A1 = b1 = 0), A = (A0 + A1) / 2 and
/// db = (b0 - b1) / 2 + A d. Pixels within 5 of the border are down-weighted (0.14, 0.14, 0.45,
/// 0.88, 1 from the edge inwards). The window sums G = sum A^T A, h = sum A^T db (a box of
/// winsize x winsize, or with gaussian_window a Gaussian of sigma 0.3 m over 2 m + 1 taps,
/// m = winsize / 2, as OpenCV; both normalised to averages)
/// give the new d = G^-1 h (G's determinant regularised by 1e-3); `iterations` times per level.
///
/// Pyramid: the levels k = L .. 0 of scale pyr_scale^k (L = `levels`, fewer where a side would fall
/// under 32 pixels: L + 1 passes, as OpenCV), each the frame smoothed by a Gaussian of sigma
/// (1 / scale - 1) / 2 (kernel max(3, round(5 sigma) | 1) taps; at level 0 the [1 2 1] / 4 OpenCV
/// applies, unless smooth_first_level is false) and resampled bilinearly (pixel
/// centres); the flow is resampled to the next level and divided by pyr_scale.
/// Frames: 8-bit (0..255) or float in [0, 1] (scaled by 255), grey, one size.
///
/// Backends: `exec::par` splits rows (and, for the box filter's running sums down the columns,
/// columns) over the pool; every value is computed from the same inputs in the same order, so it
/// equals `exec::seq` bit for bit.
///
///     ferx::farneback_params p;                       // OpenCV's FarnebackOpticalFlow defaults
///     ferx::flow_field f = ferx::farneback(ferx::exec::par, i0, i1, p);
///     ferx::farneback_sequence s(p);                  // a video: each frame expanded once
///     for (frame : frames) { auto f = s.next(ferx::exec::par, frame); if (f.size()) use(f); }
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/core/view.hpp>
#include <ferx/flow/field.hpp>
#include <ferx/flow/sequence.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#ifndef FERX_FARNEBACK_SSE2  // define as 0 to test the portable loops
#if defined(__SSE2__) || defined(_M_X64)
#define FERX_FARNEBACK_SSE2 1
#else
#define FERX_FARNEBACK_SSE2 0
#endif
#endif
#if FERX_FARNEBACK_SSE2
#include <emmintrin.h>
#endif

FERX_NAMESPACE_BEGIN

/// Farneback parameters: the names and meanings of cv::calcOpticalFlowFarneback's, with the
/// defaults of cv::FarnebackOpticalFlow::create (numLevels 5, pyrScale 0.5, winSize 13,
/// numIters 10, polyN 5, polySigma 1.1, flags 0).
struct farneback_params {
    double pyr_scale = 0.5;        ///< scale between pyramid levels, in (0, 1)
    int levels = 5;                ///< pyramid levels above the frame (0: the frame only)
    int winsize = 13;              ///< averaging window, pixels, >= 1
    int iterations = 10;           ///< iterations per level, >= 1
    int poly_n = 5;                ///< polynomial neighbourhood radius: 5 or 7
    double poly_sigma = 1.1;       ///< Gaussian sigma of the polynomial fit, > 0 (1.1 for 5, 1.5 for 7)
    bool gaussian_window = false;  ///< OPTFLOW_FARNEBACK_GAUSSIAN: a Gaussian window instead of a box
    bool use_initial_flow = false; ///< OPTFLOW_USE_INITIAL_FLOW: start from the given flow
    /// Smooth the finest level too, by [1 2 1] / 4 in each direction, as OpenCV does (its code
    /// passes sigma 0 there, for which cv::GaussianBlur takes its fixed 3-tap kernel). false fits
    /// the polynomials to the frame itself: measured better EPE on the shared pairs (docs/flow.md).
    bool smooth_first_level = true;

    /// The parameters of OpenCV's dense optical-flow sample and tutorial,
    /// calcOpticalFlowFarneback(prev, next, flow, 0.5, 3, 15, 3, 5, 1.2, 0), which most published
    /// uses copy (and ../shared/README.md's timings and docs/flow.md's tables use).
    static farneback_params opencv_sample() {
        farneback_params p;
        p.pyr_scale = 0.5;
        p.levels = 3;
        p.winsize = 15;
        p.iterations = 3;
        p.poly_n = 5;
        p.poly_sigma = 1.2;
        return p;
    }
};

namespace detail {

inline void check_farneback_params(const farneback_params& p, const char* where) {
    if (!(p.pyr_scale > 0 && p.pyr_scale < 1)) throw error(where, "pyr_scale must be in (0, 1), got " + std::to_string(p.pyr_scale));
    if (p.levels < 0 || p.levels > 32) throw error(where, "levels must be in [0, 32], got " + std::to_string(p.levels));
    if (p.winsize < 1 || p.winsize > 255) throw error(where, "winsize must be in [1, 255], got " + std::to_string(p.winsize));
    if (p.iterations < 1 || p.iterations > 1000)
        throw error(where, "iterations must be in [1, 1000], got " + std::to_string(p.iterations));
    if (p.poly_n != 5 && p.poly_n != 7) throw error(where, "poly_n must be 5 or 7, got " + std::to_string(p.poly_n));
    if (!(p.poly_sigma > 0) || !std::isfinite(p.poly_sigma))
        throw error(where, "poly_sigma must be positive, got " + std::to_string(p.poly_sigma));
}

/// A float plane, rows x cols x ch interleaved.
struct fb_plane {
    index_t rows = 0, cols = 0, ch = 1;
    std::vector<float> buf;
    void resize(index_t r, index_t c, index_t k = 1) {
        rows = r;
        cols = c;
        ch = k;
        buf.resize(static_cast<std::size_t>(r * c * k));
    }
    float* row(index_t y) { return buf.data() + y * cols * ch; }
    const float* row(index_t y) const { return buf.data() + y * cols * ch; }
};

/// Runs body(lo, hi) over [0, n) rows (or columns): split over the pool under par.
template <class Policy, class F>
void fb_rows(const Policy& policy, index_t n, F&& body) {
    for_each_range(policy, n, 8, std::forward<F>(body));
}

/// Normalised Gaussian taps g[-r..r] (sigma), in double then rounded to float.
inline std::vector<float> fb_gaussian(index_t r, double sigma) {
    std::vector<double> g(static_cast<std::size_t>(2 * r + 1));
    double s = 0;
    for (index_t i = -r; i <= r; ++i) s += g[std::size_t(i + r)] = std::exp(-double(i * i) / (2 * sigma * sigma));
    std::vector<float> out(g.size());
    for (std::size_t i = 0; i < g.size(); ++i) out[i] = static_cast<float>(g[i] / s);
    return out;
}

inline index_t fb_clamp(index_t v, index_t n) { return v < 0 ? 0 : v >= n ? n - 1 : v; }

/// dst row y = sum over k of g[k] * src row clamp(y + k - r) (r = g.size() / 2), every channel:
/// the vertical pass of the separable filters. dst must have src's size and channels.
template <class Policy>
void fb_vertical_taps(const Policy& policy, const fb_plane& src, fb_plane& dst, const std::vector<float>& g) {
    const index_t R = src.rows, W = src.cols * src.ch, r = index_t(g.size() / 2);
    fb_rows(policy, R, [&](index_t lo, index_t hi) {
        for (index_t y = lo; y < hi; ++y) {
            float* d = dst.row(y);
            std::fill(d, d + W, 0.f);
            for (index_t k = -r; k <= r; ++k) {
                const float* s = src.row(fb_clamp(y + k, R));
                const float w = g[std::size_t(k + r)];
                for (index_t i = 0; i < W; ++i) d[i] += w * s[i];
            }
        }
    });
}

/// Separable Gaussian blur (1 channel), replicated borders: src -> dst (same size), via tmp.
template <class Policy>
void fb_blur(const Policy& policy, const fb_plane& src, fb_plane& tmp, fb_plane& dst, const std::vector<float>& g) {
    const index_t R = src.rows, C = src.cols, r = index_t(g.size() / 2);
    tmp.resize(R, C);
    dst.resize(R, C);
    fb_vertical_taps(policy, src, tmp, g);
    fb_rows(policy, R, [&](index_t lo, index_t hi) {  // horizontal
        std::vector<float> ext(static_cast<std::size_t>(C + 2 * r));
        for (index_t y = lo; y < hi; ++y) {
            const float* s = tmp.row(y);
            for (index_t x = -r; x < C + r; ++x) ext[std::size_t(x + r)] = s[fb_clamp(x, C)];
            float* d = dst.row(y);
            std::fill(d, d + C, 0.f);
            for (index_t k = 0; k <= 2 * r; ++k) {
                const float w = g[std::size_t(k)];
                const float* e = ext.data() + k;
                for (index_t x = 0; x < C; ++x) d[x] += w * e[x];
            }
        }
    });
}

/// Bilinear resampling (pixel centres, clamped), ch channels: src -> dst's size; values times `mul`.
template <class Policy>
void fb_resize(const Policy& policy, const fb_plane& src, fb_plane& dst, index_t rows, index_t cols, float mul = 1.f) {
    const index_t k = src.ch;
    dst.resize(rows, cols, k);
    const double sy = double(src.rows) / double(rows), sx = double(src.cols) / double(cols);
    std::vector<index_t> x0(static_cast<std::size_t>(cols)), x1(x0.size());
    std::vector<float> wx(x0.size());
    for (index_t x = 0; x < cols; ++x) {
        double p = (double(x) + 0.5) * sx - 0.5;
        if (p < 0) p = 0;
        index_t i = static_cast<index_t>(std::floor(p));
        if (i >= src.cols - 1) {
            i = src.cols - 1;
            p = double(i);
        }
        x0[std::size_t(x)] = i;
        x1[std::size_t(x)] = std::min(i + 1, src.cols - 1);
        wx[std::size_t(x)] = static_cast<float>(p - double(i));
    }
    fb_rows(policy, rows, [&](index_t lo, index_t hi) {
        for (index_t y = lo; y < hi; ++y) {
            double p = (double(y) + 0.5) * sy - 0.5;
            if (p < 0) p = 0;
            index_t i = static_cast<index_t>(std::floor(p));
            if (i >= src.rows - 1) {
                i = src.rows - 1;
                p = double(i);
            }
            const float wy = static_cast<float>(p - double(i));
            const float* a = src.row(i);
            const float* b = src.row(std::min(i + 1, src.rows - 1));
            float* d = dst.row(y);
            for (index_t x = 0; x < cols; ++x) {
                const float w = wx[std::size_t(x)];
                for (index_t c = 0; c < k; ++c) {
                    const float top = a[x0[std::size_t(x)] * k + c] * (1 - w) + a[x1[std::size_t(x)] * k + c] * w;
                    const float bot = b[x0[std::size_t(x)] * k + c] * (1 - w) + b[x1[std::size_t(x)] * k + c] * w;
                    d[x * k + c] = (top * (1 - wy) + bot * wy) * mul;
                }
            }
        }
    });
}

/// The polynomial-expansion filters of (n, sigma): Gaussian g and x g, x^2 g (1-D, 2n+1 taps) and
/// the inverse normal matrix's entries used per pixel (see farneback_expand).
struct fb_expansion_kernel {
    int n = 0;
    double sigma = 0;
    std::vector<float> g, xg, xxg;
    // coefficients = Ginv * moments; moments m = [sum w f, sum w x f, sum w y f, sum w x^2 f,
    // sum w y^2 f, sum w x y f]; Ginv's non-zero pattern: c from m0, m3, m4; bx from m1;
    // by from m2; axx, ayy from m0, m3, m4; axy from m5.
    double ig[6][6]{};
    void prepare(int n_, double sigma_) {
        if (n == n_ && sigma == sigma_) return;
        n = n_;
        sigma = sigma_;
        const index_t r = n;
        std::vector<double> gd(static_cast<std::size_t>(2 * r + 1));
        double s = 0;
        for (index_t i = -r; i <= r; ++i) s += gd[std::size_t(i + r)] = std::exp(-double(i * i) / (2 * sigma * sigma));
        for (auto& v : gd) v /= s;
        g.resize(gd.size());
        xg.resize(gd.size());
        xxg.resize(gd.size());
        for (index_t i = -r; i <= r; ++i) {
            g[std::size_t(i + r)] = float(gd[std::size_t(i + r)]);
            xg[std::size_t(i + r)] = float(double(i) * gd[std::size_t(i + r)]);
            xxg[std::size_t(i + r)] = float(double(i * i) * gd[std::size_t(i + r)]);
        }
        // normal matrix G = sum w b b^T for the basis b = (1, x, y, x^2, y^2, xy), w = g(x) g(y)
        double G[6][6]{};
        for (index_t y = -r; y <= r; ++y)
            for (index_t x = -r; x <= r; ++x) {
                const double w = gd[std::size_t(y + r)] * gd[std::size_t(x + r)];
                const double b[6] = {1.0, double(x), double(y), double(x * x), double(y * y), double(x * y)};
                for (int i = 0; i < 6; ++i)
                    for (int j = 0; j < 6; ++j) G[i][j] += w * b[i] * b[j];
            }
        // invert by Gauss-Jordan with partial pivoting (G is symmetric positive definite)
        double a[6][12]{};
        for (int i = 0; i < 6; ++i) {
            for (int j = 0; j < 6; ++j) a[i][j] = G[i][j];
            a[i][6 + i] = 1.0;
        }
        for (int c = 0; c < 6; ++c) {
            int piv = c;
            for (int i = c + 1; i < 6; ++i)
                if (std::abs(a[i][c]) > std::abs(a[piv][c])) piv = i;
            for (int j = 0; j < 12; ++j) std::swap(a[c][j], a[piv][j]);
            const double d = a[c][c];
            for (int j = 0; j < 12; ++j) a[c][j] /= d;
            for (int i = 0; i < 6; ++i)
                if (i != c) {
                    const double f = a[i][c];
                    for (int j = 0; j < 12; ++j) a[i][j] -= f * a[c][j];
                }
        }
        for (int i = 0; i < 6; ++i)
            for (int j = 0; j < 6; ++j) ig[i][j] = a[i][6 + j];
    }
};

#if FERX_FARNEBACK_SSE2
/// Stores four pixels of a 5-channel plane at d: c0..c3 hold channels 0-3 of the four pixels
/// (one register per channel), c4 channel 4.
inline void fb_store_5x4(float* d, __m128 c0, __m128 c1, __m128 c2, __m128 c3, const float* c4) {
    _MM_TRANSPOSE4_PS(c0, c1, c2, c3);  // c_j: channels 0-3 of pixel j
    _mm_storeu_ps(d, c0);
    d[4] = c4[0];
    _mm_storeu_ps(d + 5, c1);
    d[9] = c4[1];
    _mm_storeu_ps(d + 10, c2);
    d[14] = c4[2];
    _mm_storeu_ps(d + 15, c3);
    d[19] = c4[3];
}
#endif

/// Polynomial expansion of a level into `out` (5 channels per pixel: bx, by, a11, a22, a12 with
/// f ~ a11 x^2 + 2 a12 x y + a22 y^2 + bx x + by y + c; x along columns, y along rows).
template <class Policy>
void farneback_expand(const Policy& policy, const fb_plane& img, const fb_expansion_kernel& k, fb_plane& out) {
    const index_t R = img.rows, C = img.cols, r = k.n;
    out.resize(R, C, 5);
    const float i1 = float(k.ig[1][1]), i2 = float(k.ig[2][2]), i5 = float(k.ig[5][5]);
    const float i30 = float(k.ig[3][0]), i33 = float(k.ig[3][3]), i34 = float(k.ig[3][4]);
    const float i40 = float(k.ig[4][0]), i43 = float(k.ig[4][3]), i44 = float(k.ig[4][4]);
    fb_rows(policy, R, [&](index_t lo, index_t hi) {
        // vertical pass per row: v0 = sum g f, v1 = sum y g f, v2 = sum y^2 g f (column moments)
        std::vector<float> v0(static_cast<std::size_t>(C + 2 * r)), v1(v0.size()), v2(v0.size()), mom(static_cast<std::size_t>(6 * C));
        for (index_t y = lo; y < hi; ++y) {
            float* a0 = v0.data() + r;
            float* a1 = v1.data() + r;
            float* a2 = v2.data() + r;
            // g and y^2 g are even, y g odd: fold the rows y + t and y - t
            index_t xv = 0;  // columns [0, xv) done by the SSE2 loop (same order of operations)
#if FERX_FARNEBACK_SSE2
            for (; xv + 4 <= C; xv += 4) {
                __m128 c0 = _mm_mul_ps(_mm_set1_ps(k.g[std::size_t(r)]), _mm_loadu_ps(img.row(y) + xv));
                __m128 c1 = _mm_setzero_ps(), c2 = _mm_setzero_ps();
                for (index_t t = 1; t <= r; ++t) {
                    const __m128 sp = _mm_loadu_ps(img.row(fb_clamp(y + t, R)) + xv);
                    const __m128 sm = _mm_loadu_ps(img.row(fb_clamp(y - t, R)) + xv);
                    const __m128 e = _mm_add_ps(sp, sm), o = _mm_sub_ps(sp, sm);
                    c0 = _mm_add_ps(c0, _mm_mul_ps(_mm_set1_ps(k.g[std::size_t(t + r)]), e));
                    c1 = _mm_add_ps(c1, _mm_mul_ps(_mm_set1_ps(k.xg[std::size_t(t + r)]), o));
                    c2 = _mm_add_ps(c2, _mm_mul_ps(_mm_set1_ps(k.xxg[std::size_t(t + r)]), e));
                }
                _mm_storeu_ps(a0 + xv, c0);
                _mm_storeu_ps(a1 + xv, c1);
                _mm_storeu_ps(a2 + xv, c2);
            }
#endif
            std::fill(a1 + xv, a1 + C, 0.f);
            std::fill(a2 + xv, a2 + C, 0.f);
            {
                const float* s0 = img.row(y);
                const float g0 = k.g[std::size_t(r)];
                for (index_t x = xv; x < C; ++x) a0[x] = g0 * s0[x];
            }
            for (index_t t = 1; t <= r; ++t) {
                const float* sp = img.row(fb_clamp(y + t, R));
                const float* sm = img.row(fb_clamp(y - t, R));
                const float g = k.g[std::size_t(t + r)], yg = k.xg[std::size_t(t + r)], yyg = k.xxg[std::size_t(t + r)];
                for (index_t x = xv; x < C; ++x) {
                    const float e = sp[x] + sm[x], o = sp[x] - sm[x];
                    a0[x] += g * e;
                    a1[x] += yg * o;
                    a2[x] += yyg * e;
                }
            }
            for (index_t x = 1; x <= r; ++x) {  // replicate the border columns
                a0[-x] = a0[0];
                a1[-x] = a1[0];
                a2[-x] = a2[0];
                a0[C - 1 + x] = a0[C - 1];
                a1[C - 1 + x] = a1[C - 1];
                a2[C - 1 + x] = a2[C - 1];
            }
            float* o = out.row(y);
            index_t xh = 0;  // pixels [0, xh) done by the SSE2 loop (same order of operations)
#if FERX_FARNEBACK_SSE2
            const __m128 vi1 = _mm_set1_ps(i1), vi2 = _mm_set1_ps(i2), vh5 = _mm_set1_ps(0.5f * i5);
            const __m128 vi30 = _mm_set1_ps(i30), vi33 = _mm_set1_ps(i33), vi34 = _mm_set1_ps(i34);
            const __m128 vi40 = _mm_set1_ps(i40), vi43 = _mm_set1_ps(i43), vi44 = _mm_set1_ps(i44);
            for (; xh + 4 <= C; xh += 4) {
                const __m128 g0 = _mm_set1_ps(k.g[std::size_t(r)]);
                __m128 m0 = _mm_mul_ps(g0, _mm_loadu_ps(a0 + xh)), m2 = _mm_mul_ps(g0, _mm_loadu_ps(a1 + xh));
                __m128 m4 = _mm_mul_ps(g0, _mm_loadu_ps(a2 + xh));
                __m128 m1 = _mm_setzero_ps(), m3 = _mm_setzero_ps(), m5 = _mm_setzero_ps();
                for (index_t t = 1; t <= r; ++t) {
                    const __m128 g = _mm_set1_ps(k.g[std::size_t(t + r)]), xg = _mm_set1_ps(k.xg[std::size_t(t + r)]);
                    const __m128 xxg = _mm_set1_ps(k.xxg[std::size_t(t + r)]);
                    const __m128 p0 = _mm_loadu_ps(a0 + xh + t), q0 = _mm_loadu_ps(a0 + xh - t);
                    const __m128 p1 = _mm_loadu_ps(a1 + xh + t), q1 = _mm_loadu_ps(a1 + xh - t);
                    const __m128 e0 = _mm_add_ps(p0, q0), o0 = _mm_sub_ps(p0, q0);
                    const __m128 e1 = _mm_add_ps(p1, q1), o1 = _mm_sub_ps(p1, q1);
                    m0 = _mm_add_ps(m0, _mm_mul_ps(g, e0));
                    m1 = _mm_add_ps(m1, _mm_mul_ps(xg, o0));
                    m2 = _mm_add_ps(m2, _mm_mul_ps(g, e1));
                    m3 = _mm_add_ps(m3, _mm_mul_ps(xxg, e0));
                    m4 = _mm_add_ps(m4, _mm_mul_ps(g, _mm_add_ps(_mm_loadu_ps(a2 + xh + t), _mm_loadu_ps(a2 + xh - t))));
                    m5 = _mm_add_ps(m5, _mm_mul_ps(xg, o1));
                }
                const __m128 c0 = _mm_mul_ps(vi1, m1), c1 = _mm_mul_ps(vi2, m2);
                const __m128 c2 = _mm_add_ps(_mm_add_ps(_mm_mul_ps(vi30, m0), _mm_mul_ps(vi33, m3)), _mm_mul_ps(vi34, m4));
                const __m128 c3 = _mm_add_ps(_mm_add_ps(_mm_mul_ps(vi40, m0), _mm_mul_ps(vi43, m3)), _mm_mul_ps(vi44, m4));
                alignas(16) float c4[4];
                _mm_store_ps(c4, _mm_mul_ps(vh5, m5));
                fb_store_5x4(o + 5 * xh, c0, c1, c2, c3, c4);
            }
#endif
            // horizontal pass of the remaining pixels, tap-outer: the six moments
            std::fill(mom.begin() + C, mom.begin() + 2 * C, 0.f);  // m1
            std::fill(mom.begin() + 3 * C, mom.begin() + 4 * C, 0.f);  // m3
            std::fill(mom.begin() + 5 * C, mom.end(), 0.f);  // m5
            float* m0 = mom.data();
            float* m1 = m0 + C;
            float* m2 = m1 + C;
            float* m3 = m2 + C;
            float* m4 = m3 + C;
            float* m5 = m4 + C;
            {
                const float g0 = k.g[std::size_t(r)];
                for (index_t x = xh; x < C; ++x) {
                    m0[x] = g0 * a0[x];
                    m2[x] = g0 * a1[x];
                    m4[x] = g0 * a2[x];
                }
            }
            for (index_t t = 1; t <= r; ++t) {  // fold the columns x + t and x - t
                const float g = k.g[std::size_t(t + r)], xg = k.xg[std::size_t(t + r)], xxg = k.xxg[std::size_t(t + r)];
                const float* p0 = a0 + t;
                const float* q0 = a0 - t;
                const float* p1 = a1 + t;
                const float* q1 = a1 - t;
                const float* p2 = a2 + t;
                const float* q2 = a2 - t;
                for (index_t x = xh; x < C; ++x) {
                    const float e0 = p0[x] + q0[x], o0 = p0[x] - q0[x], e1 = p1[x] + q1[x], o1 = p1[x] - q1[x];
                    m0[x] += g * e0;                  // sum w f
                    m1[x] += xg * o0;                 // sum w x f
                    m2[x] += g * e1;                  // sum w y f
                    m3[x] += xxg * e0;                // sum w x^2 f
                    m4[x] += g * (p2[x] + q2[x]);     // sum w y^2 f
                    m5[x] += xg * o1;                 // sum w x y f
                }
            }
            for (index_t x = xh; x < C; ++x) {
                float* q = o + 5 * x;
                q[0] = i1 * m1[x];                                     // bx
                q[1] = i2 * m2[x];                                     // by
                q[2] = i30 * m0[x] + i33 * m3[x] + i34 * m4[x];        // a11 (x^2)
                q[3] = i40 * m0[x] + i43 * m3[x] + i44 * m4[x];        // a22 (y^2)
                q[4] = 0.5f * i5 * m5[x];                              // a12 (half the xy coefficient)
            }
        }
    });
}

/// The five window-summed terms per pixel (G11, G12, G22, h1, h2) of the current flow.
/// One pixel, the portable reference; the SSE2 loop below does four at a time with the same
/// operations in the same order per lane, so both give the same bits.
inline void fb_matrices_pixel(const fb_plane& r1, const float* e0, const float* f, float* o, index_t x, index_t y,
                              float wy, float wx) {
    const index_t R = r1.rows, C = r1.cols;
    const float dx = f[2 * x], dy = f[2 * x + 1];
    const float fx = float(x) + dx, fy = float(y) + dy;
    // inside: the bilinear neighbours (x1, y1) .. (x1 + 1, y1 + 1) are in the frame. Tested on
    // the floats, so a huge or NaN flow never reaches the integer conversion.
    const bool inside = fx >= 0 && fy >= 0 && fx < float(C - 1) && fy < float(R - 1);
    float q[5] = {0, 0, 0, 0, 0};
    if (inside) {
        const index_t x1 = static_cast<index_t>(fx), y1 = static_cast<index_t>(fy);  // floor: both >= 0
        const float ax = fx - float(x1), ay = fy - float(y1);
        const float w00 = (1 - ax) * (1 - ay), w01 = ax * (1 - ay), w10 = (1 - ax) * ay, w11 = ax * ay;
        const float* p0 = r1.row(y1) + 5 * x1;
        const float* p1 = r1.row(y1 + 1) + 5 * x1;
        for (int c = 0; c < 5; ++c) q[c] = w00 * p0[c] + w01 * p0[5 + c] + w10 * p1[c] + w11 * p1[5 + c];
    }
    const float* a = e0 + 5 * x;
    // outside the frame the second expansion is unknown: A is the first frame's alone
    const float half = inside ? 0.5f : 1.f;
    const float a11 = (a[2] + q[2]) * half, a22 = (a[3] + q[3]) * half, a12 = (a[4] + q[4]) * half;
    float b1 = (a[0] - q[0]) * 0.5f, b2 = (a[1] - q[1]) * 0.5f;
    b1 += a11 * dx + a12 * dy;
    b2 += a12 * dx + a22 * dy;
    const float w = wy * wx;
    const float s11 = a11 * w, s22 = a22 * w, s12 = a12 * w, t1 = b1 * w, t2 = b2 * w;
    float* d = o + 5 * x;
    d[0] = s11 * s11 + s12 * s12;
    d[1] = s12 * (s11 + s22);
    d[2] = s12 * s12 + s22 * s22;
    d[3] = s11 * t1 + s12 * t2;
    d[4] = s12 * t1 + s22 * t2;
}

#if FERX_FARNEBACK_SSE2
/// Pixels x .. x + 3 of fb_matrices_pixel, in SSE2 (lanes = pixels; the bilinear gathers are
/// four-channel loads per neighbour, transposed to lanes).
inline void fb_matrices_4(const fb_plane& r1, const float* e0, const float* f, float* o, index_t x, index_t y,
                          float wy, const float* wxs) {
    const index_t C = r1.cols, R = r1.rows;
    const __m128 f0 = _mm_loadu_ps(f + 2 * x), f1 = _mm_loadu_ps(f + 2 * x + 4);
    const __m128 dx = _mm_shuffle_ps(f0, f1, _MM_SHUFFLE(2, 0, 2, 0));
    const __m128 dy = _mm_shuffle_ps(f0, f1, _MM_SHUFFLE(3, 1, 3, 1));
    const __m128 fx = _mm_add_ps(_mm_set_ps(float(x + 3), float(x + 2), float(x + 1), float(x)), dx);
    const __m128 fy = _mm_add_ps(_mm_set1_ps(float(y)), dy);
    const __m128 zero = _mm_setzero_ps(), one = _mm_set1_ps(1.f), halfv = _mm_set1_ps(0.5f);
    const __m128 in = _mm_and_ps(_mm_and_ps(_mm_cmpge_ps(fx, zero), _mm_cmpge_ps(fy, zero)),
                                 _mm_and_ps(_mm_cmplt_ps(fx, _mm_set1_ps(float(C - 1))),
                                            _mm_cmplt_ps(fy, _mm_set1_ps(float(R - 1)))));
    const int mask = _mm_movemask_ps(in);
    // floor of the in-frame lanes (>= 0: truncation), zero elsewhere
    const __m128i ix = _mm_cvttps_epi32(_mm_and_ps(in, fx)), iy = _mm_cvttps_epi32(_mm_and_ps(in, fy));
    const __m128 ax = _mm_sub_ps(fx, _mm_cvtepi32_ps(ix)), ay = _mm_sub_ps(fy, _mm_cvtepi32_ps(iy));
    const __m128 oax = _mm_sub_ps(one, ax), oay = _mm_sub_ps(one, ay);
    alignas(16) float w00[4], w01[4], w10[4], w11[4];
    alignas(16) std::int32_t xs[4], ys[4];
    _mm_store_ps(w00, _mm_mul_ps(oax, oay));
    _mm_store_ps(w01, _mm_mul_ps(ax, oay));
    _mm_store_ps(w10, _mm_mul_ps(oax, ay));
    _mm_store_ps(w11, _mm_mul_ps(ax, ay));
    _mm_store_si128(reinterpret_cast<__m128i*>(xs), ix);
    _mm_store_si128(reinterpret_cast<__m128i*>(ys), iy);
    __m128 q[4];
    alignas(16) float q4[4] = {0, 0, 0, 0};
    for (int j = 0; j < 4; ++j) {
        if (!(mask & (1 << j))) {
            q[j] = zero;
            continue;
        }
        const float* p0 = r1.row(ys[j]) + 5 * index_t(xs[j]);
        const float* p1 = r1.row(ys[j] + 1) + 5 * index_t(xs[j]);
        q[j] = _mm_add_ps(_mm_add_ps(_mm_add_ps(_mm_mul_ps(_mm_set1_ps(w00[j]), _mm_loadu_ps(p0)),
                                                _mm_mul_ps(_mm_set1_ps(w01[j]), _mm_loadu_ps(p0 + 5))),
                                     _mm_mul_ps(_mm_set1_ps(w10[j]), _mm_loadu_ps(p1))),
                          _mm_mul_ps(_mm_set1_ps(w11[j]), _mm_loadu_ps(p1 + 5)));
        q4[j] = w00[j] * p0[4] + w01[j] * p0[9] + w10[j] * p1[4] + w11[j] * p1[9];
    }
    _MM_TRANSPOSE4_PS(q[0], q[1], q[2], q[3]);  // q[c]: channel c of the four pixels
    const float* a = e0 + 5 * x;
    __m128 A0 = _mm_loadu_ps(a), A1 = _mm_loadu_ps(a + 5), A2 = _mm_loadu_ps(a + 10), A3 = _mm_loadu_ps(a + 15);
    _MM_TRANSPOSE4_PS(A0, A1, A2, A3);
    const __m128 A4 = _mm_set_ps(a[19], a[14], a[9], a[4]);
    const __m128 hv = _mm_or_ps(_mm_and_ps(in, halfv), _mm_andnot_ps(in, one));
    const __m128 a11 = _mm_mul_ps(_mm_add_ps(A2, q[2]), hv), a22 = _mm_mul_ps(_mm_add_ps(A3, q[3]), hv);
    const __m128 a12 = _mm_mul_ps(_mm_add_ps(A4, _mm_load_ps(q4)), hv);
    __m128 b1 = _mm_mul_ps(_mm_sub_ps(A0, q[0]), halfv), b2 = _mm_mul_ps(_mm_sub_ps(A1, q[1]), halfv);
    b1 = _mm_add_ps(b1, _mm_add_ps(_mm_mul_ps(a11, dx), _mm_mul_ps(a12, dy)));
    b2 = _mm_add_ps(b2, _mm_add_ps(_mm_mul_ps(a12, dx), _mm_mul_ps(a22, dy)));
    const __m128 w = _mm_mul_ps(_mm_set1_ps(wy), _mm_loadu_ps(wxs + x));
    const __m128 s11 = _mm_mul_ps(a11, w), s22 = _mm_mul_ps(a22, w), s12 = _mm_mul_ps(a12, w);
    const __m128 t1 = _mm_mul_ps(b1, w), t2 = _mm_mul_ps(b2, w);
    const __m128 d0 = _mm_add_ps(_mm_mul_ps(s11, s11), _mm_mul_ps(s12, s12));
    const __m128 d1 = _mm_mul_ps(s12, _mm_add_ps(s11, s22));
    const __m128 d2 = _mm_add_ps(_mm_mul_ps(s12, s12), _mm_mul_ps(s22, s22));
    const __m128 d3 = _mm_add_ps(_mm_mul_ps(s11, t1), _mm_mul_ps(s12, t2));
    alignas(16) float d4[4];
    _mm_store_ps(d4, _mm_add_ps(_mm_mul_ps(s12, t1), _mm_mul_ps(s22, t2)));
    fb_store_5x4(o + 5 * x, d0, d1, d2, d3, d4);
}
#endif

template <class Policy>
void farneback_matrices(const Policy& policy, const fb_plane& r0, const fb_plane& r1, const fb_plane& flow, fb_plane& m) {
    const index_t R = r0.rows, C = r0.cols;
    m.resize(R, C, 5);
    static constexpr float border[5] = {0.14f, 0.14f, 0.4472f, 0.8781f, 1.f};
    std::vector<float> wxs(static_cast<std::size_t>(C));
    for (index_t x = 0; x < C; ++x) wxs[std::size_t(x)] = (x < 5 ? border[x] : 1.f) * (x >= C - 5 ? border[C - 1 - x] : 1.f);
    fb_rows(policy, R, [&](index_t lo, index_t hi) {
        for (index_t y = lo; y < hi; ++y) {
            const float* f = flow.row(y);
            const float* e0 = r0.row(y);
            float* o = m.row(y);
            const float wy = (y < 5 ? border[y] : 1.f) * (y >= R - 5 ? border[R - 1 - y] : 1.f);
            index_t x = 0;
#if FERX_FARNEBACK_SSE2
            for (; x + 4 <= C; x += 4) fb_matrices_4(r1, e0, f, o, x, y, wy, wxs.data());
#endif
            for (; x < C; ++x) fb_matrices_pixel(r1, e0, f, o, x, y, wy, wxs[std::size_t(x)]);
        }
    });
}

/// Horizontal box sums (2r + 1 pixels) of G rows at once: e[j] is row j padded by r replicated
/// pixels each side (5 channels), d[j] its C output pixels. Running sums per channel; the G rows
/// are interleaved only so that their dependency chains overlap, each row's arithmetic is the same
/// for every G (and for the SSE2 and portable loops).
template <int G>
inline void fb_box_rows(const float* const* e, float* const* d, index_t C, index_t r) {
#if FERX_FARNEBACK_SSE2
    __m128 acc[G];
    float acc4[G];
    for (int j = 0; j < G; ++j) {
        acc[j] = _mm_setzero_ps();
        acc4[j] = 0.f;
        for (index_t k = 0; k <= 2 * r; ++k) {
            acc[j] = _mm_add_ps(acc[j], _mm_loadu_ps(e[j] + k * 5));
            acc4[j] += e[j][k * 5 + 4];
        }
    }
    for (index_t x = 0; x < C; ++x) {
        for (int j = 0; j < G; ++j) {
            _mm_storeu_ps(d[j] + 5 * x, acc[j]);
            d[j][5 * x + 4] = acc4[j];
        }
        if (x + 1 == C) break;  // the window of x + 1 would read past the padded row
        const index_t in = (x + 2 * r + 1) * 5, out = x * 5;
        for (int j = 0; j < G; ++j) {
            acc[j] = _mm_add_ps(acc[j], _mm_sub_ps(_mm_loadu_ps(e[j] + in), _mm_loadu_ps(e[j] + out)));
            acc4[j] += e[j][in + 4] - e[j][out + 4];
        }
    }
#else
    float acc[G][5] = {};
    for (int j = 0; j < G; ++j)
        for (index_t k = 0; k <= 2 * r; ++k)
            for (int c = 0; c < 5; ++c) acc[j][c] += e[j][k * 5 + c];
    for (index_t x = 0; x < C; ++x) {
        for (int j = 0; j < G; ++j)
            for (int c = 0; c < 5; ++c) d[j][x * 5 + c] = acc[j][c];
        if (x + 1 == C) break;  // the window of x + 1 would read past the padded row
        for (int j = 0; j < G; ++j)
            for (int c = 0; c < 5; ++c) acc[j][c] += e[j][(x + 2 * r + 1) * 5 + c] - e[j][x * 5 + c];
    }
#endif
}

/// Window sums of the 5 channels of m into s (box: winsize x winsize running sums with replicated
/// borders, down the columns then along the rows; Gaussian: separable taps).
template <class Policy>
void farneback_window(const Policy& policy, const fb_plane& m, fb_plane& tmp, fb_plane& s, const farneback_params& p,
                      const std::vector<float>& gauss) {
    const index_t R = m.rows, C = m.cols, W = C * 5;
    tmp.resize(R, C, 5);
    s.resize(R, C, 5);
    const index_t r = p.gaussian_window ? index_t(gauss.size() / 2) : index_t(p.winsize / 2);
    if (p.gaussian_window) {
        fb_vertical_taps(policy, m, tmp, gauss);
    } else {
        // running sums down each column: columns split over the pool (each sweeps all rows)
        fb_rows(policy, W, [&](index_t lo, index_t hi) {
            std::vector<float> acc(static_cast<std::size_t>(hi - lo), 0.f);
            for (index_t k = -r; k <= r; ++k) {
                const float* src = m.row(fb_clamp(k, R));
                for (index_t i = lo; i < hi; ++i) acc[std::size_t(i - lo)] += src[i];
            }
            for (index_t y = 0; y < R; ++y) {
                float* d = tmp.row(y);
                for (index_t i = lo; i < hi; ++i) d[i] = acc[std::size_t(i - lo)];
                const float* add = m.row(fb_clamp(y + r + 1, R));
                const float* sub = m.row(fb_clamp(y - r, R));
                for (index_t i = lo; i < hi; ++i) acc[std::size_t(i - lo)] += add[i] - sub[i];
            }
        });
    }
    fb_rows(policy, R, [&](index_t lo, index_t hi) {
        constexpr index_t G = 4;  // box rows summed together (independent chains, same arithmetic)
        const std::size_t n = static_cast<std::size_t>((C + 2 * r) * 5);
        std::vector<float> ext(n * std::size_t(G));
        for (index_t y0 = lo; y0 < hi; y0 += G) {
            const index_t g = std::min(G, hi - y0);
            const float* e[G];
            float* d[G];
            for (index_t j = 0; j < g; ++j) {
                const float* src = tmp.row(y0 + j);
                float* x0 = ext.data() + n * std::size_t(j);
                for (index_t x = -r; x < C + r; ++x)
                    for (int c = 0; c < 5; ++c) x0[(x + r) * 5 + c] = src[fb_clamp(x, C) * 5 + c];
                e[j] = x0;
                d[j] = s.row(y0 + j);
            }
            if (p.gaussian_window) {
                for (index_t j = 0; j < g; ++j) {
                    std::fill(d[j], d[j] + W, 0.f);
                    for (index_t k = 0; k <= 2 * r; ++k) {
                        const float w = gauss[std::size_t(k)];
                        const float* ek = e[j] + k * 5;
                        for (index_t i = 0; i < W; ++i) d[j][i] += w * ek[i];
                    }
                }
            } else if (g == G) {
                fb_box_rows<G>(e, d, C, r);
            } else {
                for (index_t j = 0; j < g; ++j) fb_box_rows<1>(e + j, d + j, C, r);
            }
        }
    });
}

/// Solves each pixel's 2 x 2 system into flow; `scale` normalises the window sums to averages
/// (1 / winsize^2 for the box; the Gaussian's taps already sum to 1), so that the determinant's
/// regulariser 1e-3 weighs as in OpenCV.
template <class Policy>
void farneback_solve(const Policy& policy, const fb_plane& s, fb_plane& flow, float scale) {
    fb_rows(policy, s.rows, [&](index_t lo, index_t hi) {
        for (index_t y = lo; y < hi; ++y) {
            const float* a = s.row(y);
            float* f = flow.row(y);
            index_t x = 0;
#if FERX_FARNEBACK_SSE2
            const __m128 sc = _mm_set1_ps(scale), reg = _mm_set1_ps(1e-3f), one = _mm_set1_ps(1.f);
            for (; x + 4 <= s.cols; x += 4) {  // four pixels, the portable loop's operations per lane
                const float* q = a + 5 * x;
                __m128 g11 = _mm_loadu_ps(q), g12 = _mm_loadu_ps(q + 5), g22 = _mm_loadu_ps(q + 10);
                __m128 h1 = _mm_loadu_ps(q + 15);
                _MM_TRANSPOSE4_PS(g11, g12, g22, h1);
                g11 = _mm_mul_ps(g11, sc);
                g12 = _mm_mul_ps(g12, sc);
                g22 = _mm_mul_ps(g22, sc);
                h1 = _mm_mul_ps(h1, sc);
                const __m128 h2 = _mm_mul_ps(_mm_set_ps(q[19], q[14], q[9], q[4]), sc);
                const __m128 idet = _mm_div_ps(one, _mm_add_ps(_mm_sub_ps(_mm_mul_ps(g11, g22), _mm_mul_ps(g12, g12)), reg));
                const __m128 u = _mm_mul_ps(_mm_sub_ps(_mm_mul_ps(g22, h1), _mm_mul_ps(g12, h2)), idet);
                const __m128 v = _mm_mul_ps(_mm_sub_ps(_mm_mul_ps(g11, h2), _mm_mul_ps(g12, h1)), idet);
                _mm_storeu_ps(f + 2 * x, _mm_unpacklo_ps(u, v));
                _mm_storeu_ps(f + 2 * x + 4, _mm_unpackhi_ps(u, v));
            }
#endif
            for (; x < s.cols; ++x) {
                const float* q = a + 5 * x;
                const float g11 = q[0] * scale, g12 = q[1] * scale, g22 = q[2] * scale, h1 = q[3] * scale, h2 = q[4] * scale;
                const float idet = 1.f / (g11 * g22 - g12 * g12 + 1e-3f);
                f[2 * x] = (g22 * h1 - g12 * h2) * idet;
                f[2 * x + 1] = (g11 * h2 - g12 * h1) * idet;
            }
        }
    });
}

/// One frame's pyramid and the expansion of every level.
struct fb_frame {
    std::vector<fb_plane> expansion;  // per level k (0 = the frame)
};

/// Level sizes (k = 0 .. L) of a rows x cols frame under p (L: levels that keep sides >= 32).
inline std::vector<std::pair<index_t, index_t>> farneback_level_sizes(index_t rows, index_t cols, const farneback_params& p) {
    std::vector<std::pair<index_t, index_t>> sizes{{rows, cols}};
    double scale = 1;
    for (int k = 1; k <= p.levels; ++k) {
        scale *= p.pyr_scale;
        if (double(cols) * scale < 32 || double(rows) * scale < 32) break;
        sizes.emplace_back(std::max<index_t>(1, index_t(std::lround(double(rows) * scale))),
                           std::max<index_t>(1, index_t(std::lround(double(cols) * scale))));
    }
    return sizes;
}

template <class Policy, class T>
void farneback_prepare_frame(const Policy& policy, const image_view<const T>& f, const farneback_params& p,
                             const fb_expansion_kernel& k, fb_frame& out, fb_plane& base, fb_plane& tmp, fb_plane& blurred,
                             fb_plane& level) {
    const auto sizes = farneback_level_sizes(f.rows(), f.cols(), p);
    base.resize(f.rows(), f.cols());
    const float mul = std::is_floating_point<T>::value ? 255.f : 1.f;
    fb_rows(policy, f.rows(), [&](index_t lo, index_t hi) {
        for (index_t y = lo; y < hi; ++y) {
            const T* s = f.row(y);
            float* d = base.row(y);
            for (index_t x = 0; x < f.cols(); ++x) d[x] = mul * static_cast<float>(s[x]);
        }
    });
    out.expansion.resize(sizes.size());
    double scale = 1;
    for (std::size_t l = 0; l < sizes.size(); ++l) {
        if (l == 0) {
            if (p.smooth_first_level) {
                fb_blur(policy, base, tmp, blurred, std::vector<float>{0.25f, 0.5f, 0.25f});
                farneback_expand(policy, blurred, k, out.expansion[0]);
            } else {
                farneback_expand(policy, base, k, out.expansion[0]);
            }
            continue;
        }
        scale *= p.pyr_scale;
        const double sigma = (1.0 / scale - 1.0) * 0.5;
        const index_t ksize = std::max<index_t>(3, index_t(std::lround(sigma * 5)) | 1);
        fb_blur(policy, base, tmp, blurred, fb_gaussian(ksize / 2, sigma));
        fb_resize(policy, blurred, level, sizes[l].first, sizes[l].second);
        farneback_expand(policy, level, k, out.expansion[l]);
    }
}

}  // namespace detail

/// A Farneback solver that keeps its buffers (and the polynomial kernels) from call to call.
class farneback_flow {
public:
    explicit farneback_flow(const farneback_params& p = {}) : params_(p) {
        detail::check_farneback_params(p, "ferx::farneback_flow");
    }
    const farneback_params& params() const { return params_; }

    /// The flow from i0 to i1 into `flow` (rows x cols; read as the initial flow with
    /// use_initial_flow).
    template <class Policy, class T>
    void compute(const Policy& policy, const image_view<const T>& i0, const image_view<const T>& i1, const flow_view<>& flow) {
        constexpr const char* where = "ferx::farneback";
        static_assert(is_host_policy_v<Policy>, "ferx::farneback: use exec::seq or exec::par");
        detail::check_frame_pair(i0, i1, where);
        detail::check_flow_shape(flow, i0.rows(), i0.cols(), where, "the flow");
        if (params_.use_initial_flow) detail::require_finite_flow(flow, where, "the initial flow");
        kernel_.prepare(params_.poly_n, params_.poly_sigma);
        prepare(policy, i0, f0_);
        prepare(policy, i1, f1_);
        solve(policy, f0_, f1_, flow);
    }

protected:
    template <class Policy, class T>
    void prepare(const Policy& policy, const image_view<const T>& f, detail::fb_frame& out) {
        detail::farneback_prepare_frame(policy, f, params_, kernel_, out, base_, tmp_, blurred_, level_);
    }

    template <class Policy>
    void solve(const Policy& policy, const detail::fb_frame& a, const detail::fb_frame& b, const flow_view<>& out) {
        const auto& p = params_;
        const index_t R = out.rows(), C = out.cols();
        const auto sizes = detail::farneback_level_sizes(R, C, p);
        const int top = int(sizes.size()) - 1;
        const index_t gr = p.winsize / 2;
        const auto gauss = detail::fb_gaussian(gr, 0.3 * double(gr));
        const float box_scale = p.gaussian_window ? 1.f : 1.f / float((2 * gr + 1) * (2 * gr + 1));
        for (int k = top; k >= 0; --k) {
            const index_t h = sizes[std::size_t(k)].first, w = sizes[std::size_t(k)].second;
            if (k == top) {
                if (p.use_initial_flow) {
                    init_.resize(R, C, 2);
                    for (index_t y = 0; y < R; ++y)
                        for (index_t x = 0; x < C; ++x) {
                            init_.row(y)[2 * x] = out(y, x).u;
                            init_.row(y)[2 * x + 1] = out(y, x).v;
                        }
                    detail::fb_resize(policy, init_, flow_, h, w, static_cast<float>(std::pow(p.pyr_scale, k)));
                } else {
                    flow_.resize(h, w, 2);
                    std::fill(flow_.buf.begin(), flow_.buf.end(), 0.f);
                }
            } else {
                detail::fb_resize(policy, flow_, prev_, h, w, static_cast<float>(1.0 / p.pyr_scale));
                std::swap(flow_, prev_);
            }
            const auto& r0 = a.expansion[std::size_t(k)];
            const auto& r1 = b.expansion[std::size_t(k)];
            detail::farneback_matrices(policy, r0, r1, flow_, m_);
            for (int it = 0; it < p.iterations; ++it) {
                detail::farneback_window(policy, m_, tmp_, sums_, p, gauss);
                detail::farneback_solve(policy, sums_, flow_, box_scale);
                if (it + 1 < p.iterations) detail::farneback_matrices(policy, r0, r1, flow_, m_);
            }
        }
        for (index_t y = 0; y < R; ++y) {
            const float* f = flow_.row(y);
            for (index_t x = 0; x < C; ++x) out(y, x) = {f[2 * x], f[2 * x + 1]};
        }
    }

    farneback_params params_;
    detail::fb_expansion_kernel kernel_;
    detail::fb_frame f0_, f1_;
    detail::fb_plane base_, tmp_, blurred_, level_, flow_, prev_, init_, m_, sums_;
};

/// Flows of consecutive frames of a video, each frame's pyramid and expansions computed once.
class farneback_sequence : public farneback_flow, public flow_sequence<farneback_sequence> {
public:
    using farneback_flow::farneback_flow;
    static constexpr const char* sequence_name = "ferx::farneback_sequence";

private:
    friend class flow_sequence<farneback_sequence>;
    template <class Policy, class T>
    void push_frame(const Policy& policy, const image_view<const T>& frame) {
        kernel_.prepare(params_.poly_n, params_.poly_sigma);
        std::swap(f0_, f1_);
        prepare(policy, frame, f1_);
    }
    template <class Policy>
    void solve_last_pair(const Policy& policy, const flow_view<>& flow) {
        const bool init = params_.use_initial_flow;
        params_.use_initial_flow = false;
        solve(policy, f0_, f1_, flow);
        params_.use_initial_flow = init;
    }
};

/// The flow from i0 to i1 into `flow` (see the file comment).
template <class Policy, class T>
void farneback(const Policy& policy, const image_view<const T>& i0, const image_view<const T>& i1, const flow_view<>& flow,
               const farneback_params& params = {}) {
    farneback_flow solver(params);
    solver.compute(policy, i0, i1, flow);
}

/// The flow from i0 to i1 as a new field.
template <class Policy, class T>
flow_field farneback(const Policy& policy, const image_view<const T>& i0, const image_view<const T>& i1,
                     const farneback_params& params = {}) {
    detail::check_farneback_params(params, "ferx::farneback");
    detail::check_frame_pair(i0, i1, "ferx::farneback");
    flow_field f = make_flow_field(i0.rows(), i0.cols());
    farneback(policy, i0, i1, view(f), params);
    return f;
}

/// The same for mutable views (what ferx::view gives for a non-const image).
template <class Policy, class T, class = std::enable_if_t<!std::is_const<T>::value>>
flow_field farneback(const Policy& policy, const image_view<T>& i0, const image_view<T>& i1, const farneback_params& params = {}) {
    return farneback(policy, image_view<const T>(i0), image_view<const T>(i1), params);
}
template <class Policy, class T, class = std::enable_if_t<!std::is_const<T>::value>>
void farneback(const Policy& policy, const image_view<T>& i0, const image_view<T>& i1, const flow_view<>& flow,
               const farneback_params& params = {}) {
    farneback(policy, image_view<const T>(i0), image_view<const T>(i1), flow, params);
}

/// The flows of a clip's consecutive frames (frames x rows x cols): T - 1 fields.
template <class Policy, class T>
std::vector<flow_field> farneback(const Policy& policy, const volume_view<const T>& clip, const farneback_params& params = {}) {
    detail::check_farneback_params(params, "ferx::farneback");
    farneback_sequence s(params);
    return detail::clip_flows(s, policy, clip, "ferx::farneback");
}

FERX_NAMESPACE_END

// ---- exec::cuda: ferx::cuda::farneback_estimator (device side: ferx/cuda/dispatch/farneback.cuh) ----

#include <ferx/flow/detail/farneback_core.hpp>

#include <cstddef>
#include <memory>

FERX_NAMESPACE_BEGIN

namespace detail {

/// The device plan of checked parameters for rows x cols frames: the tables the host solver
/// computes (fb_expansion_kernel, fb_gaussian, farneback_level_sizes), as the host computes them.
inline fb_cuda_plan farneback_make_plan(index_t rows, index_t cols, const farneback_params& p) {
    fb_cuda_plan plan;
    plan.rows = rows;
    plan.cols = cols;
    plan.sizes = farneback_level_sizes(rows, cols, p);
    plan.iterations = p.iterations;
    plan.poly_n = p.poly_n;
    plan.gaussian_window = p.gaussian_window;
    plan.smooth_first_level = p.smooth_first_level;
    plan.pyr_scale = p.pyr_scale;
    fb_expansion_kernel k;
    k.prepare(p.poly_n, p.poly_sigma);
    plan.g = k.g;
    plan.xg = k.xg;
    plan.xxg = k.xxg;
    plan.i1 = float(k.ig[1][1]);
    plan.i2 = float(k.ig[2][2]);
    plan.i5 = float(k.ig[5][5]);
    plan.i30 = float(k.ig[3][0]);
    plan.i33 = float(k.ig[3][3]);
    plan.i34 = float(k.ig[3][4]);
    plan.i40 = float(k.ig[4][0]);
    plan.i43 = float(k.ig[4][3]);
    plan.i44 = float(k.ig[4][4]);
    plan.smooth0 = {0.25f, 0.5f, 0.25f};
    plan.level_blur.resize(plan.sizes.size());
    double scale = 1;
    for (std::size_t l = 1; l < plan.sizes.size(); ++l) {
        scale *= p.pyr_scale;
        const double sigma = (1.0 / scale - 1.0) * 0.5;
        const index_t ksize = std::max<index_t>(3, index_t(std::lround(sigma * 5)) | 1);
        plan.level_blur[l] = fb_gaussian(ksize / 2, sigma);
    }
    const index_t gr = p.winsize / 2;
    plan.box_radius = gr;
    if (p.gaussian_window) plan.window = fb_gaussian(gr, 0.3 * double(gr));
    plan.box_scale = p.gaussian_window ? 1.f : 1.f / float((2 * gr + 1) * (2 * gr + 1));
    return plan;
}

FERX_ARCH_NAMESPACE_BEGIN
/// The device side of cuda::farneback_estimator and its operations: defined in
/// ferx/cuda/dispatch/farneback.cuh (included at the end of this header under nvcc).
struct farneback_device_state;
/// Allocates the buffers and uploads the plan's tables; synchronises once. Needs a device.
std::shared_ptr<farneback_device_state> farneback_cuda_create(const exec::cuda_policy& policy, const fb_cuda_plan& plan);
/// Enqueues the flow of one checked pair (init: the flow view holds the initial flow).
template <class T>
void farneback_cuda_pair(farneback_device_state& s, const device_image_view<const T>& i0,
                         const device_image_view<const T>& i1, const flow_view<memory_space::device>& flow, bool init);
/// Enqueues the flows of a checked clip's consecutive pairs.
template <class T>
void farneback_cuda_clip(farneback_device_state& s, const device_volume_view<const T>& clip,
                         const tensor_view<flow_vector, 3, memory_space::device>& out);
/// Device memory the state holds, bytes.
std::size_t farneback_cuda_bytes(const farneback_device_state& s) noexcept;
FERX_ARCH_NAMESPACE_END

}  // namespace detail

namespace cuda {
FERX_ARCH_NAMESPACE_BEGIN

/// Farneback flow on the device for frames of one size and one set of parameters: the pyramids,
/// expansions and per-pixel buffers of two frames are allocated and the tables uploaded once, so
/// a call allocates nothing and returns at once (work enqueued on the policy's stream; the caller
/// synchronises). Use it from .cu files; the device side is ferx/cuda/dispatch/farneback.cuh.
///
///     ferx::cuda::stream s;
///     ferx::cuda::farneback_estimator fb(s.policy(), 480, 640, params);       // once
///     fb.run(d_i0.cview(), d_i1.cview(), d_flow.view());                       // per pair
///     fb.run(d_clip.cview(), d_flows.view());   // N + 1 frames -> N flows, each frame expanded once
///     s.synchronize();
///
/// The arithmetic is the host solver's, step by step and rounded as on the host (docs/flow.md,
/// "CUDA": where results equal exec::seq and within what tolerance). The object's buffers serve
/// one call at a time: calls on its stream are ordered; from another stream, synchronise first.
/// Float frames are not checked for non-finite pixels on the device (the host solver checks).
class farneback_estimator {
public:
    /// Checks the size and the parameters (ferx::error), then needs a device (ferx::error).
    farneback_estimator(const exec::cuda_policy& policy, index_t rows, index_t cols, const farneback_params& params = {})
        : s_(create(policy, rows, cols, params)), rows_(rows), cols_(cols), params_(params) {}
    farneback_estimator(farneback_estimator&&) noexcept = default;
    farneback_estimator& operator=(farneback_estimator&&) noexcept = default;
    farneback_estimator(const farneback_estimator&) = delete;
    farneback_estimator& operator=(const farneback_estimator&) = delete;

    /// Enqueues the flow from i0 to i1 (rows x cols, 8-bit or float in [0, 1], packed rows) into
    /// `flow` (rows x cols, packed rows; read first as the initial flow under use_initial_flow).
    template <class T>
    void run(const device_image_view<const T>& i0, const device_image_view<const T>& i1,
             const flow_view<memory_space::device>& flow) {
        constexpr const char* where = "ferx::cuda::farneback_estimator::run";
        check_frame(i0, where, "the first frame");
        check_frame(i1, where, "the second frame");
        check_out(flow.data(), flow.rows(), flow.cols(), where, "the flow");
        ferx::detail::require_packed_rows(flow, where, "the flow");
        ferx::detail::farneback_cuda_pair<T>(*s_, i0, i1, flow, params_.use_initial_flow);
    }
    template <class T, class = std::enable_if_t<!std::is_const<T>::value>>
    void run(const device_image_view<T>& i0, const device_image_view<T>& i1, const flow_view<memory_space::device>& flow) {
        run(device_image_view<const T>(i0), device_image_view<const T>(i1), flow);
    }

    /// Enqueues the flows of a clip's consecutive frames (N + 1 x rows x cols, packed rows) into
    /// out (N x rows x cols, packed rows), each from zero (use_initial_flow does not apply, as in
    /// farneback_sequence); every frame is expanded once. Equals N calls of the pair run exactly.
    template <class T>
    void run(const device_volume_view<const T>& clip, const tensor_view<flow_vector, 3, memory_space::device>& out) {
        constexpr const char* where = "ferx::cuda::farneback_estimator::run";
        if (!s_) throw error(where, "the estimator was moved from");
        if (clip.data() == nullptr || clip.size() == 0 || clip.shape(0) < 2) throw error(where, "a clip needs at least 2 frames");
        check_size(clip.rows(), clip.cols(), where, "the clip's frames");
        ferx::detail::require_packed_rows(clip, where, "the clip");
        if (out.shape(0) != clip.shape(0) - 1)
            throw error(where, "the output must hold " + std::to_string(clip.shape(0) - 1) + " flows (one per pair), got " +
                                   std::to_string(out.shape(0)));
        check_out(out.data(), out.rows(), out.cols(), where, "the output");
        ferx::detail::require_packed_rows(out, where, "the output");
        ferx::detail::farneback_cuda_clip<T>(*s_, clip, out);
    }
    template <class T, class = std::enable_if_t<!std::is_const<T>::value>>
    void run(const device_volume_view<T>& clip, const tensor_view<flow_vector, 3, memory_space::device>& out) {
        run(device_volume_view<const T>(clip), out);
    }

    index_t rows() const noexcept { return rows_; }
    index_t cols() const noexcept { return cols_; }
    const farneback_params& params() const noexcept { return params_; }
    /// Device memory held (buffers and tables), bytes.
    std::size_t device_bytes() const noexcept { return s_ ? ferx::detail::farneback_cuda_bytes(*s_) : 0; }

private:
    static std::shared_ptr<ferx::detail::farneback_device_state> create(const exec::cuda_policy& policy, index_t rows,
                                                                        index_t cols, const farneback_params& p) {
        constexpr const char* where = "ferx::cuda::farneback_estimator";
        ferx::detail::check_farneback_params(p, where);
        if (rows < 1 || cols < 1)
            throw error(where, "the frame size must be positive, got " + std::to_string(cols) + "x" + std::to_string(rows));
        return ferx::detail::farneback_cuda_create(policy, ferx::detail::farneback_make_plan(rows, cols, p));
    }
    void check_size(index_t rows, index_t cols, const char* where, const char* what) const {
        if (rows != rows_ || cols != cols_)
            throw error(where, std::string(what) + ": the estimator was built for " + std::to_string(cols_) + "x" +
                                   std::to_string(rows_) + " frames, got " + std::to_string(cols) + "x" + std::to_string(rows));
    }
    template <class T>
    void check_frame(const device_image_view<const T>& f, const char* where, const char* what) const {
        static_assert(std::is_same<T, std::uint8_t>::value || std::is_same<T, float>::value,
                      "ferx::cuda::farneback_estimator: frames must be 8-bit or float grey images");
        if (!s_) throw error(where, "the estimator was moved from");
        if (f.data() == nullptr || f.size() == 0) throw error(where, std::string(what) + " is empty");
        check_size(f.rows(), f.cols(), where, what);
        ferx::detail::require_packed_rows(f, where, what);
    }
    void check_out(const flow_vector* data, index_t rows, index_t cols, const char* where, const char* what) const {
        if (data == nullptr) throw error(where, std::string(what) + " has no data");
        check_size(rows, cols, where, what);
    }

    std::shared_ptr<ferx::detail::farneback_device_state> s_;  // device buffers (ferx/cuda/dispatch/farneback.cuh)
    index_t rows_ = 0, cols_ = 0;
    farneback_params params_;
};

FERX_ARCH_NAMESPACE_END
}  // namespace cuda

FERX_NAMESPACE_END

#if defined(__CUDACC__)
#include <ferx/cuda/dispatch/farneback.cuh>
#endif
