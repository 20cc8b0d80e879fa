/// \file ferx/nn/detail/op_def.hpp
/// `nn::op_def`, what the op registry (ferx/nn/op_registry.hpp) holds for one op, and the
/// helpers that build the definition of an extension op from its op file (`extension_op`,
/// `multi_output_op`), with the internal step that copies one output of a multi-output op out
/// of its packed value.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/nn/detail/node_reader.hpp>
#include <ferx/nn/ir.hpp>
#include <ferx/nn/tensor_ref.hpp>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {

/// What an extension op's host kernel reads and writes: the step (its attributes, `params` and
/// geometry), its inputs in the step's order (host pointers; nullptr for an omitted optional
/// input), its output, and `scratch_floats` floats of scratch.
struct op_args {
    const detail::nn_step& step;
    const float* const* inputs;
    float* output;
    float* scratch;
};

/// One op a session can compile.
struct op_def {
    const char* name = "";
    /// Checks the node's inputs and attributes and fills the step (its kind included).
    void (*parse)(const detail::node_reader&, detail::nn_step&) = nullptr;
    // Extension ops only (null for the built-in kinds):
    /// The output shape from the inputs' shapes (nullptr: an omitted input); sets the step's
    /// per-plan geometry. Throws ferx::error (detail::fail_step) for shapes it cannot take.
    shape_t (*infer)(detail::nn_step&, const std::vector<const shape_t*>& inputs, const std::string& source) = nullptr;
    /// Floats of host scratch one run of the step needs (for its current geometry).
    std::size_t (*scratch_floats)(const detail::nn_step&) = nullptr;
    void (*run_seq)(const exec::sequenced_policy&, const op_args&) = nullptr;
    void (*run_par)(const exec::parallel_policy&, const op_args&) = nullptr;
    /// Whether the op keeps the images of a batch apart along axis 0 (micro-batching may split it).
    bool keeps_batch = false;
    /// Ops with several outputs (LSTM's Y, Y_h, Y_c): how many it computes. Its step writes them
    /// one after the other into one packed value (`infer` returns its shape, {total floats});
    /// the session adds one step per output the graph names that copies its part out, placed by
    /// `output_shapes` (the outputs' shapes, from the op's inputs' shapes).
    std::size_t outputs = 1;
    std::vector<shape_t> (*output_shapes)(const detail::nn_step&, const std::vector<const shape_t*>& inputs,
                                          const std::string& source) = nullptr;
};

/// The `op_def` of an extension op: a type with static `parse`, `infer`, `scratch_floats`,
/// a `run` template over the host policies, and a `keeps_batch` constant.
template <class Op>
op_def extension_op(const char* name) {
    op_def d;
    d.name = name;
    d.parse = &Op::parse;
    d.infer = &Op::infer;
    d.scratch_floats = &Op::scratch_floats;
    d.run_seq = &Op::template run<exec::sequenced_policy>;
    d.run_par = &Op::template run<exec::parallel_policy>;
    d.keeps_batch = Op::keeps_batch;
    return d;
}

/// The `op_def` of an extension op with `outputs` outputs (a static `output_shapes` besides the
/// members extension_op reads).
template <class Op>
op_def multi_output_op(const char* name, std::size_t outputs) {
    op_def d = extension_op<Op>(name);
    d.outputs = outputs;
    d.output_shapes = &Op::output_shapes;
    return d;
}

/// The one `op_def` of extension op `Op` (built on the first call), for the steps a parser or a
/// pass makes of that kind itself (Conv 1-D / 3-D, Slice of live data, ...).
template <class Op>
const op_def& extension_op_def(const char* name) {
    static const op_def d = extension_op<Op>(name);
    return d;
}

namespace detail {
/// The step that copies output `index` of a multi-output op out of its packed value: inputs are
/// the packed value, then the op's own inputs (for their shapes).
struct output_part_op {
    struct params {
        const op_def* op;
        std::shared_ptr<const void> op_params;
        std::size_t index;
    };
    static constexpr bool keeps_batch = false;
    static void parse(const node_reader&, nn_step&) {}
    static shape_t infer(nn_step& s, const std::vector<const shape_t*>& in, const std::string& source) {
        const auto& pp = *static_cast<const params*>(s.params.get());
        nn_step op_step = s;
        op_step.params = pp.op_params;
        const std::vector<const shape_t*> op_in(in.begin() + 1, in.end());
        const std::vector<shape_t> shapes = pp.op->output_shapes(op_step, op_in, source);
        std::int64_t offset = 0;
        for (std::size_t k = 0; k < pp.index; ++k) offset += element_count(shapes[k]);
        s.d0 = offset;
        s.d1 = element_count(shapes[pp.index]);
        if (in[0] == nullptr || element_count(*in[0]) < offset + s.d1) fail_step(s, "the packed outputs are smaller than their parts", source);
        return shapes[pp.index];
    }
    static std::size_t scratch_floats(const nn_step&) { return 0; }
    template <class Policy>
    static void run(const Policy&, const op_args& a) {
        const float* src = a.inputs[0] + a.step.d0;
        std::copy(src, src + a.step.d1, a.output);
    }
};
inline const op_def& output_part_def() { return extension_op_def<output_part_op>("(output of a multi-output op)"); }
}  // namespace detail

}  // namespace nn
FERX_NAMESPACE_END
