/// \file ferx/cuda/dispatch/clip.cuh
/// The launch of the clip descriptors' block histograms (ferx/cuda/kernels/clip.cuh), shared by
/// the LBP-TOP, LPQ-TOP and VLPQ dispatchers: the device check, the split of large blocks into
/// parts (so a single video fills the GPU), batches of clips in launches of at most 65535 clips,
/// every kernel on the policy's stream. Asynchronous, no allocation.
#pragma once

#include <ferx/core/execution.hpp>
#include <ferx/core/view.hpp>
#include <ferx/cuda/dispatch/descriptor.cuh>
#include <ferx/cuda/kernels/clip.cuh>
#include <ferx/cuda/runtime.cuh>
#include <ferx/features/detail/clip_core.hpp>

#include <algorithm>
#include <cstddef>

FERX_NAMESPACE_BEGIN
namespace detail {
FERX_ARCH_NAMESPACE_BEGIN

/// Parts per block: about 16 Ki voxels a thread block, at most 1024 parts, and one part where a
/// block has more than 2^24 voxels (float sums of counts would no longer be exact) or the
/// batch alone gives enough thread blocks.
inline index_t clip_parts(const clip_hist_args& h, index_t clips) {
    index_t most = 0;
    for (index_t b = 0; b < h.blocks; ++b) {
        index_t t0, t1, y0, y1, x0, x1;
        clip_block_bounds(h.grid, h.ct, h.ch, h.cw, b, t0, t1, y0, y1, x0, x1);
        most = std::max(most, (t1 - t0) * (y1 - y0) * (x1 - x0));
    }
    constexpr index_t per_part = 16384;
    if (most > (index_t{1} << 24) || most <= per_part || h.blocks * clips >= 1024) return 1;
    return std::min<index_t>(1024, (most + per_part - 1) / per_part);
}

/// Enqueues the block histograms of every clip of `clips` with `coder` (see kernels/clip.cuh)
/// into d_out (clips x (blocks x total), row stride h.out_stride).
template <class Coder>
void clip_histograms_cuda(const exec::cuda_policy& policy, const device_batch_view<const std::uint8_t>& clips,
                          const Coder& coder, index_t table_size, clip_hist_args h, float* d_out, const char* where) {
    namespace k = cuda::kernels;
    cuda::require_device(where);
    const index_t n = clips.shape(0);
    h.parts = clip_parts(h, n);
    const std::size_t smem = sizeof(unsigned) * static_cast<std::size_t>(h.total + table_size);
    if (h.parts > 1) {
        const std::size_t width = sizeof(float) * static_cast<std::size_t>(h.blocks * h.total);
        const std::size_t pitch = n == 1 ? width : sizeof(float) * static_cast<std::size_t>(h.out_stride);
        cuda::check(cudaMemset2DAsync(d_out, pitch, 0, width, static_cast<std::size_t>(n), policy.stream()), where,
                    "cudaMemset2DAsync");
    }
    launch_per_crop_chunk(n, where, [&](index_t n0, index_t count) {
        h.n0 = n0;
        const dim3 grid(static_cast<unsigned>(h.blocks), static_cast<unsigned>(count), static_cast<unsigned>(h.parts));
        k::clip_block_counts<Coder><<<grid, k::descriptor_threads, smem, policy.stream()>>>(clips, coder, h, d_out);
        if (h.parts > 1 && h.grid.norm == hist_norm::l1) {
            cuda::check_launch(where);
            k::clip_block_normalise<<<dim3(static_cast<unsigned>(h.blocks), static_cast<unsigned>(count)),
                                      k::descriptor_threads, 0, policy.stream()>>>(h, d_out);
        }
    });
}

FERX_ARCH_NAMESPACE_END
}  // namespace detail
FERX_NAMESPACE_END
