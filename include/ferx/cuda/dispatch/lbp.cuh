/// \file ferx/cuda/dispatch/lbp.cuh
/// The `exec::cuda` launch of LBP for batches of 8-bit crops: one thread block per (grid cell,
/// crop) with a shared-memory histogram, see ferx/cuda/kernels/lbp.cuh. The host side (checks,
/// taps) is descriptor_traits<lbp_params<Mapping>>::compute_cuda in ferx/features/lbp.hpp, which
/// includes this file at its end under nvcc. Asynchronous, no allocation.
#pragma once

#include <ferx/core/execution.hpp>
#include <ferx/core/view.hpp>
#include <ferx/cuda/dispatch/descriptor.cuh>
#include <ferx/cuda/kernels/lbp.cuh>
#include <ferx/cuda/runtime.cuh>
#include <ferx/features/detail/lbp_core.hpp>

FERX_NAMESPACE_BEGIN
namespace detail {
FERX_ARCH_NAMESPACE_BEGIN

template <class Mapping>
void lbp_cuda(const exec::cuda_policy& policy, const device_volume_view<const std::uint8_t>& batch, lbp_cuda_args a,
              float* d_out) {
    constexpr const char* where = "ferx::lbp (cuda)";
    namespace k = cuda::kernels;
    cuda::require_device(where);
    const std::size_t smem = sizeof(unsigned) * static_cast<std::size_t>(a.bins + (a.table ? (index_t{1} << a.points) : 0));
    const index_t cells = a.grid.cells.rows * a.grid.cells.cols;
    launch_per_crop_chunk(batch.shape(0), where, [&](index_t n0, index_t count) {
        a.n0 = n0;
        const dim3 grid(static_cast<unsigned>(cells), static_cast<unsigned>(count));
        k::lbp_cells<Mapping><<<grid, k::descriptor_threads, smem, policy.stream()>>>(batch, a, d_out);
    });
}

FERX_ARCH_NAMESPACE_END
}  // namespace detail
FERX_NAMESPACE_END
