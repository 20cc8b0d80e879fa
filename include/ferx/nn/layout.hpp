/// \file ferx/nn/layout.hpp
/// Data movement on float32 tensors: Transpose (any permutation, rank <= 8), Concat (any axis)
/// and Pad (constant, reflect, edge).
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/nn/elementwise.hpp>
#include <ferx/nn/tensor_ref.hpp>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {

/// A transpose: output extents and, per output axis, the input's element stride.
struct transpose_geometry {
    int rank = 0;
    std::int64_t out[max_rank] = {};
    std::int64_t in_stride[max_rank] = {};
    std::int64_t count = 0;
};

/// out axis i = input axis perm[i] (empty perm: reversed axes, as ONNX). Throws ferx::error
/// naming `where` for a perm that is not a permutation of the input's axes.
inline transpose_geometry make_transpose_geometry(const shape_t& in, std::vector<std::int64_t> perm, shape_t& out_shape,
                                                  const std::string& where) {
    const int rank = static_cast<int>(in.size());
    if (rank > max_rank || rank < 1) throw error(where, "Transpose takes ranks 1.." + std::to_string(max_rank));
    if (perm.empty())
        for (int i = rank - 1; i >= 0; --i) perm.push_back(i);
    if (static_cast<int>(perm.size()) != rank) throw error(where, "perm has " + std::to_string(perm.size()) + " axes, the input " + std::to_string(rank));
    std::vector<bool> seen(static_cast<std::size_t>(rank), false);
    std::vector<std::int64_t> stride(static_cast<std::size_t>(rank), 1);
    for (int i = rank - 2; i >= 0; --i) stride[static_cast<std::size_t>(i)] = stride[static_cast<std::size_t>(i) + 1] * in[static_cast<std::size_t>(i) + 1];
    transpose_geometry g;
    g.rank = rank;
    out_shape.assign(static_cast<std::size_t>(rank), 0);
    for (int i = 0; i < rank; ++i) {
        const std::int64_t p = perm[static_cast<std::size_t>(i)];
        if (p < 0 || p >= rank || seen[static_cast<std::size_t>(p)]) throw error(where, "perm is not a permutation of the input's axes");
        seen[static_cast<std::size_t>(p)] = true;
        g.out[i] = out_shape[static_cast<std::size_t>(i)] = in[static_cast<std::size_t>(p)];
        g.in_stride[i] = stride[static_cast<std::size_t>(p)];
    }
    g.count = element_count(out_shape);
    return g;
}

/// y = transpose(x) as `g` describes.
template <class Policy>
void transpose(const Policy& policy, const transpose_geometry& g, const float* x, float* y) {
    static_assert(is_host_policy_v<Policy>, "ferx::nn::transpose: exec::seq, exec::par, or exec::cuda in a .cu file");
    const int last = g.rank - 1;
    const std::int64_t inner = g.out[last], rows = inner ? g.count / inner : 0;
    ferx::detail::for_each_range(policy, rows, 64, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
        for (std::ptrdiff_t r = lo; r < hi; ++r) {
            std::int64_t rest = r, off = 0;
            for (int d = last - 1; d >= 0; --d) {
                off += (rest % g.out[d]) * g.in_stride[d];
                rest /= g.out[d];
            }
            for (std::int64_t j = 0; j < inner; ++j) y[r * inner + j] = x[off + j * g.in_stride[last]];
        }
    });
}

/// Concatenation of k inputs along an axis, each viewed as outer x width_i (width_i = extent of
/// the axis times the product of the later extents): y is outer x sum(width_i).
template <class Policy>
void concat(const Policy& policy, std::int64_t outer, const std::vector<const float*>& xs,
            const std::vector<std::int64_t>& widths, float* y) {
    static_assert(is_host_policy_v<Policy>, "ferx::nn::concat: exec::seq, exec::par, or exec::cuda in a .cu file");
    std::int64_t total = 0;
    for (auto w : widths) total += w;
    ferx::detail::for_each_range(policy, outer, 1, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
        for (std::ptrdiff_t o = lo; o < hi; ++o) {
            std::int64_t at = 0;
            for (std::size_t i = 0; i < xs.size(); ++i) {
                if (widths[i] > 0)
                    std::memcpy(y + o * total + at, xs[i] + o * widths[i], static_cast<std::size_t>(widths[i]) * sizeof(float));
                at += widths[i];
            }
        }
    });
}

