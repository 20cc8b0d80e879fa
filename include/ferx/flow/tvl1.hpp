/// \file ferx/flow/tvl1.hpp
/// Dense TV-L1 optical flow: the duality-based solver of Zach, Pock and Bischof (DAGM 2007) with
/// the improvements of Wedel, Pock, Zach, Bischof and Cremers (2009): a coarse-to-fine pyramid,
/// several warpings per level, median filtering of the flow between outer iterations and an
/// optional illumination term (gamma). Parameters and defaults are those of OpenCV's
/// cv::optflow::DualTVL1OpticalFlow, so the two can be compared one for one.
///
/// Energy: sum |grad u1| + |grad u2| + lambda |rho(u)|, rho(u) = I1(x + u) - I0(x) linearised at
/// each warp. Per level (nscales levels, each scale_step times the previous, Gaussian-smoothed
/// before resampling; levels under 16 pixels on a side are dropped) and per warp (I1 and its
/// central-difference gradient sampled bicubically at x + u, clamped at the border):
///
///     repeat outer_iterations times (while the change exceeds epsilon):
///         u <- median_filtering x median_filtering median of u (replicated border; separable,
///              the median of the row medians, unless exact_median)
///         repeat inner_iterations times (while the change exceeds epsilon):
///             v = u + clamp(-rho(u) / |grad I1w|^2, -lambda theta, lambda theta) grad I1w
///             u = v + theta div p                       (backward differences)
///             p = (p + tau/theta grad u) / (1 + tau/theta |grad u|)    (forward differences)
///
/// The change is sum over pixels of |u_new - u_old|^2, stopped once <= epsilon^2 * pixels (as
/// OpenCV). Arithmetic is in float; the inner iteration is one fused pass over the rows (the dual
/// update of a row trails the flow update by one row), written for auto-vectorisation. `exec::par`
/// splits rows over the pool and gives the same bits as `exec::seq` (every value is computed from
/// the same inputs; per-row sums are added in row order).
///
/// Frames: 8-bit (0..255) or float in [0, 1] (scaled by 255, as OpenCV does), one size, grey.
///
/// `exec::cuda` (device views, .cu files): ferx::cuda::tvl1_estimator below, resident buffers,
/// pairs and clips, the same arithmetic and stopping rule as seq; its device side is
/// ferx/cuda/dispatch/tvl1.cuh and ferx/cuda/kernels/tvl1.cuh (docs/tvl1.md, "CUDA").
///
///     ferx::flow_field f = ferx::tvl1(ferx::exec::par, ferx::view_of(i0), ferx::view_of(i1));
///     ferx::tvl1_sequence seq;                        // a video: each frame's pyramid built once
///     for (frame : frames) { auto f = seq.next(ferx::exec::par, frame); if (f.size()) use(f); }
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/core/view.hpp>
#include <ferx/flow/detail/tvl1_core.hpp>
#include <ferx/flow/field.hpp>
#include <ferx/flow/sequence.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#ifndef FERX_TVL1_SSE2  // define as 0 to test the portable loops
#if defined(__SSE2__) || defined(_M_X64)
#define FERX_TVL1_SSE2 1
#else
#define FERX_TVL1_SSE2 0
#endif
#endif
#if FERX_TVL1_SSE2
#include <emmintrin.h>
#endif

FERX_NAMESPACE_BEGIN

