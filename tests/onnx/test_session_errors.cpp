// Bad input through the whole path (importer + session): an op the session does not run, inputs
// of the wrong shape or number, and mutated models that parse: each a ferx::error, never a crash.
#include "onnx_test.hpp"

#include <ferx/core/execution.hpp>
#include <ferx/nn/session.hpp>

#include <boost/test/unit_test.hpp>

#include <random>
#include <string>
#include <vector>

namespace fn = ferx::nn;
using onnx_test::expect_error;
using onnx_test::model_builder;

BOOST_AUTO_TEST_SUITE(onnx_session_errors)

BOOST_AUTO_TEST_CASE(unsupported_op_names_op_and_node) {
    model_builder m;
    m.input("x", {1, 3, 8, 8});
    m.output("y");
    m.node("Relu", {"x"}, {"r"}, "relu1");
    auto* lrn = m.node("LRN", {"r"}, {"y"}, "local_norm_7");
    onnx_test::attr_i(lrn, "size", 3);
    const fn::graph g = fn::parse_onnx(m.bytes(), "lrn.onnx");  // the importer translates it
    expect_error([&] { fn::session s(g); }, {"LRN", "local_norm_7", "lrn.onnx"});
}

BOOST_AUTO_TEST_CASE(wrong_input_shape_and_count) {
    fn::session s(fn::parse_onnx(onnx_test::small_cnn().bytes(), "small_cnn.onnx"));
    std::vector<float> px(2 * 3 * 17 * 16, 0.5f);
    // 17 rows, 4 channels, rank 3: each names the input, the shape given and the file.
    expect_error([&] { s.run(ferx::exec::seq, {{px.data(), {2, 3, 17, 16}}}); },
                 {"input 'x'", "[2, 3, 17, 16]", "small_cnn.onnx"});
    expect_error([&] { s.run(ferx::exec::seq, {{px.data(), {2, 4, 16, 16}}}); }, {"input 'x'", "[2, 4, 16, 16]"});
    expect_error([&] { s.run(ferx::exec::seq, {{px.data(), {2, 3, 16}}}); }, {"input 'x'", "[2, 3, 16]"});
    expect_error([&] { s.run(ferx::exec::seq, {}); }, {"takes 1 inputs, 0 were given"});
    // The same session still runs a correct batch afterwards, and the softmax rows sum to 1.
    const auto out = s.run(ferx::exec::seq, {{px.data(), {2, 3, 16, 16}}});
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(out[0].shape == (fn::shape_t{2, 5}), boost::test_tools::per_element());
    for (int i = 0; i < 2; ++i) {
        float sum = 0;
        for (int k = 0; k < 5; ++k) sum += out[0].data[i * 5 + k];
        BOOST_TEST(sum == 1.f, boost::test_tools::tolerance(1e-5f));
    }
}

BOOST_AUTO_TEST_CASE(shipped_model_wrong_input_size, *boost::unit_test::precondition(onnx_test::shared_models_present())) {
    fn::session s(fn::load_onnx(onnx_test::mini_xception_file()));
    std::vector<float> px(48 * 48, 0.f);  // a 48x48 crop given to the 64x64 network
    expect_error([&] { s.run(ferx::exec::seq, {{px.data(), {1, 1, 48, 48}}}); },
                 {"input 'input_1'", "[1, 1, 48, 48]", "fer2013_mini_XCEPTION.102-0.66.onnx"});
}

// Mutated models that still parse must compile into a session or be refused with ferx::error.
BOOST_AUTO_TEST_CASE(fuzz_mutated_models_through_the_session) {
    const std::string original = onnx_test::small_cnn().bytes();
    std::mt19937 rng(77);
    int compiled = 0, refused = 0;
    for (int r = 0; r < 4000; ++r) {
        try {
            fn::session s(fn::parse_onnx(onnx_test::flip_bits(original, rng, 4), "fuzz.onnx"));
            ++compiled;
        } catch (const ferx::error&) {
            ++refused;
        }
    }
    BOOST_TEST_MESSAGE("fuzz through the session: " << compiled << " compiled, " << refused << " refused");
    BOOST_TEST(compiled > 0);
    BOOST_TEST(refused > 0);
}

BOOST_AUTO_TEST_SUITE_END()
