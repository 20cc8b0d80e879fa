/// \file ferx/features/vlpq.hpp
/// VLPQ, volume local phase quantization (Päivärinta, Rahtu & Heikkilä, SCIA 2011): the 3-D
/// extension of LPQ (ferx/features/lpq.hpp) for clips. Blur-insensitive dynamic texture.
///
/// Coefficients. Around voxel (t, y, x), with a Ws x Ws x Wt window (odd sizes, r = (Ws - 1) / 2,
/// r_t = (Wt - 1) / 2), a = 1 / Ws, a_t = 1 / Wt, and offsets (l, j, m) in [-r, r]^2 x [-r_t, r_t]:
///     F_u = sum_{l, j, m} f(t + m, y + l, x + j) exp(2 pi i (u_y l + u_x j + u_t m))
/// at the 13 non-zero frequencies of {-a, 0, a}^2 x {-a_t, 0, a_t} that are not the conjugate of
/// another, in the reference code's order (u_y, u_x, u_t):
///     F1 (a,0,0)   F2 (a,0,a_t)   F3 (a,0,-a_t)   F4 (0,a,0)   F5 (0,a,a_t)   F6 (0,a,-a_t)
///     F7 (a,a,0)   F8 (a,a,a_t)   F9 (a,a,-a_t)   F10 (a,-a,0) F11 (a,-a,a_t) F12 (a,-a,-a_t)
///     F13 (0,0,a_t)
/// and the 26 real coefficients g = [Re F1, Im F1, ..., Re F13, Im F13] (the convolutions of the
/// authors' vlpq.m with exp(-2 pi i a k), as for 2-D LPQ).
///
/// Decorrelation. Pixels of the window are modelled with the covariance
/// C(p, q) = rho_s^|(l, j)_p - (l, j)_q| * rho_t^|m_p - m_q| (Euclidean distance in the frame,
/// absolute difference in time); the coefficients' covariance D = W C W^T (W: the 26 filters) is
/// diagonalised, as vlpq.m does, by the eigenvectors V of A D A, A = diag(1.0000013, 1.0000012,
/// 1.0000011, 1.0000010, 1.000009, 1.000008, 1.000007, 1.0000006, ..., 1, 0.9999999, ...,
/// 0.9999988): the reference code's values, whose 5th to 7th entries (1.000009, 1.000008, 1.000007)
/// break the otherwise regular 1e-7 steps; ferx keeps them, since A decides which eigenvectors
/// come first where D has equal eigenvalues. V is sorted by decreasing eigenvalue, each column
/// with its largest-magnitude entry positive (vlpq.m takes MATLAB's SVD signs; a flipped column
/// complements one bit of every code, which permutes histogram bins and changes nothing a
/// classifier sees). The L leading components V[:, 0..L-1]^T g give bit i of the code when
/// >= 0 (the reference's rule: a flat region's coefficients are rounding noise around 0, so its
/// code is not meaningful, as in the reference).
///
/// Defaults are vlpq.m's behaviour: Ws = Wt = 3, L = 10, and rho_s = 0.8, rho_t = 0.6, the
/// values its code sets (its header comment and the covariance helper's comments say 0.1 and 0.1;
/// the published example calls vlpq(v, [], 5, 5, [0.1 0.1], 10, 1)). Codes cover the voxels
/// whose window lies inside the clip: (T - Wt + 1) x (rows - Ws + 1) x (cols - Ws + 1).
/// Descriptor: per block of `grid` (time slices outermost, then rows, then columns), the 2^L-bin
/// histogram of the codes (hist_norm::l1: sums to 1); vlpq.m's descriptor is the 1x1x1 grid.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/core/view.hpp>
#include <ferx/features/clip_descriptor.hpp>
#include <ferx/features/descriptor.hpp>
#include <ferx/features/detail/vlpq_core.hpp>
#include <ferx/features/lpq.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN

/// VLPQ parameters (defaults: the reference code's; see the file comment).
struct vlpq_params {
    int window = 3;          ///< Ws, odd, >= 3
    int window_t = 3;        ///< Wt, odd, >= 3
    double rho_s = 0.8;      ///< spatial correlation of the covariance model, in (0, 1)
    double rho_t = 0.6;      ///< temporal correlation, in (0, 1)
    int components = 10;     ///< L, bits per code, 1..16
    clip_grid grid{{1, 1}, 1, 0.0, hist_norm::l1};
};

namespace detail {

/// The 13 frequencies in units of (a, a, a_t): (u_y, u_x, u_t) in {-1, 0, 1}.
inline constexpr int vlpq_freqs[13][3] = {{1, 0, 0},  {1, 0, 1},  {1, 0, -1},  {0, 1, 0},  {0, 1, 1},
                                          {0, 1, -1}, {1, 1, 0},  {1, 1, 1},   {1, 1, -1}, {1, -1, 0},
                                          {1, -1, 1}, {1, -1, -1}, {0, 0, 1}};

/// The 26 filters over the window (26 x N, N = Ws^2 Wt, positions ordered (m, l, j) with j
/// fastest) and the positions (N x 3: m, l, j).
inline void vlpq_filters(int ws, int wt, std::vector<double>& filters, std::vector<double>& pos) {
    const int r = (ws - 1) / 2, rt = (wt - 1) / 2;
    const std::size_t n = static_cast<std::size_t>(ws * ws * wt);
    filters.assign(26 * n, 0.0);
    pos.assign(3 * n, 0.0);
    const double two_pi = 6.283185307179586476925;
    std::size_t q = 0;
    for (int m = -rt; m <= rt; ++m)
        for (int l = -r; l <= r; ++l)
            for (int j = -r; j <= r; ++j, ++q) {
                pos[3 * q] = m;
                pos[3 * q + 1] = l;
                pos[3 * q + 2] = j;
                for (int f = 0; f < 13; ++f) {
                    const double ph = two_pi * (vlpq_freqs[f][0] * double(l) / ws + vlpq_freqs[f][1] * double(j) / ws +
                                                vlpq_freqs[f][2] * double(m) / wt);
                    filters[static_cast<std::size_t>(2 * f) * n + q] = std::cos(ph);
                    filters[static_cast<std::size_t>(2 * f + 1) * n + q] = std::sin(ph);
                }
            }
}

/// The model covariance C of the window's positions (N x N, row-major).
inline std::vector<double> vlpq_covariance(const std::vector<double>& pos, double rho_s, double rho_t) {
    const std::size_t n = pos.size() / 3;
    std::vector<double> c(n * n);
    for (std::size_t p = 0; p < n; ++p)
        for (std::size_t q = 0; q < n; ++q) {
            const double dt = std::abs(pos[3 * p] - pos[3 * q]);
            const double dy = pos[3 * p + 1] - pos[3 * q + 1], dx = pos[3 * p + 2] - pos[3 * q + 2];
            c[p * n + q] = std::pow(rho_s, std::sqrt(dy * dy + dx * dx)) * std::pow(rho_t, dt);
        }
    return c;
}

/// The reference code's almost-unit diagonal A (see the file comment).
inline constexpr double vlpq_separation[26] = {1.0000013, 1.0000012, 1.0000011, 1.0000010, 1.000009,  1.000008,  1.000007,
                                               1.0000006, 1.0000005, 1.0000004, 1.0000003, 1.0000002, 1.0000001, 1.0,
                                               0.9999999, 0.9999998, 0.9999997, 0.9999996, 0.9999995, 0.9999994, 0.9999993,
                                               0.9999992, 0.9999991, 0.9999990, 0.9999989, 0.9999988};

/// D = W C W^T (26 x 26) of the parameters.
inline std::vector<double> vlpq_coefficient_covariance(const vlpq_params& p) {
    std::vector<double> f, pos;
    vlpq_filters(p.window, p.window_t, f, pos);
    const std::vector<double> c = vlpq_covariance(pos, p.rho_s, p.rho_t);
    const std::size_t n = pos.size() / 3;
    std::vector<double> wc(26 * n, 0.0), d(26 * 26, 0.0);
    for (std::size_t i = 0; i < 26; ++i)
        for (std::size_t q = 0; q < n; ++q) {
            double s = 0;
            for (std::size_t t = 0; t < n; ++t) s += f[i * n + t] * c[t * n + q];
            wc[i * n + q] = s;
        }
    for (std::size_t i = 0; i < 26; ++i)
        for (std::size_t j = 0; j < 26; ++j) {
            double s = 0;
            for (std::size_t q = 0; q < n; ++q) s += wc[i * n + q] * f[j * n + q];
            d[i * 26 + j] = s;
        }
    return d;
}

/// The 26 x 26 whitening V (row-major; column c: the direction of component c).
inline std::vector<double> vlpq_whitening_matrix(const vlpq_params& p) {
    std::vector<double> d = vlpq_coefficient_covariance(p);
    for (std::size_t i = 0; i < 26; ++i)
        for (std::size_t j = 0; j < 26; ++j) d[i * 26 + j] *= vlpq_separation[i] * vlpq_separation[j];
    std::vector<double> values;
    return symmetric_eigenvectors(d, 26, values);
}

inline void vlpq_check(const vlpq_params& p, index_t frames, index_t rows, index_t cols, const char* where) {
    if (p.window < 3 || p.window % 2 == 0 || p.window > 63)
        throw error(where, "the spatial window must be odd and in [3, 63], got " + std::to_string(p.window));
    if (p.window_t < 3 || p.window_t % 2 == 0 || p.window_t > 63)
        throw error(where, "the temporal window must be odd and in [3, 63], got " + std::to_string(p.window_t));
    if (!(p.rho_s > 0 && p.rho_s < 1) || !(p.rho_t > 0 && p.rho_t < 1))
        throw error(where, "rho_s and rho_t must be in (0, 1), got " + std::to_string(p.rho_s) + " and " + std::to_string(p.rho_t));
    if (p.components < 1 || p.components > 16)
        throw error(where, "the number of components L must be in [1, 16], got " + std::to_string(p.components));
    if (frames < p.window_t)
        throw error(where, "the clip has " + std::to_string(frames) + " frames; the temporal window needs at least " +
                               std::to_string(p.window_t));
    if (rows < p.window || cols < p.window)
        throw error(where, "the frames (" + std::to_string(rows) + "x" + std::to_string(cols) + ") are smaller than the " +
                               std::to_string(p.window) + "x" + std::to_string(p.window) + " window");
}

/// Projection of the L components onto the window's voxels: L x N, (V[:, :L]^T W), and the
/// voxels' element offsets in a clip of the given strides.
struct vlpq_plan {
    int ws = 0, wt = 0, l = 0;
    double rho_s = 0, rho_t = 0;
    std::vector<double> proj;     // L x N
    std::vector<int> tap_t, tap_y, tap_x;  // offsets of each window voxel from the window's corner
    void prepare(const vlpq_params& p) {
        if (ws == p.window && wt == p.window_t && l == p.components && rho_s == p.rho_s && rho_t == p.rho_t && !proj.empty())
            return;
        ws = p.window;
        wt = p.window_t;
        l = p.components;
        rho_s = p.rho_s;
        rho_t = p.rho_t;
        std::vector<double> f, pos;
        vlpq_filters(ws, wt, f, pos);
        const std::vector<double> v = vlpq_whitening_matrix(p);
        const std::size_t n = pos.size() / 3;
        proj.assign(static_cast<std::size_t>(l) * n, 0.0);
        for (std::size_t c = 0; c < std::size_t(l); ++c)
            for (std::size_t q = 0; q < n; ++q) {
                double s = 0;
                for (std::size_t k = 0; k < 26; ++k) s += v[k * 26 + c] * f[k * n + q];
                proj[c * n + q] = s;
            }
        tap_t.resize(n);
        tap_y.resize(n);
        tap_x.resize(n);
        const int r = (ws - 1) / 2, rt = (wt - 1) / 2;
        for (std::size_t q = 0; q < n; ++q) {
            tap_t[q] = int(pos[3 * q]) + rt;
            tap_y[q] = int(pos[3 * q + 1]) + r;
            tap_x[q] = int(pos[3 * q + 2]) + r;
        }
    }
};

struct vlpq_workspace {
    vlpq_plan plan;
    std::vector<std::uint16_t> codes;
};

/// Codes of code row y of code frame t (cw codes) into out; acc: scratch of L x cw doubles.
/// Components are accumulated voxel by voxel of the window in the plan's order, so every
/// backend sums in the same order.
template <class T>
void vlpq_code_row(const volume_view<const T>& v, const vlpq_plan& plan, index_t t, index_t y, index_t cw,
                   std::vector<double>& acc, std::uint16_t* out) {
    const std::size_t n = plan.tap_t.size(), L = std::size_t(plan.l);
    acc.assign(L * std::size_t(cw), 0.0);
    for (std::size_t q = 0; q < n; ++q) {
        const T* src = v.data() + (t + plan.tap_t[q]) * v.stride(0) + (y + plan.tap_y[q]) * v.stride(1) + plan.tap_x[q];
        for (std::size_t c = 0; c < L; ++c) {
            const double w = plan.proj[c * n + q];
            double* a = acc.data() + c * std::size_t(cw);
            for (index_t x = 0; x < cw; ++x) a[x] += w * static_cast<double>(src[x]);
        }
    }
    for (index_t x = 0; x < cw; ++x) {
        unsigned code = 0;
        for (std::size_t c = 0; c < L; ++c) code |= (acc[c * std::size_t(cw) + std::size_t(x)] >= 0 ? 1u : 0u) << c;
        out[x] = static_cast<std::uint16_t>(code);
    }
}

/// The CUDA launch arguments of VLPQ (the plan's projection), as compute_cuda fills them; throws
/// ferx::error naming `where` beyond the backend's limits (L <= 13, L x Ws^2 x Wt <= 1536). The
/// host tests evaluate vlpq_code_at with them.
inline vlpq_cuda_args vlpq_cuda_args_for(const vlpq_params& p, const char* where) {
    const index_t n = index_t{p.window} * p.window * p.window_t;
    if (p.components > 13)
        throw error(where, "the CUDA backend takes at most L = 13 components (2^L bins in shared memory), got " +
                               std::to_string(p.components));
    if (n * p.components > vlpq_cuda_max_proj)
        throw error(where, "the CUDA backend takes L x Ws^2 x Wt <= " + std::to_string(vlpq_cuda_max_proj) +
                               " (the projection travels in the kernel arguments), got " + std::to_string(n * p.components));
    vlpq_plan plan;
    plan.prepare(p);
    vlpq_cuda_args a{};
    std::copy(plan.proj.begin(), plan.proj.end(), a.proj);
    a.ws = p.window;
    a.wt = p.window_t;
    a.l = p.components;
    a.n = static_cast<int>(n);
    return a;
}

}  // namespace detail

