/// \file ferx/cuda/dispatch/lbp_top.cuh
/// The `exec::cuda` launch of LBP-TOP for device batches of 8-bit clips: the clip block
/// histograms (ferx/cuda/dispatch/clip.cuh) with the LBP-TOP coder (ferx/cuda/kernels/lbp_top.cuh).
/// The host side (checks, samples) is descriptor_traits<lbp_top_params<Mapping>>::compute_cuda in
/// ferx/features/lbp_top.hpp, which includes this file at its end under nvcc. Asynchronous, no
/// allocation.
#pragma once

#include <ferx/core/execution.hpp>
#include <ferx/core/view.hpp>
#include <ferx/cuda/dispatch/clip.cuh>
#include <ferx/cuda/kernels/lbp_top.cuh>
#include <ferx/features/detail/clip_core.hpp>
#include <ferx/features/detail/lbp_top_core.hpp>

#include <cstdint>

FERX_NAMESPACE_BEGIN
namespace detail {
FERX_ARCH_NAMESPACE_BEGIN

template <class Mapping>
void lbp_top_cuda(const exec::cuda_policy& policy, const device_batch_view<const std::uint8_t>& clips,
                  const lbp_top_cuda_args& a, const clip_hist_args& h, float* d_out) {
    cuda::kernels::lbp_top_coder<Mapping> coder{a, {h.nb[0], h.nb[1], h.nb[2]}};
    index_t table = 0;
    if (a.table)
        for (int k = 0; k < 3; ++k) table += index_t{1} << a.points[k];
    clip_histograms_cuda(policy, clips, coder, table, h, d_out, "ferx::lbp_top (cuda)");
}

FERX_ARCH_NAMESPACE_END
}  // namespace detail
FERX_NAMESPACE_END
