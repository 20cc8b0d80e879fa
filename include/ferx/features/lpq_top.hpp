/// \file ferx/features/lpq_top.hpp
/// LPQ-TOP (Päivärinta, Rahtu & Heikkilä, SCIA 2011): the 2-D local phase quantization of
/// ferx/features/lpq.hpp on the three orthogonal planes of a clip, pooled over a grid of blocks
/// as LBP-TOP is (ferx/features/lbp_top.hpp). Blur-insensitive dynamic texture.
///
/// Planes. Around voxel (t, y, x): XY is frame t (rows y, columns x), XT is row y of every frame
/// (rows t, columns x), YT is column x of every frame (rows t, columns y). Each plane's code is
/// the 8-bit LPQ code (same window, decorrelation and threshold as `lpq_params`) of the window
/// centred on the voxel in that plane, with that plane's window size. Codes cover the voxels whose
/// three windows all lie inside the clip: with r_P = (window_P - 1) / 2, r_xy voxels are left out
/// on x and y (and r_xt on x, r_yt on y, whichever is larger), max(r_xt, r_yt) on t. A clip
/// therefore needs at least max(window_xt, window_yt) frames (5 with the defaults).
///
/// Descriptor: per block (time slices outermost, then rows, then columns), the XY, XT and YT
/// histograms of 256 bins each, normalised per plane (hist_norm::l1): 768 floats per block.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/core/view.hpp>
#include <ferx/features/clip_descriptor.hpp>
#include <ferx/features/descriptor.hpp>
#include <ferx/features/detail/lpq_top_core.hpp>
#include <ferx/features/lpq.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN

/// LPQ-TOP parameters (defaults: 5x5 windows on every plane, decorrelated with rho 0.9, 4x4x1 blocks).
struct lpq_top_params {
    int window_xy = 5, window_xt = 5, window_yt = 5;  ///< odd, >= 3
    bool decorrelate = true;
    double rho = 0.90;
    clip_grid grid{};
};

namespace detail {

/// Margins (voxels left out at each end) of LPQ-TOP's code volume: t, y, x.
inline std::array<index_t, 3> lpq_top_margins(const lpq_top_params& p) {
    const index_t rxy = (p.window_xy - 1) / 2, rxt = (p.window_xt - 1) / 2, ryt = (p.window_yt - 1) / 2;
    return {std::max(rxt, ryt), std::max(rxy, ryt), std::max(rxy, rxt)};
}

inline lpq_params lpq_top_plane(const lpq_top_params& p, int window) {
    lpq_params q;
    q.window = window;
    q.decorrelate = p.decorrelate;
    q.rho = p.rho;
    return q;
}

struct lpq_top_workspace {
    std::vector<std::uint8_t> labels;  // 3 planes x (ct * ch * cw)
    std::vector<double> transposed;    // YT slices: cols x frames x rows
};

}  // namespace detail

namespace detail {
/// The CUDA launch arguments of LPQ-TOP (each plane's STFT kernel and whitening, the margins), as
/// compute_cuda fills them; throws ferx::error naming `where` for a window above 31. The host
/// tests evaluate lpq_top_codes_at with them.
inline lpq_top_cuda_args lpq_top_cuda_args_for(const lpq_top_params& p, const char* where) {
    const int windows[3] = {p.window_xy, p.window_xt, p.window_yt};
    lpq_top_cuda_args a{};
    for (int k = 0; k < 3; ++k) {
        if (windows[k] > 31)
            throw error(where, "the CUDA backend takes windows up to 31 on every plane, got " + std::to_string(windows[k]));
        std::vector<double> kre, kim;
        stft_kernel(windows[k], kre, kim);
        std::copy(kre.begin(), kre.end(), a.kre[k]);
        std::copy(kim.begin(), kim.end(), a.kim[k]);
        if (p.decorrelate) {
            const auto v = lpq_whitening_matrix(windows[k], p.rho);
            std::copy(v.begin(), v.end(), a.v[k]);
        }
        a.window[k] = windows[k];
    }
    a.decorrelate = p.decorrelate;
    const auto m = lpq_top_margins(p);
    a.mt = m[0];
    a.my = m[1];
    a.mx = m[2];
    return a;
}
}  // namespace detail

