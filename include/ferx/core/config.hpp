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

/// True where this translation unit is compiled by nvcc and can run the `cuda` backend.
inline constexpr bool cuda_compiled =
#if defined(__CUDACC__)
    true;
#else
    false;
#endif

FERX_NAMESPACE_END