namespace detail {

/// A float plane, rows x cols, row-major, its storage kept between calls.
struct tvl1_plane {
    std::vector<float> buf;
    index_t rows = 0, cols = 0;
    void resize(index_t r, index_t c) {
        rows = r;
        cols = c;
        if (buf.size() < static_cast<std::size_t>(r * c)) buf.resize(static_cast<std::size_t>(r * c));
    }
    float* row(index_t y) { return buf.data() + y * cols; }
    const float* row(index_t y) const { return buf.data() + y * cols; }
    float* data() { return buf.data(); }
    const float* data() const { return buf.data(); }
    void fill(float v) { std::fill(buf.begin(), buf.begin() + rows * cols, v); }
};

/// Runs body(lo, hi) over rows [0, rows) in chunks of at least `min_pixels` pixels.
template <class Policy, class F>
void tvl1_rows(const Policy& policy, index_t rows, index_t cols, F&& body, index_t min_pixels = 8192) {
    const index_t threads = static_cast<index_t>(concurrency(policy));
    if (threads <= 1 || rows * cols < 2 * min_pixels || rows < 2) {
        body(index_t{0}, rows);
        return;
    }
    const index_t grain = std::max<index_t>(1, min_pixels / std::max<index_t>(cols, 1));
    for_each_range(policy, rows, grain, body);
}

/// Bilinear resampling of `src` to dst's size, pixel centres aligned; scaled by `mul`.
template <class Policy>
void tvl1_resize(const Policy& policy, const tvl1_plane& src, tvl1_plane& dst, float mul) {
    const index_t R = dst.rows, C = dst.cols;
    const double sy = double(src.rows) / double(R), sx = double(src.cols) / double(C);
    std::vector<index_t> x0(static_cast<std::size_t>(C)), x1(static_cast<std::size_t>(C));
    std::vector<float> fx(static_cast<std::size_t>(C));
    for (index_t x = 0; x < C; ++x) {
        double p = (double(x) + 0.5) * sx - 0.5;
        p = std::min(std::max(p, 0.0), double(src.cols - 1));
        const index_t i = std::min<index_t>(static_cast<index_t>(p), src.cols - 1);
        x0[x] = i;
        x1[x] = std::min<index_t>(i + 1, src.cols - 1);
        fx[x] = static_cast<float>(p - double(i));
    }
    tvl1_rows(policy, R, C, [&](index_t lo, index_t hi) {
        for (index_t y = lo; y < hi; ++y) {
            double p = (double(y) + 0.5) * sy - 0.5;
            p = std::min(std::max(p, 0.0), double(src.rows - 1));
            const index_t i = std::min<index_t>(static_cast<index_t>(p), src.rows - 1);
            const float fy = static_cast<float>(p - double(i));
            const float* a = src.row(i);
            const float* b = src.row(std::min<index_t>(i + 1, src.rows - 1));
            float* d = dst.row(y);
            for (index_t x = 0; x < C; ++x) {
                const float t = a[x0[x]] + fx[x] * (a[x1[x]] - a[x0[x]]);
                const float u = b[x0[x]] + fx[x] * (b[x1[x]] - b[x0[x]]);
                d[x] = mul * (t + fy * (u - t));
            }
        }
    });
}

/// One pyramid level down: Gaussian smoothing (sigma 0.6 sqrt(1/step^2 - 1), replicated border)
/// then bilinear resampling to dst's size.
template <class Policy>
void tvl1_downscale(const Policy& policy, const tvl1_plane& src, tvl1_plane& tmp, tvl1_plane& blurred, tvl1_plane& dst,
                    double step) {
    const std::vector<float> k = tvl1_gaussian_taps(step);
    const int rad = static_cast<int>(k.size() / 2);
    const index_t R = src.rows, C = src.cols;
    tmp.resize(R, C);
    blurred.resize(R, C);
    tvl1_rows(policy, R, C, [&](index_t lo, index_t hi) {  // along rows
        for (index_t y = lo; y < hi; ++y) {
            const float* s = src.row(y);
            float* d = tmp.row(y);
            for (index_t x = 0; x < C; ++x) {
                float acc = 0;
                for (int i = -rad; i <= rad; ++i) acc += k[static_cast<std::size_t>(i + rad)] * s[std::min<index_t>(std::max<index_t>(x + i, 0), C - 1)];
                d[x] = acc;
            }
        }
    });
    tvl1_rows(policy, R, C, [&](index_t lo, index_t hi) {  // down the columns
        for (index_t y = lo; y < hi; ++y) {
            float* d = blurred.row(y);
            for (index_t x = 0; x < C; ++x) d[x] = 0;
            for (int i = -rad; i <= rad; ++i) {
                const float w = k[static_cast<std::size_t>(i + rad)];
                const float* s = tmp.row(std::min<index_t>(std::max<index_t>(y + i, 0), R - 1));
                for (index_t x = 0; x < C; ++x) d[x] += w * s[x];
            }
        }
    });
    tvl1_resize(policy, blurred, dst, 1.f);
}

/// One frame's pyramid (level 0: the frame as float 0..255).
struct tvl1_pyramid {
    std::vector<tvl1_plane> levels;
};

template <class Policy, class T>
void tvl1_build_pyramid(const Policy& policy, const image_view<const T>& f,
                        const std::vector<std::pair<index_t, index_t>>& sizes, double step, tvl1_pyramid& pyr,
                        tvl1_plane& tmp, tvl1_plane& blurred) {
    pyr.levels.resize(sizes.size());
    tvl1_plane& l0 = pyr.levels[0];
    l0.resize(f.rows(), f.cols());
    const float scale = std::is_floating_point<T>::value ? 255.f : 1.f;
    tvl1_rows(policy, f.rows(), f.cols(), [&](index_t lo, index_t hi) {
        for (index_t y = lo; y < hi; ++y) {
            const T* s = f.row(y);
            float* d = l0.row(y);
            for (index_t x = 0; x < f.cols(); ++x) d[x] = scale * static_cast<float>(s[x]);
        }
    });
    for (std::size_t l = 1; l < sizes.size(); ++l) {
        pyr.levels[l].resize(sizes[l].first, sizes[l].second);
        tvl1_downscale(policy, pyr.levels[l - 1], tmp, blurred, pyr.levels[l], step);
    }
}

/// The solver: every buffer of a pair, kept between calls.
class tvl1_solver {
public:
    tvl1_params params;
    tvl1_pyramid pyr0, pyr1;
    std::vector<std::pair<index_t, index_t>> sizes;

    /// Builds (or, when `reuse` is set, takes over from the previous pair's second frame) the
    /// pyramids, then solves; the flow of level 0 is left in u1_[0], u2_[0].
    template <class Policy, class T>
    void set_frames(const Policy& policy, const image_view<const T>& i0, const image_view<const T>& i1, bool reuse_i0) {
        sizes = tvl1_level_sizes(i0.rows(), i0.cols(), params);
        if (!reuse_i0) tvl1_build_pyramid(policy, i0, sizes, params.scale_step, pyr0, tmp_, blur_);
        tvl1_build_pyramid(policy, i1, sizes, params.scale_step, pyr1, tmp_, blur_);
    }
    template <class Policy, class T>
    void push_frame(const Policy& policy, const image_view<const T>& f) {
        std::swap(pyr0, pyr1);
        sizes = tvl1_level_sizes(f.rows(), f.cols(), params);
        tvl1_build_pyramid(policy, f, sizes, params.scale_step, pyr1, tmp_, blur_);
    }

