/// \file ferx/features/clip_descriptor.hpp
/// `describe` for clip descriptors (LBP-TOP, LPQ-TOP, VLPQ): one call for a clip (a volume view,
/// frames x rows x cols) or a batch of clips (a 4-D view, clips x frames x rows x cols), on `seq`,
/// `par` or (device batches of clips, in .cu files) `exec::cuda`, with the output length known
/// from the parameters and the clip's size:
///
///     ferx::lbp_top_params<> p;                                     // LBP-TOP(8,8,8; 1,1,1), 4x4x1 blocks
///     auto f  = ferx::describe(ferx::exec::seq, clip, p);           // 1-D: clip_descriptor_length(p, T, H, W)
///     auto fb = ferx::describe(ferx::exec::par, clips, p);          // 2-D: [n, clip_descriptor_length(...)]
///
/// A clip descriptor is a parameter struct `P` whose `descriptor_traits<P>` has
/// `static constexpr bool clip = true`, `static index_t length(const P&, index_t frames, index_t
/// rows, index_t cols)`, a `workspace`, and `compute(const P&, const volume_view<const T>&, float*
/// out, workspace&)`; it may add `compute_par(pool, ...)` for single clips. Batches are split over
/// clips under `exec::par`.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/core/view.hpp>
#include <ferx/features/descriptor.hpp>
#include <ferx/features/detail/clip_core.hpp>
#include <ferx/features/detail/grid.hpp>

#include <algorithm>
#include <cstdint>
#include <vector>

#include <array>
#include <string>
#include <type_traits>

FERX_NAMESPACE_BEGIN

namespace detail {

/// Checks a clip grid against a code volume of frames x rows x cols (every block must hold a voxel).
inline void clip_grid_check(const clip_grid& g, index_t frames, index_t rows, index_t cols, const char* where) {
    if (g.slices < 1) throw error(where, "the grid needs at least 1 time slice");
    grid_check(grid_spec{g.cells, g.overlap, g.norm}, rows, cols, where);
    if (g.slices > frames)
        throw error(where, std::to_string(g.slices) + " time slices do not fit the " + std::to_string(frames) +
                               " frames that have codes (a slice would be empty)");
    for (index_t i = 0; i < g.slices; ++i) {
        index_t b, e;
        grid_bounds(frames, g.slices, g.overlap, i, b, e);
        if (e <= b) throw error(where, "the grid leaves an empty time slice; use fewer slices or less overlap");
    }
}

/// The block histograms of a clip descriptor, blocks [b0, b1) (block (slice, row, col) has index
/// (slice * rows + row) * cols + col): per block, the histogram of plane 0, then 1, ... (nb[k]
/// bins each), counted over the block's voxels of the planes' label volumes (`labels`: Planes
/// consecutive ct x ch x cw volumes) and normalised per plane by the grid's norm.
template <class L, std::size_t Planes>
void clip_block_histograms(const clip_grid& g, index_t ct, index_t ch, index_t cw, const L* labels,
                           const index_t (&nb)[Planes], index_t b0, index_t b1, float* out) {
    index_t total = 0;
    for (index_t n : nb) total += n;
    const index_t plane = ct * ch * cw;
    std::vector<std::uint32_t> counts(static_cast<std::size_t>(total));
    const index_t per_slice = g.cells.rows * g.cells.cols;
    for (index_t b = b0; b < b1; ++b) {
        const index_t s = b / per_slice, r = (b % per_slice) / g.cells.cols, c = b % g.cells.cols;
        index_t t0, t1, y0, y1, x0, x1;
        grid_bounds(ct, g.slices, g.overlap, s, t0, t1);
        grid_bounds(ch, g.cells.rows, g.overlap, r, y0, y1);
        grid_bounds(cw, g.cells.cols, g.overlap, c, x0, x1);
        std::fill(counts.begin(), counts.end(), 0u);
        index_t base = 0;
        for (std::size_t k = 0; k < Planes; ++k) {
            std::uint32_t* h = counts.data() + base;
            for (index_t t = t0; t < t1; ++t)
                for (index_t y = y0; y < y1; ++y) {
                    const L* l = labels + index_t(k) * plane + (t * ch + y) * cw;
                    for (index_t x = x0; x < x1; ++x) ++h[l[x]];
                }
            base += nb[k];
        }
        float* o = out + b * total;
        const double voxels = double((t1 - t0) * (y1 - y0) * (x1 - x0));
        const float inv = g.norm == hist_norm::l1 ? static_cast<float>(1.0 / voxels) : 1.f;
        for (index_t i = 0; i < total; ++i) o[i] = static_cast<float>(counts[static_cast<std::size_t>(i)]) * inv;
    }
}

}  // namespace detail

