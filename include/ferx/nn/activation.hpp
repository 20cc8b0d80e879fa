/// \file ferx/nn/activation.hpp
/// Elementwise activations (Relu, LeakyRelu, Sigmoid, Tanh, Clip, HardSigmoid, HardSwish) and the per-channel affine
/// y = x * scale[c] + shift[c] (an unfolded inference BatchNormalization), on float32 tensors.
/// NaN inputs propagate to NaN outputs (Relu and Clip compare so that NaN passes through).
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/execution.hpp>

#include <cmath>
#include <cstdint>

FERX_NAMESPACE_BEGIN
namespace nn {

/// The elementwise functions; `unary_op` carries their parameters.
enum class unary_kind { identity, relu, leaky_relu, sigmoid, tanh, clip, hard_sigmoid, hard_swish };

/// One elementwise function: identity, relu, leaky_relu (alpha = negative slope),
/// sigmoid, tanh, clip (alpha = min, beta = max), hard_sigmoid max(0, min(1, alpha x + beta)),
/// hard_swish x * hard_sigmoid(x) with alpha = 1/6, beta = 1/2 (ONNX's HardSwish).
struct unary_op {
    unary_kind kind = unary_kind::identity;
    float alpha = 0.f;
    float beta = 0.f;

    FERX_HOST_DEVICE float operator()(float x) const {
        switch (kind) {
        case unary_kind::relu: return x < 0.f ? 0.f : x;
        case unary_kind::leaky_relu: return x < 0.f ? alpha * x : x;
        case unary_kind::sigmoid: return 1.f / (1.f + expf(-x));
        case unary_kind::tanh: return tanhf(x);
        case unary_kind::clip: return x < alpha ? alpha : (x > beta ? beta : x);
        case unary_kind::hard_sigmoid: return fmaxf(0.f, fminf(1.f, alpha * x + beta));
        case unary_kind::hard_swish: return x * fmaxf(0.f, fminf(1.f, alpha * x + beta));
        default: return x;
        }
    }
};

namespace detail {
/// y[i] = op(x[i] * scale + shift) for i in [0, n), with the switch on the function outside the
/// loop (so the common cases vectorise); y may equal x. Same results as op(x * scale + shift).
inline void apply_unary(const unary_op& op, const float* x, float* y, std::int64_t n, float scale = 1.f, float shift = 0.f) {
    switch (op.kind) {
    case unary_kind::identity:
        for (std::int64_t i = 0; i < n; ++i) y[i] = x[i] * scale + shift;
        return;
    case unary_kind::relu:
        for (std::int64_t i = 0; i < n; ++i) {
            const float v = x[i] * scale + shift;
            y[i] = v < 0.f ? 0.f : v;
        }
        return;
    case unary_kind::leaky_relu:
        for (std::int64_t i = 0; i < n; ++i) {
            const float v = x[i] * scale + shift;
            y[i] = v < 0.f ? op.alpha * v : v;
        }
        return;
    case unary_kind::clip:
        for (std::int64_t i = 0; i < n; ++i) {
            const float v = x[i] * scale + shift;
            y[i] = v < op.alpha ? op.alpha : (v > op.beta ? op.beta : v);
        }
        return;
    default:
        for (std::int64_t i = 0; i < n; ++i) y[i] = op(x[i] * scale + shift);
    }
}
}  // namespace detail

/// y[i] = op(x[i]) for i in [0, count); y may equal x (in place).
template <class Policy>
void unary(const Policy& policy, const unary_op& op, const float* x, float* y, std::int64_t count) {
    static_assert(is_host_policy_v<Policy>, "ferx::nn::unary: exec::seq, exec::par, or exec::cuda in a .cu file");
    ferx::detail::for_each_range(policy, count, 16384, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
        detail::apply_unary(op, x + lo, y + lo, hi - lo);
    });
}

/// y[n, c, i] = post(x[n, c, i] * scale[c] + shift[c]) over an N x C x inner tensor (inner = H*W);
/// y may equal x.
template <class Policy>
void channel_affine(const Policy& policy, std::int64_t n, std::int64_t c, std::int64_t inner, const float* scale,
                    const float* shift, const float* x, float* y, const unary_op& post = {}) {
    ferx::detail::for_each_range(policy, n * c, 8, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
        for (std::ptrdiff_t p = lo; p < hi; ++p) {
            detail::apply_unary(post, x + p * inner, y + p * inner, inner, scale[p % c], shift[p % c]);
        }
    });
}


}  // namespace nn
FERX_NAMESPACE_END