#if defined(__CUDACC__)
namespace detail {
FERX_ARCH_NAMESPACE_BEGIN
/// Enqueues LPQ-TOP's block histograms over a batch of clips (defined in ferx/cuda/dispatch/lpq_top.cuh).
inline void lpq_top_cuda(const exec::cuda_policy& policy, const device_batch_view<const std::uint8_t>& clips,
                         const lpq_top_cuda_args& a, const clip_hist_args& h, float* d_out);
FERX_ARCH_NAMESPACE_END
}  // namespace detail
#endif

template <>
struct descriptor_traits<lpq_top_params> {
    static constexpr const char* name = "ferx::lpq_top";
    static constexpr bool clip = true;
    using workspace = detail::lpq_top_workspace;

#if defined(__CUDACC__)
    /// The `exec::cuda` backend (called by ferx::describe after its checks): one thread block per
    /// (block, clip), or per part of a block for a single long clip, with the three planes' codes
    /// by lpq_code_at (the host's operations, each rounded on its own: seq's codes bit for bit)
    /// counted into shared-memory histograms; windows up to 31 on every plane (the coefficients
    /// travel in the launch arguments, 3 KB). Enqueued on the policy's stream, no allocation, no
    /// synchronisation. The launch is ferx/cuda/dispatch/lpq_top.cuh.
    static void compute_cuda(const exec::cuda_policy& policy, const device_batch_view<const std::uint8_t>& clips,
                             const lpq_top_params& p, const tensor_view<float, 2, memory_space::device>& out,
                             detail::arch_tag) {
        constexpr const char* where = "ferx::lpq_top (cuda)";
        length(p, clips.shape(1), clips.rows(), clips.cols());  // checks
        const detail::lpq_top_cuda_args a = detail::lpq_top_cuda_args_for(p, where);
        const auto m = detail::lpq_top_margins(p);
        const index_t nb[3] = {256, 256, 256};
        const detail::clip_hist_args h = detail::clip_hist_args_for(p.grid, clips.shape(1) - 2 * m[0], clips.rows() - 2 * m[1],
                                                                    clips.cols() - 2 * m[2], 3, nb, out.stride(0), where);
        detail::lpq_top_cuda(policy, clips, a, h, out.data());
    }
#endif

    static index_t length(const lpq_top_params& p, index_t frames, index_t rows, index_t cols) {
        const int windows[3] = {p.window_xy, p.window_xt, p.window_yt};  // (an array: nvcc rejects a range-for over a braced list here)
        for (int w : windows)
            if (w < 3 || w % 2 == 0 || w > 255) throw error(name, "the windows must be odd and in [3, 255], got " + std::to_string(w));
        if (p.decorrelate && !(p.rho > 0 && p.rho < 1)) throw error(name, "rho must be in (0, 1), got " + std::to_string(p.rho));
        const auto m = detail::lpq_top_margins(p);
        if (frames - 2 * m[0] < 1)
            throw error(name, "the clip has " + std::to_string(frames) + " frames; its XT and YT windows need at least " +
                                  std::to_string(2 * m[0] + 1));
        if (rows - 2 * m[1] < 1 || cols - 2 * m[2] < 1)
            throw error(name, "the frames (" + std::to_string(rows) + "x" + std::to_string(cols) +
                                  ") are smaller than the windows (need at least " + std::to_string(2 * m[1] + 1) + "x" +
                                  std::to_string(2 * m[2] + 1) + ")");
        detail::clip_grid_check(p.grid, frames - 2 * m[0], rows - 2 * m[1], cols - 2 * m[2], name);
        return p.grid.slices * p.grid.cells.rows * p.grid.cells.cols * 768;
    }

    /// Codes of one plane slice (an image) for the code-volume entries it covers: output rows
    /// [r0, r1) of the slice's code image, written at `dst` with row step `dst_row`, element step
    /// `dst_col`, starting at code column c0 of the slice's code image, n columns.
    template <class T>
    static void slice_codes(const image_view<const T>& img, const lpq_params& q, index_t r0, index_t r1, index_t c0,
                            index_t n, std::uint8_t* dst, index_t dst_row, index_t dst_col, detail::lpq_workspace& ws,
                            std::vector<std::uint8_t>& row) {
        ws.prepare(q);
        const index_t ww = img.cols() - q.window + 1;
        row.resize(static_cast<std::size_t>(r1 * ww));  // lpq_code_rows writes code row y at y * ww
        detail::lpq_code_rows(img, r0, r1, ws, row.data());
        for (index_t r = r0; r < r1; ++r)
            for (index_t i = 0; i < n; ++i)
                dst[(r - r0) * dst_row + i * dst_col] = row[static_cast<std::size_t>(r * ww + c0 + i)];
    }