    template <class Policy>
    void solve(const Policy& policy, const flow_view<>& flow) {
        const std::size_t L = sizes.size();
        u1_.resize(L);
        u2_.resize(L);
        const bool g = params.gamma > 0;
        const index_t R0 = sizes[0].first, C0 = sizes[0].second;
        if (params.use_initial_flow) {
            u1_[0].resize(R0, C0);
            u2_[0].resize(R0, C0);
            for (index_t y = 0; y < R0; ++y)
                for (index_t x = 0; x < C0; ++x) {
                    u1_[0].row(y)[x] = flow(y, x).u;
                    u2_[0].row(y)[x] = flow(y, x).v;
                }
            for (std::size_t l = 1; l < L; ++l) {
                u1_[l].resize(sizes[l].first, sizes[l].second);
                u2_[l].resize(sizes[l].first, sizes[l].second);
                tvl1_downscale(policy, u1_[l - 1], tmp_, blur_, u1_[l], params.scale_step);
                tvl1_downscale(policy, u2_[l - 1], tmp_, blur_, u2_[l], params.scale_step);
                scale_plane(u1_[l], float(double(sizes[l].second) / double(sizes[l - 1].second)));
                scale_plane(u2_[l], float(double(sizes[l].first) / double(sizes[l - 1].first)));
            }
        } else {
            u1_[L - 1].resize(sizes[L - 1].first, sizes[L - 1].second);
            u2_[L - 1].resize(sizes[L - 1].first, sizes[L - 1].second);
            u1_[L - 1].fill(0.f);
            u2_[L - 1].fill(0.f);
        }
        u3_.resize(sizes[L - 1].first, sizes[L - 1].second);
        if (g) u3_.fill(0.f);
        for (std::size_t l = L; l-- > 0;) {
            if (g) u3_.resize(sizes[l].first, sizes[l].second);
            one_scale(policy, pyr0.levels[l], pyr1.levels[l], u1_[l], u2_[l]);
            if (l == 0) break;
            u1_[l - 1].resize(sizes[l - 1].first, sizes[l - 1].second);
            u2_[l - 1].resize(sizes[l - 1].first, sizes[l - 1].second);
            tvl1_resize(policy, u1_[l], u1_[l - 1], float(double(sizes[l - 1].second) / double(sizes[l].second)));
            tvl1_resize(policy, u2_[l], u2_[l - 1], float(double(sizes[l - 1].first) / double(sizes[l].first)));
            if (g) {
                tmp_.resize(sizes[l].first, sizes[l].second);
                std::copy(u3_.data(), u3_.data() + u3_.rows * u3_.cols, tmp_.data());
                u3_.resize(sizes[l - 1].first, sizes[l - 1].second);
                tvl1_resize(policy, tmp_, u3_, 1.f);
            }
        }
        for (index_t y = 0; y < R0; ++y) {
            const float* a = u1_[0].row(y);
            const float* b = u2_[0].row(y);
            flow_vector* d = flow.row(y);
            for (index_t x = 0; x < C0; ++x) d[x] = flow_vector{a[x], b[x]};
        }
    }

private:
    std::vector<tvl1_plane> u1_, u2_;
    tvl1_plane u3_, tmp_, blur_, i1p_, ix_, iy_, rc_, ig_, p11_, p12_, p21_, p22_, p31_, p32_, medp_, err_;
    std::vector<double> row_err_;

    static void scale_plane(tvl1_plane& p, float s) {
        for (index_t i = 0; i < p.rows * p.cols; ++i) p.buf[static_cast<std::size_t>(i)] *= s;
    }

    template <class Policy>
    void one_scale(const Policy& policy, const tvl1_plane& I0, const tvl1_plane& I1, tvl1_plane& u1, tvl1_plane& u2) {
        const index_t R = I0.rows, C = I0.cols;
        i1p_.resize(R, 4 * C);  // (I1, I1x, I1y, 0) per pixel: one load per bicubic tap
        for (tvl1_plane* p : {&ix_, &iy_, &rc_, &ig_, &p11_, &p12_, &p21_, &p22_, &err_}) p->resize(R, C);
        const bool g = params.gamma > 0;
        if (g) {
            p31_.resize(R, C);
            p32_.resize(R, C);
            p31_.fill(0.f);
            p32_.fill(0.f);
        }
        for (tvl1_plane* p : {&p11_, &p12_, &p21_, &p22_}) p->fill(0.f);
        row_err_.assign(static_cast<std::size_t>(R), 0.0);
        // Central-difference gradient of I1 (replicated border).
        tvl1_rows(policy, R, C, [&](index_t lo, index_t hi) {
            for (index_t y = lo; y < hi; ++y) {
                const float* s = I1.row(y);
                const float* up = I1.row(std::max<index_t>(y - 1, 0));
                const float* dn = I1.row(std::min<index_t>(y + 1, R - 1));
                float* d = i1p_.row(y);
                for (index_t x = 0; x < C; ++x) {
                    d[4 * x] = s[x];
                    d[4 * x + 1] = 0.5f * (s[std::min<index_t>(x + 1, C - 1)] - s[std::max<index_t>(x - 1, 0)]);
                    d[4 * x + 2] = 0.5f * (dn[x] - up[x]);
                    d[4 * x + 3] = 0.f;
                }
            }
        });
        const double scaled_eps = params.epsilon * params.epsilon * double(R) * double(C);
        for (int w = 0; w < params.warps; ++w) {
            warp(policy, I0, u1, u2);
            double err = std::numeric_limits<double>::max();
            for (int outer = 0; err > scaled_eps && outer < params.outer_iterations; ++outer) {
                if (params.median_filtering > 1) {
                    median(policy, u1);
                    median(policy, u2);
                }
                for (int inner = 0; err > scaled_eps && inner < params.inner_iterations; ++inner)
                    err = g ? iterate<true>(policy, u1, u2) : iterate<false>(policy, u1, u2);
            }
        }
    }

    // I1 and its gradient sampled bicubically (Catmull-Rom, clamped border) at x + u; the
    // per-warp terms of the thresholding step.
    template <class Policy>
    void warp(const Policy& policy, const tvl1_plane& I0, const tvl1_plane& u1, const tvl1_plane& u2) {
        const index_t R = I0.rows, C = I0.cols;
        const float gamma = static_cast<float>(params.gamma);
        const float g2 = gamma * gamma;
        tvl1_rows(policy, R, C, [&](index_t lo, index_t hi) {
            for (index_t y = lo; y < hi; ++y) {
                const float* a = u1.row(y);
                const float* b = u2.row(y);
                const float* i0 = I0.row(y);
                float* ix = ix_.row(y);
                float* iy = iy_.row(y);
                float* rc = rc_.row(y);
                float* ig = ig_.row(y);
                for (index_t x = 0; x < C; ++x) {
                    float px = float(x) + a[x], py = float(y) + b[x];
                    px = std::min(std::max(px, 0.f), float(C - 1));
                    py = std::min(std::max(py, 0.f), float(R - 1));
                    const index_t xi = std::min<index_t>(static_cast<index_t>(px), C - 1);
                    const index_t yi = std::min<index_t>(static_cast<index_t>(py), R - 1);
                    float wx[4], wy[4];
                    cubic_weights(px - float(xi), wx);
                    cubic_weights(py - float(yi), wy);
                    index_t cx[4], cy[4];
                    for (int k = 0; k < 4; ++k) {
                        cx[k] = 4 * std::min<index_t>(std::max<index_t>(xi - 1 + k, 0), C - 1);
                        cy[k] = 4 * std::min<index_t>(std::max<index_t>(yi - 1 + k, 0), R - 1) * C;
                    }
                    const float* src = i1p_.data();
#if FERX_TVL1_SSE2
                    __m128 acc = _mm_setzero_ps();
                    for (int j = 0; j < 4; ++j) {
                        __m128 r = _mm_setzero_ps();
                        for (int k = 0; k < 4; ++k)
                            r = _mm_add_ps(r, _mm_mul_ps(_mm_set1_ps(wx[k]), _mm_loadu_ps(src + cy[j] + cx[k])));
                        acc = _mm_add_ps(acc, _mm_mul_ps(_mm_set1_ps(wy[j]), r));
                    }
                    alignas(16) float out[4];
                    _mm_store_ps(out, acc);
                    const float sw = out[0], sx = out[1], sy = out[2];
#else
                    float sw = 0, sx = 0, sy = 0;
                    for (int j = 0; j < 4; ++j) {
                        float rw = 0, rx = 0, ry = 0;
                        for (int k = 0; k < 4; ++k) {
                            const float* t = src + cy[j] + cx[k];
                            rw = rw + wx[k] * t[0];
                            rx = rx + wx[k] * t[1];
                            ry = ry + wx[k] * t[2];
                        }
                        sw = sw + wy[j] * rw;
                        sx = sx + wy[j] * rx;
                        sy = sy + wy[j] * ry;
                    }
#endif
                    ix[x] = sx;
                    iy[x] = sy;
                    rc[x] = sw - sx * a[x] - sy * b[x] - i0[x];
                    const float gr = sx * sx + sy * sy + g2;
                    ig[x] = gr > std::numeric_limits<float>::epsilon() ? 1.f / gr : 1e30f;
                }
            }
        });
    }