#if defined(__CUDACC__)
namespace detail {
FERX_ARCH_NAMESPACE_BEGIN
/// Enqueues VLPQ's block histograms over a batch of clips (defined in ferx/cuda/dispatch/vlpq.cuh).
inline void vlpq_cuda(const exec::cuda_policy& policy, const device_batch_view<const std::uint8_t>& clips,
                      const vlpq_cuda_args& a, const clip_hist_args& h, float* d_out);
FERX_ARCH_NAMESPACE_END
}  // namespace detail
#endif

template <>
struct descriptor_traits<vlpq_params> {
    static constexpr const char* name = "ferx::vlpq";
    static constexpr bool clip = true;
    using workspace = detail::vlpq_workspace;

#if defined(__CUDACC__)
    /// The `exec::cuda` backend (called by ferx::describe after its checks): one thread block per
    /// (block, clip), or per part of a block for a single long clip, each voxel's code from the
    /// plan's projection (computed here on the host, as seq does) summed in the host's order with
    /// every operation rounded on its own, so codes and descriptor equal seq's bit for bit;
    /// L <= 13 (2^L-bin histograms in shared memory) and L x Ws^2 x Wt <= 1536 (the projection
    /// travels in the kernel arguments). Enqueued on the policy's stream, no allocation, no
    /// synchronisation. The launch is ferx/cuda/dispatch/vlpq.cuh.
    static void compute_cuda(const exec::cuda_policy& policy, const device_batch_view<const std::uint8_t>& clips,
                             const vlpq_params& p, const tensor_view<float, 2, memory_space::device>& out,
                             detail::arch_tag) {
        constexpr const char* where = "ferx::vlpq (cuda)";
        length(p, clips.shape(1), clips.rows(), clips.cols());  // checks
        const detail::vlpq_cuda_args a = detail::vlpq_cuda_args_for(p, where);
        const index_t nb[1] = {index_t{1} << p.components};
        const detail::clip_hist_args h =
            detail::clip_hist_args_for(p.grid, clips.shape(1) - p.window_t + 1, clips.rows() - p.window + 1,
                                       clips.cols() - p.window + 1, 1, nb, out.stride(0), where);
        detail::vlpq_cuda(policy, clips, a, h, out.data());
    }
#endif

