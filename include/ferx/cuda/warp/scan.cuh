/// \file ferx/cuda/warp/scan.cuh
/// Warp-level primitives shared by ferx kernels.
#pragma once

#include <ferx/core/config.hpp>

FERX_NAMESPACE_BEGIN
namespace cuda {
namespace warp {

inline constexpr unsigned full_mask = 0xffffffffu;

/// Inclusive prefix sum over the 32 lanes of a full warp (Kogge-Stone, 5 shuffles).
template <class T>
__device__ __forceinline__ T inclusive_sum(T v) {
    const int lane = static_cast<int>(threadIdx.x & 31u);
#pragma unroll
    for (int d = 1; d < 32; d <<= 1) {
        const T up = __shfl_up_sync(full_mask, v, d);
        if (lane >= d) v += up;
    }
    return v;
}

/// The value of `v` held by the last lane of the warp.
template <class T>
__device__ __forceinline__ T last(T v) {
    return __shfl_sync(full_mask, v, 31);
}

}  // namespace warp
}  // namespace cuda
FERX_NAMESPACE_END
