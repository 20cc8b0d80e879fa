/// \file ferx/cuda/kernels/lbp_top.cuh
/// The LBP-TOP coder of the clip block histograms (see ferx/cuda/kernels/clip.cuh): a voxel's
/// XY, XT and YT codes by lbp_top_code_at (the host's integer arithmetic), mapped by
/// lbp_label_direct or by label tables built in shared memory (P <= 10 on every plane).
#pragma once

#include <ferx/core/view.hpp>
#include <ferx/cuda/kernels/clip.cuh>
#include <ferx/features/detail/lbp_core.hpp>
#include <ferx/features/detail/lbp_top_core.hpp>

#include <cstdint>

FERX_NAMESPACE_BEGIN
namespace cuda {
namespace kernels {
FERX_ARCH_NAMESPACE_BEGIN
namespace {

template <class Mapping>
struct lbp_top_coder {
    ferx::detail::lbp_top_cuda_args a;
    index_t nb[3];

    __device__ void fill_table(unsigned* table) const {
        if (!a.table) return;
        for (int k = 0; k < 3; ++k) {
            const std::uint32_t codes = std::uint32_t{1} << a.points[k];
            for (std::uint32_t c = threadIdx.x; c < codes; c += blockDim.x)
                table[c] = ferx::detail::lbp_label_direct<Mapping>(c, a.points[k]);
            table += codes;
        }
    }

    __device__ void count(const std::uint8_t* clip, index_t st, index_t sy, index_t t, index_t y, index_t x,
                          unsigned* hist, const unsigned* table) const {
        std::uint32_t codes[3];
        ferx::detail::lbp_top_codes_at(clip, st, sy, t, y, x, a, codes);
        for (int k = 0; k < 3; ++k) {
            const std::uint32_t label = a.table ? table[codes[k]] : ferx::detail::lbp_label_direct<Mapping>(codes[k], a.points[k]);
            atomicAdd(hist + label, 1u);
            hist += nb[k];
            if (a.table) table += std::uint32_t{1} << a.points[k];
        }
    }
};

}  // namespace
FERX_ARCH_NAMESPACE_END
}  // namespace kernels
}  // namespace cuda
FERX_NAMESPACE_END
