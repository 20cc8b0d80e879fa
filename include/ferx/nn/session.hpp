/// \file ferx/nn/session.hpp
/// `ferx::nn::session`: a compiled, runnable network. Construction validates a `nn::graph`
/// (known ops, present initializers and values, no cycle, weight ranks), sorts it, folds
/// BatchNormalization into the preceding Conv, fuses a following activation into Conv, and
/// infers shapes from the declared input shape. `run(policy, inputs)` then executes a batch:
///
///     ferx::nn::session s(g);                               // g: a ferx::nn::graph
///     auto out = s.run(ferx::exec::par, {{pixels, {n, 1, 64, 64}}});
///     // out[0]: tensor_ref {data, {n, 7}} into the session's arena, valid until the next run
///
/// Axis 0 of every graph input is the batch and is dynamic, whatever the graph declares; the
/// other declared extents are checked (-1 or 0 = any). Activations live in one arena planned by
/// liveness (values whose lifetimes do not overlap share memory); Reshape, Flatten, Identity and
/// Dropout alias their input. The arena is planned again only when the input shapes change, so
/// repeated runs of one batch size allocate nothing. Any value named in `session_options::keep`
/// (and every graph output) stays readable after a run through `value(name)`.
///
/// NaN inputs propagate through every op to the outputs (no check, no crash).
///
/// The session is a façade over the pieces: the op registry (ferx/nn/op_registry.hpp), the
/// compiler and its passes (ferx/nn/detail/compile.hpp, ferx/nn/passes.hpp), shape inference
/// and memory planning (ferx/nn/shape_inference.hpp, ferx/nn/memory_plan.hpp) produce a
/// `nn::compiled_plan` (ferx/nn/plan.hpp) that the host executor (ferx/nn/host_executor.hpp)
/// and the CUDA one (ferx/cuda/dispatch/nn_session.cuh) run.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/nn/detail/compile.hpp>
#include <ferx/nn/graph.hpp>
#include <ferx/nn/host_executor.hpp>
#include <ferx/nn/memory_plan.hpp>
#include <ferx/nn/op_registry.hpp>
#include <ferx/nn/plan.hpp>
#include <ferx/nn/session_options.hpp>
#include <ferx/nn/tensor_ref.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {

#if defined(__CUDACC__)
namespace detail {
/// Throws ferx::error unless a CUDA device is present (ferx/cuda/dispatch/nn_session.cuh).
inline void require_cuda_session_device();
/// Runs `plan` (planned for `inputs`) on the device; readable values are copied into
/// `host_arena`. Defined in ferx/cuda/dispatch/nn_session.cuh, included at the end of this header.
inline void run_plan_cuda(const exec::cuda_policy& policy, const compiled_plan& plan, device_slot& device, float* host_arena,
                          const std::vector<tensor_ref>& inputs);
}  // namespace detail
#endif

/// A compiled network that runs batches on a host policy (and on `exec::cuda` in .cu files).
class session {
public:
    /// Validates and compiles `g`; throws ferx::error naming the node, op and `g.source` for an
    /// unsupported op, a missing initializer or value, a cycle, or inconsistent shapes.
    explicit session(const graph& g, session_options options = {}) : plan_(detail::compile_plan(g, std::move(options))) {}

    /// Runs one batch. `inputs` follow the graph's input order; each is a contiguous row-major
    /// tensor whose axis 0 is the batch. Returns the graph outputs, in order, as views into the
    /// session (valid until the next run or the session's end). Throws ferx::error for a wrong
    /// number of inputs or a wrong shape.
    template <class Policy>
    std::vector<tensor_ref> run(const Policy& policy, const std::vector<tensor_ref>& inputs) {
        static_assert(is_host_policy_v<Policy>,
                      "ferx::nn::session::run: exec::seq or exec::par here; exec::cuda needs a .cu file");
        if (plan_.options.precision != precision::fp32)
            throw error(where_, "session_options::precision is fp16, a CUDA-only option: run this session with exec::cuda (in a .cu "
                                "file), or make it with precision::fp32 for exec::seq / exec::par", plan_.source);
        prepare(inputs, true);
        for (std::size_t i = 0; i < inputs.size(); ++i)
            if (!inputs[i].data && inputs[i].element_count() > 0)
                throw error(where_, "input '" + plan_.input_names[i] + "' has no data");
        host_.run(policy, plan_, inputs);
        return outputs();
    }

#if defined(__CUDACC__)
    /// Runs one batch on the device (ferx/cuda/dispatch/nn_session.cuh): host inputs are copied
    /// in, weights are uploaded on the first call, the outputs and kept values are copied back
    /// to the host, where the returned views and `value` read them. Synchronises the stream.
    std::vector<tensor_ref> run(const exec::cuda_policy& policy, const std::vector<tensor_ref>& inputs) {
        detail::require_cuda_session_device();
        prepare(inputs);
        detail::run_plan_cuda(policy, plan_, device_, host_.arena(), inputs);
        return outputs();
    }
#endif

