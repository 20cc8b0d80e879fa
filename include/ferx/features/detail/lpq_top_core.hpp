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

}  // namespace detail
FERX_NAMESPACE_END
