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
#include <ferx/nn/detail/op_def.hpp>
#include <ferx/nn/ir.hpp>
#include <ferx/nn/ops/einsum.hpp>
#include <ferx/nn/ops/recurrent.hpp>
#include <ferx/nn/ops/reduce.hpp>
#include <ferx/nn/tensor_ref.hpp>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <set>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {

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
        {"HardSigmoid", &parse_activation},
        {"HardSwish", &parse_activation},
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
        // reductions and contractions (ferx/nn/ops/reduce.hpp, einsum.hpp)
        extension_op<reduce_op>("ReduceMean"),
        extension_op<reduce_op>("ReduceSum"),
        extension_op<reduce_op>("ReduceMax"),
        extension_op<einsum_op>("Einsum"),
        // sequence layers (ferx/nn/recurrent.hpp)
        multi_output_op<recurrent_op>("LSTM", 3),
        multi_output_op<recurrent_op>("GRU", 2),
        multi_output_op<recurrent_op>("RNN", 2),
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
