/// \file ferx/cuda/kernels/lpq_top.cuh
/// The LPQ-TOP coder of the clip block histograms (see ferx/cuda/kernels/clip.cuh): a voxel's
/// XY, XT and YT codes by lpq_code_at on the windows centred on it in the three planes, with the
/// operations of the host's separable pass each rounded on its own (bit for bit the host's codes).
#pragma once

#include <ferx/core/view.hpp>
#include <ferx/cuda/kernels/clip.cuh>
#include <ferx/features/detail/lpq_core.hpp>
#include <ferx/features/detail/lpq_top_core.hpp>

#include <cstdint>

FERX_NAMESPACE_BEGIN
namespace cuda {
namespace kernels {
FERX_ARCH_NAMESPACE_BEGIN
namespace {

struct lpq_top_coder {
    ferx::detail::lpq_top_cuda_args a;

    __device__ void fill_table(unsigned*) const {}

    __device__ void count(const std::uint8_t* clip, index_t st, index_t sy, index_t t, index_t y, index_t x,
                          unsigned* hist, const unsigned*) const {
        const index_t T = t + a.mt, Y = y + a.my, X = x + a.mx;
        const index_t rxy = (a.window[0] - 1) / 2, rxt = (a.window[1] - 1) / 2, ryt = (a.window[2] - 1) / 2;
        // XY: frame T (rows y, columns x); XT: row Y (rows t, columns x); YT: column X (rows t, columns y)
        const std::uint8_t* f[3] = {clip + T * st + (Y - rxy) * sy + (X - rxy), clip + (T - rxt) * st + Y * sy + (X - rxt),
                                    clip + (T - ryt) * st + (Y - ryt) * sy + X};
        const index_t pitch[3] = {sy, st, st}, col[3] = {1, 1, sy};
        for (int k = 0; k < 3; ++k) {
            const std::uint8_t code = ferx::detail::lpq_code_at(f[k], pitch[k], col[k], a.window[k], a.kre[k], a.kim[k],
                                                                a.v[k], a.decorrelate);
            atomicAdd(hist + k * 256 + code, 1u);
        }
    }
};

}  // namespace
FERX_ARCH_NAMESPACE_END
}  // namespace kernels
}  // namespace cuda
FERX_NAMESPACE_END
