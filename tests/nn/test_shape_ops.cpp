// ferx/nn/shape_ops.hpp: the shape computations the session folds, on the examples of the ONNX
// operator specification (Gather, Slice, Unsqueeze, Squeeze, Reshape, Cast, Concat, integer Div),
// and a graph with PyTorch's flatten subgraph built with graph_builder (no ONNX component needed),
// run through a session at several batch sizes on seq and par.
#include <ferx/nn/builder.hpp>
#include <ferx/nn/session.hpp>
#include <ferx/nn/shape_ops.hpp>

#include <boost/test/unit_test.hpp>

#include "nn_test.hpp"

#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace fd = ferx::nn::detail;
using ferx::nn::shape_t;
using nn_test::ints;

namespace {

const fd::fold_context ctx{"test", "node 'n' (Op)", ""};

fd::folded_tensor tensor(shape_t shape, std::vector<double> data, bool integer = false) {
    return {std::move(shape), std::move(data), integer};
}

void check_folded(const fd::folded_tensor& got, const shape_t& shape, const std::vector<double>& data) {
    BOOST_TEST(got.shape == shape, boost::test_tools::per_element());
    BOOST_TEST(got.data == data, boost::test_tools::per_element());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(nn_shape_ops)

BOOST_AUTO_TEST_CASE(gather_follows_the_onnx_examples) {
    // Gather, axis 0: data 3x2, indices [[0, 1], [1, 2]] -> 2x2x2.
    const auto d0 = tensor({3, 2}, {1.0, 1.2, 2.3, 3.4, 4.5, 5.7});
    check_folded(fd::fold_gather(d0, tensor({2, 2}, {0, 1, 1, 2}), 0, ctx), {2, 2, 2}, {1.0, 1.2, 2.3, 3.4, 2.3, 3.4, 4.5, 5.7});
    // Gather, axis 1: data 3x3, indices [[0, 2]] -> 3x1x2.
    const auto d1 = tensor({3, 3}, {1.0, 1.2, 1.9, 2.3, 3.4, 3.9, 4.5, 5.7, 5.9});
    check_folded(fd::fold_gather(d1, tensor({1, 2}, {0, 2}), 1, ctx), {3, 1, 2}, {1.0, 1.9, 2.3, 3.9, 4.5, 5.9});
    // A scalar negative index removes the axis; out of range is an error.
    check_folded(fd::fold_gather(tensor({4}, {2, 3, 4, 5}, true), tensor({}, {-1}), 0, ctx), {}, {5});
    BOOST_CHECK_THROW(fd::fold_gather(d0, tensor({1}, {3}), 0, ctx), ferx::error);
    BOOST_CHECK_THROW(fd::fold_gather(d0, tensor({1}, {0}), 2, ctx), ferx::error);
    BOOST_CHECK_THROW(fd::fold_gather(d0, tensor({1}, {0.5}), 0, ctx), ferx::error);
}

BOOST_AUTO_TEST_CASE(slice_follows_the_onnx_examples) {
    const auto x = tensor({2, 4}, {1, 2, 3, 4, 5, 6, 7, 8});
    // starts [1, 0], ends [2, 3], axes [0, 1], steps [1, 2] -> [[5, 7]]
    check_folded(fd::fold_slice(x, {1, 0}, {2, 3}, {0, 1}, {1, 2}, ctx), {1, 2}, {5, 7});
    // starts [0, 1], ends [-1, 1000] -> [[2, 3, 4]]
    check_folded(fd::fold_slice(x, {0, 1}, {-1, 1000}, {}, {}, ctx), {1, 3}, {2, 3, 4});
    // Negative steps, as NumPy's x[8:2:-3] and x[::-1] of 1..10.
    const auto v = tensor({10}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
    check_folded(fd::fold_slice(v, {8}, {2}, {0}, {-3}, ctx), {2}, {9, 6});
    check_folded(fd::fold_slice(v, {-1}, {std::numeric_limits<std::int64_t>::min()}, {0}, {-1}, ctx), {10},
                 {10, 9, 8, 7, 6, 5, 4, 3, 2, 1});
    // An empty range, and a step of 0.
    check_folded(fd::fold_slice(v, {5}, {2}, {0}, {1}, ctx), {0}, {});
    BOOST_CHECK_THROW(fd::fold_slice(v, {0}, {2}, {0}, {0}, ctx), ferx::error);
}

BOOST_AUTO_TEST_CASE(unsqueeze_squeeze_reshape_shapes) {
    // ONNX's unsqueeze_negative_axes: (1, 3, 1, 5), axes [-2] -> (1, 3, 1, 1, 5).
    BOOST_TEST(fd::unsqueeze_shape({1, 3, 1, 5}, {-2}, ctx) == (shape_t{1, 3, 1, 1, 5}), boost::test_tools::per_element());
    BOOST_TEST(fd::unsqueeze_shape({3, 4, 5}, {0, 4}, ctx) == (shape_t{1, 3, 4, 5, 1}), boost::test_tools::per_element());
    BOOST_CHECK_THROW(fd::unsqueeze_shape({3}, {0, 0}, ctx), ferx::error);
    BOOST_TEST(fd::squeeze_shape({1, 3, 1, 5}, {}, true, ctx) == (shape_t{3, 5}), boost::test_tools::per_element());
    BOOST_TEST(fd::squeeze_shape({1, 3, 1, 5}, {-2}, false, ctx) == (shape_t{1, 3, 5}), boost::test_tools::per_element());
    BOOST_CHECK_THROW(fd::squeeze_shape({1, 3}, {1}, false, ctx), ferx::error);
    // Reshape: 0 copies, -1 infers; incompatible counts and two -1 are errors.
    BOOST_TEST(fd::reshape_shape({2, 3, 4}, {0, -1}, ctx) == (shape_t{2, 12}), boost::test_tools::per_element());
    BOOST_TEST(fd::reshape_shape({2, 3, 4}, {4, 0, 2}, ctx) == (shape_t{4, 3, 2}), boost::test_tools::per_element());
    BOOST_CHECK_THROW(fd::reshape_shape({2, 3, 4}, {5, -1}, ctx), ferx::error);
    BOOST_CHECK_THROW(fd::reshape_shape({2, 3, 4}, {-1, -1}, ctx), ferx::error);
    BOOST_CHECK_THROW(fd::reshape_shape({2, 3, 4}, {7, 4}, ctx), ferx::error);
}

BOOST_AUTO_TEST_CASE(concat_cast_and_integer_arithmetic) {
    const auto s = fd::fold_shape({5, 3, 4}, 0, std::numeric_limits<std::int64_t>::max());
    check_folded(s, {3}, {5, 3, 4});
    BOOST_TEST(s.integer);
    check_folded(fd::fold_shape({5, 3, 4}, -2, 100), {2}, {3, 4});  // opset 15 start / end
    // Concat of 1-D shape vectors, and of 2-D tensors along axis 1.
    const auto minus_one = tensor({1}, {-1});
    check_folded(fd::fold_concat({&s, &minus_one}, 0, ctx), {4}, {5, 3, 4, -1});
    const auto a = tensor({2, 1}, {1, 2}), b = tensor({2, 2}, {3, 4, 5, 6});
    check_folded(fd::fold_concat({&a, &b}, -1, ctx), {2, 3}, {1, 3, 4, 2, 5, 6});
    BOOST_CHECK_THROW(fd::fold_concat({&a, &s}, 0, ctx), ferx::error);
    // Cast to an integer type truncates toward zero and checks the range; to FLOAT rounds to float32.
    check_folded(fd::fold_cast(tensor({3}, {2.7, -2.7, 0.5}), 7, ctx), {3}, {2, -2, 0});
    BOOST_CHECK_THROW(fd::fold_cast(tensor({1}, {300}), 2, ctx), ferx::error);
    check_folded(fd::fold_cast(tensor({1}, {0.1}), 1, ctx), {1}, {double(0.1f)});
    // Div truncates where an operand is known to be an integer (a Shape), not between constants.
    const auto seven = tensor({1}, {7}, true), minus_seven = tensor({1}, {-7}, true), two = tensor({}, {2});
    check_folded(fd::fold_binary(seven, two, '/', ctx), {1}, {3});
    check_folded(fd::fold_binary(minus_seven, two, '/', ctx), {1}, {-3});
    check_folded(fd::fold_binary(tensor({1}, {7}), two, '/', ctx), {1}, {3.5});
    check_folded(fd::fold_binary(s, tensor({3, 1}, {1, 2, 3}), '*', ctx), {3, 3}, {5, 3, 4, 10, 6, 8, 15, 9, 12});
    BOOST_CHECK_THROW(fd::fold_binary(seven, tensor({1}, {0}), '/', ctx), ferx::error);
    // ConstantOfShape refuses a result beyond the folding limit.
    check_folded(fd::fold_constant_of_shape(tensor({2}, {2, 1}), -1, false, ctx), {2, 1}, {-1, -1});
    BOOST_CHECK_THROW(fd::fold_constant_of_shape(tensor({2}, {1 << 20, 1 << 20}), 0, false, ctx), ferx::error);
}

BOOST_AUTO_TEST_CASE(pytorch_flatten_graph_runs_every_batch_size) {
    // x [N, 2, 3, 4] -> Shape -> Gather(0) -> Unsqueeze -> Concat([-1]) -> Reshape -> Gemm(W [5, 24]).
    std::mt19937 rng(5);
    const auto w = nn_test::random_tensor({5, 24}, rng);
    const auto g = ferx::nn::graph_builder("flatten")
                       .input("x", {-1, 2, 3, 4})
                       .initializer("zero", {{}, {0.f}})
                       .initializer("axes", {{1}, {0.f}})
                       .initializer("rest", {{1}, {-1.f}})
                       .initializer("w", w)
                       .node("Shape", {"x"}, {"s"})
                       .node("Gather", {"s", "zero"}, {"n"}, {{"axis", std::int64_t{0}}})
                       .node("Unsqueeze", {"n", "axes"}, {"n1"})
                       .node("Concat", {"n1", "rest"}, {"t"}, {{"axis", std::int64_t{0}}})
                       .node("Reshape", {"x", "t"}, {"f"})
                       .node("Gemm", {"f", "w"}, {"y"}, {{"transB", std::int64_t{1}}})
                       .output("y")
                       .build();
    for (std::int64_t batch : {1, 4, 2}) {
        const auto x = nn_test::random_tensor({batch, 2, 3, 4}, rng);
        ferx::nn::dense_tensor want{{batch, 5}, std::vector<float>(static_cast<std::size_t>(batch * 5))};
        for (std::int64_t b = 0; b < batch; ++b)
            for (std::int64_t j = 0; j < 5; ++j) {
                double acc = 0;
                for (std::int64_t k = 0; k < 24; ++k) acc += double(x.data[b * 24 + k]) * w.data[j * 24 + k];
                want.data[b * 5 + j] = static_cast<float>(acc);
            }
        nn_test::check_op(g, {x}, want, "flatten head at batch " + std::to_string(batch));
    }
}

BOOST_AUTO_TEST_SUITE_END()
