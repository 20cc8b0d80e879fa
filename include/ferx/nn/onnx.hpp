/// \file ferx/nn/onnx.hpp
/// ONNX import: reads an ONNX model (a serialized onnx.ModelProto) into a `ferx::nn::graph`.
///
/// Part of the optional component `ferx::onnx` (CMake: find_package(ferx COMPONENTS onnx) and
/// link ferx::onnx), which brings the ONNX protobuf messages (libonnx_proto) and protobuf; the
/// rest of ferx never includes this header.
///
/// The importer translates, it does not execute: values, shapes, initializers and node
/// attributes are checked and converted, and the graph is then compiled by `ferx/nn/session.hpp`,
/// which refuses operators it does not implement. What the importer does:
///  - graph inputs are those of the file that no initializer provides; unknown extents are -1;
///  - initializers of every numeric type become float32 `dense_tensor`s (integer tensors such as
///    Reshape's shape only where float32 holds every value exactly, |v| <= 2^24);
///  - `Constant` nodes become initializers and leave the node list;
///  - attributes INT, FLOAT, STRING, INTS, FLOATS, TENSOR and STRINGS are kept; other kinds are refused;
///  - the default-domain opset version is recorded in `graph::opset_version`.
/// A malformed file (truncated, not ONNX, data sizes that contradict the shapes, negative or huge
/// extents, external data, a value no node produces) raises `ferx::error` naming the file and
/// what is wrong; parsing is bounded by `onnx_options`.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/error.hpp>
#include <ferx/nn/graph.hpp>

#include <onnx/onnx_pb.h>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {

/// Bounds on what the importer accepts, so that a hostile or corrupt file cannot make it
/// allocate or recurse without limit.
struct onnx_options {
    /// Largest file accepted, in bytes. Protobuf cannot parse a message of 2 GiB or more; models
    /// that large keep their weights as external data, which ferx does not read.
    std::int64_t max_file_bytes = INT_MAX;
    /// Largest element count of one tensor or one declared input/output shape.
    std::int64_t max_tensor_elements = std::int64_t{1} << 31;
    /// Deepest nesting of protobuf messages accepted while parsing.
    int recursion_limit = 64;
};

namespace detail {

/// Reads one ModelProto into a graph; every failure names the source.
class onnx_importer {
public:
    onnx_importer(std::string source, const onnx_options& options)
        : source_(std::move(source)), options_(options) {}

    [[noreturn]] void fail(const std::string& reason) const {
        throw error("ferx::nn::load_onnx", reason, source_);
    }

    graph import(const ::onnx::ModelProto& model) const {
        if (!model.has_graph()) fail("the model has no graph (not an ONNX model, or an empty file)");
        graph g;
        g.source = source_;
        g.opset_version = default_opset(model);
        const ::onnx::GraphProto& gp = model.graph();
        g.name = gp.name();
        if (gp.sparse_initializer_size() > 0)
            fail("the graph has sparse initializers, which ferx does not read");

        for (const auto& t : gp.initializer()) {
            const std::string what = "initializer '" + t.name() + "'";
            if (t.name().empty()) fail("an initializer has no name");
            if (!g.initializers.emplace(t.name(), to_dense(t, what)).second)
                fail("initializer '" + t.name() + "' is given twice");
        }
        for (const auto& vi : gp.input()) {
            if (g.initializers.count(vi.name()) != 0) continue;  // older files list weights too
            g.inputs.push_back(to_value_info(vi, "input"));
        }
        for (const auto& vi : gp.output()) g.outputs.push_back(to_value_info(vi, "output"));
        if (g.outputs.empty()) fail("the graph has no outputs");

        std::set<std::string> node_names;
        for (int i = 0; i < gp.node_size(); ++i) {
            const ::onnx::NodeProto& np = gp.node(i);
            if (np.op_type() == "Constant" && is_default_domain(np.domain())) {
                fold_constant(np, i, g);
                continue;
            }
            g.nodes.push_back(to_node(np, i, node_names));
        }
        check_values(g);
        return g;
    }

    /// A node's label for messages: "node 'name' (op 'Conv')".
    static std::string label(const std::string& name, const std::string& op) {
        return "node '" + name + "' (op '" + op + "')";
    }

private:
    std::string source_;
    onnx_options options_;

