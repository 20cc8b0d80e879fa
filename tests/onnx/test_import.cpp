// The importer on models built here with libonnx's C++ API and on the shipped mini-Xception
// files: values, shapes, attributes, Constant folding, numeric types, opset.
#include "onnx_test.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace fn = ferx::nn;
using onnx_test::model_builder;

BOOST_AUTO_TEST_SUITE(onnx_import)

BOOST_AUTO_TEST_CASE(small_cnn_translates_every_part) {
    auto m = onnx_test::small_cnn();
    // Older exporters also list the weights as graph inputs: they are not runtime inputs.
    model_builder::set_shape(m.g->add_input(), "w1", {8, 3, 3, 3});
    const fn::graph g = fn::parse_onnx(m.bytes(), "small_cnn.onnx");

    BOOST_TEST(g.name == "small_cnn");
    BOOST_TEST(g.source == "small_cnn.onnx");
    BOOST_TEST(g.opset_version == 13);
    BOOST_REQUIRE_EQUAL(g.inputs.size(), 1u);
    BOOST_TEST(g.inputs[0].name == "x");
    BOOST_TEST(g.inputs[0].shape == (std::vector<std::int64_t>{-1, 3, 16, 16}), boost::test_tools::per_element());
    BOOST_REQUIRE_EQUAL(g.outputs.size(), 1u);
    BOOST_TEST(g.outputs[0].shape == (std::vector<std::int64_t>{-1, 5}), boost::test_tools::per_element());
    BOOST_TEST(g.initializers.size() == 9u);
    BOOST_TEST(g.nodes.size() == 10u);

    // Weights equal the values written, raw_data and float_data alike.
    const auto& w1 = g.initializers.at("w1");
    BOOST_TEST(w1.shape == (std::vector<std::int64_t>{8, 3, 3, 3}), boost::test_tools::per_element());
    BOOST_TEST(w1.data == onnx_test::random_values(216, 7), boost::test_tools::per_element());
    BOOST_TEST(g.initializers.at("bn_v").data == onnx_test::random_values(8, 12, 0.5f, 2.f),
               boost::test_tools::per_element());

    const auto& conv = g.nodes[0];
    BOOST_TEST(conv.name == "conv1");
    BOOST_TEST(conv.op_type == "Conv");
    BOOST_TEST(conv.inputs == (std::vector<std::string>{"x", "w1", "b1"}), boost::test_tools::per_element());
    BOOST_TEST(std::get<std::vector<std::int64_t>>(conv.attributes.at("pads")) ==
                   (std::vector<std::int64_t>{1, 1, 1, 1}),
               boost::test_tools::per_element());
    BOOST_TEST(std::get<float>(g.nodes[1].attributes.at("epsilon")) == 1e-3f);
    BOOST_TEST(std::get<std::int64_t>(g.nodes[3].attributes.at("group")) == 8);
}

