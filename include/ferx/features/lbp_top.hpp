/// \file ferx/features/lbp_top.hpp
/// LBP-TOP (Zhao & Pietikäinen, PAMI 2007): local binary patterns on the three orthogonal planes
/// of a clip — XY (appearance), XT and YT (horizontal and vertical motion) — histogrammed over a
/// grid of blocks (rows x cols x time slices) and concatenated. The descriptor of dynamic FER's
/// classical baselines (96.26 % on CK with 9x8 blocks in the paper).
///
/// Sampling. For sample p = 0..P-1 of a plane, theta = 2 pi p / P, around voxel (t, y, x):
///     XY: (x + Rx cos theta, y - Ry sin theta)      in frame t
///     XT: (x + Rx cos theta, t + Rt sin theta)      in row y
///     YT: (y - Ry sin theta, t + Rt cos theta)      in column x
/// Bit p of the plane's code is set when the sample is >= the centre voxel. As in ferx's 2-D LBP
/// (ferx/features/lbp.hpp), offsets are rounded to 1/256 voxel and interpolated bilinearly with
/// integer weights summing to 65536, so 8- and 16-bit clips compare in exact integer arithmetic
/// (float and double clips in double); with Rx = Ry = R the XY codes of each frame are exactly
/// ferx::lbp_image's codes of LBP(P_XY, R). Codes cover the voxels whose samples all lie inside:
/// ceil(R) voxels are left out at both ends of each axis (x: ceil(Rx), y: ceil(Ry),
/// t: ceil(Rt)), so a clip needs at least 2 ceil(Rt) + 1 frames. (Zhao's MATLAB code leaves
/// max(Rx, Ry) out on both spatial axes; ferx takes each axis's own radius, which is the same for
/// the usual Rx = Ry.)
///
/// Labels: the mapping policy of the 2-D LBP (lbp_none, lbp_u2, lbp_riu2), applied to each plane
/// with its own P. Descriptor: for every block (time slices outermost, then rows, then columns;
/// blocks laid out by features/'s grid rule with `overlap` on all three axes), the XY histogram,
/// then XT, then YT, each normalised on its own (hist_norm::l1: each sums to 1).
/// Length: slices x rows x cols x (bins(P_XY) + bins(P_XT) + bins(P_YT)).
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/core/view.hpp>
#include <ferx/features/clip_descriptor.hpp>
#include <ferx/features/descriptor.hpp>
#include <ferx/features/detail/grid.hpp>
#include <ferx/features/detail/lbp_core.hpp>
#include <ferx/features/detail/lbp_top_core.hpp>
#include <ferx/features/lbp.hpp>
#include <ferx/fwd.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

FERX_NAMESPACE_BEGIN

/// LBP-TOP parameters (defaults: LBP-TOP(8,8,8; 1,1,1), uniform patterns, 4x4x1 blocks).
template <class Mapping>  // defaults to lbp_u2 (ferx/fwd.hpp)
struct lbp_top_params {
    using mapping_type = Mapping;
    double rx = 1, ry = 1, rt = 1;  ///< radii along x, y and t (voxels), > 0
    int p_xy = 8, p_xt = 8, p_yt = 8;  ///< points per plane, 1..32 (<= 16 with lbp_none)
    clip_grid grid{};
};