    static bool is_default_domain(const std::string& d) { return d.empty() || d == "ai.onnx"; }

    std::int64_t default_opset(const ::onnx::ModelProto& model) const {
        for (const auto& o : model.opset_import())
            if (is_default_domain(o.domain())) {
                if (o.version() <= 0)
                    fail("the model imports opset version " + std::to_string(o.version()) +
                         " of the default domain");
                return o.version();
            }
        fail("the model imports no opset of the default ONNX domain (ai.onnx)");
    }

    /// Element count of `dims`, each checked: not negative, total within the limit.
    std::int64_t element_count(const std::vector<std::int64_t>& dims, const std::string& what) const {
        std::int64_t n = 1;
        for (std::int64_t d : dims) {
            if (d < 0) fail(what + " has a negative extent (" + std::to_string(d) + ")");
            if (d != 0 && n > options_.max_tensor_elements / d)
                fail(what + " has more than " + std::to_string(options_.max_tensor_elements) +
                     " elements (the importer's limit, onnx_options::max_tensor_elements)");
            n *= d;
        }
        return n;
    }

    static const char* type_name(int t) {
        switch (t) {
            case ::onnx::TensorProto_DataType_UNDEFINED: return "UNDEFINED";
            case ::onnx::TensorProto_DataType_FLOAT: return "FLOAT";
            case ::onnx::TensorProto_DataType_UINT8: return "UINT8";
            case ::onnx::TensorProto_DataType_INT8: return "INT8";
            case ::onnx::TensorProto_DataType_UINT16: return "UINT16";
            case ::onnx::TensorProto_DataType_INT16: return "INT16";
            case ::onnx::TensorProto_DataType_INT32: return "INT32";
            case ::onnx::TensorProto_DataType_INT64: return "INT64";
            case ::onnx::TensorProto_DataType_STRING: return "STRING";
            case ::onnx::TensorProto_DataType_BOOL: return "BOOL";
            case ::onnx::TensorProto_DataType_FLOAT16: return "FLOAT16";
            case ::onnx::TensorProto_DataType_DOUBLE: return "DOUBLE";
            case ::onnx::TensorProto_DataType_UINT32: return "UINT32";
            case ::onnx::TensorProto_DataType_UINT64: return "UINT64";
            case ::onnx::TensorProto_DataType_COMPLEX64: return "COMPLEX64";
            case ::onnx::TensorProto_DataType_COMPLEX128: return "COMPLEX128";
            case ::onnx::TensorProto_DataType_BFLOAT16: return "BFLOAT16";
            default: return "unknown";
        }
    }

    /// Little-endian unsigned integer of `bytes` bytes at `p` (ONNX raw_data is little-endian).
    static std::uint64_t read_le(const unsigned char* p, int bytes) {
        std::uint64_t v = 0;
        for (int b = bytes - 1; b >= 0; --b) v = (v << 8) | p[b];
        return v;
    }

    static float bits_to_float(std::uint32_t bits) {
        float f;
        std::memcpy(&f, &bits, sizeof f);
        return f;
    }

    /// IEEE half-precision bits to float (exact: every half is a float).
    static float half_to_float(std::uint16_t h) {
        const std::uint32_t sign = std::uint32_t(h & 0x8000u) << 16;
        const int exponent = (h >> 10) & 0x1f;
        const std::uint32_t mantissa = h & 0x3ffu;
        if (exponent == 0x1f) return bits_to_float(sign | 0x7f800000u | (mantissa << 13));
        if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24
            const float v = std::ldexp(static_cast<float>(mantissa), -24);
            return sign ? -v : v;
        }
        return bits_to_float(sign | (std::uint32_t(exponent - 15 + 127) << 23) | (mantissa << 13));
    }

    /// An integer element as float32, refused where float32 cannot hold it exactly.
    template <class Int>
    float exact_integer(Int v, std::int64_t index, const std::string& what) const {
        constexpr Int limit = Int{1} << 24;
        bool exact = v <= limit;
        if constexpr (std::is_signed<Int>::value) exact = exact && v >= -limit;
        if (!exact)
            fail(what + ": integer value " + std::to_string(v) + " at index " + std::to_string(index) +
                 " cannot be held exactly by a float32 tensor (|v| > 2^24)");
        return static_cast<float>(v);
    }

