/// \file ferx/nn/plan.hpp
/// `ferx::nn::compiled_plan`: what a session compiled a graph into, and what both executors
/// run — the host one (ferx/nn/host_executor.hpp) and the CUDA one
/// (ferx/cuda/dispatch/nn_session.cuh). The first half is fixed at construction (weights after
/// folding, steps in topological order, values); the second half is the plan for the current
/// input shapes (value shapes, step geometry, arena offsets, micro-batching), redone by
/// `detail::plan_for` (ferx/nn/memory_plan.hpp) only when the input shapes change.
///
/// A value's data lives in `weights[values[id].weight]` when it is a constant, else at
/// `offsets[values[id].storage]` elements into the arena of the executor that runs the plan.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/nn/graph.hpp>
#include <ferx/nn/ir.hpp>
#include <ferx/nn/session_options.hpp>
#include <ferx/nn/tensor_ref.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {

/// A compiled network and its plan for the current input shapes.
struct compiled_plan {
    // ----- compiled once (ferx/nn/detail/compile.hpp, ferx/nn/passes.hpp) -----
    session_options options;
    std::string source;      ///< the graph's `source` (file name), for error messages
    std::int64_t opset = 13;
    std::vector<dense_tensor> weights;   ///< constants after folding, each read by some step
    std::map<std::string, int> weight_ids;
    std::vector<detail::nn_step> steps;  ///< executed steps, in topological order
    /// Shape computations evaluated at plan time (ferx/nn/shape_ops.hpp), and which one
    /// produces each of their values.
    std::vector<detail::nn_step> shape_steps;
    std::map<std::string, std::size_t> shape_producer;
    std::vector<detail::nn_value> values;
    std::map<std::string, int> ids;
    std::set<std::string> all_names, initializer_names;
    std::set<int> readable;  ///< values readable after a run: inputs, outputs, kept values
    std::vector<std::string> input_names, output_names;
    std::vector<shape_t> input_decl;  ///< declared input shapes (axis 0 is always dynamic)
    std::vector<int> input_ids, output_ids;
    std::int64_t traced_batch = 1;  ///< the batch the graph was exported for (see shape inference)

    // ----- per input shapes (ferx/nn/memory_plan.hpp) -----
    std::vector<shape_t> planned;       ///< the input shapes planned for (empty: none yet)
    std::vector<std::size_t> offsets;   ///< arena offset of each storage, in elements
    std::size_t arena_floats = 0;       ///< elements of one pass's arena
    /// Micro-batching (chunk > 0): images per pass, the whole batch, and whole-batch shapes of
    /// every value (the steps are planned for `chunk` images).
    std::int64_t chunk = 0, planned_batch = 0;
    std::vector<shape_t> full_shapes;

    const detail::nn_value& value(int id) const { return values[static_cast<std::size_t>(id)]; }
    /// A value's shape for one pass.
    const shape_t& shape(int id) const { return value(id).shape; }
    /// A value's shape for the whole planned batch.
    const shape_t& full_shape(int id) const {
        return chunk > 0 && value(id).weight < 0 ? full_shapes[static_cast<std::size_t>(id)] : shape(id);
    }
    /// Offset of a computed value (not a constant) in an arena, in elements.
    std::size_t offset(int id) const { return offsets[static_cast<std::size_t>(value(id).storage)]; }
    /// The name a weight was stored under ("?" if none).
    std::string weight_name(std::size_t index) const {
        for (const auto& [name, id] : weight_ids)
            if (static_cast<std::size_t>(id) == index) return name;
        return "?";
    }
};

namespace detail {

/// What a session holds on the device (ferx/cuda/dispatch/nn_session.cuh makes it on the first
/// exec::cuda run), type-erased so that host translation units never see a CUDA type.
struct device_slot {
    std::shared_ptr<void> state;
    std::size_t bytes = 0;  ///< its device memory, for memory_report
};

/// Throws ferx::error naming the step's node and op and the plan's source.
[[noreturn]] inline void fail_step(const compiled_plan& p, const nn_step& s, const std::string& why) { fail_step(s, why, p.source); }

/// The weight stored under `name` (which must exist).
inline const dense_tensor& weight(const compiled_plan& p, const std::string& name) {
    return p.weights[static_cast<std::size_t>(p.weight_ids.at(name))];
}

/// Stores a constant under `name`; returns its index. Throws for data that does not fill the shape.
inline int add_weight(compiled_plan& p, const std::string& name, dense_tensor t) {
    if (static_cast<std::int64_t>(t.data.size()) != t.element_count())
        throw error(session_where, "initializer '" + name + "' has " + std::to_string(t.data.size()) + " values for shape " +
                                       shape_string(t.shape), p.source);
    p.weights.push_back(std::move(t));
    p.weight_ids[name] = static_cast<int>(p.weights.size()) - 1;
    return static_cast<int>(p.weights.size()) - 1;
}

}  // namespace detail
}  // namespace nn
FERX_NAMESPACE_END