    static void cubic_weights(float t, float* w) { tvl1_cubic_weights(t, w); }  // Keys, a = -0.5

    // Separable median: along the rows into medp_, then down the columns back into u.
    template <class Policy>
    void separable_median(const Policy& policy, tvl1_plane& u) {
        const index_t R = u.rows, C = u.cols;
        const int k = params.median_filtering;
        medp_.resize(R, C);
        tvl1_rows(policy, R, C, [&](index_t lo, index_t hi) {
            std::vector<float> pad(static_cast<std::size_t>(C + 4));
            for (index_t y = lo; y < hi; ++y) {
                const float* s = u.row(y);
                float* d = medp_.row(y);
                float* p = pad.data() + 2;
                std::copy(s, s + C, p);
                p[-1] = p[-2] = s[0];
                p[C] = p[C + 1] = s[C - 1];
                if (k == 5)
                    for (index_t x = 0; x < C; ++x) d[x] = tvl1_med5(p[x - 2], p[x - 1], p[x], p[x + 1], p[x + 2]);
                else
                    for (index_t x = 0; x < C; ++x) d[x] = tvl1_med3(p[x - 1], p[x], p[x + 1]);
            }
        });
        tvl1_rows(policy, R, C, [&](index_t lo, index_t hi) {
            for (index_t y = lo; y < hi; ++y) {
                auto r = [&](index_t i) { return medp_.row(std::min<index_t>(std::max<index_t>(y + i, 0), R - 1)); };
                float* d = u.row(y);
                if (k == 5) {
                    const float *a = r(-2), *b = r(-1), *c = r(0), *e = r(1), *f = r(2);
                    for (index_t x = 0; x < C; ++x) d[x] = tvl1_med5(a[x], b[x], c[x], e[x], f[x]);
                } else {
                    const float *a = r(-1), *b = r(0), *c = r(1);
                    for (index_t x = 0; x < C; ++x) d[x] = tvl1_med3(a[x], b[x], c[x]);
                }
            }
        });
    }

    // The exact k x k median (replicated border): u is copied with a 2-column margin into
    // medp_, then each output pixel selects from its window, 4 pixels at a time with SSE2.
    template <class Policy>
    void median(const Policy& policy, tvl1_plane& u) {
        if (!params.exact_median) {
            separable_median(policy, u);
            return;
        }
        const index_t R = u.rows, C = u.cols, P = C + 4;
        const int k = params.median_filtering, r = k / 2;
        medp_.resize(R, P);
        tvl1_rows(policy, R, C, [&](index_t lo, index_t hi) {
            for (index_t y = lo; y < hi; ++y) {
                const float* s = u.row(y);
                float* d = medp_.row(y) + 2;
                std::copy(s, s + C, d);
                d[-1] = d[-2] = s[0];
                d[C] = d[C + 1] = s[C - 1];
            }
        });
        tvl1_rows(policy, R, C, [&](index_t lo, index_t hi) {
            const float* rows[5];
            for (index_t y = lo; y < hi; ++y) {
                for (int j = 0; j < k; ++j) rows[j] = medp_.row(std::min<index_t>(std::max<index_t>(y + j - r, 0), R - 1)) + 2;
                float* d = u.row(y);
                index_t x = 0;
#if FERX_TVL1_SSE2
                __m128 w4[25];
                for (; x + 4 <= C; x += 4) {
                    int m = 0;
                    for (int j = 0; j < k; ++j)
                        for (int i = -r; i <= r; ++i) w4[m++] = _mm_loadu_ps(rows[j] + x + i);
                    auto mn = [](__m128 a, __m128 b) { return _mm_min_ps(a, b); };
                    auto mx = [](__m128 a, __m128 b) { return _mm_max_ps(a, b); };
                    _mm_storeu_ps(d + x, k == 5 ? tvl1_forgetful_median<25>(w4, mn, mx) : tvl1_forgetful_median<9>(w4, mn, mx));
                }
#endif
                float w1[25];
                for (; x < C; ++x) {
                    int m = 0;
                    for (int j = 0; j < k; ++j)
                        for (int i = -r; i <= r; ++i) w1[m++] = rows[j][x + i];
                    d[x] = k == 5 ? tvl1_forgetful_median<25>(w1) : tvl1_forgetful_median<9>(w1);
                }
            }
        });
    }

