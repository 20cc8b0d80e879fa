/// \file ferx/cuda/dispatch/lpq_top.cuh
/// The `exec::cuda` launch of LPQ-TOP for device batches of 8-bit clips: the clip block
/// histograms (ferx/cuda/dispatch/clip.cuh) with the LPQ-TOP coder (ferx/cuda/kernels/lpq_top.cuh).
/// The host side (checks, coefficients) is descriptor_traits<lpq_top_params>::compute_cuda in
/// ferx/features/lpq_top.hpp, which includes this file at its end under nvcc. Asynchronous, no
/// allocation.
#pragma once

#include <ferx/core/execution.hpp>
#include <ferx/core/view.hpp>
#include <ferx/cuda/dispatch/clip.cuh>
#include <ferx/cuda/kernels/lpq_top.cuh>
#include <ferx/features/detail/clip_core.hpp>
#include <ferx/features/detail/lpq_top_core.hpp>

#include <cstdint>

FERX_NAMESPACE_BEGIN
namespace detail {
FERX_ARCH_NAMESPACE_BEGIN

inline void lpq_top_cuda(const exec::cuda_policy& policy, const device_batch_view<const std::uint8_t>& clips,
                         const lpq_top_cuda_args& a, const clip_hist_args& h, float* d_out) {
    clip_histograms_cuda(policy, clips, cuda::kernels::lpq_top_coder{a}, 0, h, d_out, "ferx::lpq_top (cuda)");
}

FERX_ARCH_NAMESPACE_END
}  // namespace detail
FERX_NAMESPACE_END