    /// One element of raw_data (little-endian, `size` bytes) of type `type`, as float.
    float raw_element(const unsigned char* p, int type, std::int64_t i, const std::string& what) const {
        using T = ::onnx::TensorProto;
        switch (type) {
            case T::FLOAT: return bits_to_float(static_cast<std::uint32_t>(read_le(p, 4)));
            case T::DOUBLE: {
                const std::uint64_t bits = read_le(p, 8);
                double d;
                std::memcpy(&d, &bits, sizeof d);
                return static_cast<float>(d);
            }
            case T::FLOAT16: return half_to_float(static_cast<std::uint16_t>(read_le(p, 2)));
            case T::BFLOAT16: return bits_to_float(static_cast<std::uint32_t>(read_le(p, 2)) << 16);
            case T::UINT8: case T::BOOL: return static_cast<float>(p[0]);
            case T::INT8: return static_cast<float>(static_cast<std::int8_t>(p[0]));
            case T::UINT16: return static_cast<float>(read_le(p, 2));
            case T::INT16: return static_cast<float>(static_cast<std::int16_t>(read_le(p, 2)));
            case T::INT32:
                return exact_integer(static_cast<std::int32_t>(read_le(p, 4)), i, what);
            case T::UINT32: return exact_integer(read_le(p, 4), i, what);
            case T::INT64:
                return exact_integer(static_cast<std::int64_t>(read_le(p, 8)), i, what);
            case T::UINT64: return exact_integer(read_le(p, 8), i, what);
            default: fail(what + ": data type " + std::to_string(type) + " is not supported");
        }
    }

    static int element_bytes(int type) {
        using T = ::onnx::TensorProto;
        switch (type) {
            case T::UINT8: case T::INT8: case T::BOOL: return 1;
            case T::UINT16: case T::INT16: case T::FLOAT16: case T::BFLOAT16: return 2;
            case T::FLOAT: case T::INT32: case T::UINT32: return 4;
            case T::DOUBLE: case T::INT64: case T::UINT64: return 8;
            default: return 0;  // STRING, COMPLEX*, UNDEFINED, unknown: not read
        }
    }

    void check_typed_count(int have, std::int64_t want, const char* field, const std::string& what) const {
        if (have != want)
            fail(what + " holds " + std::to_string(have) + " values in " + field + " but its shape " +
                 "has " + std::to_string(want) + " elements");
    }