    // Thresholding + flow update of row y (in place), returning nothing; the change goes to e.
    template <bool G>
    void update_row(index_t y, index_t C, float* u1, float* u2, float* e) {
        const float lt = static_cast<float>(params.lambda * params.theta);
        const float th = static_cast<float>(params.theta);
        const float gm = static_cast<float>(params.gamma);
        float* u3 = G ? u3_.row(y) : nullptr;
        const float* ix = ix_.row(y);
        const float* iy = iy_.row(y);
        const float* rc = rc_.row(y);
        const float* ig = ig_.row(y);
        const float* p11 = p11_.row(y);
        const float* p12 = p12_.row(y);
        const float* p21 = p21_.row(y);
        const float* p22 = p22_.row(y);
        const float* p31 = G ? p31_.row(y) : nullptr;
        const float* p32 = G ? p32_.row(y) : nullptr;
        // The row above's p12, p22 (zero above the first row): div = dx(p.1) + dy(p.2), backward.
        const float* q12 = y > 0 ? p12_.row(y - 1) : nullptr;
        const float* q22 = y > 0 ? p22_.row(y - 1) : nullptr;
        const float* q32 = G && y > 0 ? p32_.row(y - 1) : nullptr;
        auto body = [&](index_t x, float l11, float l21, float l31, float a12, float a22, float a32) {
            const float o1 = u1[x], o2 = u2[x];
            const float o3 = G ? u3[x] : 0.f;
            const float rho = rc[x] + ix[x] * o1 + iy[x] * o2 + (G ? gm * o3 : 0.f);
            const float fi = tvl1_min(tvl1_max(-rho * ig[x], -lt), lt);
            const float d1 = p11[x] - l11 + p12[x] - a12;
            const float d2 = p21[x] - l21 + p22[x] - a22;
            const float n1 = o1 + fi * ix[x] + th * d1;
            const float n2 = o2 + fi * iy[x] + th * d2;
            u1[x] = n1;
            u2[x] = n2;
            float ev = (n1 - o1) * (n1 - o1) + (n2 - o2) * (n2 - o2);
            if (G) {
                const float d3 = p31[x] - l31 + p32[x] - a32;
                const float n3 = o3 + fi * gm + th * d3;
                u3[x] = n3;
                ev += (n3 - o3) * (n3 - o3);
            }
            e[x] = ev;
        };
        static const float zeros[4] = {0.f, 0.f, 0.f, 0.f};
        if (y > 0)
            body(0, 0.f, 0.f, 0.f, q12[0], q22[0], G ? q32[0] : 0.f);
        else
            body(0, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f);
        index_t x = 1;
#if FERX_TVL1_SSE2
        if (!G) {  // the same operations, in the same order, 4 pixels at a time
            const __m128 vlt = _mm_set1_ps(lt), vnlt = _mm_set1_ps(-lt), vth = _mm_set1_ps(th);
            const __m128 sign = _mm_set1_ps(-0.f);
            const bool top = y == 0;
            for (; x + 4 <= C; x += 4) {
                const __m128 o1 = _mm_loadu_ps(u1 + x), o2 = _mm_loadu_ps(u2 + x);
                const __m128 vix = _mm_loadu_ps(ix + x), viy = _mm_loadu_ps(iy + x);
                const __m128 rho = _mm_add_ps(_mm_add_ps(_mm_loadu_ps(rc + x), _mm_mul_ps(vix, o1)), _mm_mul_ps(viy, o2));
                const __m128 fi = _mm_min_ps(_mm_max_ps(_mm_mul_ps(_mm_xor_ps(rho, sign), _mm_loadu_ps(ig + x)), vnlt), vlt);
                const __m128 a12 = _mm_loadu_ps(top ? zeros : q12 + x), a22 = _mm_loadu_ps(top ? zeros : q22 + x);
                const __m128 d1 = _mm_sub_ps(_mm_add_ps(_mm_sub_ps(_mm_loadu_ps(p11 + x), _mm_loadu_ps(p11 + x - 1)), _mm_loadu_ps(p12 + x)), a12);
                const __m128 d2 = _mm_sub_ps(_mm_add_ps(_mm_sub_ps(_mm_loadu_ps(p21 + x), _mm_loadu_ps(p21 + x - 1)), _mm_loadu_ps(p22 + x)), a22);
                const __m128 n1 = _mm_add_ps(_mm_add_ps(o1, _mm_mul_ps(fi, vix)), _mm_mul_ps(vth, d1));
                const __m128 n2 = _mm_add_ps(_mm_add_ps(o2, _mm_mul_ps(fi, viy)), _mm_mul_ps(vth, d2));
                _mm_storeu_ps(u1 + x, n1);
                _mm_storeu_ps(u2 + x, n2);
                const __m128 e1 = _mm_sub_ps(n1, o1), e2 = _mm_sub_ps(n2, o2);
                _mm_storeu_ps(e + x, _mm_add_ps(_mm_mul_ps(e1, e1), _mm_mul_ps(e2, e2)));
            }
        }
#endif
        (void)zeros;
        if (y > 0) {
            for (; x < C; ++x) body(x, p11[x - 1], p21[x - 1], G ? p31[x - 1] : 0.f, q12[x], q22[x], G ? q32[x] : 0.f);
        } else {
            for (; x < C; ++x) body(x, p11[x - 1], p21[x - 1], G ? p31[x - 1] : 0.f, 0.f, 0.f, 0.f);
        }
    }

