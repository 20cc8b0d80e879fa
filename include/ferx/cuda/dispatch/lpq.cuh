/// \file ferx/cuda/dispatch/lpq.cuh
/// The `exec::cuda` launch of LPQ for batches of 8-bit crops: one thread block per (grid cell,
/// crop) with a 256-bin shared-memory histogram, see ferx/cuda/kernels/lpq.cuh. The host side
/// (checks, the STFT kernel and whitening) is descriptor_traits<lpq_params>::compute_cuda in
/// ferx/features/lpq.hpp, which includes this file at its end under nvcc. Asynchronous, no
/// allocation.
#pragma once

#include <ferx/core/execution.hpp>
#include <ferx/core/view.hpp>
#include <ferx/cuda/dispatch/descriptor.cuh>
#include <ferx/cuda/kernels/lpq.cuh>
#include <ferx/cuda/runtime.cuh>
#include <ferx/features/detail/lpq_core.hpp>

FERX_NAMESPACE_BEGIN
namespace detail {
FERX_ARCH_NAMESPACE_BEGIN

inline void lpq_cuda(const exec::cuda_policy& policy, const device_volume_view<const std::uint8_t>& batch, lpq_cuda_args a,
                     float* d_out) {
    constexpr const char* where = "ferx::lpq (cuda)";
    namespace k = cuda::kernels;
    cuda::require_device(where);
    const index_t cells = a.grid.cells.rows * a.grid.cells.cols;
    launch_per_crop_chunk(batch.shape(0), where, [&](index_t n0, index_t count) {
        a.n0 = n0;
        const dim3 grid(static_cast<unsigned>(cells), static_cast<unsigned>(count));
        k::lpq_cells<<<grid, k::descriptor_threads, 0, policy.stream()>>>(batch, a, d_out);
    });
}

FERX_ARCH_NAMESPACE_END
}  // namespace detail
FERX_NAMESPACE_END