/// Number of floats the clip descriptor `params` gives for a frames x rows x cols clip; throws
/// ferx::error when the parameters are invalid or the clip is too small for them.
template <class Params>
index_t clip_descriptor_length(const Params& params, index_t frames, index_t rows, index_t cols) {
    static_assert(is_clip_descriptor_v<Params>, "ferx::clip_descriptor_length: not the parameters of a clip descriptor");
    return descriptor_traits<Params>::length(params, frames, rows, cols);
}

namespace detail {
template <class Traits, class = void>
struct has_clip_compute_par : std::false_type {};
template <class Traits>
struct has_clip_compute_par<Traits, std::void_t<decltype(&Traits::template compute_par<std::uint8_t>)>>
    : std::true_type {};

/// Checks a host clip (non-empty, packed rows, finite pixels) and the parameters against its size
/// (descriptor_traits<Params>::length); returns the const view.
template <class Params, class T>
volume_view<const std::remove_const_t<T>> check_host_clip(const volume_view<T>& clip) {
    using U = std::remove_const_t<T>;
    check_descriptor_pixel<U>();
    const char* where = descriptor_traits<Params>::name;
    const volume_view<const U> v(clip);
    if (v.data() == nullptr || v.size() == 0) throw error(where, "the clip is empty");
    require_packed_rows(v, where, "the clip");
    require_finite(v, where);
    return v;
}

template <class Policy, class T, class Params>
constexpr void check_host_clip_describe() {
    static_assert(is_host_policy_v<Policy>, "ferx::describe: host clips need exec::seq or exec::par");
    static_assert(is_clip_descriptor_v<Params>, "ferx::describe: not the parameters of a clip descriptor");
    check_descriptor_pixel<T>();
}
}  // namespace detail

/// Describes one clip (frames x rows x cols, packed rows) into `out`
/// (clip_descriptor_length(params, frames, rows, cols) contiguous floats), reusing `ws`.
template <class Policy, class T, class Params, class = std::enable_if_t<is_clip_descriptor_v<Params>>>
void describe(const Policy& policy, const volume_view<const T>& clip, const Params& params,
              const tensor_view<float, 1>& out, descriptor_workspace<Params>& ws) {
    detail::check_host_clip_describe<Policy, T, Params>();
    using traits = descriptor_traits<Params>;
    const char* where = traits::name;
    detail::check_host_clip<Params>(clip);
    const index_t len = traits::length(params, clip.shape(0), clip.rows(), clip.cols());
    if (out.shape(0) != len || (len > 1 && out.stride(0) != 1))
        throw error(where, "the output must hold " + std::to_string(len) + " contiguous floats, got " +
                               std::to_string(out.shape(0)));
    if constexpr (std::is_same<Policy, exec::parallel_policy>::value && detail::has_clip_compute_par<traits>::value)
        traits::compute_par(policy.pool(), params, clip, out.data(), ws);
    else
        traits::compute(params, clip, out.data(), ws);
}

/// Describes one clip into `out`.
template <class Policy, class T, class Params, class = std::enable_if_t<is_clip_descriptor_v<Params>>>
void describe(const Policy& policy, const volume_view<const T>& clip, const Params& params,
              const tensor_view<float, 1>& out) {
    descriptor_workspace<Params> ws;
    describe(policy, clip, params, out, ws);
}

/// Describes every clip of an n x frames x rows x cols batch into `out` (n x length, packed rows).
/// `exec::par` splits the batch over the pool's threads.
template <class Policy, class T, class Params, class = std::enable_if_t<is_clip_descriptor_v<Params>>>
void describe(const Policy& policy, const batch_view<const T>& clips, const Params& params,
              const tensor_view<float, 2>& out) {
    detail::check_host_clip_describe<Policy, T, Params>();
    using traits = descriptor_traits<Params>;
    const char* where = traits::name;
    if (clips.data() == nullptr || clips.size() == 0) throw error(where, "the batch of clips is empty");
    detail::require_packed_rows(clips, where, "the batch of clips");
    detail::require_finite(clips, where);
    const index_t n = clips.shape(0);
    const index_t len = traits::length(params, clips.shape(1), clips.rows(), clips.cols());
    detail::require_batch_output(out, n, len, where);
    detail::for_each_range(policy, n, 1, [&](index_t lo, index_t hi) {
        typename traits::workspace ws;
        for (index_t i = lo; i < hi; ++i) traits::compute(params, clips[i], out.data() + i * out.stride(0), ws);
    });
}

