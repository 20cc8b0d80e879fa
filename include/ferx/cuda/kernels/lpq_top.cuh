/// \file ferx/cuda/kernels/lpq_top.cuh
/// The LPQ-TOP coder of the clip block histograms (see ferx/cuda/kernels/clip.cuh): a voxel's
/// XY, XT and YT codes by lpq_top_codes_at (lpq_code_at on the windows centred on it in the three
/// planes, the operations of the host's separable pass each rounded on its own).
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
        std::uint8_t codes[3];
        ferx::detail::lpq_top_codes_at(clip, st, sy, t, y, x, a, codes);
        for (int k = 0; k < 3; ++k) atomicAdd(hist + k * 256 + codes[k], 1u);
    }
};

}  // namespace
FERX_ARCH_NAMESPACE_END
}  // namespace kernels
}  // namespace cuda
FERX_NAMESPACE_END
