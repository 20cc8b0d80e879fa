/// \file ferx/core/config.hpp
/// Version, the versioned inline namespace, and the few portability macros ferx needs.
#pragma once

#define FERX_VERSION_MAJOR 0
#define FERX_VERSION_MINOR 1
#define FERX_VERSION_PATCH 0

/// Every ferx symbol lives in `ferx::v0_1` (an inline namespace, so users write `ferx::`).
/// Two binaries built against different ferx versions therefore never exchange symbols silently.
#define FERX_NAMESPACE_BEGIN \
    namespace ferx {         \
    inline namespace v0_1 {
#define FERX_NAMESPACE_END \
    }                      \
    }

/// The CUDA architecture namespace. Under nvcc, ferx's CUDA code (everything in ferx/cuda/ and
/// every `exec::cuda` entry point a public header declares) sits in one more inline namespace
/// named after the architectures the translation unit is compiled for, `__CUDA_ARCH_LIST__`
/// (nvcc 11.5 and later; e.g. `arch_800_900` for sm_80 and sm_90). Inline functions and kernels
/// are weak symbols: without it, two objects built for different GPUs would define the same
/// symbol, the linker would keep one, and the other object would launch code that was not built
/// for its GPU. Host-only translation units see no such namespace (the macros expand to nothing).
/// Up to 12 architectures; nvcc before 11.5 (no list) gives `arch_unknown`.
#define FERX_DETAIL_PP_CAT_(a, b) a##b
#define FERX_DETAIL_PP_CAT(a, b) FERX_DETAIL_PP_CAT_(a, b)
#define FERX_DETAIL_PP_COUNT_(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, n, ...) n
#define FERX_DETAIL_PP_COUNT(...) FERX_DETAIL_PP_COUNT_(__VA_ARGS__, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define FERX_DETAIL_ARCH_1(a) arch_##a
#define FERX_DETAIL_ARCH_2(a, ...) arch_##a##_##__VA_ARGS__
#define FERX_DETAIL_ARCH_3(a, b, ...) arch_##a##_##b##_##__VA_ARGS__
#define FERX_DETAIL_ARCH_4(a, b, c, ...) arch_##a##_##b##_##c##_##__VA_ARGS__
#define FERX_DETAIL_ARCH_5(a, b, c, d, ...) arch_##a##_##b##_##c##_##d##_##__VA_ARGS__
#define FERX_DETAIL_ARCH_6(a, b, c, d, e, ...) arch_##a##_##b##_##c##_##d##_##e##_##__VA_ARGS__
#define FERX_DETAIL_ARCH_7(a, b, c, d, e, f, ...) arch_##a##_##b##_##c##_##d##_##e##_##f##_##__VA_ARGS__
#define FERX_DETAIL_ARCH_8(a, b, c, d, e, f, g, ...) arch_##a##_##b##_##c##_##d##_##e##_##f##_##g##_##__VA_ARGS__
#define FERX_DETAIL_ARCH_9(a, b, c, d, e, f, g, h, ...) \
    arch_##a##_##b##_##c##_##d##_##e##_##f##_##g##_##h##_##__VA_ARGS__
#define FERX_DETAIL_ARCH_10(a, b, c, d, e, f, g, h, i, ...) \
    arch_##a##_##b##_##c##_##d##_##e##_##f##_##g##_##h##_##i##_##__VA_ARGS__
#define FERX_DETAIL_ARCH_11(a, b, c, d, e, f, g, h, i, j, ...) \
    arch_##a##_##b##_##c##_##d##_##e##_##f##_##g##_##h##_##i##_##j##_##__VA_ARGS__
#define FERX_DETAIL_ARCH_12(a, b, c, d, e, f, g, h, i, j, k, ...) \
    arch_##a##_##b##_##c##_##d##_##e##_##f##_##g##_##h##_##i##_##j##_##k##_##__VA_ARGS__
#define FERX_DETAIL_ARCH_NAME_(...) FERX_DETAIL_PP_CAT(FERX_DETAIL_ARCH_, FERX_DETAIL_PP_COUNT(__VA_ARGS__))(__VA_ARGS__)
#define FERX_DETAIL_ARCH_NAME(list) FERX_DETAIL_ARCH_NAME_(list)

#if defined(__CUDACC__)
#if defined(__CUDA_ARCH_LIST__)
/// The architecture namespace's name in this translation unit, e.g. `arch_800_900`.
#define FERX_ARCH_NAMESPACE FERX_DETAIL_ARCH_NAME(__CUDA_ARCH_LIST__)
#else
#define FERX_ARCH_NAMESPACE arch_unknown
#endif
/// Opens / closes the architecture namespace (inside ferx's namespace or one of its namespaces).
#define FERX_ARCH_NAMESPACE_BEGIN inline namespace FERX_ARCH_NAMESPACE {
#define FERX_ARCH_NAMESPACE_END }
#else
#define FERX_ARCH_NAMESPACE_BEGIN
#define FERX_ARCH_NAMESPACE_END
#endif

/// Functions callable from host and device code (views, small math); plain functions without nvcc.
#if defined(__CUDACC__)
#define FERX_HOST_DEVICE __host__ __device__
#else
#define FERX_HOST_DEVICE
#endif

FERX_NAMESPACE_BEGIN

/// Version of the headers in use, e.g. for logs and model files.
struct version_info {
    int major, minor, patch;
};
inline constexpr version_info version{FERX_VERSION_MAJOR, FERX_VERSION_MINOR, FERX_VERSION_PATCH};

namespace detail {
FERX_ARCH_NAMESPACE_BEGIN
/// A type of the architecture namespace: a defaulted template parameter or a trailing argument of
/// this type gives an entry point that a host class or a generic template declares (such as
/// `descriptor_traits<P>::compute_cuda` or `integral<exec::cuda_policy, ...>`) a distinct symbol
/// per architecture list.
struct arch_tag {};
FERX_ARCH_NAMESPACE_END
}  // namespace detail

/// True where this translation unit is compiled by nvcc and can run the `cuda` backend.
inline constexpr bool cuda_compiled =
#if defined(__CUDACC__)
    true;
#else
    false;
#endif

FERX_NAMESPACE_END