    /// The graph outputs of the last run (views, valid until the next run).
    std::vector<tensor_ref> outputs() const {
        std::vector<tensor_ref> out;
        for (int id : plan_.output_ids) out.push_back(host_.ref(plan_, id));
        return out;
    }

    /// A graph output, a kept intermediate value (`session_options::keep`), a graph input or an
    /// initializer the session still holds (not one folded or transposed into another weight),
    /// by name, after a run. Throws ferx::error for an unknown or not kept name.
    tensor_ref value(const std::string& name) const {
        const auto it = plan_.ids.find(name);
        if (it == plan_.ids.end()) {
            if (plan_.initializer_names.count(name))
                throw error(where_, "initializer '" + name + "' is no longer held: it was folded or transposed into another weight (or is unused)", plan_.source);
            if (plan_.all_names.count(name))
                throw error(where_, "value '" + name + "' is not kept: name it in session_options::keep", plan_.source);
            throw error(where_, "the graph has no value named '" + name + "'", plan_.source);
        }
        const auto& v = plan_.value(it->second);
        if (v.weight < 0 && plan_.planned.empty()) throw error(where_, "value '" + name + "' is not computed yet: call run first", plan_.source);
        if (v.weight < 0 && !plan_.readable.count(it->second))
            throw error(where_, "value '" + name + "' is not kept: name it in session_options::keep", plan_.source);
        return host_.ref(plan_, it->second);
    }

    /// Names of the graph inputs and outputs, in order.
    const std::vector<std::string>& input_names() const noexcept { return plan_.input_names; }
    const std::vector<std::string>& output_names() const noexcept { return plan_.output_names; }

    /// Shape of a value for the current plan (after a run), or as inferred for batch 1 at
    /// construction where the inputs' other extents are declared.
    const shape_t& shape_of(const std::string& name) const {
        const auto it = plan_.ids.find(name);
        if (it == plan_.ids.end()) throw error(where_, "no value named '" + name + "' in the compiled graph", plan_.source);
        return plan_.full_shape(it->second);
    }

    /// Weights, arena and scratch held now.
    memory_report memory() const {
        memory_report r;
        for (const auto& w : plan_.weights) r.weights_bytes += w.data.size() * sizeof(float);
        r.arena_bytes = std::max(plan_.arena_floats, host_.arena_floats()) * sizeof(float);
        r.scratch_bytes = host_.scratch_floats() * sizeof(float);
        r.batch = plan_.planned.empty() ? 0 : plan_.planned[0].empty() ? 0 : plan_.planned[0][0];
        r.micro_batch = plan_.chunk;
        r.results_bytes = host_.results_floats() * sizeof(float);
        r.device_bytes = device_.bytes;
        return r;
    }

    /// Floating-point operations of one run of the current plan, counting 2 per multiply-add of
    /// the Conv (im2col, pointwise and depthwise alike), Gemm and MatMul steps; elementwise ops,
    /// pools and softmax are not counted. After a run it is the planned batch's count; before
    /// one, batch 1's where the inputs' other extents are declared (0 where they are not).
    /// Divide by a run's time for the achieved FLOP/s.
    std::int64_t flops() const {
        std::int64_t macs = 0;
        for (const auto& s : plan_.steps) {
            if (s.kind == detail::step_kind::conv) macs += s.conv.n * s.conv.m * s.conv.oh * s.conv.ow * s.conv.k();
            else if (s.kind == detail::step_kind::gemm) macs += s.d0 * s.d1 * s.d2;
            else if (s.kind == detail::step_kind::matmul) macs += s.batches * s.d0 * s.d1 * s.d2;
        }
        // Micro-batched: the steps are planned for `chunk` images; the count is per image times the batch.
        return plan_.chunk > 0 ? 2 * macs / plan_.chunk * plan_.planned_batch : 2 * macs;
    }

    /// Number of steps that run (after folding and fusion), and of each op kind, for tests/logs.
    std::size_t step_count() const noexcept { return plan_.steps.size(); }
    std::size_t count_op(const std::string& op) const {
        return static_cast<std::size_t>(std::count_if(plan_.steps.begin(), plan_.steps.end(), [&](const auto& s) { return s.op == op; }));
    }

    /// The compiled plan: steps after the passes, values, weights and the current memory plan
    /// (what the executors run; read-only).
    const compiled_plan& plan() const noexcept { return plan_; }

private:
    static constexpr const char* where_ = "ferx::nn::session";

    // Validates the inputs and plans for their shapes (again only when they change).
    void prepare(const std::vector<tensor_ref>& inputs, bool micro = false) {
        bool planned = false;
        try {
            planned = detail::plan_for(plan_, inputs, micro);
        } catch (const error&) {
            host_.clear_results();
            throw;
        }
        if (planned) host_.planned(plan_);
    }

    compiled_plan plan_;
    detail::host_executor host_;
    detail::device_slot device_;  // the CUDA state (ferx/cuda/dispatch/nn_session.cuh)
};

}  // namespace nn
FERX_NAMESPACE_END

#if defined(__CUDACC__)
#include <ferx/cuda/dispatch/nn_session.cuh>
#endif
