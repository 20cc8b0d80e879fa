/// \file ferx/nn/elementwise.hpp
/// Binary elementwise operations (Add, Sub, Mul, Div) with ONNX / NumPy multidirectional
/// broadcasting, on float32 tensors of rank <= 8.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/nn/tensor_ref.hpp>

#include <algorithm>
#include <cstdint>
#include <string>

FERX_NAMESPACE_BEGIN
namespace nn {

enum class binary_kind { add, sub, mul, div };

/// The largest rank the broadcasting, transpose and pad kernels take.
inline constexpr int max_rank = 8;

/// Output extents and the element strides of both operands in the output's index space
/// (stride 0 along a broadcast axis), right-aligned to `rank` axes.
struct broadcast_geometry {
    int rank = 0;
    std::int64_t out[max_rank] = {};
    std::int64_t a_stride[max_rank] = {};
    std::int64_t b_stride[max_rank] = {};
    std::int64_t count = 0;
    bool same_shape = false;  ///< both operands have the output's shape (a flat loop)
};

/// Broadcasts shapes `a` and `b` (NumPy rules: right-aligned, extents equal or 1); throws
/// ferx::error naming `where` when they cannot be broadcast. `out_shape` receives the result.
inline broadcast_geometry make_broadcast_geometry(const shape_t& a, const shape_t& b, shape_t& out_shape,
                                                  const std::string& where) {
    const int rank = static_cast<int>(std::max(a.size(), b.size()));
    if (rank > max_rank) throw error(where, "rank " + std::to_string(rank) + " is above the supported " + std::to_string(max_rank));
    broadcast_geometry g;
    g.rank = std::max(rank, 1);
    out_shape.assign(static_cast<std::size_t>(rank), 1);
    std::int64_t sa = 1, sb = 1;
    for (int i = rank - 1; i >= 0; --i) {
        const int ia = i - (rank - static_cast<int>(a.size())), ib = i - (rank - static_cast<int>(b.size()));
        const std::int64_t da = ia >= 0 ? a[static_cast<std::size_t>(ia)] : 1, db = ib >= 0 ? b[static_cast<std::size_t>(ib)] : 1;
        if (da != db && da != 1 && db != 1)
            throw error(where, "shapes " + shape_string(a) + " and " + shape_string(b) + " cannot be broadcast");
        const std::int64_t d = da == 1 ? db : da;
        out_shape[static_cast<std::size_t>(i)] = d;
        const int k = i + (g.rank - rank);
        g.out[k] = d;
        g.a_stride[k] = da == 1 ? 0 : sa;
        g.b_stride[k] = db == 1 ? 0 : sb;
        sa *= da;
        sb *= db;
    }
    if (rank == 0) g.out[0] = 1;
    g.count = element_count(out_shape);
    g.same_shape = a == b;
    return g;
}

namespace detail {
/// Element offsets in both operands of output element `i` of the first `axes` axes of `g`
/// (i counts over those axes only).
FERX_HOST_DEVICE inline void broadcast_offsets(const broadcast_geometry& g, int axes, std::int64_t i, std::int64_t& ao,
                                               std::int64_t& bo) {
    ao = bo = 0;
    for (int d = axes - 1; d >= 0; --d) {
        const std::int64_t j = i % g.out[d];
        i /= g.out[d];
        ao += j * g.a_stride[d];
        bo += j * g.b_stride[d];
    }
}

FERX_HOST_DEVICE inline float apply_binary(binary_kind k, float a, float b) {
    switch (k) {
    case binary_kind::add: return a + b;
    case binary_kind::sub: return a - b;
    case binary_kind::mul: return a * b;
    default: return a / b;
    }
}
}  // namespace detail

/// y = a (op) b with broadcasting as `g` describes; y holds g.count floats (may alias an operand
/// of the output's shape).
template <class Policy>
void binary(const Policy& policy, binary_kind kind, const broadcast_geometry& g, const float* a, const float* b, float* y) {
    static_assert(is_host_policy_v<Policy>, "ferx::nn::binary: exec::seq, exec::par, or exec::cuda in a .cu file");
    if (g.same_shape) {
        ferx::detail::for_each_range(policy, g.count, 16384, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
            for (std::ptrdiff_t i = lo; i < hi; ++i) y[i] = detail::apply_binary(kind, a[i], b[i]);
        });
        return;
    }
    const int last = g.rank - 1;
    const std::int64_t inner = g.out[last], rows = inner ? g.count / inner : 0;
    ferx::detail::for_each_range(policy, rows, 64, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
        for (std::ptrdiff_t r = lo; r < hi; ++r) {
            std::int64_t ao, bo;
            detail::broadcast_offsets(g, last, r, ao, bo);
            float* yr = y + r * inner;
            for (std::int64_t j = 0; j < inner; ++j)
                yr[j] = detail::apply_binary(kind, a[ao + j * g.a_stride[last]], b[bo + j * g.b_stride[last]]);
        }
    });
}

}  // namespace nn
FERX_NAMESPACE_END