    // Dual update of row y from the final flow of rows y and y + 1 (forward differences, zero
    // past the last row and column).
    static void dual_one(index_t C, float taut, const float* u, const float* un, float* pa, float* pb) {
        index_t x0 = 0;
#if FERX_TVL1_SSE2
        if (un) {  // the same operations, in the same order, 4 pixels at a time
            const __m128 vt = _mm_set1_ps(taut), one = _mm_set1_ps(1.f);
            for (; x0 + 5 <= C; x0 += 4) {
                const __m128 c = _mm_loadu_ps(u + x0);
                const __m128 gx = _mm_sub_ps(_mm_loadu_ps(u + x0 + 1), c);
                const __m128 gy = _mm_sub_ps(_mm_loadu_ps(un + x0), c);
                const __m128 n = _mm_sqrt_ps(_mm_add_ps(_mm_mul_ps(gx, gx), _mm_mul_ps(gy, gy)));
                const __m128 r = _mm_div_ps(one, _mm_add_ps(one, _mm_mul_ps(vt, n)));
                _mm_storeu_ps(pa + x0, _mm_mul_ps(_mm_add_ps(_mm_loadu_ps(pa + x0), _mm_mul_ps(vt, gx)), r));
                _mm_storeu_ps(pb + x0, _mm_mul_ps(_mm_add_ps(_mm_loadu_ps(pb + x0), _mm_mul_ps(vt, gy)), r));
            }
        }
#endif
        for (index_t x = x0; x + 1 < C; ++x) {
            const float gx = u[x + 1] - u[x];
            const float gy = un ? un[x] - u[x] : 0.f;
            const float r = 1.f / (1.f + taut * std::sqrt(gx * gx + gy * gy));
            pa[x] = (pa[x] + taut * gx) * r;
            pb[x] = (pb[x] + taut * gy) * r;
        }
        const index_t x = C - 1;
        const float gy = un ? un[x] - u[x] : 0.f;
        const float r = 1.f / (1.f + taut * std::sqrt(gy * gy));
        pa[x] = pa[x] * r;
        pb[x] = (pb[x] + taut * gy) * r;
    }
    template <bool G>
    void dual_row(index_t y, index_t R, index_t C, const tvl1_plane& u1, const tvl1_plane& u2) {
        const float taut = static_cast<float>(params.tau / params.theta);
        const bool last = y + 1 >= R;
        dual_one(C, taut, u1.row(y), last ? nullptr : u1.row(y + 1), p11_.row(y), p12_.row(y));
        dual_one(C, taut, u2.row(y), last ? nullptr : u2.row(y + 1), p21_.row(y), p22_.row(y));
        if (G) dual_one(C, taut, u3_.row(y), last ? nullptr : u3_.row(y + 1), p31_.row(y), p32_.row(y));
    }

    static double row_sum(const float* e, index_t C) {  // fixed 8-lane order
        float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        index_t x = 0;
        for (; x + 8 <= C; x += 8)
            for (int k = 0; k < 8; ++k) acc[k] += e[x + k];
        double s = 0;
        for (int k = 0; k < 8; ++k) s += acc[k];
        for (; x < C; ++x) s += e[x];
        return s;
    }

    // One inner iteration over all rows: flow rows, then (one row behind) dual rows; the last
    // row of every chunk is updated after all chunks are done. Returns the total change.
    template <bool G, class Policy>
    double iterate(const Policy& policy, tvl1_plane& u1, tvl1_plane& u2) {
        const index_t R = u1.rows, C = u1.cols;
        std::vector<index_t> ends;
        const index_t threads = static_cast<index_t>(concurrency(policy));
        index_t chunks = 1;
        if (threads > 1 && R >= 8) chunks = std::min<index_t>(threads, std::max<index_t>(1, (R * C) / 16384));
        auto chunk = [&](index_t c) {
            const index_t lo = R * c / chunks, hi = R * (c + 1) / chunks;
            for (index_t y = lo; y < hi; ++y) {
                update_row<G>(y, C, u1.row(y), u2.row(y), err_.row(y));
                row_err_[static_cast<std::size_t>(y)] = row_sum(err_.row(y), C);
                if (y > lo) dual_row<G>(y - 1, R, C, u1, u2);
            }
        };
        if (chunks == 1) {
            chunk(0);
        } else {
            for_each_range(policy, chunks, 1, [&](index_t lo, index_t hi) {
                for (index_t c = lo; c < hi; ++c) chunk(c);
            });
        }
        for (index_t c = 0; c < chunks; ++c) dual_row<G>(R * (c + 1) / chunks - 1, R, C, u1, u2);
        double s = 0;
        for (index_t y = 0; y < R; ++y) s += row_err_[static_cast<std::size_t>(y)];
        return s;
    }
};

template <class Policy, class T>
void check_tvl1_call(const Policy&, const image_view<const T>& i0, const image_view<const T>& i1, const tvl1_params& p,
                     const char* where) {
    static_assert(is_host_policy_v<Policy>, "ferx::tvl1: use exec::seq or exec::par");
    check_tvl1_params(p, where);
    check_frame_pair(i0, i1, where);
}

}  // namespace detail

/// A reusable TV-L1 solver: its buffers (pyramids, dual variables, per-warp terms) are kept
/// between calls, so flows of many pairs of one size allocate once.
class tvl1_flow {
public:
    explicit tvl1_flow(const tvl1_params& p = {}) {
        detail::check_tvl1_params(p, "ferx::tvl1_flow");
        s_.params = p;
    }
    const tvl1_params& params() const { return s_.params; }

    /// The flow from i0 to i1 into `flow` (rows x cols; read first when use_initial_flow).
    template <class Policy, class T>
    void compute(const Policy& policy, const image_view<const T>& i0, const image_view<const T>& i1,
                 const flow_view<>& flow) {
        constexpr const char* where = "ferx::tvl1";
        detail::check_tvl1_call(policy, i0, i1, s_.params, where);
        detail::check_flow_shape(flow, i0.rows(), i0.cols(), where, "the flow");
        if (s_.params.use_initial_flow) detail::require_finite_flow(flow, where, "the initial flow");
        s_.set_frames(policy, i0, i1, false);
        s_.solve(policy, flow);
    }

protected:
    detail::tvl1_solver s_;
};

/// The flows of a video's consecutive frames: each frame's pyramid is built once and serves as
/// the second frame of one pair and the first of the next.
class tvl1_sequence : public tvl1_flow, public flow_sequence<tvl1_sequence> {
public:
    using tvl1_flow::tvl1_flow;
    static constexpr const char* sequence_name = "ferx::tvl1_sequence";

private:
    friend class flow_sequence<tvl1_sequence>;
    template <class Policy, class T>
    void push_frame(const Policy& policy, const image_view<const T>& frame) {
        s_.push_frame(policy, frame);
    }
    template <class Policy>
    void solve_last_pair(const Policy& policy, const flow_view<>& flow) {
        const tvl1_params p = s_.params;
        s_.params.use_initial_flow = false;
        s_.solve(policy, flow);
        s_.params = p;
    }
};

/// The TV-L1 flow from i0 to i1 into `flow` (rows x cols; its input is the initial flow when
/// params.use_initial_flow).
template <class Policy, class T>
void tvl1(const Policy& policy, const image_view<const T>& i0, const image_view<const T>& i1, const flow_view<>& flow,
          const tvl1_params& params = {}) {
    tvl1_flow solver(params);
    solver.compute(policy, i0, i1, flow);
}

