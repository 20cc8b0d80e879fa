/// \file ferx/nn/graph.hpp
/// The ferx network graph: an ONNX-shaped, framework-neutral description of a network (values,
/// initializers, nodes with attributes), independent of where it came from (the ONNX importer,
/// a C++ builder, a test) and of where it runs. A graph is validated and compiled into an
/// executable plan by `ferx/nn/session.hpp`; the importer in `ferx/nn/onnx.hpp` only translates
/// an ONNX ModelProto into this structure.
#pragma once
#include <ferx/core/config.hpp>
#include <ferx/core/error.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <variant>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {

/// A dense, row-major float32 array with a dynamic shape (NCHW for 4-D activations, OIHW for
/// convolution weights, as ONNX stores them). Used for initializers and for the session's inputs
/// and outputs on the host.
struct dense_tensor {
    std::vector<std::int64_t> shape;  ///< extents, outermost first; empty = scalar
    std::vector<float> data;          ///< product(shape) values, row-major

    /// Number of elements the shape describes (1 for a scalar).
    std::int64_t element_count() const {
        std::int64_t n = 1;
        for (auto d : shape) n *= d;
        return n;
    }
};

/// One attribute value: int, float, string, list of ints, list of floats, a tensor or a list
/// of strings (ONNX's INT, FLOAT, STRING, INTS, FLOATS, TENSOR, STRINGS).
using attribute = std::variant<std::int64_t, float, std::string, std::vector<std::int64_t>,
                               std::vector<float>, dense_tensor, std::vector<std::string>>;

/// One operation. `op_type` uses ONNX's operator names ("Conv", "Relu", "Gemm", ...) so that an
/// imported node and a built one read the same; an empty input name is an omitted optional input.
struct node {
    std::string name;                         ///< unique within the graph (may be generated)
    std::string op_type;                      ///< ONNX operator name
    std::vector<std::string> inputs;          ///< value names, in the operator's input order
    std::vector<std::string> outputs;         ///< value names produced
    std::map<std::string, attribute> attributes;
};

/// A graph input or output: its name and shape; -1 marks a dynamic extent (e.g. the batch).
struct value_info {
    std::string name;
    std::vector<std::int64_t> shape;
};

/// A whole network. Nodes need not be in topological order; the session sorts them.
struct graph {
    std::string name;
    std::vector<value_info> inputs;                      ///< runtime inputs (not initializers)
    std::vector<value_info> outputs;                     ///< requested outputs
    std::map<std::string, dense_tensor> initializers;    ///< constant weights by value name
    std::vector<node> nodes;
    std::string source;  ///< where the graph came from (file path), for error messages
    /// The ONNX default-domain opset the node semantics follow (the importer sets the model's);
    /// it matters for Softmax's axis (opset < 13 coerces to 2-D). Added for the session.
    std::int64_t opset_version = 13;
};

}  // namespace nn
FERX_NAMESPACE_END
