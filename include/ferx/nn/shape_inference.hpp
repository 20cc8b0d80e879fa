/// \file ferx/nn/shape_inference.hpp
/// Shape inference for a compiled plan: for given input shapes, the shape of every value, the
/// geometry of every step (convolution and pooling windows, broadcasts, GEMM extents, ...),
/// whether each value keeps the batch on axis 0, and the values of the plan-time shape
/// computations a Reshape reads. Faults are ferx::error naming the node.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/error.hpp>
#include <ferx/nn/conv.hpp>
#include <ferx/nn/detail/evaluate_fold.hpp>
#include <ferx/nn/elementwise.hpp>
#include <ferx/nn/ir.hpp>
#include <ferx/nn/layout.hpp>
#include <ferx/nn/op_registry.hpp>
#include <ferx/nn/plan.hpp>
#include <ferx/nn/pool.hpp>
#include <ferx/nn/shape_ops.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {
namespace detail {

/// One inference over a plan (the plan-time shape values live as long as it).
class shape_inference {
public:
    explicit shape_inference(compiled_plan& plan) : p(plan) {}

    // Shapes and geometry of every step for these input shapes.
    void run(const std::vector<shape_t>& input_shapes) {
        for (std::size_t i = 0; i < p.input_ids.size(); ++i) p.values[static_cast<std::size_t>(p.input_ids[i])].shape = input_shapes[i];
        for (auto& v : p.values) {
            if (v.weight >= 0) v.shape = p.weights[static_cast<std::size_t>(v.weight)].shape;
            v.batched = v.input >= 0;
        }
        planned_values_.clear();
        planned_cursor_ = 0;
        for (auto& s : p.steps) {
            auto& out = p.values[static_cast<std::size_t>(s.out)];
            out.shape = infer_step(s);
            out.batched = batched_output(s, out.shape);
        }
    }

    // Whether a step's output keeps the batch on axis 0: an input's axis 0 is the batch and the
    // output's axis 0 has its extent, and the op does not move or merge axis 0.
    bool batched_output(const nn_step& s, const shape_t& out) const {
        if (out.empty()) return false;
        if (s.kind == step_kind::extension && !s.def->keeps_batch) return false;
        if (s.kind == step_kind::transpose && (s.ints.empty() ? out.size() > 1 : s.ints[0] != 0)) return false;
        if (s.kind == step_kind::concat && (s.axis == 0 || s.axis == -static_cast<std::int64_t>(out.size()))) return false;
        if (s.kind == step_kind::gemm && s.trans_a) return false;
        if (s.op == "Flatten" && s.axis == 0) return false;
        for (int id : s.in)
            if (id >= 0 && p.values[static_cast<std::size_t>(id)].batched && !p.shape(id).empty() && p.shape(id)[0] == out[0]) return true;
        return false;
    }

    // The value of a shape computation for the current plan: evaluates the shape steps in order
    // up to the one producing `name` (their runtime inputs precede the asking step, so their
    // shapes are inferred already).
    const folded_tensor& planned_value(const std::string& name) {
        const std::size_t last = p.shape_producer.at(name);
        for (; planned_cursor_ <= last; ++planned_cursor_) {
            const nn_step& s = p.shape_steps[planned_cursor_];
            std::vector<std::string> names = s.in_names;
            if (!s.shape_input.empty()) names.push_back(s.shape_input);
            std::vector<folded_tensor> held;
            held.reserve(names.size());
            std::vector<const folded_tensor*> in;
            for (const auto& v : names) {
                if (v.empty()) {
                    in.push_back(nullptr);
                } else if (p.shape_producer.count(v)) {
                    in.push_back(&planned_values_.at(v));
                } else {
                    const auto& val = p.values[static_cast<std::size_t>(p.ids.at(v))];
                    if (val.weight >= 0) held.push_back(fold_constant(val.shape, p.weights[static_cast<std::size_t>(val.weight)].data));
                    else held.push_back({val.shape, {}, false});  // a runtime tensor: only Shape reads it
                    in.push_back(&held.back());
                }
            }
            planned_values_[s.out_name] = evaluate_fold(s, in, p.source);
        }
        return planned_values_.at(name);
    }

