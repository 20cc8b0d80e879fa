/// \file ferx/core/rounding.hpp
/// Arithmetic that rounds every operation on its own, on the host and on CUDA devices, so the
/// CUDA kernels reproduce the CPU's floating-point results bit for bit. nvcc contracts a * b + c
/// into a fused multiply-add by default (one rounding instead of two); the `_rn` intrinsics never
/// are. On the host these are the plain operators (x86-64 without -mfma has no fused
/// multiply-add to contract into).
#pragma once

#include <ferx/core/config.hpp>

FERX_NAMESPACE_BEGIN
namespace detail {

/// a * b, a + b, a - b for float or double, each rounded on its own.
template <class F>
FERX_HOST_DEVICE inline F mul_rn(F a, F b) {
#if defined(__CUDA_ARCH__)
    if constexpr (sizeof(F) == 4) return __fmul_rn(a, b);
    else return __dmul_rn(a, b);
#else
    return a * b;
#endif
}
template <class F>
FERX_HOST_DEVICE inline F add_rn(F a, F b) {
#if defined(__CUDA_ARCH__)
    if constexpr (sizeof(F) == 4) return __fadd_rn(a, b);
    else return __dadd_rn(a, b);
#else
    return a + b;
#endif
}
template <class F>
FERX_HOST_DEVICE inline F sub_rn(F a, F b) {
#if defined(__CUDA_ARCH__)
    if constexpr (sizeof(F) == 4) return __fsub_rn(a, b);
    else return __dsub_rn(a, b);
#else
    return a - b;
#endif
}

/// a / b, correctly rounded (nvcc's default division is too, unless -prec-div=false or
/// --use_fast_math; the intrinsic holds either way).
template <class F>
FERX_HOST_DEVICE inline F div_rn(F a, F b) {
#if defined(__CUDA_ARCH__)
    if constexpr (sizeof(F) == 4) return __fdiv_rn(a, b);
    else return __ddiv_rn(a, b);
#else
    return a / b;
#endif
}

}  // namespace detail
FERX_NAMESPACE_END
