/// \file ferx/cuda/dispatch/hog.cuh
/// The `exec::cuda` backend of HOG for batches of 8-bit crops: one thread block per (HOG block,
/// crop), see ferx/cuda/kernels/hog.cuh. Blocks of at most 4 cells (the usual 2x2) and at most
/// 4096 pixels. The per-pixel cell weights (a few KB) are computed on the host, exactly as
/// `seq` computes them, and copied to a device buffer for the call. Included by
/// ferx/features/hog.hpp when compiled by nvcc.
#pragma once

#include <ferx/core/execution.hpp>
#include <ferx/core/view.hpp>
#include <ferx/cuda/dispatch/descriptor.cuh>
#include <ferx/cuda/kernels/hog.cuh>
#include <ferx/cuda/memory.cuh>
#include <ferx/cuda/runtime.cuh>
#include <ferx/features/hog.hpp>

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
    if (p.block.rows * p.block.cols > 4096) throw error(where, "the CUDA backend takes blocks of at most 4096 pixels");
    cuda::require_device(where);
    detail::hog_workspace ws;
    detail::hog_block_tables(p, l, ws);
    cuda::device_buffer<float> d_w4(ws.w4.size());
    cuda::check(cudaMemcpyAsync(d_w4.data(), ws.w4.data(), d_w4.bytes(), cudaMemcpyHostToDevice, policy.stream()), where,
                "cudaMemcpyAsync");
    cuda::kernels::hog_args a{};
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
        cuda::kernels::hog_blocks<Norm><<<grid, cuda::kernels::descriptor_threads, smem, policy.stream()>>>(
            batch, a, d_w4.data(), out.data());
    });
}

FERX_NAMESPACE_END