namespace detail {

/// One sample of a plane: element offset of its top-left tap from the centre, offsets to the next
/// voxel along the plane's two axes (0 where the fraction is 0), integer weights (sum 65536).
struct lbp_top_tap {
    index_t off, next_a, next_b;
    std::int32_t w[4];  // (a0,b0), (a0,b1), (a1,b0), (a1,b1)
};

/// Samples of one plane: axis a carries `sign_a * r_a * sin(theta)`, axis b `r_b * cos(theta)`,
/// offsets rounded to 1/256 voxel (floor offsets and fractions).
inline std::vector<lbp_top_sample> lbp_top_samples(int points, double r_a, double sign_a, double r_b) {
    std::vector<lbp_top_sample> out(static_cast<std::size_t>(points));
    const double two_pi = 6.283185307179586476925;
    for (int p = 0; p < points; ++p) {
        const double th = two_pi * p / points;
        const long qa = std::lround(sign_a * r_a * std::sin(th) * 256.0);
        const long qb = std::lround(r_b * std::cos(th) * 256.0);
        const long fa = qa >= 0 ? qa / 256 : -((-qa + 255) / 256);  // floor(q / 256)
        const long fb = qb >= 0 ? qb / 256 : -((-qb + 255) / 256);
        lbp_top_sample& t = out[static_cast<std::size_t>(p)];
        t.fa = static_cast<std::int32_t>(fa);
        t.fb = static_cast<std::int32_t>(fb);
        t.ta = static_cast<std::int32_t>(qa - fa * 256);
        t.tb = static_cast<std::int32_t>(qb - fb * 256);
    }
    return out;
}

/// Taps of one plane (lbp_top_samples in element offsets): stride_a and stride_b are the axes'
/// element strides.
inline std::vector<lbp_top_tap> lbp_top_taps(int points, double r_a, double sign_a, index_t stride_a, double r_b,
                                             index_t stride_b) {
    const std::vector<lbp_top_sample> s = lbp_top_samples(points, r_a, sign_a, r_b);
    std::vector<lbp_top_tap> taps(s.size());
    for (std::size_t p = 0; p < s.size(); ++p) {
        const std::int32_t ta = s[p].ta, tb = s[p].tb;
        lbp_top_tap& t = taps[p];
        t.off = index_t{s[p].fa} * stride_a + index_t{s[p].fb} * stride_b;
        t.next_a = ta != 0 ? stride_a : 0;
        t.next_b = tb != 0 ? stride_b : 0;
        t.w[0] = (256 - tb) * (256 - ta);
        t.w[1] = tb * (256 - ta);
        t.w[2] = (256 - tb) * ta;
        t.w[3] = tb * ta;
    }
    return taps;
}

/// Raw codes of `w` consecutive voxels along x starting at `c`, for one plane's taps.
template <class T>
void lbp_top_code_run(const T* c, index_t w, const std::vector<lbp_top_tap>& taps, std::uint32_t* out) {
    using acc = std::conditional_t<std::is_same<T, std::uint8_t>::value, std::int32_t,
                                   std::conditional_t<std::is_integral<T>::value, std::int64_t, double>>;
    std::fill(out, out + w, 0u);
    for (std::size_t p = 0; p < taps.size(); ++p) {
        const lbp_top_tap& t = taps[p];
        const T* q00 = c + t.off;
        const T* q01 = q00 + t.next_b;
        const T* q10 = q00 + t.next_a;
        const T* q11 = q10 + t.next_b;
        const acc w0 = t.w[0], w1 = t.w[1], w2 = t.w[2], w3 = t.w[3];
        const std::uint32_t bit = std::uint32_t{1} << p;
        if (t.next_a == 0 && t.next_b == 0) {
            for (index_t x = 0; x < w; ++x) out[x] |= q00[x] >= c[x] ? bit : 0u;
            continue;
        }
        // x-stride-1 samples (XY, XT planes) and t/y samples (YT) are all affine in x: q + x
        for (index_t x = 0; x < w; ++x) {
            const acc s = w0 * static_cast<acc>(q00[x]) + w1 * static_cast<acc>(q01[x]) + w2 * static_cast<acc>(q10[x]) +
                          w3 * static_cast<acc>(q11[x]);
            out[x] |= s >= static_cast<acc>(65536) * static_cast<acc>(c[x]) ? bit : 0u;
        }
    }
}

template <class Mapping>
struct lbp_top_workspace {
    lbp_mapper<Mapping> map_xy, map_xt, map_yt;
    std::vector<std::uint16_t> labels;  // 3 planes x (ct * ch * cw)
    std::vector<std::uint32_t> run;
};

inline index_t lbp_top_margin(double r) { return static_cast<index_t>(std::ceil(r - 1e-9)); }

template <class Mapping>
void lbp_top_check_points(int p, const char* plane, const char* where) {
    if (p < 1 || p > 32)
        throw error(where, std::string("the number of points of the ") + plane + " plane must be in [1, 32], got " +
                               std::to_string(p));
    if (std::is_same<Mapping, lbp_none>::value && p > 16)
        throw error(where, std::string("histograms without a mapping need P <= 16 (2^P bins), got P = ") + std::to_string(p) +
                               " on the " + plane + " plane; use lbp_u2 or lbp_riu2");
}

}  // namespace detail

