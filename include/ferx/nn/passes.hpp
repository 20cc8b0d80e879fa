/// \file ferx/nn/passes.hpp
/// The compile-time rewrites of a session's steps, in the order `detail::compile_plan` runs
/// them: `prune` (steps that reach no output or kept value), `fold_shape_steps` (shape
/// computations evaluated now, or marked for plan time), `fold_batch_norms` (BatchNormalization
/// into the Conv that feeds it), `lower_batch_norms` (the others to a channel affine),
/// `fuse_activations` (Relu & co. into the Conv or affine before them),
/// `pretranspose_gemm_weights`, and `assign_values` (value ids; unread weights dropped).
/// Each takes the plan being compiled and reports faults as ferx::error naming the node.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/error.hpp>
#include <ferx/nn/detail/evaluate_fold.hpp>
#include <ferx/nn/graph.hpp>
#include <ferx/nn/ir.hpp>
#include <ferx/nn/plan.hpp>
#include <ferx/nn/ops/slice.hpp>
#include <ferx/nn/shape_ops.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {
namespace detail {

// Evaluates an all-constant shape computation now: its output becomes a weight.
inline void fold_now(compiled_plan& p, nn_step& s) {
    std::vector<folded_tensor> held;
    held.reserve(s.in_names.size() + 1);
    std::vector<const folded_tensor*> in;
    auto add = [&](const std::string& name) {
        if (name.empty()) return in.push_back(nullptr);
        const dense_tensor& w = weight(p, name);
        held.push_back(fold_constant(w.shape, w.data));
        in.push_back(&held.back());
    };
    for (const auto& name : s.in_names) add(name);
    const folded_tensor out = evaluate_fold(s, in, p.source);
    dense_tensor t{out.shape, {}};
    for (double v : out.data) {
        if (out.integer && std::fabs(v) > 16777216.0)
            fail_step(p, s, "folds to the integer " + std::to_string(v) + ", which float32 cannot hold exactly");
        t.data.push_back(static_cast<float>(v));
    }
    add_weight(p, s.out_name, std::move(t));
    s.dead = true;
}

// A Slice or Gather whose data is a runtime tensor becomes an extension step that copies it;
// its index inputs must be constants.
inline void make_runtime_data_step(compiled_plan& p, nn_step& s, const std::map<std::string, std::size_t>& planned) {
    const auto constant_ints = [&](std::size_t i, const char* what) {
        std::vector<std::int64_t> v;
        if (i >= s.in_names.size() || s.in_names[i].empty()) return v;
        if (!p.weight_ids.count(s.in_names[i]))
            fail_step(p, s, std::string("reads a runtime tensor with ") + what + " from '" + s.in_names[i] +
                                "', which is not a constant; ferx needs constant " + what + " there");
        for (float f : weight(p, s.in_names[i]).data) v.push_back(static_cast<std::int64_t>(std::llround(f)));
        return v;
    };
    if (s.fold.op == shape_op::slice) {
        runtime_slice_op::params q;
        if (s.fold.axes_attribute) {
            q.starts = s.fold.starts, q.ends = s.fold.ends, q.axes = s.fold.axes;
        } else {
            static const char* const what[4] = {"starts", "ends", "axes", "steps"};
            std::vector<std::int64_t>* lists[4] = {&q.starts, &q.ends, &q.axes, &q.steps};
            for (std::size_t k = 0; k < 4; ++k) {
                const std::size_t i = k + 1;
                if (i < s.in_names.size() && planned.count(s.in_names[i])) {  // from tensor shapes: per plan
                    q.from_shape[k] = static_cast<int>(s.shape_inputs.size());
                    s.shape_inputs.push_back(s.in_names[i]);
                } else {
                    *lists[k] = constant_ints(i, what[k]);
                }
            }
        }
        s.params = std::make_shared<const runtime_slice_op::params>(std::move(q));
        s.def = &runtime_slice_def();
    } else {
        runtime_gather_op::params q;
        q.axis = s.fold.axis;
        q.indices = constant_ints(1, "indices");
        q.indices_shape = weight(p, s.in_names[1]).shape;
        s.params = std::make_shared<const runtime_gather_op::params>(std::move(q));
        s.def = &runtime_gather_def();
    }
    s.kind = step_kind::extension;
    s.fold = {};
    s.in_names.resize(1);
}

// Where each shape computation runs (ferx/nn/shape_ops.hpp). A step whose inputs are all
// constants is evaluated now and becomes a weight. A Shape of a runtime tensor, and whatever
// is computed from it, is evaluated at every plan (it may hold the batch extent) and may feed
// only other shape computations and Reshape's shape input. Unsqueeze, Squeeze, Identity and
// Cast to float of a runtime tensor are no-copy aliases; Reshape, Concat and Add/Sub/Mul/Div
// of runtime tensors run as usual. Anything else is refused with the node's name.
inline void fold_shape_steps(compiled_plan& p) {
    std::map<std::string, std::size_t> planned;  // value -> index in p.steps
    for (std::size_t i = 0; i < p.steps.size(); ++i) {
        auto& s = p.steps[i];
        if (s.dead) continue;
        const bool foldable = s.host_fold || s.fold.op != shape_op::identity || s.op == "Identity" || s.op == "Dropout";
        bool runtime = false, from_shapes = false;
        const std::size_t data_inputs = s.op == "Dropout" || s.op == "Identity" ? 1 : s.in_names.size();
        for (std::size_t k = 0; k < s.in_names.size(); ++k) {
            const std::string& in = s.in_names[k];
            if (in.empty() || p.weight_ids.count(in)) continue;
            if (planned.count(in)) from_shapes = true;
            else if (k < data_inputs) runtime = true;
        }
        if (!foldable) {
            for (const auto& in : s.in_names)
                if (planned.count(in))
                    fail_step(p, s, "reads '" + in + "', a value computed from tensor shapes, which only shape computations "
                                 "(Shape, Gather, Concat, ...) and Reshape's shape input may use");
            continue;
        }
        if (s.op == "Reshape" && !s.shape_input.empty()) {
            if (p.weight_ids.count(s.shape_input)) {
                const auto& w = weight(p, s.shape_input);
                s.ints.clear();
                for (float v : w.data) s.ints.push_back(static_cast<std::int64_t>(std::llround(v)));
                s.shape_input.clear();
            } else if (!planned.count(s.shape_input)) {
                fail_step(p, s, "the shape input '" + s.shape_input + "' is a runtime tensor; it must be a constant or "
                             "computed from tensor shapes (Shape, Gather, Concat, ...)");
            } else if (!runtime) {
                from_shapes = true;
            }
        }
        if (s.op == "Shape" && runtime) from_shapes = true, runtime = false;
        // Slice of live data may take its bounds from tensor shapes (ferx/nn/ops/slice.hpp).
        const bool live_slice = s.fold.op == shape_op::slice && !s.fold.axes_attribute && !s.in_names.empty() &&
                                !p.weight_ids.count(s.in_names[0]) && !planned.count(s.in_names[0]);
        if (runtime && from_shapes && !live_slice)
            fail_step(p, s, "mixes a runtime tensor with a value computed from tensor shapes");
        if (!runtime) {
            s.host_fold = true;
            if (from_shapes) planned[s.out_name] = i;
            else fold_now(p, s);
            continue;
        }
        // A runtime tensor: Reshape, Concat, the binary ops, Identity and Dropout run as usual.
        s.host_fold = false;
        if (s.fold.op == shape_op::unsqueeze || s.fold.op == shape_op::squeeze) {
            if (!s.fold.axes_attribute && s.in_names.size() > 1 && !s.in_names[1].empty()) {
                if (!p.weight_ids.count(s.in_names[1])) fail_step(p, s, "the axes input must be a constant");
                for (float v : weight(p, s.in_names[1]).data) s.fold.axes.push_back(static_cast<std::int64_t>(std::llround(v)));
                s.fold.axes_attribute = true;
            }
            s.kind = step_kind::alias;
            s.in_names.resize(1);
        } else if (s.fold.op == shape_op::cast) {
            if (s.fold.to != 1)
                fail_step(p, s, "casts a runtime tensor to data type " + std::to_string(s.fold.to) +
                                 "; ferx networks compute in float32 (only Cast to FLOAT is an identity)");
            s.kind = step_kind::alias;
        } else if (s.fold.op == shape_op::slice || s.fold.op == shape_op::gather) {
            make_runtime_data_step(p, s, planned);  // Slice / Gather of live data (ferx/nn/ops/slice.hpp)
        } else if (s.fold.op == shape_op::constant_of_shape) {
            fail_step(p, s, "runs on a runtime tensor ('" + s.in_names[0] + "'); ferx evaluates " + s.op +
                             " only on constants and on values computed from tensor shapes");
        }
    }
    for (const auto& o : p.output_names)
        if (planned.count(o)) throw error(session_where, "graph output '" + o + "' is computed from tensor shapes only; ferx outputs float tensors the network computes", p.source);
    for (const auto& k : p.options.keep)
        if (planned.count(k)) throw error(session_where, "kept value '" + k + "' is computed from tensor shapes only and cannot be kept", p.source);
}


// Removes steps whose results reach no output and no kept value.
inline void prune(compiled_plan& p) {
    std::set<std::string> needed(p.output_names.begin(), p.output_names.end());
    needed.insert(p.options.keep.begin(), p.options.keep.end());
    for (auto it = p.steps.rbegin(); it != p.steps.rend(); ++it) {
        if (!needed.count(it->out_name)) {
            it->dead = true;
            continue;
        }
        for (const auto& in : it->in_names)
            if (!in.empty()) needed.insert(in);
        if (!it->shape_input.empty()) needed.insert(it->shape_input);
    }
}

// Readers of each value (graph outputs and kept values count 1000).
inline std::map<std::string, int> consumers(const compiled_plan& p) {
    std::map<std::string, int> c;
    for (const auto& s : p.steps)
        if (!s.dead)
            for (const auto& in : s.in_names) ++c[in];
    for (const auto& o : p.output_names) c[o] += 1000;
    for (const auto& k : p.options.keep) c[k] += 1000;
    return c;
}
// The live step writing `name`, or nullptr.
inline nn_step* producer(compiled_plan& p, const std::string& name) {
    for (auto& s : p.steps)
        if (!s.dead && s.out_name == name) return &s;
    return nullptr;
}
// BN scale s = gamma / sqrt(var + eps) and shift = beta - mean * s, in double.
inline void bn_coefficients(const compiled_plan& p, const nn_step& bn, std::int64_t channels, std::vector<double>& scale,
                            std::vector<double>& shift) {
    const dense_tensor &g = weight(p, bn.in_names[1]), &b = weight(p, bn.in_names[2]), &m = weight(p, bn.in_names[3]),
                       &v = weight(p, bn.in_names[4]);
    for (const dense_tensor* t : {&g, &b, &m, &v})
        if (t->element_count() != channels)
            fail_step(p, bn, "parameters have " + std::to_string(t->element_count()) + " values for " + std::to_string(channels) + " channels");
    scale.resize(static_cast<std::size_t>(channels));
    shift.resize(static_cast<std::size_t>(channels));
    for (std::size_t c = 0; c < scale.size(); ++c) {
        scale[c] = double(g.data[c]) / std::sqrt(double(v.data[c]) + double(bn.alpha));
        shift[c] = double(b.data[c]) - double(m.data[c]) * scale[c];
    }
}

inline void fold_batch_norms(compiled_plan& p) {
    for (auto& bn : p.steps) {
        if (bn.dead || bn.op != "BatchNormalization") continue;
        nn_step* conv = producer(p, bn.in_names[0]);
        if (!conv || conv->kind != step_kind::conv || consumers(p)[bn.in_names[0]] != 1) continue;
        const dense_tensor& w = weight(p, conv->in_names[1]);
        const std::int64_t m = w.shape[0], per = w.element_count() / std::max<std::int64_t>(1, m);
        std::vector<double> scale, shift;
        bn_coefficients(p, bn, m, scale, shift);
        dense_tensor fw = w, fb{{m}, std::vector<float>(static_cast<std::size_t>(m), 0.f)};
        const bool has_bias = conv->in_names.size() > 2 && !conv->in_names[2].empty();
        for (std::int64_t o = 0; o < m; ++o) {
            for (std::int64_t i = 0; i < per; ++i)
                fw.data[static_cast<std::size_t>(o * per + i)] = static_cast<float>(double(w.data[static_cast<std::size_t>(o * per + i)]) * scale[static_cast<std::size_t>(o)]);
            const double b0 = has_bias ? double(weight(p, conv->in_names[2]).data[static_cast<std::size_t>(o)]) : 0.0;
            fb.data[static_cast<std::size_t>(o)] = static_cast<float>(b0 * scale[static_cast<std::size_t>(o)] + shift[static_cast<std::size_t>(o)]);
        }
        const std::string base = "ferx_folded/" + bn.node;
        add_weight(p, base + "/W", std::move(fw));
        add_weight(p, base + "/B", std::move(fb));
        conv->in_names.resize(3);
        conv->in_names[1] = base + "/W";
        conv->in_names[2] = base + "/B";
        conv->out_name = bn.out_name;
        conv->node += "+" + bn.node;
        bn.dead = true;
    }
}

// Unfolded BatchNormalization: a per-channel affine with precomputed scale and shift.
inline void lower_batch_norms(compiled_plan& p) {
    for (auto& bn : p.steps) {
        if (bn.dead || bn.op != "BatchNormalization") continue;
        const std::int64_t c = weight(p, bn.in_names[1]).element_count();
        std::vector<double> scale, shift;
        bn_coefficients(p, bn, c, scale, shift);
        dense_tensor ts{{c}, {}}, tb{{c}, {}};
        for (std::size_t i = 0; i < scale.size(); ++i) {
            ts.data.push_back(static_cast<float>(scale[i]));
            tb.data.push_back(static_cast<float>(shift[i]));
        }
        const std::string base = "ferx_affine/" + bn.node;
        add_weight(p, base + "/scale", std::move(ts));
        add_weight(p, base + "/shift", std::move(tb));
        bn.in_names = {bn.in_names[0], base + "/scale", base + "/shift"};
    }
}

inline void fuse_activations(compiled_plan& p) {
    for (auto& a : p.steps) {
        if (a.dead || a.kind != step_kind::unary) continue;
        nn_step* prod = producer(p, a.in_names[0]);
        if (!prod || (prod->kind != step_kind::conv && prod->kind != step_kind::affine) ||
            prod->act.kind != unary_kind::identity || consumers(p)[a.in_names[0]] != 1)
            continue;
        prod->act = a.act;
        prod->out_name = a.out_name;
        prod->node += "+" + a.node;
        a.dead = true;
    }
}

// Gemm with transA / transB on a constant operand: transpose the constant once here instead
// of on every run.
inline void pretranspose_gemm_weights(compiled_plan& p) {
    for (auto& st : p.steps) {
        if (st.kind != step_kind::gemm) continue;
        for (std::size_t i = 0; i < 2; ++i) {
            bool& trans = i == 0 ? st.trans_a : st.trans_b;
            const auto it = p.weight_ids.find(st.in_names[i]);
            if (!trans || it == p.weight_ids.end()) continue;
            const dense_tensor& w = p.weights[static_cast<std::size_t>(it->second)];
            if (w.shape.size() != 2) fail_step(p, st, std::string(i == 0 ? "A" : "B") + " has shape " + shape_string(w.shape) + ", expected rank 2");
            const std::int64_t r = w.shape[0], c = w.shape[1];
            dense_tensor t{{c, r}, std::vector<float>(w.data.size())};
            for (std::int64_t y = 0; y < r; ++y)
                for (std::int64_t x = 0; x < c; ++x) t.data[static_cast<std::size_t>(x * r + y)] = w.data[static_cast<std::size_t>(y * c + x)];
            const std::string name = "ferx_transposed/" + st.node + "/" + (i == 0 ? "A" : "B");
            add_weight(p, name, std::move(t));
            st.in_names[i] = name;
            trans = false;
        }
    }
}

// Value ids for every name the steps, inputs and outputs use.
inline void assign_values(compiled_plan& p) {
    auto id_of = [&](const std::string& name) -> int {
        const auto it = p.ids.find(name);
        if (it != p.ids.end()) return it->second;
        nn_value v;
        v.name = name;
        const auto w = p.weight_ids.find(name);
        if (w != p.weight_ids.end()) v.weight = w->second;
        p.values.push_back(v);
        p.ids[name] = static_cast<int>(p.values.size()) - 1;
        return static_cast<int>(p.values.size()) - 1;
    };
    for (std::size_t i = 0; i < p.input_names.size(); ++i) {
        p.input_ids.push_back(id_of(p.input_names[i]));
        p.values.back().input = static_cast<int>(i);
    }
    for (auto& s : p.steps) {
        s.in.clear();
        for (const auto& in : s.in_names) s.in.push_back(in.empty() ? -1 : id_of(in));
        s.out = id_of(s.out_name);
    }
    for (const auto& o : p.output_names) p.output_ids.push_back(id_of(o));
    for (const auto& k : p.options.keep) id_of(k);
    for (const auto& st : p.shape_steps)  // constants they read, runtime tensors whose shape they take
        for (const auto& in : st.in_names)
            if (!in.empty() && !p.shape_producer.count(in)) id_of(in);
    // Keep only the weights that some step reads (folding replaced the originals).
    std::vector<dense_tensor> used;
    std::map<std::string, int> used_ids;
    for (auto& v : p.values)
        if (v.weight >= 0) {
            used.push_back(std::move(p.weights[static_cast<std::size_t>(v.weight)]));
            used_ids[v.name] = v.weight = static_cast<int>(used.size()) - 1;
        }
    p.weights = std::move(used);
    p.weight_ids = std::move(used_ids);
    for (int id : p.output_ids) p.readable.insert(id);
    for (const auto& k : p.options.keep) p.readable.insert(p.ids[k]);
    for (int id : p.input_ids) p.readable.insert(id);
}

}  // namespace detail
}  // namespace nn
FERX_NAMESPACE_END
