/// \file ferx/nn/ops/slice.hpp
/// Slice and Gather on live data: where their data input is a runtime tensor (not a shape or a
/// constant, which ferx/nn/shape_ops.hpp folds), the session runs them as these extension steps.
/// Gather's indices must be constants; Slice's starts, ends, axes and steps constants or values
/// computed from tensor shapes (as exporters write `x[:, c:c + n]` for a dynamic batch);
/// ONNX's semantics otherwise (negative and clamped bounds, negative steps, negative indices,
/// indices of any rank). `fold_shape_steps` (ferx/nn/passes.hpp) turns a step into one of them
/// with `make_runtime_slice` / `make_runtime_gather`.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/nn/detail/op_def.hpp>
#include <ferx/nn/ir.hpp>
#include <ferx/nn/shape_ops.hpp>
#include <ferx/nn/tensor_ref.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {
namespace detail {

// Copies an N-D strided pattern: out[i] = x[base + sum_k index_k(i) * stride_k], with the
// output's extents `ext` and the input strides `stride` per output axis.
template <class Policy>
void strided_copy(const Policy& policy, const float* x, std::int64_t base, const std::int64_t* ext, const std::int64_t* stride,
                  std::size_t rank, float* out, std::int64_t n) {
    if (rank == 0) {
        out[0] = x[base];
        return;
    }
    const std::int64_t inner = rank ? ext[rank - 1] : 1, inner_stride = rank ? stride[rank - 1] : 0;
    const std::int64_t rows = inner ? n / inner : 0;
    ferx::detail::for_each_range(policy, rows, std::max<std::int64_t>(1, 16384 / std::max<std::int64_t>(1, inner)),
                                 [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
        for (std::ptrdiff_t r = lo; r < hi; ++r) {
            std::int64_t rem = r, off = base;
            for (std::size_t k = rank - 1; k-- > 0;) off += (rem % ext[k]) * stride[k], rem /= ext[k];
            float* o = out + r * inner;
            if (inner_stride == 1) std::copy(x + off, x + off + inner, o);
            else
                for (std::int64_t j = 0; j < inner; ++j) o[j] = x[off + j * inner_stride];
        }
    });
}

struct runtime_slice_op {
    struct params {
        std::vector<std::int64_t> starts, ends, axes, steps;
        /// Per list (starts, ends, axes, steps): -1 where it is the constant above, else the
        /// index of the step's shape value that holds it (computed from tensor shapes).
        int from_shape[4] = {-1, -1, -1, -1};
    };
    static constexpr bool keeps_batch = false;
    static void parse(const node_reader&, nn_step&) {}

    // Geometry: s.d0 the first element read; s.widths the output extents, then the input strides.
    static shape_t infer(nn_step& s, const std::vector<const shape_t*>& in, const std::string& source) {
        const params& p = *static_cast<const params*>(s.params.get());
        const fold_context ctx{session_where, "node '" + s.node + "' (" + s.op + ")", source};
        const shape_t& x = *in[0];
        const auto list = [&](int k, const std::vector<std::int64_t>& constant) -> const std::vector<std::int64_t>& {
            return p.from_shape[k] < 0 ? constant : s.shape_values.at(static_cast<std::size_t>(p.from_shape[k]));
        };
        const slice_geometry g = slice_plan(x, list(0, p.starts), list(1, p.ends), list(2, p.axes), list(3, p.steps), ctx);
        std::vector<std::int64_t> stride(x.size(), 1);
        for (std::size_t a = x.size(); a-- > 1;) stride[a - 1] = stride[a] * x[a];
        s.d0 = 0;
        s.widths = g.out_shape;
        for (std::size_t a = 0; a < x.size(); ++a) {
            s.d0 += g.lo[a] * stride[a];
            s.widths.push_back(stride[a] * g.step[a]);
        }
        return g.out_shape;
    }
    static std::size_t scratch_floats(const nn_step&) { return 0; }
    template <class Policy>
    static void run(const Policy& policy, const op_args& a) {
        const std::size_t rank = a.step.widths.size() / 2;
        std::int64_t n = 1;
        for (std::size_t k = 0; k < rank; ++k) n *= a.step.widths[k];
        if (n == 0) return;
        strided_copy(policy, a.inputs[0], a.step.d0, a.step.widths.data(), a.step.widths.data() + rank, rank, a.output, n);
    }
};

struct runtime_gather_op {
    struct params {
        std::int64_t axis = 0;
        shape_t indices_shape;
        std::vector<std::int64_t> indices;
    };
    static constexpr bool keeps_batch = false;
    static void parse(const node_reader&, nn_step&) {}

    // Geometry: s.d0 outer (before the axis), s.d1 the axis' extent, s.d2 inner (after it).
    static shape_t infer(nn_step& s, const std::vector<const shape_t*>& in, const std::string& source) {
        const params& p = *static_cast<const params*>(s.params.get());
        const fold_context ctx{session_where, "node '" + s.node + "' (" + s.op + ")", source};
        const shape_t& x = *in[0];
        if (x.empty()) ctx.fail("Gather of a scalar");
        const std::size_t axis = static_cast<std::size_t>(fold_axis(p.axis, static_cast<std::int64_t>(x.size()), ctx));
        s.d0 = 1, s.d2 = 1, s.d1 = x[axis];
        for (std::size_t a = 0; a < axis; ++a) s.d0 *= x[a];
        for (std::size_t a = axis + 1; a < x.size(); ++a) s.d2 *= x[a];
        s.widths.clear();
        for (std::int64_t i : p.indices) {
            if (i < -s.d1 || i >= s.d1)
                ctx.fail("index " + std::to_string(i) + " is out of range for an axis of " + std::to_string(s.d1));
            s.widths.push_back(i < 0 ? i + s.d1 : i);
        }
        shape_t out(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(axis));
        out.insert(out.end(), p.indices_shape.begin(), p.indices_shape.end());
        out.insert(out.end(), x.begin() + static_cast<std::ptrdiff_t>(axis) + 1, x.end());
        return out;
    }
    static std::size_t scratch_floats(const nn_step&) { return 0; }
    template <class Policy>
    static void run(const Policy& policy, const op_args& a) {
        const std::int64_t outer = a.step.d0, axis = a.step.d1, inner = a.step.d2;
        const std::int64_t k = static_cast<std::int64_t>(a.step.widths.size());
        const float* x = a.inputs[0];
        ferx::detail::for_each_range(policy, outer * k, std::max<std::int64_t>(1, 16384 / std::max<std::int64_t>(1, inner)),
                                     [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
            for (std::ptrdiff_t r = lo; r < hi; ++r) {
                const std::int64_t o = r / k, j = a.step.widths[static_cast<std::size_t>(r % k)];
                const float* src = x + (o * axis + j) * inner;
                std::copy(src, src + inner, a.output + r * inner);
            }
        });
    }
};

inline const op_def& runtime_slice_def() { return extension_op_def<runtime_slice_op>("Slice"); }
inline const op_def& runtime_gather_def() { return extension_op_def<runtime_gather_op>("Gather"); }

}  // namespace detail
}  // namespace nn
FERX_NAMESPACE_END