    /// A TensorProto (an initializer, a Constant's value, a TENSOR attribute) as float32.
    dense_tensor to_dense(const ::onnx::TensorProto& t, const std::string& what) const {
        using T = ::onnx::TensorProto;
        if (t.data_location() == T::EXTERNAL || t.external_data_size() > 0)
            fail(what + " keeps its data in an external file (ONNX external data), which ferx does "
                 "not read: save the model with its weights inside it");
        if (t.has_segment()) fail(what + " is a segment of a larger tensor, which ferx does not read");
        const int type = t.data_type();
        const int bytes = element_bytes(type);
        if (bytes == 0)
            fail(what + " has data type " + std::to_string(type) + " (" + type_name(type) +
                 "), which ferx does not read");
        dense_tensor out;
        out.shape.assign(t.dims().begin(), t.dims().end());
        const std::int64_t n = element_count(out.shape, what);

        if (t.has_raw_data()) {
            const std::string& raw = t.raw_data();
            if (static_cast<std::int64_t>(raw.size()) != n * bytes)
                fail(what + " has " + std::to_string(raw.size()) + " bytes of raw_data but its " +
                     type_name(type) + " shape needs " + std::to_string(n * bytes));
            out.data.resize(static_cast<std::size_t>(n));
            const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
            for (std::int64_t i = 0; i < n; ++i) out.data[i] = raw_element(p + i * bytes, type, i, what);
            return out;
        }
        // The typed field must hold exactly n values: checked before allocating n floats.
        switch (type) {
            case T::FLOAT: check_typed_count(t.float_data_size(), n, "float_data", what); break;
            case T::DOUBLE: check_typed_count(t.double_data_size(), n, "double_data", what); break;
            case T::INT64: check_typed_count(t.int64_data_size(), n, "int64_data", what); break;
            case T::UINT32: case T::UINT64:
                check_typed_count(t.uint64_data_size(), n, "uint64_data", what);
                break;
            default: check_typed_count(t.int32_data_size(), n, "int32_data", what);
        }
        out.data.resize(static_cast<std::size_t>(n));
        switch (type) {
            case T::FLOAT:
                for (std::int64_t i = 0; i < n; ++i) out.data[i] = t.float_data(static_cast<int>(i));
                break;
            case T::DOUBLE:
                for (std::int64_t i = 0; i < n; ++i)
                    out.data[i] = static_cast<float>(t.double_data(static_cast<int>(i)));
                break;
            case T::INT64:
                for (std::int64_t i = 0; i < n; ++i)
                    out.data[i] = exact_integer(static_cast<std::int64_t>(t.int64_data(static_cast<int>(i))), i, what);
                break;
            case T::UINT32: case T::UINT64:
                for (std::int64_t i = 0; i < n; ++i)
                    out.data[i] = exact_integer(t.uint64_data(static_cast<int>(i)), i, what);
                break;
            default: {  // the types ONNX stores in int32_data
                for (std::int64_t i = 0; i < n; ++i) {
                    const std::int32_t v = t.int32_data(static_cast<int>(i));
                    if (type == T::FLOAT16) out.data[i] = half_to_float(static_cast<std::uint16_t>(v));
                    else if (type == T::BFLOAT16) out.data[i] = bits_to_float(static_cast<std::uint32_t>(v & 0xffff) << 16);
                    else out.data[i] = exact_integer(v, i, what);
                }
            }
        }
        return out;
    }

    value_info to_value_info(const ::onnx::ValueInfoProto& vi, const char* role) const {
        const std::string what = std::string(role) + " '" + vi.name() + "'";
        if (vi.name().empty()) fail(std::string("a graph ") + role + " has no name");
        if (!vi.has_type() || !vi.type().has_tensor_type())
            fail(what + " is not a tensor (sequences, maps and optionals are not supported)");
        const auto& tt = vi.type().tensor_type();
        if (tt.elem_type() != ::onnx::TensorProto::FLOAT && tt.elem_type() != ::onnx::TensorProto::UNDEFINED)
            fail(what + " has element type " + type_name(tt.elem_type()) +
                 "; ferx networks take and give float32 tensors");
        value_info out;
        out.name = vi.name();
        if (!tt.has_shape()) {
            if (std::string(role) == "input") fail(what + " has no shape; ferx needs at least its rank");
            return out;  // an output's shape is inferred by the session
        }
        for (const auto& d : tt.shape().dim()) {
            if (d.has_dim_value()) {
                if (d.dim_value() < 0 || d.dim_value() > options_.max_tensor_elements)
                    fail(what + " has an invalid extent " + std::to_string(d.dim_value()));
                out.shape.push_back(d.dim_value());
            } else {
                out.shape.push_back(-1);  // symbolic (dim_param) or unknown: dynamic
            }
        }
        return out;
    }

    static const char* attribute_type_name(int t) {
        using A = ::onnx::AttributeProto;
        switch (t) {
            case A::GRAPH: return "GRAPH";
            case A::GRAPHS: return "GRAPHS";
            case A::TENSORS: return "TENSORS";
            case A::SPARSE_TENSOR: return "SPARSE_TENSOR";
            case A::SPARSE_TENSORS: return "SPARSE_TENSORS";
            case A::TYPE_PROTO: return "TYPE_PROTO";
            case A::TYPE_PROTOS: return "TYPE_PROTOS";
            default: return "unknown";
        }
    }

    /// The attribute's kind; files from before IR version 3 may leave `type` unset.
    static int attribute_kind(const ::onnx::AttributeProto& a) {
        using A = ::onnx::AttributeProto;
        if (a.type() != A::UNDEFINED) return a.type();
        if (a.ints_size() > 0) return A::INTS;
        if (a.floats_size() > 0) return A::FLOATS;
        if (a.has_t()) return A::TENSOR;
        if (a.strings_size() > 0) return A::STRINGS;
        if (a.has_s()) return A::STRING;
        if (a.has_i()) return A::INT;
        if (a.has_f()) return A::FLOAT;
        return A::UNDEFINED;
    }

