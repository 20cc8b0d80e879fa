/// \file ferx/features/detail/lpq_core.hpp
/// One LPQ code, computed on the host or on a CUDA device with the operations of the CPU's
/// separable pass, each rounded on its own. Shared by ferx/features/lpq.hpp and
/// ferx/cuda/kernels/lpq.cuh.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/view.hpp>
#include <ferx/core/rounding.hpp>
#include <ferx/features/detail/grid.hpp>

#include <cstdint>

FERX_NAMESPACE_BEGIN
namespace detail {

/// The code of the window whose top-left pixel is `f` (row pitch in elements), in the order of
/// operations of lpq_row_responses and lpq_code_rows (every operation rounded on its own), so
/// the CUDA kernel, which calls it per pixel, gives the CPU's codes. kre/kim: stft_kernel;
/// v: the whitening (row-major 8 x 8), used when `decorrelate`.
/// `col`: the element step between the window's columns (1 in an image; LPQ-TOP's YT plane,
/// whose columns are a clip's rows, steps by the row pitch).
template <class T>
FERX_HOST_DEVICE inline std::uint8_t lpq_code_at(const T* f, index_t pitch, index_t col, int m, const double* kre,
                                                 const double* kim, const double* v, bool decorrelate) {
    double f0 = 0, g[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int j = 0; j < m; ++j) {
        double a0 = 0, ar = 0, ai = 0;
        for (int l = 0; l < m; ++l) {
            const double x = static_cast<double>(f[l * pitch + j * col]);
            a0 = add_rn(a0, x);
            ar = add_rn(ar, mul_rn(x, kre[l]));
            ai = add_rn(ai, mul_rn(x, kim[l]));
        }
        const double cr = kre[j], ci = kim[j];
        f0 = add_rn(f0, a0);
        g[0] = add_rn(g[0], mul_rn(a0, cr));
        g[1] = add_rn(g[1], mul_rn(a0, ci));
        g[2] = add_rn(g[2], ar);
        g[3] = add_rn(g[3], ai);
        g[4] = add_rn(g[4], sub_rn(mul_rn(ar, cr), mul_rn(ai, ci)));
        g[5] = add_rn(g[5], add_rn(mul_rn(ar, ci), mul_rn(ai, cr)));
        g[6] = add_rn(g[6], add_rn(mul_rn(ar, cr), mul_rn(ai, ci)));
        g[7] = add_rn(g[7], sub_rn(mul_rn(ai, cr), mul_rn(ar, ci)));
    }
    const double thr = mul_rn(1e-10, f0 < 0 ? -f0 : f0);
    unsigned code = 0;
    for (int c = 0; c < 8; ++c) {
        double s = g[c];
        if (decorrelate) {
            s = 0;
            for (int k = 0; k < 8; ++k) s = add_rn(s, mul_rn(v[k * 8 + c], g[k]));
        }
        code |= (s > thr ? 1u : 0u) << c;
    }
    return static_cast<std::uint8_t>(code);
}

/// The code of the window whose top-left pixel is `f` in an image (unit column step).
template <class T>
FERX_HOST_DEVICE inline std::uint8_t lpq_code_at(const T* f, index_t pitch, int m, const double* kre, const double* kim,
                                                 const double* v, bool decorrelate) {
    return lpq_code_at(f, pitch, index_t{1}, m, kre, kim, v, decorrelate);
}

/// LPQ launch arguments of the CUDA backend (windows up to 31 x 31; one launch covers crops
/// [n0, n0 + gridDim.y)).
struct lpq_cuda_args {
    double kre[31], kim[31], v[64];
    grid_spec grid;
    index_t code_rows, code_cols, n0, out_stride;
    int window;
    bool decorrelate;
};

}  // namespace detail
FERX_NAMESPACE_END
