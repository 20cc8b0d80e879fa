/// \file ferx/nn/onnx_export.hpp
/// ONNX export: writes a `ferx::nn::graph` (built in C++, e.g. `ferx::sequence_head_graph`, or
/// imported) as an ONNX ModelProto, so that ONNX Runtime, OpenCV or netron read what ferx built.
/// Part of the optional component ferx::onnx, like the importer (ferx/nn/onnx.hpp).
///
///     ferx::nn::save_onnx("head.onnx", ferx::sequence_head_graph(head));
///     ferx::nn::graph back = ferx::nn::load_onnx("head.onnx");     // the same graph
///
/// What is written: the opset of the graph (`graph::opset_version`, default domain), ir_version
/// 8, the inputs and outputs as float tensors (-1 extents as symbolic dimensions "N", "d1", ...;
/// outputs without a shape as rank-free: ONNX Runtime runs those, onnx.checker refuses them, so
/// graphs meant for other tools declare their outputs' shapes, graph_builder::output(name, shape),
/// as sequence_head_graph does), initializers as raw little-endian float data, the
/// nodes in their order with every attribute kind the graph holds. Graph outputs must be named
/// values of the graph; anything else is a ferx::error naming the graph.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/error.hpp>
#include <ferx/core/file_io.hpp>
#include <ferx/nn/graph.hpp>

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {
namespace detail {

inline void to_tensor_proto(const dense_tensor& t, const std::string& name, ::onnx::TensorProto& p) {
    p.set_name(name);
    p.set_data_type(::onnx::TensorProto::FLOAT);
    for (auto d : t.shape) p.add_dims(d);
    static_assert(sizeof(float) == 4, "ONNX raw_data holds 4-byte floats");
    std::string raw(t.data.size() * sizeof(float), '\0');
    // raw_data is little-endian; ferx's hosts are little-endian (as the importer assumes).
    if (!t.data.empty()) std::memcpy(&raw[0], t.data.data(), raw.size());
    p.set_raw_data(std::move(raw));
}

inline void to_value_info_proto(const value_info& v, ::onnx::ValueInfoProto& p) {
    p.set_name(v.name);
    auto* tensor = p.mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(::onnx::TensorProto::FLOAT);
    if (v.shape.empty()) return;  // rank unknown (an output whose shape the session infers)
    auto* shape = tensor->mutable_shape();
    for (std::size_t i = 0; i < v.shape.size(); ++i) {
        auto* dim = shape->add_dim();
        if (v.shape[i] >= 0) dim->set_dim_value(v.shape[i]);
        else dim->set_dim_param(i == 0 ? "N" : "d" + std::to_string(i));
    }
}

inline void to_attribute_proto(const std::string& name, const attribute& a, ::onnx::AttributeProto& p) {
    p.set_name(name);
    std::visit(
        [&](const auto& v) {
            using V = std::decay_t<decltype(v)>;
            if constexpr (std::is_same<V, std::int64_t>::value) {
                p.set_type(::onnx::AttributeProto::INT);
                p.set_i(v);
            } else if constexpr (std::is_same<V, float>::value) {
                p.set_type(::onnx::AttributeProto::FLOAT);
                p.set_f(v);
            } else if constexpr (std::is_same<V, std::string>::value) {
                p.set_type(::onnx::AttributeProto::STRING);
                p.set_s(v);
            } else if constexpr (std::is_same<V, std::vector<std::int64_t>>::value) {
                p.set_type(::onnx::AttributeProto::INTS);
                for (auto x : v) p.add_ints(x);
            } else if constexpr (std::is_same<V, std::vector<float>>::value) {
                p.set_type(::onnx::AttributeProto::FLOATS);
                for (auto x : v) p.add_floats(x);
            } else if constexpr (std::is_same<V, dense_tensor>::value) {
                p.set_type(::onnx::AttributeProto::TENSOR);
                to_tensor_proto(v, "", *p.mutable_t());
            } else {
                static_assert(std::is_same<V, std::vector<std::string>>::value, "an attribute kind without an ONNX form");
                p.set_type(::onnx::AttributeProto::STRINGS);
                for (const auto& x : v) p.add_strings(x);
            }
        },
        a);
}

}  // namespace detail

/// The graph as an ONNX ModelProto (see the file comment). Throws ferx::error when an output
/// is not produced by a node, an input or an initializer of the graph.
inline ::onnx::ModelProto to_onnx_model(const graph& g) {
    constexpr const char* where = "ferx::nn::to_onnx_model";
    const std::string label = "graph '" + g.name + "'";
    std::set<std::string> defined;
    for (const auto& i : g.inputs) defined.insert(i.name);
    for (const auto& kv : g.initializers) defined.insert(kv.first);
    for (const auto& n : g.nodes)
        for (const auto& o : n.outputs)
            if (!o.empty()) defined.insert(o);
    for (const auto& o : g.outputs)
        if (!defined.count(o.name)) throw error(where, label + ": output '" + o.name + "' is not a value of the graph", g.source);
    if (g.opset_version <= 0) throw error(where, label + ": opset version " + std::to_string(g.opset_version), g.source);

    ::onnx::ModelProto m;
    m.set_ir_version(8);
    m.set_producer_name("ferx");
    auto* opset = m.add_opset_import();
    opset->set_domain("");
    opset->set_version(g.opset_version);
    auto* gp = m.mutable_graph();
    gp->set_name(g.name.empty() ? "graph" : g.name);
    for (const auto& i : g.inputs) detail::to_value_info_proto(i, *gp->add_input());
    for (const auto& o : g.outputs) detail::to_value_info_proto(o, *gp->add_output());
    for (const auto& kv : g.initializers) detail::to_tensor_proto(kv.second, kv.first, *gp->add_initializer());
    for (const auto& n : g.nodes) {
        auto* np = gp->add_node();
        np->set_name(n.name);
        np->set_op_type(n.op_type);
        for (const auto& i : n.inputs) np->add_input(i);
        for (const auto& o : n.outputs) np->add_output(o);
        for (const auto& kv : n.attributes) detail::to_attribute_proto(kv.first, kv.second, *np->add_attribute());
    }
    return m;
}

/// The serialized ModelProto (the bytes of a .onnx file).
inline std::string to_onnx_bytes(const graph& g) {
    std::string bytes;
    if (!to_onnx_model(g).SerializeToString(&bytes))
        throw error("ferx::nn::to_onnx_bytes", "graph '" + g.name + "' cannot be serialized (2 GiB or more?)", g.source);
    return bytes;
}

/// Writes the graph as an ONNX file (atomically: a reader never sees half a file).
inline void save_onnx(const std::string& path, const graph& g) {
    write_file_atomically(path, to_onnx_bytes(g), "ferx::nn::save_onnx");
}

}  // namespace nn
FERX_NAMESPACE_END
