// Shape computations around Reshape (ferx/nn/shape_ops.hpp) at batch sizes other than the one a
// graph declares: PyTorch's Shape -> Gather -> Unsqueeze -> Concat -> Reshape flatten, a Reshape
// target with the traced batch hard-coded, Squeeze after a global pool. One session runs several
// batch sizes (each a new plan) and every output equals the ONNX definition computed here in
// double. Then the bad inputs: each a ferx::error naming the node.
#include "onnx_test.hpp"

#include <ferx/core/execution.hpp>
#include <ferx/nn/session.hpp>

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace fn = ferx::nn;
using onnx_test::attr_i;
using onnx_test::attr_ints;
using onnx_test::expect_error;
using onnx_test::model_builder;
using onnx_test::random_values;

namespace {

constexpr std::int64_t features = 60;  // 3 x 4 x 5 per sample
constexpr std::int64_t classes = 7;

fn::session compile(const model_builder& m, const std::string& name = "shape.onnx") {
    return fn::session(fn::parse_onnx(m.bytes(), name));
}

/// y = flatten(x) * W^T, per sample (the head every model below ends with), in double.
std::vector<float> linear_head(const std::vector<float>& x, std::int64_t batch, const std::vector<float>& w) {
    std::vector<float> y(static_cast<std::size_t>(batch * classes));
    for (std::int64_t b = 0; b < batch; ++b)
        for (std::int64_t j = 0; j < classes; ++j) {
            double acc = 0;
            for (std::int64_t k = 0; k < features; ++k) acc += double(x[b * features + k]) * w[j * features + k];
            y[b * classes + j] = static_cast<float>(acc);
        }
    return y;
}

/// Runs `s` at each batch size (one session, re-planned each time) on exec::seq and exec::par,
/// and compares with linear_head: shape {batch, classes}, max |diff| <= 1e-5 * max(1, max |want|).
void check_batches(fn::session& s, const std::vector<float>& w, const std::vector<std::int64_t>& batches) {
    for (std::int64_t batch : batches) {
        const auto x = random_values(static_cast<std::size_t>(batch * features), 300 + static_cast<std::uint32_t>(batch));
        const auto want = linear_head(x, batch, w);
        for (int p = 0; p < 2; ++p) {
            const auto out = p == 0 ? s.run(ferx::exec::seq, {{x.data(), {batch, 3, 4, 5}}})
                                    : s.run(ferx::exec::par, {{x.data(), {batch, 3, 4, 5}}});
            BOOST_TEST_INFO("batch " << batch << (p == 0 ? " seq" : " par"));
            BOOST_REQUIRE_EQUAL(out.size(), 1u);
            BOOST_TEST(out[0].shape == (fn::shape_t{batch, classes}), boost::test_tools::per_element());
            BOOST_REQUIRE_EQUAL(out[0].element_count(), batch * classes);
            double diff = 0, scale = 1;
            for (std::size_t i = 0; i < want.size(); ++i) {
                diff = std::max(diff, double(std::fabs(out[0].data[i] - want[i])));
                scale = std::max(scale, double(std::fabs(want[i])));
            }
            BOOST_TEST(diff / scale <= 1e-5);
        }
    }
}

/// x [declared_batch, 3, 4, 5] -> (a flatten built by `flatten`, writing "flat") -> Gemm with W [7, 60].
template <class Flatten>
model_builder head_model(std::int64_t declared_batch, const std::vector<float>& w, Flatten flatten, int opset = 13) {
    model_builder m(opset, "head");
    m.input("x", {declared_batch, 3, 4, 5});
    m.output("y");
    m.initializer("w", {classes, features}, w);
    flatten(m);
    attr_i(m.node("Gemm", {"flat", "w"}, {"y"}, "fc"), "transB", 1);
    return m;
}

void pytorch_view_flatten(model_builder& m) { onnx_test::pytorch_view_flatten(m, "x", "flat"); }

}  // namespace

BOOST_AUTO_TEST_SUITE(onnx_shape_folding)