    attribute to_attribute(const ::onnx::AttributeProto& a, const std::string& where) const {
        using A = ::onnx::AttributeProto;
        const std::string what = where + ": attribute '" + a.name() + "'";
        if (!a.ref_attr_name().empty())
            fail(what + " refers to a function attribute, which ferx does not support");
        switch (attribute_kind(a)) {
            case A::INT: return attribute{static_cast<std::int64_t>(a.i())};
            case A::FLOAT: return attribute{a.f()};
            case A::STRING: return attribute{a.s()};
            case A::INTS: return attribute{std::vector<std::int64_t>(a.ints().begin(), a.ints().end())};
            case A::FLOATS: return attribute{std::vector<float>(a.floats().begin(), a.floats().end())};
            case A::TENSOR: return attribute{to_dense(a.t(), what)};
            case A::STRINGS: return attribute{std::vector<std::string>(a.strings().begin(), a.strings().end())};
            case A::UNDEFINED: fail(what + " has no value");
            default:
                fail(what + " is of type " + attribute_type_name(attribute_kind(a)) +
                     ", which ferx does not support");
        }
    }

    node to_node(const ::onnx::NodeProto& np, int index, std::set<std::string>& names) const {
        node n;
        n.op_type = np.op_type();
        n.name = np.name();
        if (n.op_type.empty()) fail("node " + std::to_string(index) + " ('" + n.name + "') has no op_type");
        if (n.name.empty()) n.name = n.op_type + "_" + std::to_string(index);
        const std::string base = n.name;
        for (int k = 1; names.count(n.name) != 0; ++k) n.name = base + "_" + std::to_string(k);
        names.insert(n.name);
        const std::string where = label(n.name, n.op_type);
        if (!is_default_domain(np.domain()))
            fail(where + ": operator domain '" + np.domain() + "' is not supported (only ai.onnx)");
        n.inputs.assign(np.input().begin(), np.input().end());
        n.outputs.assign(np.output().begin(), np.output().end());
        if (n.outputs.empty()) fail(where + " has no outputs");
        for (const auto& a : np.attribute()) {
            if (a.name().empty()) fail(where + " has an attribute without a name");
            if (!n.attributes.emplace(a.name(), to_attribute(a, where)).second)
                fail(where + ": attribute '" + a.name() + "' is given twice");
        }
        return n;
    }

    /// A Constant node becomes an initializer holding its value.
    void fold_constant(const ::onnx::NodeProto& np, int index, graph& g) const {
        const std::string where =
            label(np.name().empty() ? "Constant_" + std::to_string(index) : np.name(), "Constant");
        if (np.output_size() != 1 || np.output(0).empty()) fail(where + " must have one output");
        if (np.attribute_size() != 1) fail(where + " must have exactly one value attribute");
        const auto& a = np.attribute(0);
        const std::string what = where + ": attribute '" + a.name() + "'";
        dense_tensor t;
        if (a.name() == "value") {
            if (!a.has_t()) fail(what + " holds no tensor");
            t = to_dense(a.t(), what);
        } else if (a.name() == "value_float") {
            t.data = {a.f()};
        } else if (a.name() == "value_floats") {
            t.shape = {a.floats_size()};
            t.data.assign(a.floats().begin(), a.floats().end());
        } else if (a.name() == "value_int") {
            t.data = {exact_integer(static_cast<std::int64_t>(a.i()), 0, what)};
        } else if (a.name() == "value_ints") {
            t.shape = {a.ints_size()};
            for (int i = 0; i < a.ints_size(); ++i) t.data.push_back(exact_integer(static_cast<std::int64_t>(a.ints(i)), i, what));
        } else {
            fail(what + " is not supported (value, value_float(s) and value_int(s) are)");
        }
        if (!g.initializers.emplace(np.output(0), std::move(t)).second)
            fail(where + ": value '" + np.output(0) + "' is already defined");
    }

