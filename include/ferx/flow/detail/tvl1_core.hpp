/// \file ferx/flow/detail/tvl1_core.hpp
/// What the TV-L1 solver of ferx/flow/tvl1.hpp and its CUDA backend (ferx/cuda/dispatch/tvl1.cuh,
/// ferx/cuda/kernels/tvl1.cuh) share: the parameters and their check, the pyramid's level sizes
/// and Gaussian taps (computed on the host for both), and the FERX_HOST_DEVICE arithmetic whose
/// results must be the same bits on the CPU and the device: the min / max selections and medians
/// (comparisons only) and the bicubic weights (every operation rounded on its own, rounding.hpp).
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/error.hpp>
#include <ferx/core/rounding.hpp>
#include <ferx/core/view.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

FERX_NAMESPACE_BEGIN

/// TV-L1 parameters: the names, meanings and defaults of cv::optflow::DualTVL1OpticalFlow.
struct tvl1_params {
    double tau = 0.25;            ///< time step of the dual update, > 0 (stable for <= 0.25)
    double lambda = 0.15;         ///< weight of the data term, > 0 (smaller: smoother flow)
    double theta = 0.3;           ///< coupling of u and v, > 0
    int nscales = 5;              ///< pyramid levels, >= 1
    int warps = 5;                ///< warpings per level, >= 1
    double epsilon = 0.01;        ///< stopping threshold (per pixel, see ferx/flow/tvl1.hpp), > 0
    int inner_iterations = 30;    ///< >= 1
    int outer_iterations = 10;    ///< >= 1
    double scale_step = 0.8;      ///< ratio of consecutive levels, in (0, 1)
    double gamma = 0.0;           ///< weight of the illumination term, >= 0 (0: none)
    int median_filtering = 5;     ///< median window: 0 or 1 (none), 3 or 5
    /// ferx only: the exact 2-D median, as OpenCV (slower: 1.4x the time of a whole default
    /// run); false: the separable median (the median of the row medians)
    bool exact_median = false;
    bool use_initial_flow = false;  ///< start from the flow passed in
};