BOOST_AUTO_TEST_CASE(pytorch_flatten_runs_every_batch_size) {
    const auto w = random_values(classes * features, 61);
    for (std::int64_t declared : {std::int64_t{-1}, std::int64_t{1}}) {
        BOOST_TEST_INFO("declared batch " << declared);
        auto s = compile(head_model(declared, w, pytorch_view_flatten));
        // Shape, Gather, Unsqueeze and Concat are evaluated while planning: only Reshape and Gemm run.
        BOOST_TEST(s.step_count() == 2u);
        check_batches(s, w, {1, 3, 8, 1, 2});
        BOOST_TEST(s.shape_of("flat") == (fn::shape_t{2, features}), boost::test_tools::per_element());
    }
}

BOOST_AUTO_TEST_CASE(hardcoded_batch_reshape_keeps_the_batch) {
    const auto w = random_values(classes * features, 62);
    // Exported for batch 1: [1, -1]; for batch 4: [4, 60]; with 0 (copy) on axis 0 it is not hard-coded.
    struct variant { std::int64_t declared; std::vector<std::int64_t> target; };
    for (const auto& v : {variant{1, {1, -1}}, variant{1, {1, features}}, variant{4, {4, features}}, variant{-1, {1, -1}},
                          variant{-1, {0, -1}}}) {
        BOOST_TEST_INFO("declared batch " << v.declared << ", target " << fn::shape_string(v.target));
        auto m = head_model(v.declared, w, [&](model_builder& b) {
            b.int64_initializer("target", {2}, v.target);
            b.node("Reshape", {"x", "target"}, {"flat"}, "reshape");
        });
        auto s = compile(m);
        check_batches(s, w, {v.declared > 0 ? v.declared : 1, 3, 1, 5});
    }
}

BOOST_AUTO_TEST_CASE(hardcoded_reshape_of_a_non_batch_axis_follows_onnx) {
    // Transpose moves the batch off axis 0: Reshape [1, -1] then merges everything, as ONNX says.
    model_builder m(13, "transposed");
    m.input("x", {1, 3, 4, 5});
    m.output("y");
    attr_ints(m.node("Transpose", {"x"}, {"t"}, "transpose"), "perm", {1, 0, 2, 3});
    m.int64_initializer("target", {2}, {1, -1});
    m.node("Reshape", {"t", "target"}, {"y"}, "reshape");
    auto s = compile(m);
    const auto x = random_values(2 * features, 71);
    const auto out = s.run(ferx::exec::seq, {{x.data(), {2, 3, 4, 5}}});
    BOOST_TEST(out[0].shape == (fn::shape_t{1, 2 * features}), boost::test_tools::per_element());
    // the transpose of x, flattened
    for (std::int64_t c = 0; c < 3; ++c)
        for (std::int64_t b = 0; b < 2; ++b)
            for (std::int64_t k = 0; k < 20; ++k)
                BOOST_TEST(out[0].data[(c * 2 + b) * 20 + k] == x[static_cast<std::size_t>((b * 3 + c) * 20 + k)]);
}

