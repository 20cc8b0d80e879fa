/// \file ferx/nn/shape_ops.hpp
/// The shape computations ONNX exporters emit around Flatten and Reshape (PyTorch's
/// `x.view(x.size(0), -1)` becomes Shape -> Gather -> Unsqueeze -> Concat -> Reshape; tf2onnx
/// adds Cast and Slice): Shape, Gather, Unsqueeze, Squeeze, Concat, Cast, Slice,
/// ConstantOfShape, Reshape, Identity and Add / Sub / Mul / Div, evaluated on the host by
/// `ferx/nn/session.hpp` while it compiles a graph (all inputs constant: the result becomes a
/// weight) or plans it for a batch size (an input computed from the shape of a runtime tensor,
/// whose axis 0 is the batch). Also the shape rules Reshape, Squeeze and Unsqueeze share with
/// the session's aliasing (no-copy) steps.
///
/// Values are held in double: every int64 a shape computation produces in practice (|v| <= 2^53)
/// and every float32 are exact. A tensor remembers whether it is known to hold integers (it
/// comes from a Shape or a Cast to an integer type); an ONNX binary op takes operands of one
/// type, so Div truncates, as ONNX's integer Div does, when either operand is known to be an
/// integer. (The graph keeps every constant as float32, so a constant alone does not say.)
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/error.hpp>
#include <ferx/nn/tensor_ref.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {
namespace detail {

/// A tensor computed at compile or plan time (row-major, values in double).
struct folded_tensor {
    shape_t shape;
    std::vector<double> data;
    bool integer = false;  ///< known to hold integers (from a Shape or a Cast): Div truncates
};

/// Largest element count of a folded tensor (a ConstantOfShape or a Gather cannot make the
/// session allocate without bound).
inline constexpr std::int64_t max_folded_elements = std::int64_t{1} << 24;

enum class shape_op { shape, gather, unsqueeze, squeeze, concat, cast, slice, constant_of_shape, reshape, identity, binary };

/// A shape computation's operator and attributes (attribute forms of older opsets included).
struct shape_op_params {
    shape_op op = shape_op::identity;
    std::int64_t axis = 0;                        ///< Gather, Concat
    bool axes_attribute = false;                  ///< Squeeze / Unsqueeze (opset < 13), Slice (opset < 10)
    std::vector<std::int64_t> axes;               ///< their attribute values
    std::vector<std::int64_t> starts, ends;       ///< Slice (opset < 10)
    std::int64_t start = 0;                       ///< Shape (opset >= 15)
    std::int64_t end = std::numeric_limits<std::int64_t>::max();
    std::int64_t to = 1;                          ///< Cast: ONNX TensorProto data type
    double value = 0;                             ///< ConstantOfShape's fill value
    char arithmetic = '+';                        ///< binary: + - * /
};

/// Where a computation happens, for messages: "ferx::nn::session", "node 'n' (Gather)", file.
struct fold_context {
    std::string where, node, file;
    [[noreturn]] void fail(const std::string& why) const { throw error(where, node + ": " + why, file); }
};

/// An axis in [-rank, rank) as a non-negative index.
inline std::int64_t fold_axis(std::int64_t axis, std::int64_t rank, const fold_context& ctx) {
    if (axis < -rank || axis >= rank)
        ctx.fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
    return axis < 0 ? axis + rank : axis;
}

/// The values of `t` as int64; every one must be integral and finite.
inline std::vector<std::int64_t> folded_ints(const folded_tensor& t, const char* what, const fold_context& ctx) {
    std::vector<std::int64_t> out;
    out.reserve(t.data.size());
    for (double v : t.data) {
        if (!std::isfinite(v) || v != std::floor(v) || std::fabs(v) > 9.0e15)
            ctx.fail(std::string(what) + " holds " + std::to_string(v) + ", not an integer");
        out.push_back(static_cast<std::int64_t>(v));
    }
    return out;
}

/// A constant's values as a folded tensor (its type unknown: not `integer`).
inline folded_tensor fold_constant(const shape_t& shape, const std::vector<float>& data) {
    return {shape, std::vector<double>(data.begin(), data.end()), false};
}

inline void check_folded_size(const shape_t& shape, const fold_context& ctx) {
    std::int64_t n = 1;
    for (auto d : shape) {
        if (d < 0) ctx.fail("the result would have a negative extent " + shape_string(shape));
        if (d != 0 && n > max_folded_elements / d)
            ctx.fail("the result " + shape_string(shape) + " has more than " + std::to_string(max_folded_elements) +
                     " elements, more than ferx computes while compiling a graph");
        n *= d;
    }
}

/// ONNX Reshape's output shape (allowzero 0): 0 copies the input extent, one -1 is inferred.
inline shape_t reshape_shape(const shape_t& x, const std::vector<std::int64_t>& target, const fold_context& ctx) {
    shape_t out = target;
    std::int64_t known = 1, infer_at = -1;
    for (std::size_t a = 0; a < out.size(); ++a) {
        if (out[a] == 0) {
            if (a >= x.size()) ctx.fail("shape value 0 at axis " + std::to_string(a) + " has no input extent to copy");
            out[a] = x[a];
        }
        if (out[a] == -1) {
            if (infer_at >= 0) ctx.fail("the shape " + shape_string(target) + " has more than one -1");
            infer_at = static_cast<std::int64_t>(a);
        } else if (out[a] < 0) {
            ctx.fail("the shape " + shape_string(target) + " has a negative extent");
        } else {
            if (out[a] > 0 && known > std::numeric_limits<std::int64_t>::max() / out[a])
                ctx.fail("the shape " + shape_string(target) + " has too many elements");
            known *= out[a];
        }
    }
    const std::int64_t total = element_count(x);
    if (infer_at >= 0) {
        if (known == 0 || total % known != 0)
            ctx.fail("cannot reshape " + shape_string(x) + " to " + shape_string(target));
        out[static_cast<std::size_t>(infer_at)] = total / known;
    }
    if (element_count(out) != total) ctx.fail("cannot reshape " + shape_string(x) + " (" + std::to_string(total) +
                                              " elements) to " + shape_string(target));
    return out;
}

/// Unsqueeze's output shape: `axes` index the output (negative allowed), no repeats.
inline shape_t unsqueeze_shape(const shape_t& x, const std::vector<std::int64_t>& axes, const fold_context& ctx) {
    const std::int64_t rank = static_cast<std::int64_t>(x.size() + axes.size());
    std::vector<bool> inserted(static_cast<std::size_t>(rank), false);
    for (auto a : axes) {
        const std::int64_t k = fold_axis(a, rank, ctx);
        if (inserted[static_cast<std::size_t>(k)]) ctx.fail("axis " + std::to_string(a) + " is given twice");
        inserted[static_cast<std::size_t>(k)] = true;
    }
    shape_t out;
    std::size_t next = 0;
    for (std::int64_t k = 0; k < rank; ++k) out.push_back(inserted[static_cast<std::size_t>(k)] ? 1 : x[next++]);
    return out;
}

/// Squeeze's output shape: the listed axes (each of extent 1), or every extent-1 axis when
/// `all_ones` (no axes given).
inline shape_t squeeze_shape(const shape_t& x, const std::vector<std::int64_t>& axes, bool all_ones, const fold_context& ctx) {
    const std::int64_t rank = static_cast<std::int64_t>(x.size());
    std::vector<bool> drop(x.size(), false);
    for (std::size_t k = 0; all_ones && k < x.size(); ++k) drop[k] = x[k] == 1;
    for (auto a : axes) {
        const std::size_t k = static_cast<std::size_t>(fold_axis(a, rank, ctx));
        if (x[k] != 1) ctx.fail("cannot squeeze axis " + std::to_string(a) + " of " + shape_string(x) + ": its extent is not 1");
        drop[k] = true;
    }
    shape_t out;
    for (std::size_t k = 0; k < x.size(); ++k)
        if (!drop[k]) out.push_back(x[k]);
    return out;
}

/// Shape: the extents of `x` from `start` to `end` (clamped, negative from the end) as an integer vector.
inline folded_tensor fold_shape(const shape_t& x, std::int64_t start, std::int64_t end) {
    const std::int64_t r = static_cast<std::int64_t>(x.size());
    auto clamp = [r](std::int64_t v) { return std::min(r, std::max<std::int64_t>(0, v < 0 ? v + r : v)); };
    const std::int64_t lo = clamp(start), hi = std::max(lo, clamp(end));
    folded_tensor t;
    t.integer = true;
    for (std::int64_t a = lo; a < hi; ++a) t.data.push_back(static_cast<double>(x[static_cast<std::size_t>(a)]));
    t.shape = {hi - lo};
    return t;
}

/// Gather: `data` indexed along `axis` by `indices` (negative from the end, each checked).
inline folded_tensor fold_gather(const folded_tensor& data, const folded_tensor& indices, std::int64_t axis,
                                 const fold_context& ctx) {
    if (data.shape.empty()) ctx.fail("cannot gather from a scalar");
    const std::size_t ax = static_cast<std::size_t>(fold_axis(axis, static_cast<std::int64_t>(data.shape.size()), ctx));
    const std::int64_t extent = data.shape[ax];
    std::vector<std::int64_t> idx = folded_ints(indices, "the indices", ctx);
    for (auto& i : idx) {
        if (i < -extent || i >= extent)
            ctx.fail("index " + std::to_string(i) + " is out of range for axis " + std::to_string(axis) + " of extent " +
                     std::to_string(extent) + " (data " + shape_string(data.shape) + ")");
        if (i < 0) i += extent;
    }
    folded_tensor out;
    out.integer = data.integer;
    out.shape.assign(data.shape.begin(), data.shape.begin() + static_cast<std::ptrdiff_t>(ax));
    out.shape.insert(out.shape.end(), indices.shape.begin(), indices.shape.end());
    out.shape.insert(out.shape.end(), data.shape.begin() + static_cast<std::ptrdiff_t>(ax) + 1, data.shape.end());
    check_folded_size(out.shape, ctx);
    std::int64_t outer = 1, inner = 1;
    for (std::size_t a = 0; a < ax; ++a) outer *= data.shape[a];
    for (std::size_t a = ax + 1; a < data.shape.size(); ++a) inner *= data.shape[a];
    for (std::int64_t o = 0; o < outer; ++o)
        for (auto i : idx)
            for (std::int64_t k = 0; k < inner; ++k)
                out.data.push_back(data.data[static_cast<std::size_t>((o * extent + i) * inner + k)]);
    return out;
}

/// Concat along `axis`; every input has the rank and the off-axis extents of the first.
inline folded_tensor fold_concat(const std::vector<const folded_tensor*>& in, std::int64_t axis, const fold_context& ctx) {
    const shape_t& first = in.front()->shape;
    if (first.empty()) ctx.fail("cannot concatenate scalars");
    const std::size_t ax = static_cast<std::size_t>(fold_axis(axis, static_cast<std::int64_t>(first.size()), ctx));
    folded_tensor out;
    out.shape = first;
    out.shape[ax] = 0;
    for (const auto* t : in) {
        if (t->shape.size() != first.size()) ctx.fail("inputs differ in rank: " + shape_string(first) + " and " + shape_string(t->shape));
        for (std::size_t a = 0; a < first.size(); ++a)
            if (a != ax && t->shape[a] != first[a])
                ctx.fail("shapes " + shape_string(first) + " and " + shape_string(t->shape) + " differ off the axis");
        out.shape[ax] += t->shape[ax];
        out.integer = out.integer || t->integer;
    }
    std::int64_t outer = 1;
    for (std::size_t a = 0; a < ax; ++a) outer *= first[a];
    for (std::int64_t o = 0; o < outer; ++o)
        for (const auto* t : in) {
            const std::int64_t width = outer ? element_count(t->shape) / outer : 0;
            out.data.insert(out.data.end(), t->data.begin() + o * width, t->data.begin() + (o + 1) * width);
        }
    return out;
}

/// Cast to ONNX data type `to`: FLOAT, DOUBLE, FLOAT16 kept as values (FLOAT rounds to float32),
/// the integer types truncate toward zero (range checked), BOOL is v != 0.
inline folded_tensor fold_cast(const folded_tensor& x, std::int64_t to, const fold_context& ctx) {
    folded_tensor out = x;
    auto to_int = [&](double lo, double hi) {
        for (auto& v : out.data) {
            if (!std::isfinite(v) || std::trunc(v) < lo || std::trunc(v) > hi)
                ctx.fail("value " + std::to_string(v) + " does not fit the target integer type " + std::to_string(to));
            v = std::trunc(v);
        }
        out.integer = true;
    };
    switch (to) {
        case 1: for (auto& v : out.data) v = static_cast<double>(static_cast<float>(v)); return out;  // FLOAT
        case 11: return out;                                                                           // DOUBLE
        case 2: to_int(0, 255); return out;                                                            // UINT8
        case 3: to_int(-128, 127); return out;                                                         // INT8
        case 4: to_int(0, 65535); return out;                                                          // UINT16
        case 5: to_int(-32768, 32767); return out;                                                     // INT16
        case 6: to_int(-2147483648.0, 2147483647.0); return out;                                       // INT32
        case 7: to_int(-9.0e15, 9.0e15); return out;                                                   // INT64
        case 12: to_int(0, 4294967295.0); return out;                                                  // UINT32
        case 13: to_int(0, 9.0e15); return out;                                                        // UINT64
        case 9:                                                                                        // BOOL
            for (auto& v : out.data) v = v != 0 ? 1 : 0;
            out.integer = true;
            return out;
        default: ctx.fail("Cast to data type " + std::to_string(to) + " is not supported while folding shapes");
    }
}

/// Where a Slice reads: per axis of the input its first index and step, and the output's shape.
struct slice_geometry {
    std::vector<std::int64_t> lo, step;
    shape_t out_shape;
};

/// The geometry of Slice (opset >= 10 semantics; older attribute forms are passed the same way)
/// on a tensor of shape `in`: per listed axis, start/end clamped as ONNX defines them, any
/// non-zero step.
inline slice_geometry slice_plan(const shape_t& in, const std::vector<std::int64_t>& starts, const std::vector<std::int64_t>& ends,
                                 std::vector<std::int64_t> axes, std::vector<std::int64_t> steps, const fold_context& ctx) {
    const std::int64_t rank = static_cast<std::int64_t>(in.size());
    if (starts.size() != ends.size()) ctx.fail("starts and ends differ in length");
    if (axes.empty())
        for (std::int64_t a = 0; a < static_cast<std::int64_t>(starts.size()); ++a) axes.push_back(a);
    if (steps.empty()) steps.assign(starts.size(), 1);
    if (axes.size() != starts.size() || steps.size() != starts.size()) ctx.fail("starts, ends, axes and steps differ in length");
    slice_geometry g{std::vector<std::int64_t>(in.size(), 0), std::vector<std::int64_t>(in.size(), 1), in};
    std::vector<bool> seen(in.size(), false);
    for (std::size_t i = 0; i < axes.size(); ++i) {
        const std::size_t a = static_cast<std::size_t>(fold_axis(axes[i], rank, ctx));
        if (seen[a]) ctx.fail("axis " + std::to_string(axes[i]) + " is sliced twice");
        seen[a] = true;
        if (steps[i] == 0) ctx.fail("a step is 0");
        const std::int64_t d = in[a];
        // A step longer than the axis takes one element at most: clamped, the arithmetic cannot overflow.
        steps[i] = std::max(-(d + 1), std::min(d + 1, steps[i]));
        std::int64_t s = starts[i] < 0 ? starts[i] + d : starts[i];
        std::int64_t e = ends[i] < 0 ? ends[i] + d : ends[i];
        if (steps[i] > 0) {
            s = std::min(d, std::max<std::int64_t>(0, s));
            e = std::min(d, std::max<std::int64_t>(0, e));
            g.out_shape[a] = e > s ? (e - s - 1) / steps[i] + 1 : 0;
        } else {
            s = std::min(d - 1, std::max<std::int64_t>(-1, s));
            e = std::min(d - 1, std::max<std::int64_t>(-1, e));
            g.out_shape[a] = s > e ? (s - e - 1) / -steps[i] + 1 : 0;
        }
        g.lo[a] = s;
        g.step[a] = steps[i];
    }
    return g;
}

/// Slice of a folded tensor (see slice_plan).
inline folded_tensor fold_slice(const folded_tensor& x, std::vector<std::int64_t> starts, std::vector<std::int64_t> ends,
                                std::vector<std::int64_t> axes, std::vector<std::int64_t> steps, const fold_context& ctx) {
    const slice_geometry g = slice_plan(x.shape, starts, ends, std::move(axes), std::move(steps), ctx);
    const auto& lo = g.lo;
    const auto& step = g.step;
    const shape_t& out_shape = g.out_shape;
    folded_tensor out;
    out.shape = out_shape;
    out.integer = x.integer;
    const std::int64_t n = element_count(out_shape);
    std::vector<std::int64_t> stride(x.shape.size(), 1);
    for (std::size_t a = x.shape.size(); a-- > 1;) stride[a - 1] = stride[a] * x.shape[a];
    for (std::int64_t i = 0; i < n; ++i) {
        std::int64_t rest = i, src = 0;
        for (std::size_t a = out_shape.size(); a-- > 0;) {
            const std::int64_t c = rest % out_shape[a];
            rest /= out_shape[a];
            src += (lo[a] + c * step[a]) * stride[a];
        }
        out.data.push_back(x.data[static_cast<std::size_t>(src)]);
    }
    return out;
}

/// ConstantOfShape: a tensor of the extents in `shape` (a 1-D integer vector) filled with `value`.
inline folded_tensor fold_constant_of_shape(const folded_tensor& shape, double value, bool integer, const fold_context& ctx) {
    if (shape.shape.size() != 1) ctx.fail("the shape input must be 1-D, got " + shape_string(shape.shape));
    folded_tensor out;
    out.shape = folded_ints(shape, "the shape input", ctx);
    check_folded_size(out.shape, ctx);
    out.data.assign(static_cast<std::size_t>(element_count(out.shape)), value);
    out.integer = integer;
    return out;
}

/// Add, Sub, Mul, Div ('+', '-', '*', '/') with NumPy broadcasting; Div of integers truncates,
/// by zero is an error.
inline folded_tensor fold_binary(const folded_tensor& a, const folded_tensor& b, char op, const fold_context& ctx) {
    const std::size_t rank = std::max(a.shape.size(), b.shape.size());
    shape_t out_shape(rank, 1);
    auto extent = [rank](const shape_t& s, std::size_t k) { return k + s.size() >= rank ? s[k + s.size() - rank] : 1; };
    for (std::size_t k = 0; k < rank; ++k) {
        const std::int64_t da = extent(a.shape, k), db = extent(b.shape, k);
        if (da != db && da != 1 && db != 1) ctx.fail("shapes " + shape_string(a.shape) + " and " + shape_string(b.shape) + " cannot be broadcast");
        out_shape[k] = da == 1 ? db : da;
    }
    check_folded_size(out_shape, ctx);
    folded_tensor out;
    out.shape = out_shape;
    out.integer = a.integer || b.integer;
    const std::int64_t n = element_count(out_shape);
    for (std::int64_t i = 0; i < n; ++i) {
        std::int64_t rest = i, ia = 0, ib = 0, sa = 1, sb = 1;
        for (std::size_t k = rank; k-- > 0;) {
            const std::int64_t c = rest % out_shape[k];
            rest /= out_shape[k];
            const std::int64_t da = extent(a.shape, k), db = extent(b.shape, k);
            ia += (da == 1 ? 0 : c) * sa, ib += (db == 1 ? 0 : c) * sb;
            sa *= da, sb *= db;
        }
        const double x = a.data[static_cast<std::size_t>(ia)], y = b.data[static_cast<std::size_t>(ib)];
        double v = 0;
        switch (op) {
            case '+': v = x + y; break;
            case '-': v = x - y; break;
            case '*': v = x * y; break;
            default:
                if (out.integer && y == 0) ctx.fail("integer division by zero");
                v = out.integer ? std::trunc(x / y) : x / y;
        }
        out.data.push_back(v);
    }
    return out;
}

}  // namespace detail
}  // namespace nn
FERX_NAMESPACE_END