    static index_t length(const vlpq_params& p, index_t frames, index_t rows, index_t cols) {
        detail::vlpq_check(p, frames, rows, cols, name);
        detail::clip_grid_check(p.grid, frames - p.window_t + 1, rows - p.window + 1, cols - p.window + 1, name);
        return p.grid.slices * p.grid.cells.rows * p.grid.cells.cols * (index_t{1} << p.components);
    }

    template <class T>
    static void compute(const vlpq_params& p, const volume_view<const T>& v, float* out, workspace& ws) {
        ws.plan.prepare(p);
        const index_t ct = v.shape(0) - p.window_t + 1, ch = v.rows() - p.window + 1, cw = v.cols() - p.window + 1;
        ws.codes.resize(static_cast<std::size_t>(ct * ch * cw));
        std::vector<double> acc;
        for (index_t i = 0; i < ct * ch; ++i) detail::vlpq_code_row(v, ws.plan, i / ch, i % ch, cw, acc, ws.codes.data() + i * cw);
        const index_t nb[1] = {index_t{1} << p.components};
        detail::clip_block_histograms(p.grid, ct, ch, cw, ws.codes.data(), nb, 0,
                                      p.grid.slices * p.grid.cells.rows * p.grid.cells.cols, out);
    }

    /// One clip on a pool: code rows split over the threads, then the blocks (same bits as compute).
    template <class T>
    static void compute_par(thread_pool& pool, const vlpq_params& p, const volume_view<const T>& v, float* out,
                            workspace& ws) {
        ws.plan.prepare(p);
        const index_t ct = v.shape(0) - p.window_t + 1, ch = v.rows() - p.window + 1, cw = v.cols() - p.window + 1;
        ws.codes.resize(static_cast<std::size_t>(ct * ch * cw));
        pool.parallel_for(0, ct * ch, 4, [&](index_t lo, index_t hi) {
            std::vector<double> acc;
            for (index_t i = lo; i < hi; ++i) detail::vlpq_code_row(v, ws.plan, i / ch, i % ch, cw, acc, ws.codes.data() + i * cw);
        });
        const index_t nb[1] = {index_t{1} << p.components};
        pool.parallel_for(0, p.grid.slices * p.grid.cells.rows * p.grid.cells.cols, 1, [&](index_t lo, index_t hi) {
            detail::clip_block_histograms(p.grid, ct, ch, cw, ws.codes.data(), nb, lo, hi, out);
        });
    }
};

