/// \file ferx/cuda/dispatch/hog.cuh
/// The `exec::cuda` backend of HOG for batches of 8-bit crops: one thread block per (HOG block,
/// crop), see ferx/cuda/kernels/hog.cuh. Blocks of at most 4 cells (the usual 2x2) and at most
/// 1024 pixels (32x32). The per-pixel cell weights are computed on the host, exactly as `seq`
/// computes them, and travel in the launch arguments: a call allocates no device memory.
/// Included by ferx/features/hog.hpp when compiled by nvcc.
#pragma once

#include <ferx/core/execution.hpp>
#include <ferx/core/view.hpp>
#include <ferx/cuda/dispatch/descriptor.cuh>
#include <ferx/cuda/kernels/hog.cuh>
#include <ferx/cuda/runtime.cuh>
#include <ferx/features/hog.hpp>

#include <algorithm>
#include <string>

FERX_NAMESPACE_BEGIN

template <class Norm>
void descriptor_traits<hog_params<Norm>>::compute_cuda(const exec::cuda_policy& policy,
                                                       const device_volume_view<const std::uint8_t>& batch,
                                                       const hog_params<Norm>& p,
                                                       const tensor_view<float, 2, memory_space::device>& out) {
    constexpr const char* where = "ferx::hog (cuda)";
    const detail::hog_layout l = detail::hog_check(p, batch.rows(), batch.cols());
    if (l.cells_x * l.cells_y > 4)
        throw error(where, "the CUDA backend takes blocks of at most 4 cells (e.g. 2x2), got " +
                               std::to_string(l.cells_y) + "x" + std::to_string(l.cells_x));
    if (p.block.rows * p.block.cols > cuda::kernels::hog_max_block_pixels)
        throw error(where, "the CUDA backend takes blocks of at most " +
                               std::to_string(cuda::kernels::hog_max_block_pixels) + " pixels");
    cuda::require_device(where);
    detail::hog_workspace ws;
    detail::hog_block_tables(p, l, ws);
    cuda::kernels::hog_args a{};
    std::copy(ws.w4.begin(), ws.w4.end(), a.w4);
    a.blocks_y = l.blocks_y;
    a.block_len = l.block_len;
    a.bh = p.block.rows;
    a.bw = p.block.cols;
    a.sy = p.block_stride.rows;
    a.sx = p.block_stride.cols;
    a.out_stride = out.stride(0);
    a.bins = p.bins;
    a.cells = static_cast<int>(l.cells_x * l.cells_y);
    a.angle_scale = l.angle_scale;
    a.threshold = static_cast<float>(p.l2hys_threshold);
    a.gamma = p.gamma_correction;
    const std::size_t smem = sizeof(float) * static_cast<std::size_t>(3 * a.bh * a.bw + 12 * (a.bins + 1));
    const index_t nblocks = l.blocks_x * l.blocks_y;
    detail::launch_per_crop_chunk(policy, batch.shape(0), where, [&](index_t n0, index_t count) {
        a.n0 = n0;
        const dim3 grid(static_cast<unsigned>(nblocks), static_cast<unsigned>(count));
        cuda::kernels::hog_blocks<Norm><<<grid, cuda::kernels::descriptor_threads, smem, policy.stream()>>>(batch, a,
                                                                                                          out.data());
    });
}

FERX_NAMESPACE_END
