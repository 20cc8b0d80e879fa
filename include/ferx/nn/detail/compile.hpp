/// \file ferx/nn/detail/compile.hpp
/// `detail::compile_plan`: a `nn::graph` checked, sorted, parsed through the op registry
/// (ferx/nn/op_registry.hpp) and rewritten by the passes (ferx/nn/passes.hpp) into a
/// `nn::compiled_plan`.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/error.hpp>
#include <ferx/nn/detail/node_reader.hpp>
#include <ferx/nn/graph.hpp>
#include <ferx/nn/ir.hpp>
#include <ferx/nn/op_registry.hpp>
#include <ferx/nn/passes.hpp>
#include <ferx/nn/plan.hpp>
#include <ferx/nn/session_options.hpp>
#include <ferx/nn/shape_inference.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {
namespace detail {

[[noreturn]] inline void fail_node(const compiled_plan& p, const node& n, const std::string& why) {
    throw error(session_where, "node '" + n.name + "' (" + n.op_type + "): " + why, p.source);
}

// Kahn's algorithm, lowest index first; a cycle is an error naming one of its nodes.
inline std::vector<const node*> topological_order(const compiled_plan& p, const std::vector<const node*>& nodes) {
    std::map<std::string, std::size_t> producer;
    for (std::size_t i = 0; i < nodes.size(); ++i)
        for (const auto& o : nodes[i]->outputs)
            if (!o.empty()) producer[o] = i;
    std::vector<std::vector<std::size_t>> users(nodes.size());
    std::vector<std::size_t> pending(nodes.size(), 0);
    for (std::size_t i = 0; i < nodes.size(); ++i)
        for (const auto& in : nodes[i]->inputs) {
            const auto it = producer.find(in);
            if (it == producer.end()) continue;
            users[it->second].push_back(i);
            ++pending[i];
        }
    std::vector<std::size_t> ready, order;
    for (std::size_t i = nodes.size(); i-- > 0;)
        if (pending[i] == 0) ready.push_back(i);
    while (!ready.empty()) {
        // Lowest index first: a graph already in order keeps its order.
        const auto lowest = std::min_element(ready.begin(), ready.end());
        const std::size_t i = *lowest;
        ready.erase(lowest);
        order.push_back(i);
        for (std::size_t u : users[i])
            if (--pending[u] == 0) ready.push_back(u);
    }
    if (order.size() != nodes.size()) {
        for (std::size_t i = 0; i < nodes.size(); ++i)
            if (pending[i] > 0) fail_node(p, *nodes[i], "is part of a cycle (the graph is not a DAG)");
    }
    std::vector<const node*> out;
    for (std::size_t i : order) out.push_back(nodes[i]);
    return out;
}

// One node as a step, through its registry entry.
inline nn_step parse_node(const compiled_plan& p, const node& n) {
    nn_step s;
    s.node = n.name, s.op = n.op_type;
    s.in_names = n.inputs;
    s.out_name = n.outputs.empty() ? std::string() : n.outputs[0];
    const op_def* def = find_op(n.op_type);
    def->parse(node_reader(n, p), s);
    if (s.kind == step_kind::extension && s.def == nullptr) s.def = def;  // a parser may pick another (Conv 1-D/3-D)
    return s;
}

/// Validates and compiles `g`: unknown ops, missing values, a cycle and bad attributes or
/// weights are ferx::error naming the node and `g.source`. The result is planned for batch 1
/// where the inputs' other extents are declared.
inline compiled_plan compile_plan(const graph& g, session_options options) {
    compiled_plan p;
    p.options = std::move(options);
    p.source = g.source;
    p.opset = g.opset_version;
    // Values known before any node: initializers and graph inputs.
    for (const auto& [name, t] : g.initializers) {
        add_weight(p, name, t);
        p.initializer_names.insert(name);
    }
    std::set<std::string> defined;
    for (const auto& [name, t] : g.initializers) defined.insert(name);
    for (const auto& in : g.inputs) {
        if (p.weight_ids.count(in.name)) continue;  // an initializer listed as input (old IR)
        if (defined.count(in.name)) throw error(session_where, "graph input '" + in.name + "' is declared twice", p.source);
        defined.insert(in.name);
        p.input_names.push_back(in.name);
        p.input_decl.push_back(in.shape);
    }
    if (p.input_names.empty()) throw error(session_where, "the graph has no runtime input", p.source);
    // The batch the graph was exported (traced) for: a Reshape that hard-codes it keeps the
    // batch axis at other batch sizes (see infer_step).
    p.traced_batch = !p.input_decl[0].empty() && p.input_decl[0][0] > 0 ? p.input_decl[0][0] : 1;
    if (g.outputs.empty()) throw error(session_where, "the graph has no output", p.source);
    // Unknown ops first (reported even in a graph that also has other faults), then Constant
    // nodes become initializers.
    std::vector<const node*> nodes;
    for (const auto& n : g.nodes) {
        if (!supported_ops().count(n.op_type))
            throw error(session_where, "unsupported op '" + n.op_type + "' in node '" + n.name + "'", p.source);
        const std::size_t computes = find_op(n.op_type)->outputs;  // outputs the op computes
        const bool any = std::any_of(n.outputs.begin(), n.outputs.end(), [](const std::string& o) { return !o.empty(); });
        if (computes > 1 ? !any : (n.outputs.empty() || n.outputs[0].empty())) fail_node(p, n, "has no output");
        for (std::size_t o = 0; o < n.outputs.size(); ++o) {
            if (n.outputs[o].empty()) continue;
            if (defined.count(n.outputs[o])) fail_node(p, n, "output '" + n.outputs[o] + "' is already defined elsewhere");
            defined.insert(n.outputs[o]);
            if (o >= computes && n.op_type != "Dropout" && n.op_type != "BatchNormalization")
                fail_node(p, n, "has more outputs than ferx supports");
        }
        if (n.op_type == "Constant") {
            add_weight(p, n.outputs[0], node_reader(n, p).constant_value());
            continue;
        }
        nodes.push_back(&n);
    }
    for (const auto* n : nodes)
        for (std::size_t i = 0; i < n->inputs.size(); ++i)
            if (!n->inputs[i].empty() && !defined.count(n->inputs[i]))
                fail_node(p, *n, "input " + std::to_string(i) + " '" + n->inputs[i] +
                                  "' is neither an initializer, a graph input nor a node output (missing initializer?)");
    for (const auto& o : g.outputs)
        if (!defined.count(o.name)) throw error(session_where, "graph output '" + o.name + "' is never produced", p.source);
    for (const auto& k : p.options.keep)
        if (!defined.count(k)) throw error(session_where, "kept value '" + k + "' is not in the graph", p.source);
    p.all_names = defined;
    // Only the first output of a node may be consumed (Dropout's mask, BN's training outputs).
    std::set<std::string> secondary;
    for (const auto* n : nodes)
        for (std::size_t o = find_op(n->op_type)->outputs; o < n->outputs.size(); ++o) secondary.insert(n->outputs[o]);
    for (const auto* n : nodes)
        for (const auto& in : n->inputs)
            if (secondary.count(in)) fail_node(p, *n, "uses '" + in + "', an output ferx does not compute");
    for (const auto& o : g.outputs)
        if (secondary.count(o.name)) throw error(session_where, "graph output '" + o.name + "' is an output ferx does not compute", p.source);

    const std::vector<const node*> order = topological_order(p, nodes);
    for (const auto* n : order) {
        nn_step s = parse_node(p, *n);
        if (s.def == nullptr || s.def->outputs <= 1) {
            p.steps.push_back(std::move(s));
            continue;
        }
        // A multi-output op: its step writes every output into one packed value, and one step
        // per named output copies its part out (ferx/nn/detail/op_def.hpp).
        std::string packed = n->name + ":packed-outputs";
        while (defined.count(packed)) packed += "'";
        defined.insert(packed);
        p.all_names.insert(packed);
        s.out_name = packed;
        const op_def* def = s.def;
        const auto op_params = s.params;
        p.steps.push_back(std::move(s));
        for (std::size_t o = 0; o < n->outputs.size() && o < def->outputs; ++o) {
            if (n->outputs[o].empty()) continue;
            nn_step part;
            part.kind = step_kind::extension;
            part.node = n->name, part.op = n->op_type;
            part.in_names = {packed};
            part.in_names.insert(part.in_names.end(), n->inputs.begin(), n->inputs.end());
            part.out_name = n->outputs[o];
            part.def = &output_part_def();
            part.params = std::make_shared<const output_part_op::params>(output_part_op::params{def, op_params, o});
            p.steps.push_back(std::move(part));
        }
    }
    for (const auto& o : g.outputs) p.output_names.push_back(o.name);
    prune(p);
    fold_shape_steps(p);
    if (p.options.fold_batch_norm) fold_batch_norms(p);
    lower_batch_norms(p);
    if (p.options.fuse_activations) fuse_activations(p);
    p.steps.erase(std::remove_if(p.steps.begin(), p.steps.end(), [](const auto& s) { return s.dead; }), p.steps.end());
    // Shape computations that depend on runtime shapes leave the executed steps: planning
    // evaluates them (in this topological order) when a Reshape needs their value.
    for (auto& st : p.steps)
        if (st.host_fold) {
            p.shape_producer[st.out_name] = p.shape_steps.size();
            p.shape_steps.push_back(std::move(st));
        }
    p.steps.erase(std::remove_if(p.steps.begin(), p.steps.end(), [](const auto& s) { return s.host_fold; }), p.steps.end());
    pretranspose_gemm_weights(p);
    assign_values(p);
    // Shapes for batch 1 now, where the inputs' other extents are declared: wrong weight
    // shapes then fail at construction.
    // A dynamic batch is taken as 1; a graph whose shapes only work for other batch sizes
    // (a Reshape to a fixed batch) then reports its error at run time instead.
    bool known = true, guessed = false;
    std::vector<shape_t> shapes;
    for (auto s : p.input_decl) {
        if (s.empty()) known = false;
        for (std::size_t i = 1; i < s.size(); ++i) known = known && s[i] > 0;
        if (!s.empty() && s[0] <= 0) s[0] = 1, guessed = true;
        shapes.push_back(s);
    }
    if (!known) return p;
    try {
        infer_shapes(p, shapes);
    } catch (const error&) {
        if (!guessed) throw;
    }
    return p;
}

}  // namespace detail
}  // namespace nn
FERX_NAMESPACE_END
