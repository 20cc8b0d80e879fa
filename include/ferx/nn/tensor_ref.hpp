/// \file ferx/nn/tensor_ref.hpp
/// Shapes and non-owning float32 tensor references of the nn area: what the session takes as
/// inputs and hands back as outputs and intermediate values (row-major, NCHW for 4-D).
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/error.hpp>

#include <cstdint>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {

/// Tensor extents, outermost first (ONNX order; NCHW for images).
using shape_t = std::vector<std::int64_t>;

/// Number of elements of `shape` (1 for a scalar).
inline std::int64_t element_count(const shape_t& shape) {
    std::int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
}

/// "[2, 3, 64, 64]", for error messages.
inline std::string shape_string(const shape_t& shape) {
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

/// A read-only, contiguous, row-major float32 tensor that someone else owns.
struct tensor_ref {
    const float* data = nullptr;
    shape_t shape;
    std::int64_t element_count() const { return nn::element_count(shape); }
};

}  // namespace nn
FERX_NAMESPACE_END