    shape_t infer_step(nn_step& s) {
        const shape_t& x = p.shape(s.in[0]);
        auto need_rank = [&](const shape_t& t, std::size_t r, const char* what) {
            if (t.size() != r)
                fail_step(p, s, std::string(what) + " has shape " + shape_string(t) + ", expected rank " + std::to_string(r));
        };
        const std::string where = std::string(session_where) + ": node '" + s.node + "' (" + s.op + ")";
        switch (s.kind) {
        case step_kind::conv: {
            need_rank(x, 4, "the input");
            const shape_t& w = p.shape(s.in[1]);
            s.conv = make_conv_geometry(x[0], x[1], x[2], x[3], w[0], w[1], s.win, s.group, where);
            return {x[0], w[0], s.conv.oh, s.conv.ow};
        }
        case step_kind::affine: {
            if (x.size() < 2) fail_step(p, s, "the input needs a channel axis, got " + shape_string(x));
            if (x[1] != p.shape(s.in[1])[0]) fail_step(p, s, "the input has " + std::to_string(x[1]) + " channels, the parameters " + std::to_string(p.shape(s.in[1])[0]));
            s.d0 = x[0], s.d1 = x[1], s.d2 = element_count(x) / std::max<std::int64_t>(1, x[0] * x[1]);
            return x;
        }
        case step_kind::unary: s.d0 = element_count(x); return x;
        case step_kind::max_pool:
        case step_kind::average_pool: {
            need_rank(x, 4, "the input");
            s.pool = make_pool_geometry(x[0], x[1], x[2], x[3], s.win, s.count_include_pad, where);
            return {x[0], x[1], s.pool.oh, s.pool.ow};
        }
        case step_kind::global_average_pool: {
            if (x.size() < 3) fail_step(p, s, "the input needs spatial axes, got " + shape_string(x));
            shape_t out = x;
            for (std::size_t i = 2; i < out.size(); ++i) out[i] = 1;
            s.d0 = x[0] * x[1], s.d1 = element_count(x) / std::max<std::int64_t>(1, s.d0);
            return out;
        }
        case step_kind::binary: {
            shape_t out;
            s.bc = make_broadcast_geometry(x, p.shape(s.in[1]), out, where);
            return out;
        }
        case step_kind::concat: {
            const std::int64_t r = static_cast<std::int64_t>(x.size());
            const std::int64_t axis = norm_axis(s.axis, r, "node '" + s.node + "'", s.op);
            shape_t out = x;
            out[static_cast<std::size_t>(axis)] = 0;
            s.widths.clear();
            s.d0 = 1;
            for (std::int64_t a = 0; a < axis; ++a) s.d0 *= x[static_cast<std::size_t>(a)];
            for (int id : s.in) {
                const shape_t& t = p.shape(id);
                if (t.size() != x.size()) fail_step(p, s, "inputs differ in rank");
                for (std::size_t a = 0; a < t.size(); ++a)
                    if (static_cast<std::int64_t>(a) != axis && t[a] != x[a])
                        fail_step(p, s, "shapes " + shape_string(x) + " and " + shape_string(t) + " differ off the axis");
                out[static_cast<std::size_t>(axis)] += t[static_cast<std::size_t>(axis)];
                s.widths.push_back(s.d0 ? element_count(t) / s.d0 : 0);
            }
            return out;
        }
        case step_kind::gemm: {
            const shape_t& b = p.shape(s.in[1]);
            need_rank(x, 2, "A");
            need_rank(b, 2, "B");
            const std::int64_t m = s.trans_a ? x[1] : x[0], k = s.trans_a ? x[0] : x[1];
            const std::int64_t kb = s.trans_b ? b[1] : b[0], n = s.trans_b ? b[0] : b[1];
            if (k != kb) fail_step(p, s, "A " + shape_string(x) + " and B " + shape_string(b) + " do not chain");
            s.d0 = m, s.d1 = n, s.d2 = k;
            if (s.in.size() > 2 && s.in[2] >= 0) {
                shape_t out;
                s.bc = make_broadcast_geometry(p.shape(s.in[2]), {m, n}, out, where);
                if (out != shape_t{m, n}) fail_step(p, s, "C " + shape_string(p.shape(s.in[2])) + " does not broadcast to " + shape_string({m, n}));
            }
            return {m, n};
        }
        case step_kind::matmul: {
            const shape_t& b = p.shape(s.in[1]);
            if (x.size() < 2 || b.size() < 2) fail_step(p, s, "1-D operands are not supported (got " + shape_string(x) + " and " + shape_string(b) + ")");
            const std::int64_t m = x[x.size() - 2], k = x.back(), n = b.back();
            if (b[b.size() - 2] != k) fail_step(p, s, "A " + shape_string(x) + " and B " + shape_string(b) + " do not chain");
            shape_t batch_out;
            s.batch_bc = make_broadcast_geometry(shape_t(x.begin(), x.end() - 2), shape_t(b.begin(), b.end() - 2), batch_out, where);
            s.d0 = m, s.d1 = n, s.d2 = k, s.batches = element_count(batch_out);
            batch_out.push_back(m);
            batch_out.push_back(n);
            return batch_out;
        }
        case step_kind::transpose: {
            shape_t out;
            s.tr = make_transpose_geometry(x, s.ints, out, where);
            return out;
        }
        case step_kind::pad: {
            shape_t out;
            s.pd = make_pad_geometry(x, s.ints, s.pmode, s.pvalue, out, where);
            return out;
        }
        case step_kind::softmax: {
            const std::int64_t r = static_cast<std::int64_t>(x.size());
            const std::int64_t axis = norm_axis(s.axis, r, "node '" + s.node + "'", s.op);
            s.d0 = 1, s.d1 = 1, s.d2 = 1;
            for (std::int64_t a = 0; a < r; ++a) {
                const std::int64_t d = x[static_cast<std::size_t>(a)];
                if (a < axis) s.d0 *= d;
                else if (a == axis || p.opset < 13) s.d1 *= d;
                else s.d2 *= d;
            }
            return x;
        }
        case step_kind::extension: {
            s.shape_values.clear();
            for (const auto& name : s.shape_inputs) {
                const fold_context ctx{session_where, "node '" + s.node + "' (" + s.op + ")", p.source};
                s.shape_values.push_back(folded_ints(planned_value(name), "a shape input", ctx));
            }
            std::vector<const shape_t*> in;
            for (int id : s.in) in.push_back(id >= 0 ? &p.shape(id) : nullptr);
            return s.def->infer(s, in, p.source);
        }
        case step_kind::alias: {
            if (s.op == "Flatten") {
                const std::int64_t r = static_cast<std::int64_t>(x.size());
                const std::int64_t axis = norm_axis(s.axis, r, "node '" + s.node + "'", s.op);
                std::int64_t outer = 1;
                for (std::int64_t a = 0; a < axis; ++a) outer *= x[static_cast<std::size_t>(a)];
                return {outer, outer ? element_count(x) / outer : 0};
            }
            const fold_context ctx{session_where, "node '" + s.node + "' (" + s.op + ")", p.source};
            if (s.op == "Reshape") {
                std::vector<std::int64_t> target =
                    s.shape_input.empty() ? s.ints : folded_ints(planned_value(s.shape_input), "the shape", ctx);
                // A target whose axis 0 is the batch the graph was traced for, applied to a tensor
                // whose axis 0 is the batch, keeps the batch: an export for batch 1 writes
                // [1, -1] where it means [N, -1].
                if (p.values[static_cast<std::size_t>(s.in[0])].batched && !x.empty() && !target.empty() &&
                    target[0] == p.traced_batch && x[0] != p.traced_batch)
                    target[0] = x[0];
                return reshape_shape(x, target, ctx);
            }
            if (s.op == "Unsqueeze") return unsqueeze_shape(x, s.fold.axes, ctx);
            if (s.op == "Squeeze") return squeeze_shape(x, s.fold.axes, !s.fold.axes_attribute, ctx);
            return x;
        }
        }
        return x;
    }

private:
    compiled_plan& p;
    std::map<std::string, folded_tensor> planned_values_;
    std::size_t planned_cursor_ = 0;
};

/// Infers every shape and step geometry of `p` for these input shapes (in the graph's input order).
inline void infer_shapes(compiled_plan& p, const std::vector<shape_t>& input_shapes) { shape_inference(p).run(input_shapes); }

}  // namespace detail
}  // namespace nn
FERX_NAMESPACE_END