/// The TV-L1 flow from i0 to i1, as a new field (use_initial_flow is ignored: starts from zero).
template <class Policy, class T>
flow_field tvl1(const Policy& policy, const image_view<const T>& i0, const image_view<const T>& i1,
                const tvl1_params& params = {}) {
    detail::check_tvl1_call(policy, i0, i1, params, "ferx::tvl1");
    flow_field f = make_flow_field(i0.rows(), i0.cols());
    tvl1_params p = params;
    p.use_initial_flow = false;
    tvl1(policy, i0, i1, view(f), p);
    return f;
}

/// The same for mutable views (what ferx::view gives for a non-const image).
template <class Policy, class T, class = std::enable_if_t<!std::is_const<T>::value>>
flow_field tvl1(const Policy& policy, const image_view<T>& i0, const image_view<T>& i1, const tvl1_params& params = {}) {
    return tvl1(policy, image_view<const T>(i0), image_view<const T>(i1), params);
}
template <class Policy, class T, class = std::enable_if_t<!std::is_const<T>::value>>
void tvl1(const Policy& policy, const image_view<T>& i0, const image_view<T>& i1, const flow_view<>& flow,
          const tvl1_params& params = {}) {
    tvl1(policy, image_view<const T>(i0), image_view<const T>(i1), flow, params);
}

/// The flows of a clip's frames - 1 consecutive pairs (frames x rows x cols), each frame's
/// pyramid built once.
template <class Policy, class T>
std::vector<flow_field> tvl1(const Policy& policy, const volume_view<const T>& clip, const tvl1_params& params = {}) {
    detail::check_tvl1_params(params, "ferx::tvl1");
    tvl1_sequence s(params);
    return detail::clip_flows(s, policy, clip, "ferx::tvl1");
}

namespace detail {
FERX_ARCH_NAMESPACE_BEGIN
/// The device side of cuda::tvl1_estimator and its operations: defined in
/// ferx/cuda/dispatch/tvl1.cuh (included at the end of this header under nvcc).
struct tvl1_device_state;
/// Allocates every buffer for rows x cols frames, uploads the Gaussian taps; synchronises once.
/// Needs a device (ferx::error otherwise).
std::shared_ptr<tvl1_device_state> tvl1_device_create(const exec::cuda_policy& policy, index_t rows, index_t cols,
                                                      const tvl1_params& params);
/// Enqueues the flow of a checked pair / clip; no allocation, no synchronisation.
template <class T>
void tvl1_device_pair(tvl1_device_state& s, const device_image_view<const T>& i0, const device_image_view<const T>& i1,
                      const flow_view<memory_space::device>& out);
template <class T>
void tvl1_device_clip(tvl1_device_state& s, const device_volume_view<const T>& clip,
                      const tensor_view<flow_vector, 3, memory_space::device>& out);
/// Device memory the state holds, bytes.
std::size_t tvl1_device_bytes(const tvl1_device_state& s) noexcept;
FERX_ARCH_NAMESPACE_END

#if defined(__CUDACC__)
inline constexpr bool tvl1_nvcc = true;
#else
inline constexpr bool tvl1_nvcc = false;
#endif

/// Throws unless `f` is a packed rows x cols device frame.
template <class T>
void check_device_frame(const device_image_view<const T>& f, index_t rows, index_t cols, const char* where, const char* what) {
    static_assert(std::is_same<T, std::uint8_t>::value || std::is_same<T, float>::value,
                  "ferx flow: frames must be 8-bit or float grey images");
    if (f.empty() || f.data() == nullptr) throw error(where, std::string(what) + " is empty");
    if (f.rows() != rows || f.cols() != cols)
        throw error(where, "the estimator was built for " + std::to_string(rows) + "x" + std::to_string(cols) + " frames, " +
                               what + " is " + std::to_string(f.rows()) + "x" + std::to_string(f.cols()));
    require_packed_rows(f, where, what);
}
}  // namespace detail

namespace cuda {
FERX_ARCH_NAMESPACE_BEGIN

/// TV-L1 resident on the device, for frames of one size and one set of parameters: the pyramids
/// of two frames, the flow of every level and every per-level plane are allocated once, so a call
/// allocates nothing and returns without waiting (the work is enqueued on the policy's stream;
/// synchronise, or copy the flow back with ferx::cuda::to_host). Use it from .cu files; its device
/// side is ferx/cuda/dispatch/tvl1.cuh, included at the end of this header under nvcc.
///
///     ferx::cuda::stream s;
///     ferx::cuda::tvl1_estimator tv(s.policy(), 480, 640);     // once
///     tv.run(d_i0.cview(), d_i1.cview(), d_flow.view());          // a pair
///     tv.run(d_clip.cview(), d_flows.view());                     // N + 1 frames -> N flows
///
/// The algorithm, its parameters and its stopping rule are those of ferx::tvl1 with exec::seq
/// (see docs/tvl1.md, "CUDA"): every operation is rounded as on the CPU, and convergence is
/// tested on the device after every inner iteration, in the host's order of summation, without
/// a synchronisation. Float frames are not checked for non-finite pixels (that would need a
/// synchronisation); such a pixel makes the flow non-finite.
class tvl1_estimator {
public:
    /// Checks the sizes and parameters (ferx::error); needs a device (ferx::error otherwise).
    tvl1_estimator(const exec::cuda_policy& policy, index_t rows, index_t cols, const tvl1_params& params = {})
        : rows_(rows), cols_(cols), params_(params) {
        constexpr const char* where = "ferx::cuda::tvl1_estimator";
        ferx::detail::check_tvl1_params(params, where);
        if (rows < 1 || cols < 1)
            throw error(where, "the frame size must be positive, got " + std::to_string(rows) + "x" + std::to_string(cols));
        s_ = ferx::detail::tvl1_device_create(policy, rows, cols, params);
    }
    /// Move-only: the device buffers belong to one estimator (and its stream).
    tvl1_estimator(tvl1_estimator&&) noexcept = default;
    tvl1_estimator& operator=(tvl1_estimator&&) noexcept = default;
    tvl1_estimator(const tvl1_estimator&) = delete;
    tvl1_estimator& operator=(const tvl1_estimator&) = delete;

