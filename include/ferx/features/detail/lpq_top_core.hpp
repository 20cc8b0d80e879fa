/// \file ferx/features/detail/lpq_top_core.hpp
/// The CUDA launch arguments of LPQ-TOP: each plane's STFT kernel and whitening (those of 2-D
/// LPQ, ferx/features/detail/lpq_core.hpp, whose lpq_code_at computes every code) and the
/// margins of the code volume. Shared by ferx/features/lpq_top.hpp and
/// ferx/cuda/kernels/lpq_top.cuh.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/view.hpp>
#include <ferx/features/detail/lpq_core.hpp>

FERX_NAMESPACE_BEGIN
namespace detail {

/// LPQ-TOP launch arguments (windows up to 31 on every plane; 3 KB): planes XY, XT, YT.
struct lpq_top_cuda_args {
    double kre[3][31], kim[3][31], v[3][64];
    int window[3];
    index_t mt, my, mx;
    bool decorrelate;
};

/// The XY, XT and YT codes of code voxel (t, y, x) of a clip (8-bit voxels, frame and row pitch
/// st, sy): lpq_code_at on the window centred on the voxel in each plane (XY: frame T, rows y,
/// columns x; XT: row Y, rows t, columns x; YT: column X, rows t, columns y). What the CUDA
/// kernel computes per voxel, callable on the host for the tests.
FERX_HOST_DEVICE inline void lpq_top_codes_at(const std::uint8_t* clip, index_t st, index_t sy, index_t t, index_t y,
                                              index_t x, const lpq_top_cuda_args& a, std::uint8_t (&codes)[3]) {
    const index_t T = t + a.mt, Y = y + a.my, X = x + a.mx;
    const index_t rxy = (a.window[0] - 1) / 2, rxt = (a.window[1] - 1) / 2, ryt = (a.window[2] - 1) / 2;
    const std::uint8_t* f[3] = {clip + T * st + (Y - rxy) * sy + (X - rxy), clip + (T - rxt) * st + Y * sy + (X - rxt),
                                clip + (T - ryt) * st + (Y - ryt) * sy + X};
    const index_t pitch[3] = {sy, st, st}, col[3] = {1, 1, sy};
    for (int k = 0; k < 3; ++k)
        codes[k] = lpq_code_at(f[k], pitch[k], col[k], a.window[k], a.kre[k], a.kim[k], a.v[k], a.decorrelate);
}

}  // namespace detail
FERX_NAMESPACE_END