/// The VLPQ code volume of a clip: (T - Wt + 1) x (rows - Ws + 1) x (cols - Ws + 1) codes.
template <class Policy, class T>
volume<std::uint16_t> vlpq_codes(const Policy& policy, const volume_view<T>& clip, const vlpq_params& p = {}) {
    static_assert(is_host_policy_v<Policy>, "ferx::vlpq_codes: host clips need exec::seq or exec::par");
    const auto v = detail::check_host_clip<vlpq_params>(clip);
    detail::vlpq_check(p, v.shape(0), v.rows(), v.cols(), "ferx::vlpq_codes");
    const index_t ct = v.shape(0) - p.window_t + 1, ch = v.rows() - p.window + 1, cw = v.cols() - p.window + 1;
    volume<std::uint16_t> out(std::array<std::size_t, 3>{std::size_t(ct), std::size_t(ch), std::size_t(cw)});
    detail::vlpq_plan plan;
    plan.prepare(p);
    detail::for_each_range(policy, ct * ch, 4, [&](index_t lo, index_t hi) {
        std::vector<double> acc;
        for (index_t i = lo; i < hi; ++i) detail::vlpq_code_row(v, plan, i / ch, i % ch, cw, acc, out.data() + i * cw);
    });
    return out;
}

/// The 26 STFT coefficients of every window (no decorrelation): 26 x (T - Wt + 1) x
/// (rows - Ws + 1) x (cols - Ws + 1), in the documented order, straight from the definition.
template <class T>
xt::xtensor<double, 4> vlpq_responses(const volume_view<T>& clip, int window = 3, int window_t = 3) {
    using U = std::remove_const_t<T>;
    detail::check_descriptor_pixel<U>();
    const volume_view<const U> v(clip);
    constexpr const char* where = "ferx::vlpq_responses";
    if (v.data() == nullptr || v.size() == 0) throw error(where, "the clip is empty");
    vlpq_params p;
    p.window = window;
    p.window_t = window_t;
    detail::vlpq_check(p, v.shape(0), v.rows(), v.cols(), where);
    std::vector<double> f, pos;
    detail::vlpq_filters(window, window_t, f, pos);
    const std::size_t n = pos.size() / 3;
    const index_t ct = v.shape(0) - window_t + 1, ch = v.rows() - window + 1, cw = v.cols() - window + 1;
    xt::xtensor<double, 4> out(std::array<std::size_t, 4>{26, std::size_t(ct), std::size_t(ch), std::size_t(cw)});
    const int r = (window - 1) / 2, rt = (window_t - 1) / 2;
    for (index_t t = 0; t < ct; ++t)
        for (index_t y = 0; y < ch; ++y)
            for (index_t x = 0; x < cw; ++x)
                for (std::size_t k = 0; k < 26; ++k) {
                    double s = 0;
                    for (std::size_t q = 0; q < n; ++q)
                        s += f[k * n + q] * static_cast<double>(v(t + index_t(pos[3 * q]) + rt, y + index_t(pos[3 * q + 1]) + r,
                                                                 x + index_t(pos[3 * q + 2]) + r));
                    out(k, std::size_t(t), std::size_t(y), std::size_t(x)) = s;
                }
    return out;
}

/// The 26 x 26 whitening matrix V of the parameters (column c: component c's direction).
inline xt::xtensor<double, 2> vlpq_whitening(const vlpq_params& p = {}) {
    detail::vlpq_check(p, p.window_t, p.window, p.window, "ferx::vlpq_whitening");
    const auto v = detail::vlpq_whitening_matrix(p);
    xt::xtensor<double, 2> out(std::array<std::size_t, 2>{26, 26});
    std::copy(v.begin(), v.end(), out.begin());
    return out;
}

FERX_NAMESPACE_END

#if defined(__CUDACC__)
#include <ferx/cuda/dispatch/vlpq.cuh>
#endif
