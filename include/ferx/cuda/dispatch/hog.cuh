/// \file ferx/cuda/dispatch/hog.cuh
/// The `exec::cuda` launch of HOG for batches of 8-bit crops: one thread block per (HOG block,
/// crop), see ferx/cuda/kernels/hog.cuh. The host side (checks, the Gaussian table) is
/// descriptor_traits<hog_params<Norm>>::compute_cuda in ferx/features/hog.hpp, which includes
/// this file at its end under nvcc. The launch arguments are about 2 KB; the per-pixel cell
/// weights are computed by each thread block into shared memory, with the host's arithmetic
/// (detail::hog_cell_weights), so a call allocates nothing and does not synchronise.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/view.hpp>
#include <ferx/cuda/dispatch/descriptor.cuh>
#include <ferx/cuda/kernels/hog.cuh>
#include <ferx/cuda/runtime.cuh>
#include <ferx/features/detail/hog_core.hpp>

#include <string>

FERX_NAMESPACE_BEGIN
namespace detail {
FERX_ARCH_NAMESPACE_BEGIN

template <class Norm>
void hog_cuda(const exec::cuda_policy& policy, const device_volume_view<const std::uint8_t>& batch, hog_cuda_args a,
              index_t nblocks, float* d_out) {
    constexpr const char* where = "ferx::hog (cuda)";
    namespace k = cuda::kernels;
    const std::size_t smem = sizeof(float) * k::hog_shared_floats(a.bh * a.bw, a.bins);
    if (smem > 48 * 1024)
        throw error(where, "the block needs " + std::to_string(smem) + " bytes of shared memory, more than 48 KB (fewer bins or "
                           "a smaller block)");
    cuda::require_device(where);
    launch_per_crop_chunk(batch.shape(0), where, [&](index_t n0, index_t count) {
        a.n0 = n0;
        const dim3 grid(static_cast<unsigned>(nblocks), static_cast<unsigned>(count));
        k::hog_blocks<Norm><<<grid, k::descriptor_threads, smem, policy.stream()>>>(batch, a, d_out);
    });
}

FERX_ARCH_NAMESPACE_END
}  // namespace detail
FERX_NAMESPACE_END