/// ONNX Pad modes.
enum class pad_mode { constant, reflect, edge };

/// A resolved Pad: input extents, pads before each axis, output extents.
struct pad_geometry {
    int rank = 0;
    std::int64_t in[max_rank] = {};
    std::int64_t before[max_rank] = {};
    std::int64_t out[max_rank] = {};
    std::int64_t count = 0;
    pad_mode mode = pad_mode::constant;
    float value = 0.f;
};

/// `pads` as ONNX orders them: all begins, then all ends (non-negative). Reflect needs each pad
/// smaller than its extent, edge a non-empty axis. Throws ferx::error naming `where`.
inline pad_geometry make_pad_geometry(const shape_t& in, const std::vector<std::int64_t>& pads, pad_mode mode,
                                      float value, shape_t& out_shape, const std::string& where) {
    const int rank = static_cast<int>(in.size());
    if (rank < 1 || rank > max_rank) throw error(where, "Pad takes ranks 1.." + std::to_string(max_rank));
    if (static_cast<int>(pads.size()) != 2 * rank)
        throw error(where, "pads has " + std::to_string(pads.size()) + " values, expected " + std::to_string(2 * rank));
    pad_geometry g;
    g.rank = rank, g.mode = mode, g.value = value;
    out_shape.assign(static_cast<std::size_t>(rank), 0);
    for (int i = 0; i < rank; ++i) {
        const std::int64_t b = pads[static_cast<std::size_t>(i)], e = pads[static_cast<std::size_t>(i + rank)];
        const std::int64_t n = in[static_cast<std::size_t>(i)];
        if (b < 0 || e < 0) throw error(where, "negative pads (cropping) are not supported");
        if (mode == pad_mode::reflect && (b >= n || e >= n) && (b > 0 || e > 0))
            throw error(where, "reflect padding must be smaller than the axis extent " + std::to_string(n));
        if (mode == pad_mode::edge && n == 0 && (b > 0 || e > 0)) throw error(where, "edge padding of an empty axis");
        g.in[i] = n, g.before[i] = b;
        g.out[i] = out_shape[static_cast<std::size_t>(i)] = n + b + e;
    }
    g.count = element_count(out_shape);
    return g;
}

namespace detail {
/// Input element of output element `flat` of a pad, or -1 for the constant.
FERX_HOST_DEVICE inline std::int64_t pad_source(const pad_geometry& g, std::int64_t flat) {
    std::int64_t off = 0, stride = 1;
    for (int d = g.rank - 1; d >= 0; --d) {
        std::int64_t i = flat % g.out[d] - g.before[d];
        flat /= g.out[d];
        const std::int64_t n = g.in[d];
        if (i < 0 || i >= n) {
            if (g.mode == pad_mode::constant) return -1;
            if (g.mode == pad_mode::edge) i = i < 0 ? 0 : n - 1;
            else i = i < 0 ? -i : 2 * (n - 1) - i;
        }
        off += i * stride;
        stride *= n;
    }
    return off;
}
}  // namespace detail

/// y = pad(x) as `g` describes.
template <class Policy>
void pad(const Policy& policy, const pad_geometry& g, const float* x, float* y) {
    static_assert(is_host_policy_v<Policy>, "ferx::nn::pad: exec::seq, exec::par, or exec::cuda in a .cu file");
    ferx::detail::for_each_range(policy, g.count, 4096, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
        for (std::ptrdiff_t i = lo; i < hi; ++i) {
            const std::int64_t s = detail::pad_source(g, i);
            y[i] = s < 0 ? g.value : x[s];
        }
    });
}

}  // namespace nn
FERX_NAMESPACE_END