namespace detail {
/// The CUDA launch arguments of LBP-TOP (the planes' samples, the margins; no label tables), as
/// compute_cuda fills them; the host tests evaluate lbp_top_codes_at with them.
template <class Mapping>
lbp_top_cuda_args lbp_top_cuda_args_for(const lbp_top_params<Mapping>& p) {
    lbp_top_cuda_args a{};
    const std::vector<lbp_top_sample> s[3] = {lbp_top_samples(p.p_xy, p.ry, -1.0, p.rx),   // XY: a = y, b = x
                                              lbp_top_samples(p.p_xt, p.rt, +1.0, p.rx),   // XT: a = t, b = x
                                              lbp_top_samples(p.p_yt, p.ry, -1.0, p.rt)};  // YT: a = y, b = t
    const int points[3] = {p.p_xy, p.p_xt, p.p_yt};
    for (int k = 0; k < 3; ++k) {
        std::copy(s[k].begin(), s[k].end(), a.samples[k]);
        a.points[k] = points[k];
    }
    a.mt = lbp_top_margin(p.rt);
    a.my = lbp_top_margin(p.ry);
    a.mx = lbp_top_margin(p.rx);
    a.table = false;
    return a;
}
}  // namespace detail

#if defined(__CUDACC__)
namespace detail {
FERX_ARCH_NAMESPACE_BEGIN
/// Enqueues LBP-TOP's block histograms over a batch of clips (defined in ferx/cuda/dispatch/lbp_top.cuh).
template <class Mapping>
void lbp_top_cuda(const exec::cuda_policy& policy, const device_batch_view<const std::uint8_t>& clips,
                  const lbp_top_cuda_args& a, const clip_hist_args& h, float* d_out);
FERX_ARCH_NAMESPACE_END
}  // namespace detail
#endif

template <class Mapping>
struct descriptor_traits<lbp_top_params<Mapping>> {
    using params = lbp_top_params<Mapping>;
    static constexpr const char* name = "ferx::lbp_top";
    static constexpr bool clip = true;
    using workspace = detail::lbp_top_workspace<Mapping>;

    static index_t bins(const params& p) {
        return Mapping::bins(p.p_xy) + Mapping::bins(p.p_xt) + Mapping::bins(p.p_yt);
    }

#if defined(__CUDACC__)
    /// The `exec::cuda` backend (called by ferx::describe after its checks): one thread block per
    /// (block, clip), or per part of a block for a single long clip, counting the XY, XT and YT
    /// labels into shared-memory histograms (at most 12288 bins a block in all); the codes are the
    /// host's integer arithmetic, so the descriptor equals seq's bit for bit. Enqueued on the
    /// policy's stream, no allocation, no synchronisation. The launch is
    /// ferx/cuda/dispatch/lbp_top.cuh.
    static void compute_cuda(const exec::cuda_policy& policy, const device_batch_view<const std::uint8_t>& clips,
                             const params& p, const tensor_view<float, 2, memory_space::device>& out, detail::arch_tag) {
        constexpr const char* where = "ferx::lbp_top (cuda)";
        length(p, clips.shape(1), clips.rows(), clips.cols());  // checks
        detail::lbp_top_cuda_args a = detail::lbp_top_cuda_args_for(p);
        const index_t nb[3] = {Mapping::bins(p.p_xy), Mapping::bins(p.p_xt), Mapping::bins(p.p_yt)};
        index_t table = 0;
        for (int k = 0; k < 3; ++k) table += index_t{1} << a.points[k];
        const index_t ct = clips.shape(1) - 2 * a.mt, ch = clips.rows() - 2 * a.my, cw = clips.cols() - 2 * a.mx;
        const detail::clip_hist_args h = detail::clip_hist_args_for(p.grid, ct, ch, cw, 3, nb, out.stride(0), where);
        a.table = !std::is_same<Mapping, lbp_none>::value && std::max({p.p_xy, p.p_xt, p.p_yt}) <= 10 &&
                  h.total + table <= 12288;
        detail::lbp_top_cuda<Mapping>(policy, clips, a, h, out.data());
    }
#endif