    /// Every value read is produced exactly once: by a graph input, an initializer or a node.
    void check_values(const graph& g) const {
        std::map<std::string, std::string> producer;  // value -> who defines it
        for (const auto& i : g.inputs)
            if (!producer.emplace(i.name, "graph input").second)
                fail("graph input '" + i.name + "' is given twice");
        for (const auto& kv : g.initializers)
            if (!producer.emplace(kv.first, "initializer").second)
                fail("value '" + kv.first + "' is both a graph input and an initializer");
        for (const auto& n : g.nodes)
            for (const auto& o : n.outputs) {
                if (o.empty()) continue;  // an omitted optional output
                auto it = producer.emplace(o, label(n.name, n.op_type));
                if (!it.second)
                    fail(label(n.name, n.op_type) + " writes value '" + o + "', which " +
                         it.first->second + " already defines");
            }
        for (const auto& n : g.nodes)
            for (const auto& in : n.inputs)
                if (!in.empty() && producer.count(in) == 0)
                    fail(label(n.name, n.op_type) + " reads value '" + in + "', which no node, " +
                         "graph input or initializer provides (a missing initializer?)");
        for (const auto& o : g.outputs)
            if (producer.count(o.name) == 0)
                fail("graph output '" + o.name + "' is not produced by any node");
    }
};

}  // namespace detail

/// Parses an ONNX model held in memory (the bytes of a .onnx file).
/// \param bytes        the serialized onnx.ModelProto
/// \param source_name  a name for error messages (a path, "<memory>")
/// \throws ferx::error naming `source_name` for anything malformed or unsupported by the importer
inline graph parse_onnx(std::string_view bytes, const std::string& source_name,
                        const onnx_options& options = {}) {
    const detail::onnx_importer importer(source_name, options);
    if (bytes.empty()) importer.fail("the model is empty (0 bytes)");
    if (static_cast<std::int64_t>(bytes.size()) > options.max_file_bytes ||
        bytes.size() > static_cast<std::size_t>(INT_MAX))
        importer.fail("the model has " + std::to_string(bytes.size()) +
                      " bytes, more than the limit of " + std::to_string(options.max_file_bytes));
    google::protobuf::io::ArrayInputStream stream(bytes.data(), static_cast<int>(bytes.size()));
    google::protobuf::io::CodedInputStream coded(&stream);
    coded.SetTotalBytesLimit(static_cast<int>(bytes.size()));
    coded.SetRecursionLimit(options.recursion_limit);
    ::onnx::ModelProto model;
    if (!model.ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage())
        importer.fail("not a valid ONNX model: the protobuf message cannot be parsed (a truncated "
                      "or corrupt file, or not ONNX)");
    return importer.import(model);
}

/// Translates an ONNX model already parsed (e.g. one built with libonnx's C++ API) into a graph.
inline graph from_onnx_model(const ::onnx::ModelProto& model, const std::string& source_name,
                             const onnx_options& options = {}) {
    return detail::onnx_importer(source_name, options).import(model);
}

/// Loads an ONNX model file.
/// \throws ferx::error naming the file where it cannot be read or is malformed
inline graph load_onnx(const std::filesystem::path& file, const onnx_options& options = {}) {
    const detail::onnx_importer importer(file.string(), options);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) importer.fail("no such file");
    const auto size = std::filesystem::file_size(file, ec);
    if (ec) importer.fail("cannot read the file's size: " + ec.message());
    if (static_cast<std::int64_t>(size) > options.max_file_bytes || size > static_cast<std::uintmax_t>(INT_MAX))
        importer.fail("the file has " + std::to_string(size) + " bytes, more than the limit of " +
                      std::to_string(options.max_file_bytes) +
                      " (models of 2 GiB or more keep external data, which ferx does not read)");
    std::ifstream in(file, std::ios::binary);
    if (!in) importer.fail("cannot open the file");
    std::string bytes(static_cast<std::size_t>(size), '\0');
    if (size > 0 && !in.read(bytes.data(), static_cast<std::streamsize>(size)))
        importer.fail("cannot read the file");
    return parse_onnx(bytes, file.string(), options);
}

}  // namespace nn
FERX_NAMESPACE_END