    template <class T>
    static void prepare(const lpq_top_params& p, const volume_view<const T>& v, workspace& ws) {
        const auto m = detail::lpq_top_margins(p);
        const index_t ct = v.shape(0) - 2 * m[0], ch = v.rows() - 2 * m[1], cw = v.cols() - 2 * m[2];
        ws.labels.resize(static_cast<std::size_t>(3 * ct * ch * cw));
        // YT slices need unit column stride: a copy with x outermost (cols x frames x rows)
        ws.transposed.resize(static_cast<std::size_t>(v.size()));
    }

    /// Columns [x0, x1) of the transposed copy, 16 columns at a time (16 write streams, each
    /// advancing along y), so that neither the reads nor the writes stride through memory.
    template <class T>
    static void transpose_columns(const volume_view<const T>& v, workspace& ws, index_t x0, index_t x1) {
        const index_t ft = v.shape(0), fh = v.rows();
        for (index_t b = x0; b < x1; b += 16) {
            const index_t e = std::min(x1, b + 16);
            for (index_t t = 0; t < ft; ++t)
                for (index_t y = 0; y < fh; ++y) {
                    const T* src = &v(t, y, 0);
                    for (index_t x = b; x < e; ++x)
                        ws.transposed[static_cast<std::size_t>((x * ft + t) * fh + y)] = static_cast<double>(src[x]);
                }
        }
    }

    /// Work unit i of plane k (XY: code frame i, XT: code row i, YT: code column i).
    template <class T>
    static void plane_unit(const lpq_top_params& p, const volume_view<const T>& v, int k, index_t i, workspace& ws,
                           detail::lpq_workspace& lws, std::vector<std::uint8_t>& row) {
        const auto m = detail::lpq_top_margins(p);
        const index_t ft = v.shape(0), fh = v.rows(), fw = v.cols();
        const index_t ct = ft - 2 * m[0], ch = fh - 2 * m[1], cw = fw - 2 * m[2];
        std::uint8_t* lab = ws.labels.data() + k * ct * ch * cw;
        if (k == 0) {  // XY: frame t = i + mt; code (y, x) at code-image (y + my - r, x + mx - r)
            const index_t r = (p.window_xy - 1) / 2;
            slice_codes(v[i + m[0]], detail::lpq_top_plane(p, p.window_xy), m[1] - r, m[1] - r + ch, m[2] - r, cw,
                        lab + i * ch * cw, cw, 1, lws, row);
        } else if (k == 1) {  // XT: row y = i + my, an image of frames x cols
            const index_t r = (p.window_xt - 1) / 2;
            const image_view<const T> slice(v.data() + (i + m[1]) * v.stride(1), {ft, fw}, {v.stride(0), 1});
            slice_codes(slice, detail::lpq_top_plane(p, p.window_xt), m[0] - r, m[0] - r + ct, m[2] - r, cw,
                        lab + i * cw, ch * cw, 1, lws, row);
        } else {  // YT: column x = i + mx, an image of frames x rows (from the transposed copy)
            const index_t r = (p.window_yt - 1) / 2;
            const image_view<const double> slice(ws.transposed.data() + (i + m[2]) * ft * fh, {ft, fh});
            slice_codes(slice, detail::lpq_top_plane(p, p.window_yt), m[0] - r, m[0] - r + ct, m[1] - r, ch, lab + i,
                        ch * cw, cw, lws, row);
        }
    }

