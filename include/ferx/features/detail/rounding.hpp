/// \file ferx/features/detail/rounding.hpp
/// Arithmetic that rounds every operation on its own, on the host and on CUDA devices, so the
/// CUDA kernels reproduce the CPU's floating-point results bit for bit. nvcc contracts a * b + c
/// into a fused multiply-add by default (one rounding instead of two); the `_rn` intrinsics never
/// are. On the host these are the plain operators (x86-64 without -mfma has no fused
/// multiply-add to contract into).
#pragma once

#include <ferx/core/config.hpp>

FERX_NAMESPACE_BEGIN
namespace detail {

FERX_HOST_DEVICE inline float mul_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
    return __fmul_rn(a, b);
#else
    return a * b;
#endif
}
FERX_HOST_DEVICE inline float add_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
    return __fadd_rn(a, b);
#else
    return a + b;
#endif
}
FERX_HOST_DEVICE inline float sub_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
    return __fsub_rn(a, b);
#else
    return a - b;
#endif
}
FERX_HOST_DEVICE inline double mul_rn(double a, double b) {
#if defined(__CUDA_ARCH__)
    return __dmul_rn(a, b);
#else
    return a * b;
#endif
}
FERX_HOST_DEVICE inline double add_rn(double a, double b) {
#if defined(__CUDA_ARCH__)
    return __dadd_rn(a, b);
#else
    return a + b;
#endif
}
FERX_HOST_DEVICE inline double sub_rn(double a, double b) {
#if defined(__CUDA_ARCH__)
    return __dsub_rn(a, b);
#else
    return a - b;
#endif
}

}  // namespace detail
FERX_NAMESPACE_END
