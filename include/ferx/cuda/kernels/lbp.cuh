/// \file ferx/cuda/kernels/lbp.cuh
/// The LBP kernel (see ferx/cuda/kernels/descriptor.cuh for the scheme).
#pragma once

#include <ferx/core/view.hpp>
#include <ferx/cuda/kernels/descriptor.cuh>
#include <ferx/features/detail/lbp_core.hpp>
#include <ferx/features/detail/grid.hpp>

#include <cstdint>

FERX_NAMESPACE_BEGIN
namespace cuda {
namespace kernels {
FERX_ARCH_NAMESPACE_BEGIN
namespace {

using lbp_args = ferx::detail::lbp_cuda_args;

/// One grid cell of one crop: codes of the cell's pixels, labels, a shared-memory histogram.
/// Shared memory: bins (+ 2^P with a table) unsigned ints.
template <class Mapping>
__global__ void __launch_bounds__(descriptor_threads)
    lbp_cells(device_volume_view<const std::uint8_t> src, lbp_args a, float* out) {
    extern __shared__ unsigned ushared[];
    unsigned* hist = ushared;
    unsigned* table = ushared + a.bins;
    for (index_t b = threadIdx.x; b < a.bins; b += blockDim.x) hist[b] = 0;
    if (a.table)
        for (std::uint32_t c = threadIdx.x; c < (1u << a.points); c += blockDim.x)
            table[c] = ferx::detail::lbp_label_direct<Mapping>(c, a.points);
    __syncthreads();
    const auto img = src[a.n0 + static_cast<index_t>(blockIdx.y)];
    const auto code_of = [&](index_t y, index_t x) {
        const std::uint8_t* c = img.data() + (y + a.margin) * img.stride(0) + x + a.margin;
        const std::uint32_t code = ferx::detail::lbp_code_at(c, img.stride(0), a.taps, a.points);
        return a.table ? table[code] : ferx::detail::lbp_label_direct<Mapping>(code, a.points);
    };
    cell_histogram(a.grid, a.code_rows, a.code_cols, hist, a.bins, code_of,
                   out + (a.n0 + static_cast<index_t>(blockIdx.y)) * a.out_stride + static_cast<index_t>(blockIdx.x) * a.bins);
}

}  // namespace
FERX_ARCH_NAMESPACE_END
}  // namespace kernels
}  // namespace cuda
FERX_NAMESPACE_END
