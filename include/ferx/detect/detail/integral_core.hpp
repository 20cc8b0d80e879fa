/// \file ferx/detect/detail/integral_core.hpp
/// The accumulator types of ferx::integral, shared by the host backends (ferx/detect/integral.hpp)
/// and the CUDA backend (ferx/cuda/dispatch/integral.cuh), which must not include the public header.
#pragma once

#include <ferx/core/config.hpp>

#include <cstdint>
#include <type_traits>

FERX_NAMESPACE_BEGIN
namespace detail {

template <class T>
inline constexpr bool is_integral_source_v =
    std::is_same<T, std::uint8_t>::value || std::is_same<T, std::uint16_t>::value ||
    std::is_same<T, std::int16_t>::value;
template <class T>
inline constexpr bool is_integral_source_type_v =
    is_integral_source_v<T> || std::is_same<T, float>::value || std::is_same<T, double>::value;
template <class S>
inline constexpr bool is_integral_sum_type_v =
    std::is_same<S, std::int32_t>::value || std::is_same<S, std::int64_t>::value ||
    std::is_same<S, float>::value || std::is_same<S, double>::value;
template <class Q>
inline constexpr bool is_integral_sqsum_type_v =
    std::is_same<Q, float>::value || std::is_same<Q, double>::value;

/// The exact accumulator of sums: the output type for int32 sums of integer sources, int64 for
/// other sums of integer sources, and double for floating-point sources.
template <class T, class S>
using integral_acc_t =
    std::conditional_t<is_integral_source_v<T>,
                       std::conditional_t<std::is_same<S, std::int32_t>::value, std::int32_t,
                                          std::int64_t>,
                       double>;
/// The accumulator of squared sums: int64 (exact) for integer sources, else double.
/// (Floating-point sources are accumulated in double even for float outputs: the tilted sum is a
/// difference of two running sums, and float accumulation there loses more than OpenCV's
/// recurrence does; in double, ferx's float results are never less accurate than OpenCV's.)
template <class T, class Q>
using integral_sq_acc_t = std::conditional_t<is_integral_source_v<T>, std::int64_t, double>;

}  // namespace detail
FERX_NAMESPACE_END
