/// \file ferx/cuda/dispatch/integral.cuh
/// The `exec::cuda` backend of ferx::integral: checks the device, chooses launch shapes and
/// enqueues the kernels of ferx/cuda/kernels/integral.cuh on the policy's stream. Nothing is
/// allocated: the row-prefix pass writes into the sum output, which the column pass then scans
/// in place; no host synchronisation. Included by ferx/detect/integral.hpp when compiled by nvcc
/// (argument checks happen there, before this is called).
#pragma once

#include <ferx/core/execution.hpp>
#include <ferx/core/view.hpp>
#include <ferx/cuda/kernels/integral.cuh>
#include <ferx/cuda/runtime.cuh>
#include <ferx/detect/detail/integral_core.hpp>

#include <algorithm>

FERX_NAMESPACE_BEGIN
namespace detail {
FERX_ARCH_NAMESPACE_BEGIN

template <class T, class S, class Q>
void integral_cuda(const exec::cuda_policy& policy, const device_volume_view<const T>& src,
                   const device_volume_view<S>& sum, const device_volume_view<Q>& sqsum,
                   const device_volume_view<S>& tilted) {
    namespace k = cuda::kernels;
    constexpr const char* where = "ferx::integral (cuda)";
    cuda::require_device(where);
    using AS = integral_acc_t<T, S>;
    using AQ = integral_sq_acc_t<T, Q>;
    cudaStream_t stream = policy.stream();
    const index_t frames = src.shape(0), h = src.rows(), w = src.cols();
    const bool sq = sqsum.data() != nullptr, tilt = tilted.data() != nullptr;

    // Pass 1: one warp per row of every frame.
    const index_t all_rows = frames * h;
    const index_t row_blocks = (all_rows + k::integral_row_warps - 1) / k::integral_row_warps;
    if (row_blocks > 0x7fffffff) throw error(where, "the batch has too many rows for one launch");
    const dim3 row_grid(static_cast<unsigned>(row_blocks));
    const dim3 row_block(32 * k::integral_row_warps);
    if (sq)
        k::integral_rows<T, S, Q, AS, AQ, true><<<row_grid, row_block, 0, stream>>>(src, sum, sqsum);
    else
        k::integral_rows<T, S, Q, AS, AQ, false><<<row_grid, row_block, 0, stream>>>(src, sum, sqsum);
    cuda::check_launch(where);

    // Passes 2 and 3 put frames on grid.y, at most 65535 a launch.
    constexpr index_t max_grid_y = 65535;
    for (index_t f0 = 0; f0 < frames; f0 += max_grid_y) {
        const unsigned nf = static_cast<unsigned>(std::min(max_grid_y, frames - f0));
        if (tilt) {
            const index_t diags = w + h + 1;
            const dim3 grid(static_cast<unsigned>((diags + k::integral_diag_threads - 1) / k::integral_diag_threads), nf);
            const device_volume_view<const S> prefix = sum;
            k::integral_tilted_anti<S, AS><<<grid, k::integral_diag_threads, 0, stream>>>(prefix, tilted, f0);
            cuda::check_launch(where);
            k::integral_tilted_diag<S, AS><<<grid, k::integral_diag_threads, 0, stream>>>(prefix, tilted, f0);
            cuda::check_launch(where);
        }
        const dim3 col_grid(static_cast<unsigned>((w + 1 + k::integral_col_tile - 1) / k::integral_col_tile), nf);
        const dim3 col_block(k::integral_col_tile, k::integral_col_tile);
        k::integral_cols<S, AS><<<col_grid, col_block, 0, stream>>>(sum, f0);
        cuda::check_launch(where);
        if (sq) {
            k::integral_cols<Q, AQ><<<col_grid, col_block, 0, stream>>>(sqsum, f0);
            cuda::check_launch(where);
        }
    }
}

FERX_ARCH_NAMESPACE_END
}  // namespace detail
FERX_NAMESPACE_END
