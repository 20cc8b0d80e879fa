/// \file ferx/nn/softmax.hpp
/// Softmax over the middle axis of an outer x len x inner tensor, numerically stabilised by the
/// maximum. The session maps ONNX's two semantics onto it: opset >= 13 normalises along one
/// axis (outer = product before it, inner = product after); opset < 13 coerces the input to 2-D
/// at `axis` and normalises each row (outer = product before axis, len = product from axis on,
/// inner = 1). NaN anywhere in a slice makes that slice NaN.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/execution.hpp>

#include <cmath>
#include <cstdint>
#include <type_traits>

FERX_NAMESPACE_BEGIN
namespace nn {

namespace detail {
/// One slice: ys[j * inner] = softmax over j < len of xs[j * inner] (host and device), computed
/// in float; T is the stored element type (float, or __half in the CUDA fp16 path, where the
/// exponentials are recomputed rather than stored rounded).
template <class T>
FERX_HOST_DEVICE inline void softmax_slice(const T* xs, T* ys, std::int64_t len, std::int64_t inner) {
    constexpr bool in_float = std::is_same<T, float>::value;
    float mx = -HUGE_VALF;
    bool nan = false;
    for (std::int64_t j = 0; j < len; ++j) {
        const float v = static_cast<float>(xs[j * inner]);
        mx = v > mx ? v : mx;
        nan = nan || v != v;
    }
    float sum = 0.f;
    for (std::int64_t j = 0; j < len; ++j) {
        const float e = expf(static_cast<float>(xs[j * inner]) - mx);
        sum += e;
        if constexpr (in_float) ys[j * inner] = e;
    }
    const float scale = nan ? NAN : 1.f / sum;
    for (std::int64_t j = 0; j < len; ++j) {
        const float e = in_float ? static_cast<float>(ys[j * inner]) : expf(static_cast<float>(xs[j * inner]) - mx);
        ys[j * inner] = static_cast<T>(e * scale);
    }
}
}  // namespace detail

/// y[o, :, i] = softmax(x[o, :, i]) for an outer x len x inner tensor.
template <class Policy>
void softmax(const Policy& policy, std::int64_t outer, std::int64_t len, std::int64_t inner, const float* x, float* y) {
    static_assert(is_host_policy_v<Policy>, "ferx::nn::softmax: exec::seq, exec::par, or exec::cuda in a .cu file");
    ferx::detail::for_each_range(policy, outer * inner, 16, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
        for (std::ptrdiff_t s = lo; s < hi; ++s) {
            const std::int64_t o = s / inner, i = s % inner;
            detail::softmax_slice(x + o * len * inner + i, y + o * len * inner + i, len, inner);
        }
    });
}

}  // namespace nn
FERX_NAMESPACE_END
