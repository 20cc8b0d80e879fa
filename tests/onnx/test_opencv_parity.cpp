// Single-op ONNX graphs built here with libonnx's C++ API, serialized, then run by ferx (importer
// + session, exec::seq and exec::par) and by OpenCV 4.6 dnn (cv::dnn::readNetFromONNX on the same
// bytes): same output shape, and max |ferx - opencv| <= 1e-5 * max(1, max |opencv|).
// Every op the session supports that OpenCV 4.6 imports is here; docs/onnx.md lists the rest.
// The shape computations around Reshape (add_shape_cases) are here too, as exporters emit them.
#include "onnx_test.hpp"

#include <ferx/core/execution.hpp>
#include <ferx/nn/session.hpp>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <opencv2/dnn.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

namespace fn = ferx::nn;
using onnx_test::attr_f;
using onnx_test::attr_i;
using onnx_test::attr_ints;
using onnx_test::model_builder;
using onnx_test::random_values;

namespace {

using shape = std::vector<std::int64_t>;

struct result {
    shape dims;
    std::vector<float> data;
};

/// One single-op graph: inputs x (and x2), output y. Where OpenCV 4.6 cannot import the op in
/// this form or computes something else than ONNX defines, `reference` computes the expected
/// output directly from the inputs instead (docs/onnx.md lists these cases).
struct op_case {
    using reference_fn = std::function<result(const std::vector<std::vector<float>>&)>;
    op_case() = default;
    op_case(std::string n, std::function<model_builder()> b, reference_fn r = {})
        : name(std::move(n)), build(std::move(b)), reference(std::move(r)) {}
    std::string name;
    std::function<model_builder()> build;
    reference_fn reference;
};

std::int64_t count(const shape& s) {
    std::int64_t n = 1;
    for (auto d : s) n *= d;
    return n;
}

/// A model with graph inputs `ins` (named x, x2, ...) and output y.
model_builder with_inputs(const std::vector<shape>& ins, int opset = 13) {
    model_builder m(opset, "op");
    for (std::size_t i = 0; i < ins.size(); ++i) m.input(i == 0 ? "x" : "x" + std::to_string(i + 1), ins[i]);
    m.output("y");
    return m;
}

model_builder conv(shape x, shape w, bool bias, std::vector<std::int64_t> strides, std::vector<std::int64_t> pads,
                   std::vector<std::int64_t> dilations, std::int64_t group) {
    auto m = with_inputs({x});
    m.initializer("w", w, random_values(static_cast<std::size_t>(count(w)), 11));
    std::vector<std::string> in = {"x", "w"};
    if (bias) {
        m.initializer("b", {w[0]}, random_values(static_cast<std::size_t>(w[0]), 12));
        in.push_back("b");
    }
    auto* n = m.node("Conv", in, {"y"}, "conv");
    attr_ints(n, "kernel_shape", {w[2], w[3]});
    attr_ints(n, "strides", strides);
    attr_ints(n, "pads", pads);
    attr_ints(n, "dilations", dilations);
    attr_i(n, "group", group);
    return m;
}

model_builder unary(const std::string& op, const std::function<void(::onnx::NodeProto*)>& attrs = {}) {
    auto m = with_inputs({{2, 3, 5, 7}});
    auto* n = m.node(op, {"x"}, {"y"}, "op");
    if (attrs) attrs(n);
    return m;
}

model_builder pool(const std::string& op, std::vector<std::int64_t> k, std::vector<std::int64_t> s,
                   std::vector<std::int64_t> pads, int count_include_pad = -1) {
    auto m = with_inputs({{2, 3, 11, 10}});
    auto* n = m.node(op, {"x"}, {"y"}, "pool");
    attr_ints(n, "kernel_shape", k);
    attr_ints(n, "strides", s);
    attr_ints(n, "pads", pads);
    if (count_include_pad >= 0) attr_i(n, "count_include_pad", count_include_pad);
    return m;
}

/// The shape computations exporters emit around Flatten / Reshape (ferx folds them while
/// compiling or planning; ferx/nn/shape_ops.hpp), and Gather / Squeeze / Unsqueeze / Cast on
/// constants and data.
void add_shape_cases(std::vector<op_case>& c) {
    // PyTorch's x.view(x.size(0), -1): Shape -> Gather -> Unsqueeze -> Concat -> Reshape.
    c.push_back({"pytorch_view_flatten", [] {
        auto m = with_inputs({{2, 3, 4, 5}});
        onnx_test::pytorch_view_flatten(m, "x", "r");
        m.node("Relu", {"r"}, {"y"}, "relu");
        return m;
    }});
    // tf2onnx's dynamic Flatten: Shape -> Cast(int32) -> Slice -> Concat -> Cast(int64) -> Reshape.
    c.push_back({"tf2onnx_flatten_cast_slice", [] {
        auto m = with_inputs({{2, 3, 4, 5}});
        onnx_test::tf2onnx_flatten(m, "x", "r", 60);
        m.node("Sigmoid", {"r"}, {"y"}, "sigmoid");
        return m;
    }});
    // x.view(x.size(0), x.size(1) * x.size(2) * x.size(3)): Mul on gathered extents.
    c.push_back({"reshape_target_from_mul",
                 [] {
                     auto m = with_inputs({{2, 3, 4, 5}});
                     for (int a = 0; a < 4; ++a) m.int64_initializer("i" + std::to_string(a), {}, {a});
                     m.int64_initializer("axes0", {1}, {0});
                     m.node("Shape", {"x"}, {"s"}, "shape");
                     for (int a = 0; a < 4; ++a)
                         m.node("Gather", {"s", "i" + std::to_string(a)}, {"d" + std::to_string(a)}, "gather" + std::to_string(a));
                     m.node("Mul", {"d1", "d2"}, {"d12"}, "mul12");
                     m.node("Mul", {"d12", "d3"}, {"d123"}, "mul123");
                     m.node("Unsqueeze", {"d0", "axes0"}, {"u0"}, "unsqueeze0");
                     m.node("Unsqueeze", {"d123", "axes0"}, {"u1"}, "unsqueeze1");
                     attr_i(m.node("Concat", {"u0", "u1"}, {"target"}, "concat"), "axis", 0);
                     m.node("Reshape", {"x", "target"}, {"y"}, "reshape");
                     return m;
                 }});
    // ConstantOfShape(-1) as the inferred extent of the target.
    c.push_back({"constant_of_shape_target",
                 [] {
                     auto m = with_inputs({{2, 3, 4, 5}});
                     m.int64_initializer("one", {1}, {1});
                     m.int64_initializer("first", {1}, {0});
                     m.node("Shape", {"x"}, {"s"}, "shape");
                     m.node("Gather", {"s", "first"}, {"n"}, "gather");
                     auto* k = m.node("ConstantOfShape", {"one"}, {"minus_one"}, "constant_of_shape");
                     auto* a = k->add_attribute();
                     a->set_name("value");
                     a->set_type(::onnx::AttributeProto::TENSOR);
                     a->mutable_t()->set_data_type(::onnx::TensorProto::INT64);
                     a->mutable_t()->add_dims(1);
                     a->mutable_t()->add_int64_data(-1);
                     attr_i(m.node("Concat", {"n", "minus_one"}, {"target"}, "concat"), "axis", 0);
                     m.node("Reshape", {"x", "target"}, {"y"}, "reshape");
                     return m;
                 }});
    // Keras / tf2onnx exported for batch 1: a Reshape target with the batch hard-coded as 1.
    c.push_back({"reshape_hardcoded_batch1", [] {
        auto m = with_inputs({{1, 3, 4, 5}});
        m.int64_initializer("target", {2}, {1, -1});
        m.node("Reshape", {"x", "target"}, {"r"}, "reshape");
        m.initializer("w", {7, 60}, random_values(420, 51));
        attr_i(m.node("Gemm", {"r", "w"}, {"y"}, "gemm"), "transB", 1);
        return m;
    }});
    // OpenCV 4.6 reads Squeeze's axes only as an attribute (opset < 13); the input form is in
    // test_shape_folding.cpp.
    c.push_back({"unsqueeze_relu_squeeze_opset11", [] {
        auto m = with_inputs({{2, 3, 4, 5}}, 11);
        attr_ints(m.node("Unsqueeze", {"x"}, {"u"}, "unsqueeze"), "axes", {1});
        m.node("Relu", {"u"}, {"r"}, "relu");
        attr_ints(m.node("Squeeze", {"r"}, {"y"}, "squeeze"), "axes", {1});
        return m;
    }});
    c.push_back({"squeeze_opset11_attribute",
                 [] {
                     auto m = with_inputs({{2, 1, 4, 1}}, 11);
                     attr_ints(m.node("Squeeze", {"x"}, {"y"}, "squeeze"), "axes", {1, -1});
                     return m;
                 }});
    // Gather along axis 1 of a constant (folded at compile time) feeding MatMul. OpenCV 4.6 takes
    // only a scalar index: against the definition, y = x * table[:, {4, -4 + 5}].
    c.push_back({"gather_constant_axis1_matmul",
                 [] {
                     auto m = with_inputs({{4, 6}});
                     m.initializer("table", {6, 5}, random_values(30, 52));
                     m.int64_initializer("idx", {2}, {4, -4});
                     attr_i(m.node("Gather", {"table", "idx"}, {"w"}, "gather"), "axis", 1);
                     m.node("MatMul", {"x", "w"}, {"y"}, "matmul");
                     return m;
                 },
                 [](const std::vector<std::vector<float>>& in) {
                     const auto table = random_values(30, 52);
                     const int cols[2] = {4, 1};
                     result r{{4, 2}, std::vector<float>(8)};
                     for (int i = 0; i < 4; ++i)
                         for (int j = 0; j < 2; ++j) {
                             double acc = 0;
                             for (int k = 0; k < 6; ++k) acc += double(in[0][i * 6 + k]) * table[k * 5 + cols[j]];
                             r.data[i * 2 + j] = float(acc);
                         }
                     return r;
                 }});
    c.push_back({"gather_constant_scalar_index_add", [] {
        auto m = with_inputs({{4, 6}});
        m.initializer("table", {3, 6}, random_values(18, 53));
        m.int64_initializer("idx", {}, {2});
        attr_i(m.node("Gather", {"table", "idx"}, {"row"}, "gather"), "axis", 0);
        m.node("Add", {"x", "row"}, {"y"}, "add");
        return m;
    }});
    c.push_back({"cast_float_identity", [] {
        auto m = with_inputs({{2, 3, 4, 5}});
        attr_i(m.node("Cast", {"x"}, {"f"}, "cast"), "to", ::onnx::TensorProto::FLOAT);
        m.node("Tanh", {"f"}, {"y"}, "tanh");
        return m;
    }});
}

std::vector<op_case> cases() {
    std::vector<op_case> c;
    c.push_back({"conv_3x3_pad1", [] { return conv({2, 3, 10, 12}, {4, 3, 3, 3}, true, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1); }});
    c.push_back({"conv_stride2_dilation2", [] { return conv({1, 4, 15, 13}, {5, 4, 3, 3}, true, {2, 2}, {2, 2, 2, 2}, {2, 2}, 1); }});
    c.push_back({"conv_4x4_asymmetric_pads", [] { return conv({2, 2, 11, 11}, {3, 2, 4, 4}, true, {1, 1}, {1, 1, 2, 2}, {1, 1}, 1); }});
    c.push_back({"conv_5x3_rect_stride", [] { return conv({1, 3, 12, 14}, {4, 3, 5, 3}, false, {1, 2}, {2, 1, 2, 1}, {1, 1}, 1); }});
    c.push_back({"conv_groups3", [] { return conv({2, 6, 9, 9}, {6, 2, 3, 3}, true, {1, 1}, {1, 1, 1, 1}, {1, 1}, 3); }});
    c.push_back({"conv_depthwise", [] { return conv({2, 8, 9, 9}, {8, 1, 3, 3}, false, {1, 1}, {1, 1, 1, 1}, {1, 1}, 8); }});
    c.push_back({"conv_pointwise", [] { return conv({2, 8, 6, 7}, {16, 8, 1, 1}, false, {1, 1}, {0, 0, 0, 0}, {1, 1}, 1); }});
    c.push_back({"conv_1x1_stride2", [] { return conv({1, 8, 9, 9}, {4, 8, 1, 1}, true, {2, 2}, {0, 0, 0, 0}, {1, 1}, 1); }});
    c.push_back({"batch_normalization", [] {
        auto m = with_inputs({{2, 4, 5, 6}});
        m.initializer("s", {4}, random_values(4, 21, 0.5f, 1.5f));
        m.initializer("b", {4}, random_values(4, 22));
        m.initializer("mean", {4}, random_values(4, 23));
        m.initializer("var", {4}, random_values(4, 24, 0.5f, 2.f));
        attr_f(m.node("BatchNormalization", {"x", "s", "b", "mean", "var"}, {"y"}, "bn"), "epsilon", 1e-3f);
        return m;
    }});
    c.push_back({"conv_batch_normalization_relu", [] {
        auto m = conv({2, 3, 8, 8}, {4, 3, 3, 3}, false, {1, 1}, {1, 1, 1, 1}, {1, 1}, 1);
        m.g->mutable_node(0)->set_output(0, "c");
        m.initializer("s", {4}, random_values(4, 21, 0.5f, 1.5f));
        m.initializer("b", {4}, random_values(4, 22));
        m.initializer("mean", {4}, random_values(4, 23));
        m.initializer("var", {4}, random_values(4, 24, 0.5f, 2.f));
        m.node("BatchNormalization", {"c", "s", "b", "mean", "var"}, {"bn"}, "bn");
        m.node("Relu", {"bn"}, {"y"}, "relu");
        return m;
    }});
    c.push_back({"relu", [] { return unary("Relu"); }});
    c.push_back({"leaky_relu", [] { return unary("LeakyRelu", [](auto* n) { attr_f(n, "alpha", 0.1f); }); }});
    c.push_back({"sigmoid", [] { return unary("Sigmoid"); }});
    c.push_back({"tanh", [] { return unary("Tanh"); }});
    c.push_back({"clip_opset10_attributes", [] {
        auto m = with_inputs({{2, 3, 5, 7}}, 10);
        auto* n = m.node("Clip", {"x"}, {"y"}, "clip");
        attr_f(n, "min", -0.5f);
        attr_f(n, "max", 0.25f);
        return m;
    }});
    // OpenCV 4.6 imports only the attribute form of Clip (opset < 11): the opset-13 form, min and
    // max as inputs, against the definition.
    c.push_back({"clip_opset13_inputs",
                 [] {
                     auto m = with_inputs({{2, 3, 5, 7}});
                     m.initializer("lo", {}, {-0.5f});
                     m.initializer("hi", {}, {0.25f});
                     m.node("Clip", {"x", "lo", "hi"}, {"y"}, "clip");
                     return m;
                 },
                 [](const std::vector<std::vector<float>>& in) {
                     result r{{2, 3, 5, 7}, in[0]};
                     for (auto& v : r.data) v = std::min(0.25f, std::max(-0.5f, v));
                     return r;
                 }});
    c.push_back({"max_pool_3x3_s2_pad1", [] { return pool("MaxPool", {3, 3}, {2, 2}, {1, 1, 1, 1}); }});
    c.push_back({"max_pool_2x2_s2", [] { return pool("MaxPool", {2, 2}, {2, 2}, {0, 0, 0, 0}); }});
    c.push_back({"average_pool_3x3_s2", [] { return pool("AveragePool", {3, 3}, {2, 2}, {0, 0, 0, 0}); }});
    c.push_back({"average_pool_3x3_s1_pad1_exclude", [] { return pool("AveragePool", {3, 3}, {1, 1}, {1, 1, 1, 1}, 0); }});
    // count_include_pad = 1: ONNX divides every window by 9, padding included (ONNX Runtime
    // does); OpenCV 4.6 gives other values at the borders, so against the definition.
    c.push_back({"average_pool_3x3_s1_pad1_include",
                 [] { return pool("AveragePool", {3, 3}, {1, 1}, {1, 1, 1, 1}, 1); },
                 [](const std::vector<std::vector<float>>& in) {
                     result r{{2, 3, 11, 10}, std::vector<float>(2 * 3 * 11 * 10)};
                     for (int p = 0; p < 6; ++p)
                         for (int y = 0; y < 11; ++y)
                             for (int x = 0; x < 10; ++x) {
                                 float sum = 0;
                                 for (int dy = -1; dy <= 1; ++dy)
                                     for (int dx = -1; dx <= 1; ++dx)
                                         if (y + dy >= 0 && y + dy < 11 && x + dx >= 0 && x + dx < 10)
                                             sum += in[0][(p * 11 + y + dy) * 10 + x + dx];
                                 r.data[(p * 11 + y) * 10 + x] = sum / 9.f;
                             }
                     return r;
                 }});
    c.push_back({"global_average_pool", [] {
        auto m = with_inputs({{2, 5, 7, 6}});
        m.node("GlobalAveragePool", {"x"}, {"y"}, "gap");
        return m;
    }});
    for (const char* op : {"Add", "Mul"}) {
        const std::string lower = op == std::string("Add") ? "add" : "mul";
        c.push_back({lower + "_two_inputs", [op] {
            auto m = with_inputs({{2, 3, 4, 5}, {2, 3, 4, 5}});
            m.node(op, {"x", "x2"}, {"y"}, "binary");
            return m;
        }});
        c.push_back({lower + "_per_channel", [op] {
            auto m = with_inputs({{2, 3, 4, 5}});
            m.initializer("c", {3, 1, 1}, random_values(3, 31));
            m.node(op, {"x", "c"}, {"y"}, "binary");
            return m;
        }});
    }
    c.push_back({"concat_channels", [] {
        auto m = with_inputs({{2, 3, 4, 5}, {2, 2, 4, 5}});
        attr_i(m.node("Concat", {"x", "x2"}, {"y"}, "concat"), "axis", 1);
        return m;
    }});
    c.push_back({"gemm_trans_b", [] {
        auto m = with_inputs({{4, 20}});
        m.initializer("w", {8, 20}, random_values(160, 41));
        m.initializer("b", {8}, random_values(8, 42));
        attr_i(m.node("Gemm", {"x", "w", "b"}, {"y"}, "gemm"), "transB", 1);
        return m;
    }});
    // OpenCV 4.6 fails on Gemm with transB = 0 (with a bias its FullyConnected assertion at
    // import, without one at run time): that form, with alpha and beta, against the definition.
    c.push_back({"gemm_alpha_beta_untransposed",
                 [] {
                     auto m = with_inputs({{4, 20}});
                     m.initializer("w", {20, 8}, random_values(160, 43));
                     m.initializer("b", {8}, random_values(8, 44));
                     auto* n = m.node("Gemm", {"x", "w", "b"}, {"y"}, "gemm");
                     attr_f(n, "alpha", 0.5f);
                     attr_f(n, "beta", 2.f);
                     return m;
                 },
                 [](const std::vector<std::vector<float>>& in) {
                     const auto w = random_values(160, 43), b = random_values(8, 44);
                     result r{{4, 8}, std::vector<float>(32)};
                     for (int i = 0; i < 4; ++i)
                         for (int j = 0; j < 8; ++j) {
                             double acc = 0;
                             for (int k = 0; k < 20; ++k) acc += double(in[0][i * 20 + k]) * w[k * 8 + j];
                             r.data[i * 8 + j] = float(0.5 * acc + 2.0 * b[j]);
                         }
                     return r;
                 }});
    c.push_back({"matmul", [] {
        auto m = with_inputs({{4, 20}});
        m.initializer("w", {20, 8}, random_values(160, 45));
        m.node("MatMul", {"x", "w"}, {"y"}, "matmul");
        return m;
    }});
    c.push_back({"flatten", [] {
        auto m = with_inputs({{2, 3, 4, 5}});
        attr_i(m.node("Flatten", {"x"}, {"y"}, "flatten"), "axis", 1);
        return m;
    }});
    c.push_back({"reshape", [] {
        auto m = with_inputs({{2, 3, 4, 5}});
        m.int64_initializer("shape", {3}, {-1, 12, 5});
        m.node("Reshape", {"x", "shape"}, {"y"}, "reshape");
        return m;
    }});
    c.push_back({"transpose_nhwc", [] {
        auto m = with_inputs({{2, 3, 4, 5}});
        attr_ints(m.node("Transpose", {"x"}, {"y"}, "transpose"), "perm", {0, 2, 3, 1});
        return m;
    }});
    c.push_back({"pad_constant", [] {
        auto m = with_inputs({{2, 3, 4, 5}});
        m.int64_initializer("pads", {8}, {0, 0, 1, 2, 0, 0, 2, 1});
        m.node("Pad", {"x", "pads"}, {"y"}, "pad");
        return m;
    }});
    c.push_back({"softmax", [] {
        auto m = with_inputs({{4, 10}});
        attr_i(m.node("Softmax", {"x"}, {"y"}, "softmax"), "axis", 1);
        return m;
    }});
    c.push_back({"dropout_then_relu", [] {
        auto m = with_inputs({{2, 3, 4, 5}});
        m.node("Dropout", {"x"}, {"d"}, "dropout");
        m.node("Relu", {"d"}, {"y"}, "relu");
        return m;
    }});
    c.push_back({"identity_then_sigmoid", [] {
        auto m = with_inputs({{2, 3, 4, 5}});
        m.node("Identity", {"x"}, {"i"}, "identity");
        m.node("Sigmoid", {"i"}, {"y"}, "sigmoid");
        return m;
    }});
    add_shape_cases(c);
    return c;
}

std::vector<std::string> case_names() {
    std::vector<std::string> names;
    for (const auto& c : cases()) names.push_back(c.name);
    return names;
}

/// The graph inputs' shapes, as declared by the model.
std::vector<shape> input_shapes(const ::onnx::ModelProto& model) {
    std::vector<shape> out;
    for (const auto& in : model.graph().input()) {
        shape s;
        for (const auto& d : in.type().tensor_type().shape().dim()) s.push_back(d.dim_value());
        out.push_back(s);
    }
    return out;
}

template <class Policy>
result run_ferx(const Policy& policy, const std::string& bytes, const std::vector<std::vector<float>>& inputs,
                const std::vector<shape>& shapes) {
    fn::session s(fn::parse_onnx(bytes, "op.onnx"));
    std::vector<fn::tensor_ref> refs;
    for (std::size_t i = 0; i < inputs.size(); ++i) refs.push_back({inputs[i].data(), shapes[i]});
    const auto out = s.run(policy, refs);
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    return {out[0].shape, std::vector<float>(out[0].data, out[0].data + out[0].element_count())};
}

result run_opencv(const std::string& bytes, const std::vector<std::vector<float>>& inputs,
                  const std::vector<shape>& shapes, const ::onnx::ModelProto& model) {
    cv::dnn::Net net = cv::dnn::readNetFromONNX(bytes.data(), bytes.size());
    std::vector<cv::Mat> blobs;  // kept alive until forward
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        std::vector<int> dims(shapes[i].begin(), shapes[i].end());
        blobs.emplace_back(static_cast<int>(dims.size()), dims.data(), CV_32F, const_cast<float*>(inputs[i].data()));
        net.setInput(blobs.back(), model.graph().input(static_cast<int>(i)).name());
    }
    const cv::Mat out = net.forward();
    result r;
    for (int d = 0; d < out.dims; ++d) r.dims.push_back(out.size[d]);
    r.data.assign(out.ptr<float>(), out.ptr<float>() + out.total());
    return r;
}