    static index_t length(const params& p, index_t frames, index_t rows, index_t cols) {
        const double radii[3] = {p.rx, p.ry, p.rt};  // (an array: nvcc rejects a range-for over a braced list here)
        for (double r : radii)
            if (!(r > 0) || !std::isfinite(r) || r > 1e4)
                throw error(name, "the radii must be positive and finite, got " + std::to_string(r));
        detail::lbp_top_check_points<Mapping>(p.p_xy, "XY", name);
        detail::lbp_top_check_points<Mapping>(p.p_xt, "XT", name);
        detail::lbp_top_check_points<Mapping>(p.p_yt, "YT", name);
        const index_t mx = detail::lbp_top_margin(p.rx), my = detail::lbp_top_margin(p.ry), mt = detail::lbp_top_margin(p.rt);
        if (frames - 2 * mt < 1)
            throw error(name, "the clip has " + std::to_string(frames) + " frames; Rt = " + std::to_string(p.rt) +
                                  " needs at least " + std::to_string(2 * mt + 1));
        if (rows - 2 * my < 1 || cols - 2 * mx < 1)
            throw error(name, "the frames (" + std::to_string(rows) + "x" + std::to_string(cols) +
                                  ") are too small for the radii (need at least " + std::to_string(2 * my + 1) + "x" +
                                  std::to_string(2 * mx + 1) + ")");
        detail::clip_grid_check(p.grid, frames - 2 * mt, rows - 2 * my, cols - 2 * mx, name);
        return p.grid.slices * p.grid.cells.rows * p.grid.cells.cols * bins(p);
    }

    /// Histograms of blocks [b0, b1) into out.
    static void histogram_blocks(const params& p, index_t ct, index_t ch, index_t cw, const std::uint16_t* labels,
                                 index_t b0, index_t b1, float* out) {
        const index_t nb[3] = {Mapping::bins(p.p_xy), Mapping::bins(p.p_xt), Mapping::bins(p.p_yt)};
        detail::clip_block_histograms(p.grid, ct, ch, cw, labels, nb, b0, b1, out);
    }

    template <class T>
    static void prepare(const params& p, const volume_view<const T>& v, workspace& ws,
                        std::vector<detail::lbp_top_tap> (&taps)[3]) {
        ws.map_xy.build(p.p_xy);
        ws.map_xt.build(p.p_xt);
        ws.map_yt.build(p.p_yt);
        taps[0] = detail::lbp_top_taps(p.p_xy, p.ry, -1.0, v.stride(1), p.rx, 1);           // XY: a = y, b = x
        taps[1] = detail::lbp_top_taps(p.p_xt, p.rt, +1.0, v.stride(0), p.rx, 1);           // XT: a = t, b = x
        taps[2] = detail::lbp_top_taps(p.p_yt, p.ry, -1.0, v.stride(1), p.rt, v.stride(0)); // YT: a = y, b = t
        const index_t ct = v.shape(0) - 2 * detail::lbp_top_margin(p.rt), ch = v.rows() - 2 * detail::lbp_top_margin(p.ry),
                      cw = v.cols() - 2 * detail::lbp_top_margin(p.rx);
        ws.labels.resize(static_cast<std::size_t>(3 * ct * ch * cw));
    }

    template <class T>
    static void compute(const params& p, const volume_view<const T>& v, float* out, workspace& ws) {
        std::vector<detail::lbp_top_tap> taps[3];
        prepare(p, v, ws, taps);
        const index_t ct = v.shape(0) - 2 * detail::lbp_top_margin(p.rt), ch = v.rows() - 2 * detail::lbp_top_margin(p.ry),
                      cw = v.cols() - 2 * detail::lbp_top_margin(p.rx);
        for (index_t i = 0; i < ct * ch; ++i) label_row(p, v, i / ch, i % ch, taps, ws, ws.run, ct, ch, cw);
        histogram_blocks(p, ct, ch, cw, ws.labels.data(), 0, p.grid.slices * p.grid.cells.rows * p.grid.cells.cols, out);
    }

