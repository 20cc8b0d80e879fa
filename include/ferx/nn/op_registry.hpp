/// \file ferx/nn/op_registry.hpp
/// The ops a session compiles, by ONNX default-domain name: one `op_def` each. A built-in op's
/// parser turns its node into a step of a built-in kind, which the passes, shape inference and
/// both executors know. An extension op (`step_kind::extension`) carries its shape inference
/// and host kernels in its `op_def`, so a new op is one op file (a struct with `parse`, `infer`,
/// `scratch_floats`, `run` and `keeps_batch`) plus one line in `op_registry()` below:
///
///     extension_op<lstm_op>("LSTM"),
///
/// See "Adding an op" in docs/nn.md.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/nn/detail/builtin_ops.hpp>
#include <ferx/nn/detail/node_reader.hpp>
#include <ferx/nn/ir.hpp>
#include <ferx/nn/tensor_ref.hpp>

#include <cstddef>
#include <set>
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

/// Every op a session compiles, one line each.
inline const std::vector<op_def>& op_registry() {
    using namespace detail;
    static const std::vector<op_def> ops = {
        {"Conv", &parse_conv},
        {"BatchNormalization", &parse_batch_norm},
        {"Relu", &parse_activation},
        {"LeakyRelu", &parse_activation},
        {"Sigmoid", &parse_activation},
        {"Tanh", &parse_activation},
        {"Clip", &parse_activation},
        {"MaxPool", &parse_pool},
        {"AveragePool", &parse_pool},
        {"GlobalAveragePool", &parse_global_average_pool},
        {"Add", &parse_binary},
        {"Sub", &parse_binary},
        {"Mul", &parse_binary},
        {"Div", &parse_binary},
        {"Concat", &parse_concat},
        {"Gemm", &parse_gemm},
        {"MatMul", &parse_matmul},
        {"Flatten", &parse_flatten},
        {"Reshape", &parse_reshape},
        {"Transpose", &parse_transpose},
        {"Pad", &parse_pad},
        {"Softmax", &parse_softmax},
        {"Dropout", &parse_identity},
        {"Identity", &parse_identity},
        {"Constant", nullptr},  // becomes a weight when compiling (detail/compile.hpp)
        // shape computations (ferx/nn/shape_ops.hpp), folded at compile or plan time
        {"Shape", &parse_shape_op},
        {"Gather", &parse_shape_op},
        {"Unsqueeze", &parse_shape_op},
        {"Squeeze", &parse_shape_op},
        {"Cast", &parse_shape_op},
        {"Slice", &parse_shape_op},
        {"ConstantOfShape", &parse_shape_op},
    };
    return ops;
}

/// The registered op named `op_type`, or nullptr.
inline const op_def* find_op(const std::string& op_type) {
    for (const auto& d : op_registry())
        if (op_type == d.name) return &d;
    return nullptr;
}

/// The ops a session runs: ONNX default-domain names (see docs/nn.md for the attributes).
inline const std::set<std::string>& supported_ops() {
    static const std::set<std::string> ops = [] {
        std::set<std::string> s;
        for (const auto& d : op_registry()) s.insert(d.name);
        return s;
    }();
    return ops;
}

}  // namespace nn
FERX_NAMESPACE_END