    /// The flow from i0 to i1 (device frames, rows x cols, 8-bit or float in [0, 1], packed rows)
    /// into `out` (rows x cols, packed rows; read first as the initial flow when
    /// params.use_initial_flow). Enqueued on the policy's stream; returns at once.
    template <class T>
    void run(const device_image_view<const T>& i0, const device_image_view<const T>& i1,
             const flow_view<memory_space::device>& out) {
        static_assert(ferx::detail::tvl1_nvcc || ferx::detail::always_false<T>,
                      "ferx::cuda::tvl1_estimator::run: call it from a translation unit compiled by nvcc (.cu)");
        constexpr const char* where = "ferx::cuda::tvl1_estimator::run";
        if (!s_) throw error(where, "the estimator was moved from");
        ferx::detail::check_device_frame(i0, rows_, cols_, where, "the first frame");
        ferx::detail::check_device_frame(i1, rows_, cols_, where, "the second frame");
        check_out(out, where);
        ferx::detail::tvl1_device_pair(*s_, i0, i1, out);
    }
    /// The flows of a clip's consecutive frames (N + 1 frames x rows x cols, packed rows) into
    /// `out` (N x rows x cols, packed rows), from zero (use_initial_flow does not apply, as in
    /// tvl1_sequence): each frame's pyramid is built once. Enqueued; returns at once. Each flow
    /// is the bits of run(clip[t], clip[t + 1], out[t]) with use_initial_flow off.
    template <class T>
    void run(const device_volume_view<const T>& clip, const tensor_view<flow_vector, 3, memory_space::device>& out) {
        static_assert(ferx::detail::tvl1_nvcc || ferx::detail::always_false<T>,
                      "ferx::cuda::tvl1_estimator::run: call it from a translation unit compiled by nvcc (.cu)");
        constexpr const char* where = "ferx::cuda::tvl1_estimator::run";
        if (!s_) throw error(where, "the estimator was moved from");
        if (clip.shape(0) < 2 || clip.data() == nullptr)
            throw error(where, "a clip needs at least 2 frames, got " + std::to_string(clip.shape(0)));
        ferx::detail::check_device_frame(device_image_view<const T>(clip[0]), rows_, cols_, where, "the clip's frames");
        if (out.shape(0) != clip.shape(0) - 1 || out.shape(1) != rows_ || out.shape(2) != cols_ || out.data() == nullptr)
            throw error(where, "the flows must be " + std::to_string(clip.shape(0) - 1) + "x" + std::to_string(rows_) + "x" +
                                   std::to_string(cols_) + ", got " + std::to_string(out.shape(0)) + "x" +
                                   std::to_string(out.shape(1)) + "x" + std::to_string(out.shape(2)));
        ferx::detail::require_packed_rows(out, where, "the flows");
        ferx::detail::tvl1_device_clip(*s_, clip, out);
    }
    /// The same for mutable views.
    template <class T, class = std::enable_if_t<!std::is_const<T>::value>>
    void run(const device_image_view<T>& i0, const device_image_view<T>& i1, const flow_view<memory_space::device>& out) {
        run(device_image_view<const T>(i0), device_image_view<const T>(i1), out);
    }
    template <class T, class = std::enable_if_t<!std::is_const<T>::value>>
    void run(const device_volume_view<T>& clip, const tensor_view<flow_vector, 3, memory_space::device>& out) {
        run(device_volume_view<const T>(clip), out);
    }

    index_t rows() const noexcept { return rows_; }
    index_t cols() const noexcept { return cols_; }
    const tvl1_params& params() const noexcept { return params_; }
    /// Device memory held (pyramids, flows, per-level planes), bytes.
    std::size_t device_bytes() const noexcept { return s_ ? ferx::detail::tvl1_device_bytes(*s_) : 0; }

private:
    void check_out(const flow_view<memory_space::device>& out, const char* where) const {
        if (out.rows() != rows_ || out.cols() != cols_ || out.data() == nullptr)
            throw error(where, "the flow must be " + std::to_string(rows_) + "x" + std::to_string(cols_) + ", got " +
                                   std::to_string(out.rows()) + "x" + std::to_string(out.cols()));
        ferx::detail::require_packed_rows(out, where, "the flow");
    }

    std::shared_ptr<ferx::detail::tvl1_device_state> s_;  // device buffers (ferx/cuda/dispatch/tvl1.cuh)
    index_t rows_ = 0, cols_ = 0;
    tvl1_params params_;
};

FERX_ARCH_NAMESPACE_END
}  // namespace cuda

#if defined(__CUDACC__)
FERX_ARCH_NAMESPACE_BEGIN
/// One-shot: the flow from device frames i0 to i1 into `out` with a cuda::tvl1_estimator built
/// for the call (allocates, and synchronises the policy's stream before its buffers are freed;
/// keep an estimator in a loop).
template <class T>
void tvl1(const exec::cuda_policy& policy, const device_image_view<const T>& i0, const device_image_view<const T>& i1,
          const flow_view<memory_space::device>& out, const tvl1_params& params = {}) {
    detail::check_device_frame(i0, i0.rows(), i0.cols(), "ferx::tvl1", "the first frame");
    cuda::tvl1_estimator(policy, i0.rows(), i0.cols(), params).run(i0, i1, out);
}
/// One-shot: the flows of a device clip (N + 1 frames) into `out` (N x rows x cols).
template <class T>
void tvl1(const exec::cuda_policy& policy, const device_volume_view<const T>& clip,
          const tensor_view<flow_vector, 3, memory_space::device>& out, const tvl1_params& params = {}) {
    if (clip.data() == nullptr || clip.shape(0) < 2) throw error("ferx::tvl1", "a clip needs at least 2 frames");
    cuda::tvl1_estimator(policy, clip.shape(1), clip.shape(2), params).run(clip, out);
}
FERX_ARCH_NAMESPACE_END
#endif

FERX_NAMESPACE_END

#if defined(__CUDACC__)
#include <ferx/cuda/dispatch/tvl1.cuh>
#endif
