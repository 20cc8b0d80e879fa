/// \file ferx/features/detail/clip_core.hpp
/// What the clip descriptors (LBP-TOP, LPQ-TOP, VLPQ) share on the host and on CUDA devices: the
/// block grid of a clip (`clip_grid`), the bounds of one block, and the launch arguments of the
/// CUDA block histograms (ferx/cuda/kernels/clip.cuh). Included by
/// ferx/features/clip_descriptor.hpp and the clip descriptors' CUDA kernels.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/view.hpp>
#include <ferx/features/descriptor.hpp>
#include <ferx/features/detail/grid.hpp>

#include <cstdint>

FERX_NAMESPACE_BEGIN

/// Blocks of a clip descriptor: cells.rows x cells.cols spatial blocks in each of `slices` time
/// slices; neighbouring blocks overlap by `overlap` of a block on every axis.
struct clip_grid {
    patch_size cells{4, 4};
    index_t slices = 1;
    double overlap = 0;
    hist_norm norm = hist_norm::l1;
};

namespace detail {

/// Bounds of block b of a clip grid over a ct x ch x cw code volume (block index
/// (slice * rows + row) * cols + col, as clip_block_histograms counts them).
FERX_HOST_DEVICE inline void clip_block_bounds(const clip_grid& g, index_t ct, index_t ch, index_t cw, index_t b,
                                               index_t& t0, index_t& t1, index_t& y0, index_t& y1, index_t& x0,
                                               index_t& x1) {
    const index_t per_slice = g.cells.rows * g.cells.cols;
    const index_t s = b / per_slice, r = (b % per_slice) / g.cells.cols, c = b % g.cells.cols;
    grid_bounds(ct, g.slices, g.overlap, s, t0, t1);
    grid_bounds(ch, g.cells.rows, g.overlap, r, y0, y1);
    grid_bounds(cw, g.cells.cols, g.overlap, c, x0, x1);
}

/// Launch arguments of the CUDA block histograms shared by the clip descriptors: one thread
/// block per (block of the grid, clip, part of the block); `planes` histograms of nb[k] bins per
/// block (`total` in all), one launch covering clips [n0, n0 + gridDim.y). With `parts` > 1 each
/// thread block counts one part of its block's voxels and adds its counts to the (zeroed) output
/// as floats, exact while a block holds at most 2^24 voxels; a second kernel normalises.
struct clip_hist_args {
    clip_grid grid;
    index_t ct = 0, ch = 0, cw = 0;  // the code volume
    index_t nb[3] = {0, 0, 0};
    index_t total = 0, blocks = 0, n0 = 0, out_stride = 0, parts = 1;
    int planes = 1;
};

}  // namespace detail
FERX_NAMESPACE_END