/// max |got - want| / max(1, max |want|)
double scaled_max_diff(const result& got, const result& want) {
    double diff = 0, scale = 1;
    for (std::size_t i = 0; i < want.data.size(); ++i) {
        diff = std::max(diff, double(std::fabs(got.data[i] - want.data[i])));
        scale = std::max(scale, double(std::fabs(want.data[i])));
    }
    return diff / scale;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(onnx_opencv_parity)

BOOST_DATA_TEST_CASE(single_op_equals_opencv_dnn, boost::unit_test::data::make(case_names()), name) {
    op_case c;
    for (auto& k : cases())
        if (k.name == name) c = k;
    const model_builder m = c.build();
    const std::string bytes = m.bytes();
    const auto shapes = input_shapes(m.model);
    std::vector<std::vector<float>> inputs;
    for (std::size_t i = 0; i < shapes.size(); ++i)
        inputs.push_back(random_values(static_cast<std::size_t>(count(shapes[i])), 100 + static_cast<std::uint32_t>(i), -2.f, 2.f));

    const result ocv = c.reference ? c.reference(inputs) : run_opencv(bytes, inputs, shapes, m.model);
    if (c.reference) BOOST_TEST_MESSAGE(name << ": compared with the ONNX definition computed here, not OpenCV");
    const result seq = run_ferx(ferx::exec::seq, bytes, inputs, shapes);
    const result par = run_ferx(ferx::exec::par, bytes, inputs, shapes);
    BOOST_TEST_INFO("op case " << name);
    // OpenCV keeps 4-D blobs for some 2-D results (e.g. Gemm gives N x C); compare element counts
    // and, where OpenCV reports the same rank, the extents.
    BOOST_REQUIRE_EQUAL(seq.data.size(), ocv.data.size());
    if (seq.dims.size() == ocv.dims.size())
        BOOST_TEST(seq.dims == ocv.dims, boost::test_tools::per_element());
    BOOST_TEST(seq.dims == par.dims, boost::test_tools::per_element());
    const double d_seq = scaled_max_diff(seq, ocv), d_par = scaled_max_diff(par, ocv);
    BOOST_TEST_MESSAGE(name << ": ferx seq vs peer " << d_seq << ", par vs peer " << d_par);
    BOOST_TEST(d_seq <= 1e-5);
    BOOST_TEST(d_par <= 1e-5);
}

BOOST_AUTO_TEST_SUITE_END()
