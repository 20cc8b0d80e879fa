/// \file ferx/cuda/kernels/hog.cuh
/// The HOG kernel (see ferx/cuda/kernels/descriptor.cuh for the scheme).
#pragma once

#include <ferx/core/view.hpp>
#include <ferx/cuda/kernels/descriptor.cuh>
#include <ferx/features/detail/hog_core.hpp>
#include <ferx/features/detail/grid.hpp>

#include <cstdint>

FERX_NAMESPACE_BEGIN
namespace cuda {
namespace kernels {
FERX_ARCH_NAMESPACE_BEGIN
namespace {

using hog_args = ferx::detail::hog_cuda_args;

/// Shared memory of hog_blocks, floats: votes m0, m1, b0 (3 npix), accumulators 8 (bins + 1),
/// the block 4 bins (at most 4 cells), the cell weights 4 npix.
inline constexpr std::size_t hog_shared_floats(index_t npix, int bins) {
    return static_cast<std::size_t>(7 * npix + 8 * (bins + 1) + 4 * bins);
}

/// One HOG block of one crop: the block's pixel votes and per-pixel cell weights
/// (hog_cell_weights, from the Gaussian table of the arguments) into shared memory (one pixel a
/// thread), then each of the 8 (bins + 1) accumulators of hog_blocks4 by one thread, the fold of
/// the wrap bin, and the normalisation by thread 0 (sequential, as on the CPU).
/// Shared memory: hog_shared_floats(bh bw, bins) floats.
template <class Norm>
__global__ void __launch_bounds__(descriptor_threads)
    hog_blocks(device_volume_view<const std::uint8_t> src, const hog_args a, float* out) {
    extern __shared__ float smem[];
    const index_t npix = a.bh * a.bw;
    float* m0 = smem;
    float* m1 = m0 + npix;
    std::int32_t* b0 = reinterpret_cast<std::int32_t*>(m1 + npix);
    float* acc = reinterpret_cast<float*>(b0 + npix);
    const int nacc = 4 * (a.bins + 1);
    float* blk = acc + 2 * nacc;
    float* w4 = blk + 4 * a.bins;
    const index_t crop = a.n0 + static_cast<index_t>(blockIdx.y);
    const index_t k = static_cast<index_t>(blockIdx.x);
    const index_t y0 = (k % a.blocks_y) * a.sy, x0 = (k / a.blocks_y) * a.sx;
    const auto img = src[crop];
    for (index_t p = threadIdx.x; p < npix; p += blockDim.x) {
        int b;
        ferx::detail::hog_pixel_vote(img, y0 + p / a.bw, x0 + p % a.bw, a.gamma, a.angle_scale, a.bins, m0[p], m1[p], b);
        b0[p] = b;
        const index_t i = p / a.bw, j = p % a.bw;
        ferx::detail::hog_cell_weights(i, j, a.cell_rows, a.cell_cols, a.cells_y, a.cells_x,
                                       a.gauss[ferx::detail::hog_gauss_index(i, j, a.bh, a.bw)], w4 + 4 * p);
    }
    __syncthreads();
    for (int t = threadIdx.x; t < 2 * nacc; t += blockDim.x)
        acc[t] = ferx::detail::hog_block4_acc(t / nacc, (t % nacc) / 4, t % 4, m0, m1, b0, a.bw, w4, a.bh, a.bw);
    __syncthreads();
    for (int t = threadIdx.x; t < a.cells * a.bins; t += blockDim.x) {
        const int c = t / a.bins, b = t % a.bins;
        using ferx::detail::add_rn;
        blk[t] = b == 0 ? add_rn(add_rn(acc[c], acc[nacc + c]), add_rn(acc[4 * a.bins + c], acc[nacc + 4 * a.bins + c]))
                        : add_rn(acc[4 * b + c], acc[nacc + 4 * b + c]);
    }
    __syncthreads();
    if (threadIdx.x == 0) Norm::apply(blk, a.block_len, a.threshold);
    __syncthreads();
    float* o = out + crop * a.out_stride + k * a.block_len;
    for (index_t t = threadIdx.x; t < a.block_len; t += blockDim.x) o[t] = blk[t];
}

}  // namespace
FERX_ARCH_NAMESPACE_END
}  // namespace kernels
}  // namespace cuda
FERX_NAMESPACE_END
