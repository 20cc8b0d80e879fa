/// \file ferx/cuda/kernels/lpq.cuh
/// The LPQ kernel (see ferx/cuda/kernels/descriptor.cuh for the scheme).
#pragma once

#include <ferx/core/view.hpp>
#include <ferx/cuda/kernels/descriptor.cuh>
#include <ferx/features/detail/lpq_core.hpp>
#include <ferx/features/detail/grid.hpp>

#include <cstdint>

FERX_NAMESPACE_BEGIN
namespace cuda {
namespace kernels {
FERX_ARCH_NAMESPACE_BEGIN
namespace {

using lpq_args = ferx::detail::lpq_cuda_args;

/// One grid cell of one crop: each pixel's code by lpq_code_at, a 256-bin shared histogram.
__global__ void __launch_bounds__(descriptor_threads)
    lpq_cells(device_volume_view<const std::uint8_t> src, lpq_args a, float* out) {
    __shared__ unsigned hist[256];
    for (int b = threadIdx.x; b < 256; b += blockDim.x) hist[b] = 0;
    __syncthreads();
    const auto img = src[a.n0 + static_cast<index_t>(blockIdx.y)];
    const auto code_of = [&](index_t y, index_t x) {
        return ferx::detail::lpq_code_at(img.data() + y * img.stride(0) + x, img.stride(0), a.window, a.kre, a.kim, a.v,
                                          a.decorrelate);
    };
    cell_histogram(a.grid, a.code_rows, a.code_cols, hist, 256, code_of,
                   out + (a.n0 + static_cast<index_t>(blockIdx.y)) * a.out_stride + static_cast<index_t>(blockIdx.x) * 256);
}

}  // namespace
FERX_ARCH_NAMESPACE_END
}  // namespace kernels
}  // namespace cuda
FERX_NAMESPACE_END