namespace detail {

inline void check_tvl1_params(const tvl1_params& p, const char* where) {
    auto positive = [&](double v, const char* name) {
        if (!(v > 0) || !std::isfinite(v)) throw error(where, std::string(name) + " must be positive and finite, got " + std::to_string(v));
    };
    positive(p.tau, "tau");
    positive(p.lambda, "lambda");
    positive(p.theta, "theta");
    positive(p.epsilon, "epsilon");
    if (p.nscales < 1) throw error(where, "nscales must be at least 1, got " + std::to_string(p.nscales));
    if (p.warps < 1) throw error(where, "warps must be at least 1, got " + std::to_string(p.warps));
    if (p.inner_iterations < 1 || p.outer_iterations < 1)
        throw error(where, "inner_iterations and outer_iterations must be at least 1");
    if (!(p.scale_step > 0 && p.scale_step < 1))
        throw error(where, "scale_step must be in (0, 1), got " + std::to_string(p.scale_step));
    if (!(p.gamma >= 0) || !std::isfinite(p.gamma))
        throw error(where, "gamma must be non-negative and finite, got " + std::to_string(p.gamma));
    if (p.median_filtering != 0 && p.median_filtering != 1 && p.median_filtering != 3 && p.median_filtering != 5)
        throw error(where, "median_filtering must be 0, 1, 3 or 5, got " + std::to_string(p.median_filtering));
}

/// Level sizes: round(previous * step) per axis, stopping before a side falls under 16 pixels.
inline std::vector<std::pair<index_t, index_t>> tvl1_level_sizes(index_t rows, index_t cols, const tvl1_params& p) {
    std::vector<std::pair<index_t, index_t>> s{{rows, cols}};
    for (int l = 1; l < p.nscales; ++l) {
        const index_t r = static_cast<index_t>(std::lround(double(s.back().first) * p.scale_step));
        const index_t c = static_cast<index_t>(std::lround(double(s.back().second) * p.scale_step));
        if (r < 16 || c < 16) break;
        s.emplace_back(r, c);
    }
    return s;
}

/// The normalised Gaussian taps of one pyramid step (sigma 0.6 sqrt(1/step^2 - 1), radius
/// max(1, ceil(2.5 sigma))): 2 * radius + 1 floats.
inline std::vector<float> tvl1_gaussian_taps(double step) {
    const double sigma = 0.6 * std::sqrt(1.0 / (step * step) - 1.0);
    const int rad = std::max(1, static_cast<int>(std::ceil(2.5 * sigma)));
    std::vector<float> k(static_cast<std::size_t>(2 * rad + 1));
    double sum = 0;
    for (int i = -rad; i <= rad; ++i) sum += (k[static_cast<std::size_t>(i + rad)] = static_cast<float>(std::exp(-0.5 * i * i / (sigma * sigma))));
    for (auto& v : k) v = static_cast<float>(v / sum);
    return k;
}

// Branch-free selections with the semantics of minps / maxps (the second operand unless the
// first is smaller / larger), so scalar, SSE2 and CUDA code give the same bits.
FERX_HOST_DEVICE inline float tvl1_min(float a, float b) { return a < b ? a : b; }
FERX_HOST_DEVICE inline float tvl1_max(float a, float b) { return a > b ? a : b; }

/// The median of w[0..n) (n odd) by forgetful selection: a working set of n / 2 + 2 values loses
/// its minimum and maximum and takes the next value until all are in; the middle of the last
/// three is the median. Only min / max, so V may be float or a SIMD vector of floats. Clobbers w.
#if defined(__CUDACC__)  // nvcc, both passes
#define FERX_TVL1_UNROLL _Pragma("unroll")
#elif defined(__GNUC__) && !defined(__clang__)
#define FERX_TVL1_UNROLL _Pragma("GCC unroll 32")
#else
#define FERX_TVL1_UNROLL
#endif
template <int N, class V, class Min, class Max>
inline V tvl1_forgetful_median(V* w, Min mn, Max mx) {
    static_assert(N % 2 == 1, "an odd number of values");
    FERX_TVL1_UNROLL
    for (int step = 0; step <= N - (N / 2 + 2); ++step) {
        const int lo = step, s = N / 2 + 2 - step, hi = lo + s - 1;
        FERX_TVL1_UNROLL
        for (int i = lo + 1; i < lo + s; ++i) {  // minimum to w[lo]
            const V a = mn(w[lo], w[i]), b = mx(w[lo], w[i]);
            w[lo] = a;
            w[i] = b;
        }
        FERX_TVL1_UNROLL
        for (int i = lo + 1; i < hi; ++i) {  // maximum to w[hi]
            const V a = mx(w[hi], w[i]), b = mn(w[hi], w[i]);
            w[hi] = a;
            w[i] = b;
        }
        if (step < N - (N / 2 + 2)) w[hi] = w[N / 2 + 2 + step];  // the next value joins the set
    }
    return w[N - (N / 2 + 2) + 1];
}

/// The same selection on floats, for host and device code (the host's scalar loop and the CUDA
/// kernel; the SSE2 loop runs the template above on 4 lanes with the same min / max sequence).
template <int N>
FERX_HOST_DEVICE inline float tvl1_forgetful_median(float* w) {
    static_assert(N % 2 == 1, "an odd number of values");
    FERX_TVL1_UNROLL
    for (int step = 0; step <= N - (N / 2 + 2); ++step) {
        const int lo = step, s = N / 2 + 2 - step, hi = lo + s - 1;
        FERX_TVL1_UNROLL
        for (int i = lo + 1; i < lo + s; ++i) {  // minimum to w[lo]
            const float a = tvl1_min(w[lo], w[i]), b = tvl1_max(w[lo], w[i]);
            w[lo] = a;
            w[i] = b;
        }
        FERX_TVL1_UNROLL
        for (int i = lo + 1; i < hi; ++i) {  // maximum to w[hi]
            const float a = tvl1_max(w[hi], w[i]), b = tvl1_min(w[hi], w[i]);
            w[hi] = a;
            w[i] = b;
        }
        if (step < N - (N / 2 + 2)) w[hi] = w[N / 2 + 2 + step];  // the next value joins the set
    }
    return w[N - (N / 2 + 2) + 1];
}

FERX_HOST_DEVICE inline float tvl1_med3(float a, float b, float c) {
    return tvl1_max(tvl1_min(a, b), tvl1_min(tvl1_max(a, b), c));
}
FERX_HOST_DEVICE inline float tvl1_med5(float a, float b, float c, float d, float e) {
    const float f = tvl1_max(tvl1_min(a, b), tvl1_min(c, d));
    const float g = tvl1_min(tvl1_max(a, b), tvl1_max(c, d));
    return tvl1_med3(e, f, g);
}

/// Keys' cubic weights (a = -0.5) of the fractional offset t, each operation rounded on its own
/// (the host's plain expression -0.5f * t3 + t2 - 0.5f * t, evaluated left to right).
FERX_HOST_DEVICE inline void tvl1_cubic_weights(float t, float* w) {
    const float t2 = mul_rn(t, t), t3 = mul_rn(t2, t);
    w[0] = sub_rn(add_rn(mul_rn(-0.5f, t3), t2), mul_rn(0.5f, t));
    w[1] = add_rn(sub_rn(mul_rn(1.5f, t3), mul_rn(2.5f, t2)), 1.f);
    w[2] = add_rn(add_rn(mul_rn(-1.5f, t3), mul_rn(2.f, t2)), mul_rn(0.5f, t));
    w[3] = sub_rn(mul_rn(0.5f, t3), mul_rn(0.5f, t2));
}

}  // namespace detail

FERX_NAMESPACE_END
