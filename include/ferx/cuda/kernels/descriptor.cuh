/// \file ferx/cuda/kernels/descriptor.cuh
/// Pieces shared by the descriptor kernels (HOG, LBP, LPQ): launch shape, grid cells, histogram
/// output. Descriptor kernels run one thread block per (unit, crop): blockIdx.x the unit (a HOG
/// block, a grid cell), blockIdx.y the crop; histograms are privatised in shared memory, and every
/// floating-point operation is rounded as on the CPU (ferx/core/rounding.hpp), so the
/// kernels give `seq`'s results bit for bit. Kernels live in an unnamed namespace (one copy per
/// translation unit and GPU architecture list).
#pragma once

#include <ferx/core/view.hpp>
#include <ferx/features/detail/grid.hpp>
#include <ferx/core/rounding.hpp>

#include <cstdint>

FERX_NAMESPACE_BEGIN
namespace cuda {
namespace kernels {
FERX_ARCH_NAMESPACE_BEGIN
namespace {

/// Threads per block of the descriptor kernels.
inline constexpr int descriptor_threads = 256;

/// Grid-cell bounds of cell blockIdx.x of a code image.
__device__ inline void cell_bounds(const grid_spec& g, index_t code_rows, index_t code_cols, index_t& y0, index_t& y1,
                                   index_t& x0, index_t& x1) {
    const index_t cell = static_cast<index_t>(blockIdx.x);
    ferx::detail::grid_bounds(code_rows, g.cells.rows, g.overlap, cell / g.cells.cols, y0, y1);
    ferx::detail::grid_bounds(code_cols, g.cells.cols, g.overlap, cell % g.cells.cols, x0, x1);
}

/// Writes a shared-memory count histogram as floats (normalised as seq does).
__device__ inline void write_histogram(const unsigned* hist, index_t bins, const grid_spec& g, index_t npix, float* o) {
    const float inv = 1.f / static_cast<float>(npix);
    for (index_t b = threadIdx.x; b < bins; b += blockDim.x) {
        const float count = static_cast<float>(hist[b]);
        o[b] = g.norm == hist_norm::l1 ? ferx::detail::mul_rn(count, inv) : count;
    }
}

/// The histogram of grid cell blockIdx.x: counts code_of(y, x) (code-image coordinates) over the
/// cell's pixels into the zeroed shared histogram `hist`, then writes it to `out` normalised.
template <class CodeOf>
__device__ inline void cell_histogram(const grid_spec& g, index_t code_rows, index_t code_cols, unsigned* hist,
                                      index_t bins, CodeOf code_of, float* out) {
    index_t y0, y1, x0, x1;
    cell_bounds(g, code_rows, code_cols, y0, y1, x0, x1);
    const index_t cw = x1 - x0, npix = (y1 - y0) * cw;
    for (index_t p = threadIdx.x; p < npix; p += blockDim.x) atomicAdd(&hist[code_of(y0 + p / cw, x0 + p % cw)], 1u);
    __syncthreads();
    write_histogram(hist, bins, g, npix, out);
}

}  // namespace
FERX_ARCH_NAMESPACE_END
}  // namespace kernels
}  // namespace cuda
FERX_NAMESPACE_END