    template <class T>
    static void compute(const lpq_top_params& p, const volume_view<const T>& v, float* out, workspace& ws) {
        prepare(p, v, ws);
        transpose_columns(v, ws, 0, v.cols());
        const auto m = detail::lpq_top_margins(p);
        const index_t units[3] = {v.shape(0) - 2 * m[0], v.rows() - 2 * m[1], v.cols() - 2 * m[2]};
        detail::lpq_workspace lws;
        std::vector<std::uint8_t> row;
        for (int k = 0; k < 3; ++k)
            for (index_t i = 0; i < units[k]; ++i) plane_unit(p, v, k, i, ws, lws, row);
        const index_t nb[3] = {256, 256, 256};
        detail::clip_block_histograms(p.grid, units[0], units[1], units[2], ws.labels.data(), nb, 0,
                                      p.grid.slices * p.grid.cells.rows * p.grid.cells.cols, out);
    }

    /// One clip on a pool: the planes' slices split over the threads, then the blocks.
    template <class T>
    static void compute_par(thread_pool& pool, const lpq_top_params& p, const volume_view<const T>& v, float* out,
                            workspace& ws) {
        prepare(p, v, ws);
        pool.parallel_for(0, v.cols(), 16, [&](index_t lo, index_t hi) { transpose_columns(v, ws, lo, hi); });
        const auto m = detail::lpq_top_margins(p);
        const index_t units[3] = {v.shape(0) - 2 * m[0], v.rows() - 2 * m[1], v.cols() - 2 * m[2]};
        const index_t all = units[0] + units[1] + units[2];
        pool.parallel_for(0, all, 1, [&](index_t lo, index_t hi) {
            detail::lpq_workspace lws;
            std::vector<std::uint8_t> row;
            for (index_t u = lo; u < hi; ++u) {
                const int k = u < units[0] ? 0 : u < units[0] + units[1] ? 1 : 2;
                const index_t i = k == 0 ? u : k == 1 ? u - units[0] : u - units[0] - units[1];
                plane_unit(p, v, k, i, ws, lws, row);
            }
        });
        const index_t nb[3] = {256, 256, 256};
        pool.parallel_for(0, p.grid.slices * p.grid.cells.rows * p.grid.cells.cols, 1, [&](index_t lo, index_t hi) {
            detail::clip_block_histograms(p.grid, units[0], units[1], units[2], ws.labels.data(), nb, lo, hi, out);
        });
    }
};

/// The three code volumes of a clip (XY, XT, YT), each of the code volume's size (see the file
/// comment): what the histograms count, for inspection and tests.
template <class Policy, class T>
std::array<volume<std::uint8_t>, 3> lpq_top_codes(const Policy& policy, const volume_view<T>& clip, const lpq_top_params& p = {}) {
    static_assert(is_host_policy_v<Policy>, "ferx::lpq_top_codes: host clips need exec::seq or exec::par");
    using traits = descriptor_traits<lpq_top_params>;
    const auto v = detail::check_host_clip<lpq_top_params>(clip);
    traits::length(p, v.shape(0), v.rows(), v.cols());
    typename traits::workspace ws;
    traits::prepare(p, v, ws);
    detail::for_each_range(policy, v.cols(), 16, [&](index_t lo, index_t hi) { traits::transpose_columns(v, ws, lo, hi); });
    const auto m = detail::lpq_top_margins(p);
    const index_t units[3] = {v.shape(0) - 2 * m[0], v.rows() - 2 * m[1], v.cols() - 2 * m[2]};
    for (int k = 0; k < 3; ++k)
        detail::for_each_range(policy, units[k], 1, [&](index_t lo, index_t hi) {
            detail::lpq_workspace lws;
            std::vector<std::uint8_t> row;
            for (index_t i = lo; i < hi; ++i) traits::plane_unit(p, v, k, i, ws, lws, row);
        });
    std::array<volume<std::uint8_t>, 3> out;
    const std::size_t n = static_cast<std::size_t>(units[0] * units[1] * units[2]);
    for (std::size_t k = 0; k < 3; ++k) {
        out[k] = volume<std::uint8_t>(std::array<std::size_t, 3>{std::size_t(units[0]), std::size_t(units[1]), std::size_t(units[2])});
        std::copy(ws.labels.begin() + std::ptrdiff_t(k * n), ws.labels.begin() + std::ptrdiff_t((k + 1) * n), out[k].begin());
    }
    return out;
}

FERX_NAMESPACE_END

#if defined(__CUDACC__)
#include <ferx/cuda/dispatch/lpq_top.cuh>
#endif
