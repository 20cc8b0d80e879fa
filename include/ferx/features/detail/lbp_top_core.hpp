/// \file ferx/features/detail/lbp_top_core.hpp
/// The parts of LBP-TOP that run on the host and on CUDA devices alike: one plane's sample taps
/// as axis offsets and 1/256 fractions, one voxel's code on a plane in the integer arithmetic of
/// lbp_top_code_run, and the CUDA launch arguments. Shared by ferx/features/lbp_top.hpp and
/// ferx/cuda/kernels/lbp_top.cuh.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/view.hpp>
#include <ferx/features/detail/lbp_core.hpp>

#include <cstdint>

FERX_NAMESPACE_BEGIN
namespace detail {

/// One sample of a plane: the top-left tap at floor offsets (fa, fb) along the plane's axes a
/// and b, and the fractions (ta, tb) in 1/256 voxel (lbp_top_taps gives the same taps in element
/// offsets for a clip's strides).
struct lbp_top_sample {
    std::int32_t fa, fb, ta, tb;
};

/// The raw code of the voxel at `c` on one plane (samples, element strides of the plane's axes
/// a and b), in the integer arithmetic of lbp_top_code_run (8-bit voxels: exact int32 sums).
FERX_HOST_DEVICE inline std::uint32_t lbp_top_code_at(const std::uint8_t* c, const lbp_top_sample* s, int points,
                                                      index_t stride_a, index_t stride_b) {
    std::uint32_t code = 0;
    const std::int32_t centre = 65536 * static_cast<std::int32_t>(c[0]);
    for (int p = 0; p < points; ++p) {
        const lbp_top_sample& t = s[p];
        const std::uint8_t* q00 = c + t.fa * stride_a + t.fb * stride_b;
        const index_t nb = t.tb != 0 ? stride_b : 0;
        const std::uint8_t* q10 = q00 + (t.ta != 0 ? stride_a : 0);
        const std::int32_t w0 = (256 - t.tb) * (256 - t.ta), w1 = t.tb * (256 - t.ta), w2 = (256 - t.tb) * t.ta,
                           w3 = t.tb * t.ta;
        const std::int32_t v = w0 * q00[0] + w1 * q00[nb] + w2 * q10[0] + w3 * q10[nb];
        code |= v >= centre ? (std::uint32_t{1} << p) : 0u;
    }
    return code;
}

/// LBP-TOP launch arguments of the CUDA backend: the samples of the XY, XT and YT planes (axes
/// XY: a = y, b = x; XT: a = t, b = x; YT: a = y, b = t), the margins of the code volume, and
/// whether the labels of every code are tabled in shared memory first (P <= 10 on every plane).
struct lbp_top_cuda_args {
    lbp_top_sample samples[3][32];
    int points[3];
    index_t mt, my, mx;
    bool table;
};

/// The raw XY, XT and YT codes of code voxel (t, y, x) of a clip (8-bit voxels, frame and row
/// pitch st, sy): what the CUDA kernel computes per voxel, callable on the host for the tests.
FERX_HOST_DEVICE inline void lbp_top_codes_at(const std::uint8_t* clip, index_t st, index_t sy, index_t t, index_t y,
                                              index_t x, const lbp_top_cuda_args& a, std::uint32_t (&codes)[3]) {
    const std::uint8_t* c = clip + (t + a.mt) * st + (y + a.my) * sy + x + a.mx;
    const index_t stride_a[3] = {sy, st, sy}, stride_b[3] = {1, 1, st};  // XY: (y, x), XT: (t, x), YT: (y, t)
    for (int k = 0; k < 3; ++k) codes[k] = lbp_top_code_at(c, a.samples[k], a.points[k], stride_a[k], stride_b[k]);
}

}  // namespace detail
FERX_NAMESPACE_END