BOOST_AUTO_TEST_CASE(attributes_of_every_supported_kind) {
    model_builder m;
    m.input("x", {1, 4});
    m.output("y", {1, 4});
    auto* n = m.node("Identity", {"x"}, {"y"}, "");  // unnamed: a name is generated
    n->set_name("");
    onnx_test::attr_i(n, "i", -3);
    onnx_test::attr_f(n, "f", 2.5f);
    onnx_test::attr_s(n, "s", "SAME_UPPER");
    onnx_test::attr_ints(n, "ints", {1, -2, 3});
    onnx_test::attr_floats(n, "floats", {0.25f, -1.f});
    auto* a = n->add_attribute();
    a->set_name("t");
    a->set_type(::onnx::AttributeProto::TENSOR);
    onnx_test::fill_tensor(*a->mutable_t(), {2}, {1.5f, -4.f}, false);
    auto* old = n->add_attribute();  // IR < 3 style: no type, the kind follows the field set
    old->set_name("untyped");
    old->add_ints(9);

    const fn::graph g = fn::parse_onnx(m.bytes(), "attrs.onnx");
    BOOST_REQUIRE_EQUAL(g.nodes.size(), 1u);
    const auto& at = g.nodes[0].attributes;
    BOOST_TEST(g.nodes[0].name == "Identity_0");
    BOOST_TEST(std::get<std::int64_t>(at.at("i")) == -3);
    BOOST_TEST(std::get<float>(at.at("f")) == 2.5f);
    BOOST_TEST(std::get<std::string>(at.at("s")) == "SAME_UPPER");
    BOOST_TEST(std::get<std::vector<std::int64_t>>(at.at("ints")) == (std::vector<std::int64_t>{1, -2, 3}),
               boost::test_tools::per_element());
    BOOST_TEST(std::get<std::vector<float>>(at.at("floats")) == (std::vector<float>{0.25f, -1.f}),
               boost::test_tools::per_element());
    const auto& t = std::get<fn::dense_tensor>(at.at("t"));
    BOOST_TEST(t.shape == (std::vector<std::int64_t>{2}), boost::test_tools::per_element());
    BOOST_TEST(t.data == (std::vector<float>{1.5f, -4.f}), boost::test_tools::per_element());
    BOOST_TEST(std::get<std::vector<std::int64_t>>(at.at("untyped")) == (std::vector<std::int64_t>{9}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(constant_nodes_become_initializers) {
    model_builder m;
    m.input("x", {2, 6});
    m.output("y", {3, 4});
    auto* c1 = m.node("Constant", {}, {"shape"}, "shape_const");
    auto* v = c1->add_attribute();
    v->set_name("value");
    v->set_type(::onnx::AttributeProto::TENSOR);
    auto* t = v->mutable_t();
    t->set_data_type(::onnx::TensorProto::INT64);
    t->add_dims(2);
    t->add_int64_data(3);
    t->add_int64_data(-1);
    auto* c2 = m.node("Constant", {}, {"k"}, "");
    onnx_test::attr_f(c2, "value_float", 0.5f);
    auto* c3 = m.node("Constant", {}, {"axes"}, "");
    onnx_test::attr_ints(c3, "value_ints", {0, 1});
    m.node("Reshape", {"x", "shape"}, {"r"}, "reshape");
    m.node("Mul", {"r", "k"}, {"y"}, "scale");

    const fn::graph g = fn::parse_onnx(m.bytes(), "const.onnx");
    BOOST_REQUIRE_EQUAL(g.nodes.size(), 2u);
    BOOST_TEST(g.nodes[0].op_type == "Reshape");
    BOOST_TEST(g.initializers.at("shape").data == (std::vector<float>{3.f, -1.f}), boost::test_tools::per_element());
    BOOST_TEST(g.initializers.at("shape").shape == (std::vector<std::int64_t>{2}), boost::test_tools::per_element());
    BOOST_TEST(g.initializers.at("k").shape.empty());
    BOOST_TEST(g.initializers.at("k").data == (std::vector<float>{0.5f}), boost::test_tools::per_element());
    BOOST_TEST(g.initializers.at("axes").data == (std::vector<float>{0.f, 1.f}), boost::test_tools::per_element());
}

namespace {
/// A one-node model whose initializer "c" is `t` (name set here), to read one tensor back.
fn::dense_tensor read_back(const ::onnx::TensorProto& t) {
    model_builder m;
    m.input("x", {2});
    m.output("y", {2});
    auto* c = m.g->add_initializer();
    *c = t;
    c->set_name("c");
    m.node("Add", {"x", "c"}, {"y"});
    return fn::parse_onnx(m.bytes(), "types.onnx").initializers.at("c");
}
}  // namespace

BOOST_AUTO_TEST_CASE(numeric_types_convert_exactly) {
    ::onnx::TensorProto t;
    t.add_dims(4);
    // FLOAT16 raw: 1.0, -2.0, 0.5, the smallest subnormal 2^-24.
    t.set_data_type(::onnx::TensorProto::FLOAT16);
    t.set_raw_data(std::string("\x00\x3c\x00\xc0\x00\x38\x01\x00", 8));
    BOOST_TEST(read_back(t).data == (std::vector<float>{1.f, -2.f, 0.5f, 5.9604644775390625e-8f}),
               boost::test_tools::per_element());
    // FLOAT16 typed (int32_data holds the bits): 65504 (largest half), -0.
    t.clear_raw_data();
    t.add_int32_data(0x7bff);
    t.add_int32_data(0x8000);
    t.add_int32_data(0x3c00);
    t.add_int32_data(0x0000);
    BOOST_TEST(read_back(t).data == (std::vector<float>{65504.f, -0.f, 1.f, 0.f}), boost::test_tools::per_element());
    // DOUBLE typed, INT32 typed, UINT8 raw, INT64 raw (little-endian).
    ::onnx::TensorProto d;
    d.add_dims(4);
    d.set_data_type(::onnx::TensorProto::DOUBLE);
    for (double v : {0.125, -3.0, 1e3, 7.5}) d.add_double_data(v);
    BOOST_TEST(read_back(d).data == (std::vector<float>{0.125f, -3.f, 1000.f, 7.5f}), boost::test_tools::per_element());
    ::onnx::TensorProto i32;
    i32.add_dims(4);
    i32.set_data_type(::onnx::TensorProto::INT32);
    for (int v : {-7, 0, 16777216, 42}) i32.add_int32_data(v);
    BOOST_TEST(read_back(i32).data == (std::vector<float>{-7.f, 0.f, 16777216.f, 42.f}), boost::test_tools::per_element());
    ::onnx::TensorProto u8;
    u8.add_dims(4);
    u8.set_data_type(::onnx::TensorProto::UINT8);
    u8.set_raw_data(std::string("\x00\x01\x7f\xff", 4));
    BOOST_TEST(read_back(u8).data == (std::vector<float>{0.f, 1.f, 127.f, 255.f}), boost::test_tools::per_element());
    ::onnx::TensorProto i64;
    i64.add_dims(2);
    i64.add_dims(2);
    i64.set_data_type(::onnx::TensorProto::INT64);
    std::string raw;
    for (std::int64_t v : {std::int64_t{-1}, std::int64_t{0}, std::int64_t{512}, std::int64_t{-16777216}})
        for (int b = 0; b < 8; ++b) raw.push_back(static_cast<char>((static_cast<std::uint64_t>(v) >> (8 * b)) & 0xff));
    i64.set_raw_data(raw);
    const auto r = read_back(i64);
    BOOST_TEST(r.shape == (std::vector<std::int64_t>{2, 2}), boost::test_tools::per_element());
    BOOST_TEST(r.data == (std::vector<float>{-1.f, 0.f, 512.f, -16777216.f}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(shipped_mini_xception_reads_as_written,
                     *boost::unit_test::precondition(onnx_test::shared_models_present())) {
    const auto file = onnx_test::mini_xception_file();
    const fn::graph g = fn::load_onnx(file);
    BOOST_TEST(g.source == file.string());
    BOOST_TEST(g.opset_version == 11);
    BOOST_REQUIRE_EQUAL(g.inputs.size(), 1u);
    BOOST_TEST(g.inputs[0].name == "input_1");
    BOOST_TEST(g.inputs[0].shape == (std::vector<std::int64_t>{1, 1, 64, 64}), boost::test_tools::per_element());
    BOOST_REQUIRE_EQUAL(g.outputs.size(), 1u);
    BOOST_TEST(g.outputs[0].name == "predictions");
    BOOST_TEST(g.initializers.size() == 80u);
    std::map<std::string, int> ops;
    for (const auto& n : g.nodes) ++ops[n.op_type];
    BOOST_TEST(ops["Conv"] == 23);
    BOOST_TEST(ops["BatchNormalization"] == 14);
    BOOST_TEST(ops["Add"] == 4);
    BOOST_TEST(g.nodes.size() == 54u);

    // Every initializer equals its raw_data read here independently (memcpy on this
    // little-endian machine) from the same file parsed by protobuf directly.
    ::onnx::ModelProto model;
    BOOST_REQUIRE(model.ParseFromString(onnx_test::read_bytes(file)));
    for (const auto& t : model.graph().initializer()) {
        const auto& got = g.initializers.at(t.name());
        BOOST_REQUIRE_EQUAL(got.data.size() * 4, t.raw_data().size());
        std::vector<float> want(got.data.size());
        std::memcpy(want.data(), t.raw_data().data(), t.raw_data().size());
        BOOST_TEST(got.data == want, boost::test_tools::per_element());
        BOOST_TEST(got.shape == std::vector<std::int64_t>(t.dims().begin(), t.dims().end()),
                   boost::test_tools::per_element());
    }
    BOOST_TEST(g.initializers.at("conv2d_1_W").shape == (std::vector<std::int64_t>{8, 1, 3, 3}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
