/// \file ferx/cuda/dispatch/vlpq.cuh
/// The `exec::cuda` launch of VLPQ for device batches of 8-bit clips: the clip block histograms
/// (ferx/cuda/dispatch/clip.cuh) with the VLPQ coder (ferx/cuda/kernels/vlpq.cuh), the plan's
/// projection in the kernel arguments (up to 12 KB). The host side (checks, the plan) is
/// descriptor_traits<vlpq_params>::compute_cuda in ferx/features/vlpq.hpp, which includes this
/// file at its end under nvcc. Asynchronous, no allocation.
#pragma once

#include <ferx/core/execution.hpp>
#include <ferx/core/view.hpp>
#include <ferx/cuda/dispatch/clip.cuh>
#include <ferx/cuda/kernels/vlpq.cuh>
#include <ferx/features/detail/clip_core.hpp>
#include <ferx/features/detail/vlpq_core.hpp>

#include <cuda_runtime.h>

#include <cstdint>

#if CUDART_VERSION < 12010
#error "ferx's VLPQ CUDA backend passes up to 12 KB of kernel arguments, which needs CUDA 12.1 or newer"
#endif

FERX_NAMESPACE_BEGIN
namespace detail {
FERX_ARCH_NAMESPACE_BEGIN

inline void vlpq_cuda(const exec::cuda_policy& policy, const device_batch_view<const std::uint8_t>& clips,
                      const vlpq_cuda_args& a, const clip_hist_args& h, float* d_out) {
    clip_histograms_cuda(policy, clips, cuda::kernels::vlpq_coder{a}, 0, h, d_out, "ferx::vlpq (cuda)");
}

FERX_ARCH_NAMESPACE_END
}  // namespace detail
FERX_NAMESPACE_END
