/// \file ferx/nn/builder.hpp
/// `ferx::nn::graph_builder`: a few lines of C++ for a `nn::graph` (tests, small hand-made
/// networks, heads on top of imported features):
///
///     auto g = ferx::nn::graph_builder("tiny")
///                  .input("x", {-1, 3, 32, 32})
///                  .initializer("w", {{8, 3, 3, 3}, weights})
///                  .node("Conv", {"x", "w"}, {"y"}, {{"pads", ints{1, 1, 1, 1}}})
///                  .node("Relu", {"y"}, {"z"})
///                  .output("z")
///                  .build();
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/nn/graph.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {

/// Builds a graph one call at a time; nodes keep the order they are added in (the session
/// sorts them anyway).
class graph_builder {
public:
    using ints = std::vector<std::int64_t>;
    using floats = std::vector<float>;

    explicit graph_builder(std::string name = "graph") { g_.name = std::move(name); }

    /// A runtime input; -1 marks a dynamic extent (axis 0 is always the batch).
    graph_builder& input(std::string name, std::vector<std::int64_t> shape) {
        g_.inputs.push_back({std::move(name), std::move(shape)});
        return *this;
    }
    /// A requested output (its shape is inferred by the session).
    graph_builder& output(std::string name) {
        g_.outputs.push_back({std::move(name), {}});
        return *this;
    }
    /// A requested output with its declared shape (-1: dynamic), as an ONNX file declares it:
    /// the session still infers the shape; exporters (ferx/nn/onnx_export.hpp) write this one.
    graph_builder& output(std::string name, std::vector<std::int64_t> shape) {
        g_.outputs.push_back({std::move(name), std::move(shape)});
        return *this;
    }
    /// A constant tensor.
    graph_builder& initializer(std::string name, dense_tensor t) {
        g_.initializers[std::move(name)] = std::move(t);
        return *this;
    }
    /// A node; its name defaults to "<op_type>_<index>".
    graph_builder& node(std::string op_type, std::vector<std::string> inputs, std::vector<std::string> outputs,
                        std::map<std::string, attribute> attributes = {}, std::string name = {}) {
        if (name.empty()) name = op_type + "_" + std::to_string(g_.nodes.size());
        g_.nodes.push_back({std::move(name), std::move(op_type), std::move(inputs), std::move(outputs), std::move(attributes)});
        return *this;
    }
    /// The ONNX opset whose semantics the nodes follow (default 13).
    graph_builder& opset(std::int64_t version) {
        g_.opset_version = version;
        return *this;
    }
    /// Where the graph came from, for error messages.
    graph_builder& source(std::string s) {
        g_.source = std::move(s);
        return *this;
    }

    const graph& peek() const noexcept { return g_; }
    graph build() const { return g_; }

private:
    graph g_;
};

}  // namespace nn
FERX_NAMESPACE_END