    /// One clip on a pool: code frames split over the threads, then blocks (same bits as compute).
    template <class T>
    static void compute_par(thread_pool& pool, const params& p, const volume_view<const T>& v, float* out, workspace& ws) {
        std::vector<detail::lbp_top_tap> taps[3];
        prepare(p, v, ws, taps);
        const index_t ct = v.shape(0) - 2 * detail::lbp_top_margin(p.rt), ch = v.rows() - 2 * detail::lbp_top_margin(p.ry),
                      cw = v.cols() - 2 * detail::lbp_top_margin(p.rx);
        // split (frame, row) code rows: one unit is a row of one frame
        pool.parallel_for(0, ct * ch, 8, [&](index_t lo, index_t hi) {
            std::vector<std::uint32_t> run;
            for (index_t i = lo; i < hi; ++i) label_row(p, v, i / ch, i % ch, taps, ws, run, ct, ch, cw);
        });
        pool.parallel_for(0, p.grid.slices * p.grid.cells.rows * p.grid.cells.cols, 1, [&](index_t lo, index_t hi) {
            histogram_blocks(p, ct, ch, cw, ws.labels.data(), lo, hi, out);
        });
    }

    template <class T>
    static void label_row(const params& p, const volume_view<const T>& v, index_t t, index_t y,
                          const std::vector<detail::lbp_top_tap> (&taps)[3], workspace& ws, std::vector<std::uint32_t>& run,
                          index_t ct, index_t ch, index_t cw) {
        const index_t mx = detail::lbp_top_margin(p.rx), my = detail::lbp_top_margin(p.ry), mt = detail::lbp_top_margin(p.rt);
        run.resize(static_cast<std::size_t>(cw));
        const detail::lbp_mapper<Mapping>* maps[3] = {&ws.map_xy, &ws.map_xt, &ws.map_yt};
        const T* c = v.data() + (t + mt) * v.stride(0) + (y + my) * v.stride(1) + mx;
        for (int k = 0; k < 3; ++k) {
            detail::lbp_top_code_run(c, cw, taps[k], run.data());
            std::uint16_t* o = ws.labels.data() + k * ct * ch * cw + (t * ch + y) * cw;
            for (index_t x = 0; x < cw; ++x) o[x] = static_cast<std::uint16_t>((*maps[k])(run[static_cast<std::size_t>(x)]));
        }
    }
};

/// The three label volumes of a clip (XY, XT, YT), each (T - 2 mt) x (H - 2 my) x (W - 2 mx):
/// what the histograms count, for inspection and tests.
template <class Mapping = lbp_u2, class Policy, class T>
std::array<volume<std::uint16_t>, 3> lbp_top_labels(const Policy& policy, const volume_view<T>& clip,
                                                    const lbp_top_params<Mapping>& p) {
    static_assert(is_host_policy_v<Policy>, "ferx::lbp_top_labels: host clips need exec::seq or exec::par");
    using traits = descriptor_traits<lbp_top_params<Mapping>>;
    const auto v = detail::check_host_clip<lbp_top_params<Mapping>>(clip);
    traits::length(p, v.shape(0), v.rows(), v.cols());
    typename traits::workspace ws;
    std::vector<detail::lbp_top_tap> taps[3];
    traits::prepare(p, v, ws, taps);
    const index_t ct = v.shape(0) - 2 * detail::lbp_top_margin(p.rt), ch = v.rows() - 2 * detail::lbp_top_margin(p.ry),
                  cw = v.cols() - 2 * detail::lbp_top_margin(p.rx);
    detail::for_each_range(policy, ct * ch, 8, [&](index_t lo, index_t hi) {
        std::vector<std::uint32_t> run;
        for (index_t i = lo; i < hi; ++i) traits::label_row(p, v, i / ch, i % ch, taps, ws, run, ct, ch, cw);
    });
    std::array<volume<std::uint16_t>, 3> out;
    const std::size_t n = static_cast<std::size_t>(ct * ch * cw);
    for (int k = 0; k < 3; ++k) {
        out[static_cast<std::size_t>(k)] = volume<std::uint16_t>(
            std::array<std::size_t, 3>{std::size_t(ct), std::size_t(ch), std::size_t(cw)});
        std::copy(ws.labels.begin() + std::ptrdiff_t(k * n), ws.labels.begin() + std::ptrdiff_t((k + 1) * n),
                  out[static_cast<std::size_t>(k)].begin());
    }
    return out;
}

FERX_NAMESPACE_END

#if defined(__CUDACC__)
#include <ferx/cuda/dispatch/lbp_top.cuh>
#endif
