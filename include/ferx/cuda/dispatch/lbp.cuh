/// \file ferx/cuda/dispatch/lbp.cuh
/// The `exec::cuda` backend of LBP for batches of 8-bit crops: one thread block per (grid cell,
/// crop) with a shared-memory histogram, see ferx/cuda/kernels/lbp.cuh. Histograms of at most
/// 8192 bins (lbp_none: P <= 13). Included by ferx/features/lbp.hpp when compiled by nvcc.
#pragma once

#include <ferx/core/execution.hpp>
#include <ferx/core/view.hpp>
#include <ferx/cuda/dispatch/descriptor.cuh>
#include <ferx/cuda/kernels/lbp.cuh>
#include <ferx/cuda/runtime.cuh>
#include <ferx/features/lbp.hpp>

#include <algorithm>

FERX_NAMESPACE_BEGIN

template <class Mapping>
void descriptor_traits<lbp_params<Mapping>>::compute_cuda(const exec::cuda_policy& policy,
                                                          const device_volume_view<const std::uint8_t>& batch,
                                                          const lbp_params<Mapping>& p,
                                                          const tensor_view<float, 2, memory_space::device>& out) {
    constexpr const char* where = "ferx::lbp (cuda)";
    length(p, batch.rows(), batch.cols());  // checks
    const index_t bins = Mapping::bins(p.points);
    if (bins > 8192) throw error(where, "the CUDA backend takes histograms of at most 8192 bins, got " + std::to_string(bins));
    cuda::require_device(where);
    cuda::kernels::lbp_args a{};
    const auto taps = detail::lbp_taps(p.points, p.radius);
    std::copy(taps.begin(), taps.end(), a.taps);
    a.grid = p.grid;
    a.margin = detail::lbp_margin(p.radius);
    a.code_rows = batch.rows() - 2 * a.margin;
    a.code_cols = batch.cols() - 2 * a.margin;
    a.bins = bins;
    a.out_stride = out.stride(0);
    a.points = p.points;
    a.table = p.points <= 12 && !std::is_same<Mapping, lbp_none>::value;
    const std::size_t smem = sizeof(unsigned) * static_cast<std::size_t>(bins + (a.table ? (index_t{1} << p.points) : 0));
    const index_t cells = p.grid.cells.rows * p.grid.cells.cols;
    detail::launch_per_crop_chunk(policy, batch.shape(0), where, [&](index_t n0, index_t count) {
        a.n0 = n0;
        const dim3 grid(static_cast<unsigned>(cells), static_cast<unsigned>(count));
        cuda::kernels::lbp_cells<Mapping><<<grid, cuda::kernels::descriptor_threads, smem, policy.stream()>>>(batch, a,
                                                                                                             out.data());
    });
}

template <class Mapping>
void descriptor_traits<lbp_multiscale_params<Mapping>>::compute_cuda(
    const exec::cuda_policy& policy, const device_volume_view<const std::uint8_t>& batch,
    const lbp_multiscale_params<Mapping>& p, const tensor_view<float, 2, memory_space::device>& out) {
    index_t col = 0;
    for (const auto& s : p.scales) {
        const index_t len = descriptor_traits<lbp_params<Mapping>>::length(s, batch.rows(), batch.cols());
        const tensor_view<float, 2, memory_space::device> part(out.data() + col, {out.shape(0), len},
                                                               {out.stride(0), 1});
        descriptor_traits<lbp_params<Mapping>>::compute_cuda(policy, batch, s, part);
        col += len;
    }
}

FERX_NAMESPACE_END
