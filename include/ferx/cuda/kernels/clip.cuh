/// \file ferx/cuda/kernels/clip.cuh
/// The block histograms of the clip descriptors (LBP-TOP, LPQ-TOP, VLPQ): one thread block per
/// (block of the clip grid, clip, part of the block), blockIdx.x / .y / .z. Each thread takes
/// voxels of the block's part, asks the descriptor's coder for the voxel's label on every plane
/// and counts them into the block's histograms in shared memory. With one part the thread block
/// writes the histograms normalised (as clip_block_histograms does, the same float operations);
/// with several, each adds its integer counts to the zeroed output as floats (exact below 2^24
/// voxels a block) and clip_block_normalise scales them after.
///
/// A coder (ferx/cuda/kernels/{lbp_top,lpq_top,vlpq}.cuh) is a struct passed by value with
///   - `__device__ void fill_table(unsigned*) const`, called by every thread before any count:
///     fills the shared memory after the histograms (label tables; as many unsigned ints as the
///     dispatcher was told, none for most coders);
///   - `__device__ void count(const std::uint8_t* clip, index_t st, index_t sy, index_t t,
///     index_t y, index_t x, unsigned* hist, const unsigned* table) const`: adds 1 to the bin of
///     voxel (t, y, x) (code-volume coordinates) in each plane's histogram (plane k at
///     hist + nb[0] + ... + nb[k-1]).
#pragma once

#include <ferx/core/rounding.hpp>
#include <ferx/core/view.hpp>
#include <ferx/cuda/kernels/descriptor.cuh>
#include <ferx/features/detail/clip_core.hpp>

#include <cstdint>

FERX_NAMESPACE_BEGIN
namespace cuda {
namespace kernels {
FERX_ARCH_NAMESPACE_BEGIN
namespace {

using clip_args = ferx::detail::clip_hist_args;

/// 1 / voxels of a block as the host computes it (in double, then rounded to float).
__device__ inline float clip_block_inv(index_t voxels) {
    return static_cast<float>(ferx::detail::div_rn(1.0, static_cast<double>(voxels)));
}

template <class Coder>
__global__ void __launch_bounds__(descriptor_threads)
    clip_block_counts(device_batch_view<const std::uint8_t> src, Coder coder, clip_args h, float* out) {
    extern __shared__ unsigned ushared[];
    unsigned* hist = ushared;
    unsigned* table = ushared + h.total;
    for (index_t i = threadIdx.x; i < h.total; i += blockDim.x) hist[i] = 0;
    coder.fill_table(table);
    __syncthreads();
    const index_t b = static_cast<index_t>(blockIdx.x), n = h.n0 + static_cast<index_t>(blockIdx.y);
    index_t t0, t1, y0, y1, x0, x1;
    ferx::detail::clip_block_bounds(h.grid, h.ct, h.ch, h.cw, b, t0, t1, y0, y1, x0, x1);
    const index_t bw = x1 - x0, plane = (y1 - y0) * bw, voxels = (t1 - t0) * plane;
    const index_t part = static_cast<index_t>(blockIdx.z);
    const index_t v0 = voxels * part / h.parts, v1 = voxels * (part + 1) / h.parts;
    const auto clip = src[n];
    const std::uint8_t* base = clip.data();
    const index_t st = clip.stride(0), sy = clip.stride(1);
    for (index_t v = v0 + static_cast<index_t>(threadIdx.x); v < v1; v += blockDim.x) {
        const index_t r = v % plane;
        coder.count(base, st, sy, t0 + v / plane, y0 + r / bw, x0 + r % bw, hist, table);
    }
    __syncthreads();
    float* o = out + n * h.out_stride + b * h.total;
    if (h.parts == 1) {
        const float inv = clip_block_inv(voxels);
        for (index_t i = threadIdx.x; i < h.total; i += blockDim.x) {
            const float count = static_cast<float>(hist[i]);
            o[i] = h.grid.norm == hist_norm::l1 ? ferx::detail::mul_rn(count, inv) : count;
        }
    } else {
        for (index_t i = threadIdx.x; i < h.total; i += blockDim.x)
            if (hist[i] != 0) atomicAdd(o + i, static_cast<float>(hist[i]));
    }
}

/// Scales the summed counts of block blockIdx.x of clip n0 + blockIdx.y by 1 / voxels (l1).
__global__ void __launch_bounds__(descriptor_threads) clip_block_normalise(clip_args h, float* out) {
    const index_t b = static_cast<index_t>(blockIdx.x), n = h.n0 + static_cast<index_t>(blockIdx.y);
    index_t t0, t1, y0, y1, x0, x1;
    ferx::detail::clip_block_bounds(h.grid, h.ct, h.ch, h.cw, b, t0, t1, y0, y1, x0, x1);
    const float inv = clip_block_inv((t1 - t0) * (y1 - y0) * (x1 - x0));
    float* o = out + n * h.out_stride + b * h.total;
    for (index_t i = threadIdx.x; i < h.total; i += blockDim.x) o[i] = ferx::detail::mul_rn(o[i], inv);
}

}  // namespace
FERX_ARCH_NAMESPACE_END
}  // namespace kernels
}  // namespace cuda
FERX_NAMESPACE_END
