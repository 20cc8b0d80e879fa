/// \file ferx/cuda/dispatch/lpq.cuh
/// The `exec::cuda` backend of LPQ for batches of 8-bit crops: one thread block per (grid cell,
/// crop) with a 256-bin shared-memory histogram, see ferx/cuda/kernels/lpq.cuh. Windows up to
/// 31 x 31 (the kernel coefficients travel as launch arguments). Included by
/// ferx/features/lpq.hpp when compiled by nvcc.
#pragma once

#include <ferx/core/execution.hpp>
#include <ferx/core/view.hpp>
#include <ferx/cuda/dispatch/descriptor.cuh>
#include <ferx/cuda/kernels/lpq.cuh>
#include <ferx/cuda/runtime.cuh>
#include <ferx/features/lpq.hpp>

#include <algorithm>
#include <vector>

FERX_NAMESPACE_BEGIN

inline void descriptor_traits<lpq_params>::compute_cuda(const exec::cuda_policy& policy,
                                                        const device_volume_view<const std::uint8_t>& batch,
                                                        const lpq_params& p,
                                                        const tensor_view<float, 2, memory_space::device>& out) {
    constexpr const char* where = "ferx::lpq (cuda)";
    length(p, batch.rows(), batch.cols());  // checks
    if (p.window > 31) throw error(where, "the CUDA backend takes windows up to 31x31, got " + std::to_string(p.window));
    cuda::require_device(where);
    cuda::kernels::lpq_args a{};
    std::vector<double> kre, kim;
    detail::stft_kernel(p.window, kre, kim);
    std::copy(kre.begin(), kre.end(), a.kre);
    std::copy(kim.begin(), kim.end(), a.kim);
    if (p.decorrelate) {
        const auto v = detail::lpq_whitening_matrix(p.window, p.rho);
        std::copy(v.begin(), v.end(), a.v);
    }
    a.grid = p.grid;
    a.code_rows = batch.rows() - p.window + 1;
    a.code_cols = batch.cols() - p.window + 1;
    a.out_stride = out.stride(0);
    a.window = p.window;
    a.decorrelate = p.decorrelate;
    const index_t cells = p.grid.cells.rows * p.grid.cells.cols;
    detail::launch_per_crop_chunk(policy, batch.shape(0), where, [&](index_t n0, index_t count) {
        a.n0 = n0;
        const dim3 grid(static_cast<unsigned>(cells), static_cast<unsigned>(count));
        cuda::kernels::lpq_cells<<<grid, cuda::kernels::descriptor_threads, 0, policy.stream()>>>(batch, a, out.data());
    });
}

FERX_NAMESPACE_END
