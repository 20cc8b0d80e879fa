/// \file ferx/features/detail/vlpq_core.hpp
/// The parts of VLPQ that run on the host and on CUDA devices alike: the launch arguments of the
/// CUDA backend (the plan's L x N projection of the components onto the window's voxels) and one
/// voxel's code, accumulated voxel by voxel of the window in the plan's order with every
/// operation rounded on its own, as vlpq_code_row does. Shared by ferx/features/vlpq.hpp and
/// ferx/cuda/kernels/vlpq.cuh.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/rounding.hpp>
#include <ferx/core/view.hpp>

#include <cstdint>

FERX_NAMESPACE_BEGIN
namespace detail {

/// Most projection entries (L x N, N = Ws^2 Wt) the CUDA launch arguments carry: 12 KB, e.g.
/// 3x3x3 windows with any L, 5x5x3 with L <= 16, 5x5x5 with L <= 12 (kernel arguments above 4 KB
/// need CUDA 12.1 and a Volta or newer GPU).
inline constexpr int vlpq_cuda_max_proj = 1536;

/// VLPQ launch arguments of the CUDA backend.
struct vlpq_cuda_args {
    double proj[vlpq_cuda_max_proj];  // component c, window voxel q at c * n + q
    int ws, wt, l, n;
};

/// The code of the window whose corner voxel is `f` (frame and row pitch st, sy; window voxel q
/// = (m, l, j) with j fastest, as vlpq_plan orders them): bit c set when component c >= 0.
FERX_HOST_DEVICE inline std::uint32_t vlpq_code_at(const std::uint8_t* f, index_t st, index_t sy, const double* proj,
                                                   int ws, int l, int n) {
    std::uint32_t code = 0;
    const int plane = ws * ws;
    for (int c = 0; c < l; ++c) {
        const double* w = proj + c * n;
        double acc = 0;
        for (int q = 0; q < n; ++q) {
            const int qt = q / plane, qr = q % plane;
            acc = add_rn(acc, mul_rn(w[q], static_cast<double>(f[qt * st + (qr / ws) * sy + qr % ws])));
        }
        code |= (acc >= 0 ? 1u : 0u) << c;
    }
    return code;
}

}  // namespace detail
FERX_NAMESPACE_END