/// The descriptor of one host clip, as an owning 1-D tensor.
template <class Policy, class T, class Params, class = std::enable_if_t<is_clip_descriptor_v<Params>>>
xt::xtensor<float, 1> describe(const Policy& policy, const volume_view<T>& clip, const Params& params) {
    xt::xtensor<float, 1> out(std::array<std::size_t, 1>{static_cast<std::size_t>(
        clip_descriptor_length(params, clip.shape(0), clip.rows(), clip.cols()))});
    describe(policy, volume_view<const T>(clip), params, view(out));
    return out;
}

/// The descriptors of a host batch of clips as an owning n x length tensor.
template <class Policy, class T, class Params, class = std::enable_if_t<is_clip_descriptor_v<Params>>>
xt::xtensor<float, 2> describe(const Policy& policy, const batch_view<T>& clips, const Params& params) {
    xt::xtensor<float, 2> out(std::array<std::size_t, 2>{
        static_cast<std::size_t>(clips.shape(0)),
        static_cast<std::size_t>(clip_descriptor_length(params, clips.shape(1), clips.rows(), clips.cols()))});
    describe(policy, batch_view<const T>(clips), params, view(out));
    return out;
}

namespace detail {
/// The block-histogram launch arguments of a clip descriptor's CUDA backend for a ct x ch x cw
/// code volume and `planes` histograms of nb[k] bins per block (the output's row stride
/// `out_stride`); throws ferx::error naming `where` when a block's histograms exceed the 12288
/// bins (48 KB) of shared memory the kernel holds them in.
inline clip_hist_args clip_hist_args_for(const clip_grid& g, index_t ct, index_t ch, index_t cw, int planes,
                                         const index_t* nb, index_t out_stride, const char* where) {
    clip_hist_args h;
    h.grid = g;
    h.ct = ct;
    h.ch = ch;
    h.cw = cw;
    h.planes = planes;
    h.total = 0;
    for (int k = 0; k < planes; ++k) {
        h.nb[k] = nb[k];
        h.total += nb[k];
    }
    if (h.total > 12288)
        throw error(where, "the CUDA backend holds a block's histograms in shared memory, at most 12288 bins, got " +
                               std::to_string(h.total));
    h.blocks = g.slices * g.cells.rows * g.cells.cols;
    h.out_stride = out_stride;
    return h;
}
}  // namespace detail

#if defined(__CUDACC__)
FERX_ARCH_NAMESPACE_BEGIN
/// Describes every clip of a device batch of clips (n x frames x rows x cols, 8-bit pixels, packed
/// rows) into a device n x clip_descriptor_length(params, frames, rows, cols) output (packed rows),
/// with the host describe's layout and normalisation. Asynchronous: the work is enqueued on the
/// policy's stream and the call returns without waiting (synchronise the stream, or copy the output
/// back with ferx::cuda::to_host, before reading it); it allocates no device memory. Compiled by
/// nvcc only: the descriptor's header brings its CUDA backend (ferx/cuda/dispatch/<descriptor>.cuh)
/// in .cu translation units. Clip descriptors with a CUDA backend: LBP-TOP, LPQ-TOP, VLPQ.
template <class Params, class = std::enable_if_t<is_clip_descriptor_v<Params>>>
void describe(const exec::cuda_policy& policy, const device_batch_view<const std::uint8_t>& clips, const Params& params,
              const tensor_view<float, 2, memory_space::device>& out) {
    using traits = descriptor_traits<Params>;
    const char* where = traits::name;
    if (clips.data() == nullptr || clips.size() == 0) throw error(where, "the batch of clips is empty");
    detail::require_packed_rows(clips, where, "the batch of clips");
    const index_t n = clips.shape(0);
    const index_t len = traits::length(params, clips.shape(1), clips.rows(), clips.cols());
    detail::require_batch_output(out, n, len, where);
    traits::compute_cuda(policy, clips, params, out, detail::arch_tag{});
}
FERX_ARCH_NAMESPACE_END
#endif

FERX_NAMESPACE_END