BOOST_AUTO_TEST_CASE(squeeze_after_global_pool_runs_every_batch_size) {
    // A global pool then squeeze (adaptive_avg_pool2d(x, 1).squeeze(-1).squeeze(-1)): GlobalAveragePool -> Squeeze.
    for (int opset : {11, 13}) {
        model_builder m(opset, "gap_squeeze");
        m.input("x", {1, 3, 4, 5});
        m.output("y");
        m.node("GlobalAveragePool", {"x"}, {"g"}, "gap");
        auto* sq = m.node("Squeeze", {"g"}, {"y"}, "squeeze");
        if (opset < 13) {
            attr_ints(sq, "axes", {2, 3});
        } else {
            m.int64_initializer("axes", {2}, {-1, 2});
            sq->add_input("axes");
        }
        auto s = compile(m);
        for (std::int64_t batch : {1, 6}) {
            const auto x = random_values(static_cast<std::size_t>(batch * features), 80 + static_cast<std::uint32_t>(batch));
            const auto out = s.run(ferx::exec::par, {{x.data(), {batch, 3, 4, 5}}});
            BOOST_TEST_INFO("opset " << opset << ", batch " << batch);
            BOOST_TEST(out[0].shape == (fn::shape_t{batch, 3}), boost::test_tools::per_element());
            for (std::int64_t i = 0; i < batch * 3; ++i) {
                double sum = 0;
                for (std::int64_t k = 0; k < 20; ++k) sum += x[static_cast<std::size_t>(i * 20 + k)];
                BOOST_TEST(std::fabs(out[0].data[i] - sum / 20) <= 1e-5);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(bad_shape_computations_name_the_node) {
    auto graph_with = [](std::int64_t batch, auto&& build) {
        model_builder m(13, "bad");
        m.input("x", {batch, 3, 4, 5});
        m.output("y");
        build(m);
        return m;
    };
    // Gather index out of range, on a shape computed at plan time and on a constant.
    expect_error([&] {
        compile(graph_with(2, [](model_builder& m) {
            m.int64_initializer("seven", {}, {7});
            m.node("Shape", {"x"}, {"s"}, "shape");
            m.node("Gather", {"s", "seven"}, {"n"}, "gather_extent");
            m.int64_initializer("axes0", {1}, {0});
            m.node("Unsqueeze", {"n", "axes0"}, {"t"}, "unsqueeze");
            m.node("Reshape", {"x", "t"}, {"y"}, "reshape");
        }), "bad_gather.onnx");
    }, {"node 'gather_extent' (Gather)", "index 7 is out of range", "bad_gather.onnx"});
    expect_error([&] {
        compile(graph_with(2, [](model_builder& m) {
            m.initializer("table", {3, 2}, random_values(6, 1));
            m.int64_initializer("idx", {1}, {-4});
            m.node("Gather", {"table", "idx"}, {"row"}, "gather_table");
            m.node("Add", {"x", "row"}, {"y"}, "add");
        }));
    }, {"node 'gather_table' (Gather)", "index -4 is out of range"});
    // A target from Shape that does not fit the element count; with a dynamic batch the error
    // comes from the run (construction infers shapes at a guessed batch 1 and defers it).
    auto incompatible = [&](std::int64_t batch) {
        return graph_with(batch, [](model_builder& m) {
            m.int64_initializer("first", {1}, {0});
            m.int64_initializer("seven", {1}, {7});
            m.node("Shape", {"x"}, {"s"}, "shape");
            m.node("Gather", {"s", "first"}, {"n"}, "gather");
            attr_i(m.node("Concat", {"n", "seven"}, {"t"}, "concat"), "axis", 0);
            m.node("Reshape", {"x", "t"}, {"y"}, "reshape_to_7");
        });
    };
    expect_error([&] { compile(incompatible(2)); }, {"node 'reshape_to_7' (Reshape)", "cannot reshape [2, 3, 4, 5]"});
    expect_error([&] {
        auto s = compile(incompatible(-1));
        const auto x = random_values(3 * features, 2);
        s.run(ferx::exec::seq, {{x.data(), {3, 3, 4, 5}}});
    }, {"node 'reshape_to_7' (Reshape)", "cannot reshape [3, 3, 4, 5]"});
    // Gather runs on live data (ferx/nn/ops/slice.hpp) but its indices must be constants.
    expect_error([&] {
        compile(graph_with(2, [](model_builder& m) {
            attr_i(m.node("Gather", {"x", "x"}, {"y"}, "gather_data"), "axis", 1);
        }));
    }, {"node 'gather_data' (Gather)", "runtime tensor with indices", "not a constant"});
    expect_error([&] {
        compile(graph_with(2, [](model_builder& m) {
            attr_i(m.node("Cast", {"x"}, {"y"}, "cast_int"), "to", ::onnx::TensorProto::INT64);
        }));
    }, {"node 'cast_int' (Cast)", "float32"});
    // Reshape's shape from a float tensor the network computes.
    expect_error([&] {
        compile(graph_with(2, [](model_builder& m) {
            m.node("Relu", {"x"}, {"r"}, "relu");
            m.node("Reshape", {"x", "r"}, {"y"}, "reshape_by_data");
        }));
    }, {"node 'reshape_by_data' (Reshape)", "runtime tensor"});
    // A shape value used as data, or as the graph's output.
    expect_error([&] {
        compile(graph_with(2, [](model_builder& m) {
            m.node("Shape", {"x"}, {"s"}, "shape");
            m.node("Add", {"x", "s"}, {"y"}, "add_shape");
        }));
    }, {"node 'add_shape' (Add)", "mixes a runtime tensor"});
    expect_error([&] {
        compile(graph_with(2, [](model_builder& m) {
            m.node("Shape", {"x"}, {"s"}, "shape");
            m.node("Relu", {"s"}, {"y"}, "relu_shape");
        }));
    }, {"node 'relu_shape' (Relu)", "computed from tensor shapes"});
    expect_error([&] {
        compile(graph_with(2, [](model_builder& m) { m.node("Shape", {"x"}, {"y"}, "shape"); }));
    }, {"graph output 'y'", "computed from tensor shapes only"});
    // Squeeze of an axis whose extent is not 1; Slice with step 0; ConstantOfShape too large.
    expect_error([&] {
        compile(graph_with(2, [](model_builder& m) {
            m.int64_initializer("axes", {1}, {1});
            m.node("Squeeze", {"x", "axes"}, {"y"}, "squeeze_3");
        }));
    }, {"node 'squeeze_3' (Squeeze)", "extent is not 1"});
    expect_error([&] {
        compile(graph_with(2, [](model_builder& m) {
            for (const char* n : {"starts", "axes"}) m.int64_initializer(n, {1}, {0});
            m.int64_initializer("ends", {1}, {2});
            m.int64_initializer("steps", {1}, {0});
            m.node("Shape", {"x"}, {"s"}, "shape");
            m.node("Slice", {"s", "starts", "ends", "axes", "steps"}, {"t"}, "slice_step0");
            m.node("Reshape", {"x", "t"}, {"y"}, "reshape");
        }));
    }, {"node 'slice_step0' (Slice)", "step is 0"});
    expect_error([&] {
        compile(graph_with(2, [](model_builder& m) {
            m.int64_initializer("huge", {2}, {1 << 20, 1 << 20});
            m.node("ConstantOfShape", {"huge"}, {"c"}, "fill");
            m.node("Shape", {"c"}, {"t"}, "shape");
            m.node("Reshape", {"x", "t"}, {"y"}, "reshape");
        }));
    }, {"node 'fill' (ConstantOfShape)", "more than"});
    // Integer division by zero in a shape computation.
    expect_error([&] {
        compile(graph_with(2, [](model_builder& m) {
            m.int64_initializer("zero", {1}, {0});
            m.node("Shape", {"x"}, {"s"}, "shape");
            m.node("Div", {"s", "zero"}, {"t"}, "div_zero");
            m.node("Reshape", {"x", "t"}, {"y"}, "reshape");
        }));
    }, {"node 'div_zero' (Div)", "division by zero"});
}

// Mutated bytes of a model with both flatten subgraphs (PyTorch's, tf2onnx's Cast / Slice one):
// each either compiles and runs at batches 1 and 3, or is refused with ferx::error.
BOOST_AUTO_TEST_CASE(fuzz_mutated_shape_computations) {
    const auto w = random_values(classes * features, 63);
    auto m = head_model(-1, w, [](model_builder& b) {
        onnx_test::pytorch_view_flatten(b, "x", "flat1");
        onnx_test::tf2onnx_flatten(b, "flat1", "flat", -1, "_2");
    });
    const std::string original = m.bytes();
    auto s0 = compile(m);  // the unmutated model is right
    check_batches(s0, w, {1, 3});
    std::mt19937 rng(91);
    int ran = 0, refused = 0;
    const auto x = random_values(3 * features, 92);
    for (int r = 0; r < 3000; ++r) {
        try {
            fn::session s(fn::parse_onnx(onnx_test::flip_bits(original, rng, 3), "fuzz.onnx"));
            for (std::int64_t batch : {1, 3}) s.run(ferx::exec::seq, {{x.data(), {batch, 3, 4, 5}}});
            ++ran;
        } catch (const ferx::error&) {
            ++refused;
        }
    }
    BOOST_TEST_MESSAGE("fuzz of shape computations: " << ran << " ran at batches 1 and 3, " << refused << " refused");
    BOOST_TEST(ran > 0);
    BOOST_TEST(refused > 0);
}

BOOST_AUTO_TEST_SUITE_END()
