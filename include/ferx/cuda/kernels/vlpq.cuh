/// \file ferx/cuda/kernels/vlpq.cuh
/// The VLPQ coder of the clip block histograms (see ferx/cuda/kernels/clip.cuh): a voxel's code
/// by vlpq_code_at, the host's sums in the host's order, each operation rounded on its own.
#pragma once

#include <ferx/core/view.hpp>
#include <ferx/cuda/kernels/clip.cuh>
#include <ferx/features/detail/vlpq_core.hpp>

#include <cstdint>

FERX_NAMESPACE_BEGIN
namespace cuda {
namespace kernels {
FERX_ARCH_NAMESPACE_BEGIN
namespace {

struct vlpq_coder {
    ferx::detail::vlpq_cuda_args a;

    __device__ void fill_table(unsigned*) const {}

    __device__ void count(const std::uint8_t* clip, index_t st, index_t sy, index_t t, index_t y, index_t x,
                          unsigned* hist, const unsigned*) const {
        atomicAdd(hist + ferx::detail::vlpq_code_at(clip + t * st + y * sy + x, st, sy, a.proj, a.ws, a.l, a.n), 1u);
    }
};

}  // namespace
FERX_ARCH_NAMESPACE_END
}  // namespace kernels
}  // namespace cuda
FERX_NAMESPACE_END
