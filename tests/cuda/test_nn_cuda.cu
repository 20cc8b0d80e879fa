// The cuda backend of ferx::nn::session against seq (within 1e-4 relative): one-op graphs over
// the conv cases (general, grouped, depthwise, pointwise, dilated, asymmetric pads), pools,
// Gemm/MatMul, layout ops, and a mini-Xception-like network with folding, fusion, batches and
// kept values. Needs a GPU: skipped, with a message, where no CUDA device is present.
#include <ferx/nn/builder.hpp>
#include <ferx/nn/session.hpp>

#include <boost/test/unit_test.hpp>

#include "../nn/nn_test.hpp"
#include "cuda_test.hpp"

#include <random>
#include <string>
#include <vector>

namespace {

using namespace nn_test;
using ferx::nn::graph_builder;

void check_cuda(const ferx::nn::graph& g, const std::vector<dense_tensor>& inputs, const std::string& what,
                ferx::nn::session_options options = {}) {
    const dense_tensor want = run(ferx::exec::seq, g, inputs, options);
    ferx::cuda::stream stream;
    const dense_tensor got = run(stream.policy(), g, inputs, options);
    check_close(got, want, 1e-4, what + " (cuda vs seq)");
}

ferx::nn::graph conv_graph(std::mt19937& rng, std::int64_t c, std::int64_t h, std::int64_t w, std::int64_t m, std::int64_t k,
                           std::int64_t stride, std::int64_t dil, ints pads, std::int64_t group, bool relu) {
    graph_builder gb("conv");
    gb.input("x", {-1, c, h, w}).initializer("w", random_tensor({m, c / group, k, k}, rng)).initializer("b", random_tensor({m}, rng));
    gb.node("Conv", {"x", "w", "b"}, {"y"}, {{"strides", ints{stride, stride}}, {"dilations", ints{dil, dil}}, {"pads", pads}, {"group", group}});
    if (relu) gb.node("Relu", {"y"}, {"z"}).output("z");
    else gb.output("y");
    return gb.build();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(nn_cuda)

BOOST_AUTO_TEST_CASE(cuda_policy_without_a_device_raises, *boost::unit_test::precondition(ferx_test::gpu_absent())) {
    std::mt19937 rng(1);
    ferx::nn::session s(conv_graph(rng, 3, 8, 8, 4, 3, 1, 1, {1, 1, 1, 1}, 1, false));
    const dense_tensor x = random_tensor({1, 3, 8, 8}, rng);
    BOOST_CHECK_THROW(s.run(ferx::exec::cuda, {{x.data.data(), x.shape}}), ferx::error);
}

BOOST_AUTO_TEST_CASE(conv_equals_seq, *boost::unit_test::precondition(ferx_test::gpu_present())) {
    std::mt19937 rng(2);
    struct c_case { std::int64_t n, c, h, w, m, k, s, d; ints pads; std::int64_t g; bool relu; };
    const std::vector<c_case> cases = {
        {2, 1, 64, 64, 8, 3, 1, 1, {0, 0, 0, 0}, 1, true},  {3, 8, 31, 31, 8, 3, 1, 1, {1, 1, 1, 1}, 8, false},
        {3, 16, 31, 31, 32, 1, 1, 1, {0, 0, 0, 0}, 1, true}, {2, 16, 31, 31, 32, 1, 2, 1, {0, 0, 0, 0}, 1, false},
        {2, 6, 17, 13, 4, 3, 2, 1, {0, 2, 1, 0}, 2, true},   {1, 4, 20, 21, 6, 3, 1, 2, {2, 3, 1, 0}, 1, false},
        {2, 128, 4, 4, 7, 3, 1, 1, {1, 1, 1, 1}, 1, false}};
    for (const auto& k : cases) {
        const dense_tensor x = random_tensor({k.n, k.c, k.h, k.w}, rng);
        check_cuda(conv_graph(rng, k.c, k.h, k.w, k.m, k.k, k.s, k.d, k.pads, k.g, k.relu), {x},
                   "conv c" + std::to_string(k.c) + " m" + std::to_string(k.m) + " g" + std::to_string(k.g));
    }
}

BOOST_AUTO_TEST_CASE(other_ops_equal_seq, *boost::unit_test::precondition(ferx_test::gpu_present())) {
    std::mt19937 rng(3);
    const dense_tensor x = random_tensor({2, 3, 9, 10}, rng);
    const shape_t s = {-1, 3, 9, 10};
    auto one = [&](const std::string& op, std::map<std::string, ferx::nn::attribute> a = {}) {
        return graph_builder(op).input("x", s).node(op, {"x"}, {"y"}, a).output("y").build();
    };
    check_cuda(one("MaxPool", {{"kernel_shape", ints{3, 3}}, {"strides", ints{2, 2}}, {"pads", ints{0, 0, 1, 1}}}), {x}, "MaxPool");
    check_cuda(one("AveragePool", {{"kernel_shape", ints{3, 2}}, {"strides", ints{2, 2}}, {"pads", ints{1, 0, 1, 1}},
                                   {"ceil_mode", std::int64_t{1}}, {"count_include_pad", std::int64_t{1}}}), {x}, "AveragePool");
    check_cuda(one("GlobalAveragePool"), {x}, "GlobalAveragePool");
    for (const char* op : {"Relu", "Sigmoid", "Tanh", "LeakyRelu"}) check_cuda(one(op), {x}, op);
    check_cuda(one("Clip", {{"min", -0.3f}, {"max", 0.4f}}), {x}, "Clip");
    check_cuda(one("Softmax", {{"axis", std::int64_t{1}}}), {x}, "Softmax");
    check_cuda(one("Transpose", {{"perm", ints{0, 2, 3, 1}}}), {x}, "Transpose");
    check_cuda(one("Pad", {{"pads", ints{0, 1, 2, 0, 0, 0, 1, 3}}, {"mode", std::string("reflect")}}), {x}, "Pad reflect");
    check_cuda(graph_builder("add").input("x", s).initializer("b", random_tensor({3, 1, 10}, rng)).node("Mul", {"x", "b"}, {"y"}).output("y").build(),
               {x}, "Mul broadcast");
    check_cuda(graph_builder("cat").input("x", s).input("z", s).node("Concat", {"x", "z"}, {"y"}, {{"axis", std::int64_t{1}}}).output("y").build(),
               {x, random_tensor({2, 3, 9, 10}, rng)}, "Concat");
    const dense_tensor a = random_tensor({5, 7}, rng);
    for (int tb = 0; tb < 2; ++tb)
        check_cuda(graph_builder("gemm").input("a", {-1, 7}).initializer("b", random_tensor(tb ? shape_t{9, 7} : shape_t{7, 9}, rng))
                       .initializer("c", random_tensor({9}, rng))
                       .node("Gemm", {"a", "b", "c"}, {"y"}, {{"transB", std::int64_t{tb}}, {"alpha", 0.5f}, {"beta", 2.f}}).output("y").build(),
                   {a}, "Gemm transB " + std::to_string(tb));
    check_cuda(graph_builder("mm").input("x", s).initializer("b", random_tensor({10, 4}, rng)).node("MatMul", {"x", "b"}, {"y"}).output("y").build(),
               {x}, "MatMul");
    const auto bn = graph_builder("bn").input("x", s).initializer("g", random_tensor({3}, rng)).initializer("b", random_tensor({3}, rng))
                        .initializer("m", random_tensor({3}, rng)).initializer("v", random_tensor({3}, rng, 0.5f, 1.5f))
                        .node("BatchNormalization", {"x", "g", "b", "m", "v"}, {"y"}).node("Relu", {"y"}, {"r"}).output("r").build();
    check_cuda(bn, {x}, "BatchNormalization + Relu (affine)");
}

BOOST_AUTO_TEST_CASE(network_batches_and_kept_values, *boost::unit_test::precondition(ferx_test::gpu_present())) {
    std::mt19937 rng(4);
    graph_builder gb("net");
    gb.input("x", {1, 1, 24, 24}).initializer("w1", random_tensor({8, 1, 3, 3}, rng)).initializer("dw", random_tensor({8, 1, 3, 3}, rng))
        .initializer("pw", random_tensor({16, 8, 1, 1}, rng)).initializer("fc", random_tensor({16, 7}, rng))
        .initializer("g", random_tensor({16}, rng)).initializer("b", random_tensor({16}, rng)).initializer("m", random_tensor({16}, rng))
        .initializer("v", random_tensor({16}, rng, 0.5f, 1.5f));
    gb.node("Conv", {"x", "w1"}, {"c1"}).node("Relu", {"c1"}, {"r1"})
        .node("Conv", {"r1", "dw"}, {"d1"}, {{"group", std::int64_t{8}}, {"pads", ints{1, 1, 1, 1}}})
        .node("Conv", {"d1", "pw"}, {"p1"}).node("BatchNormalization", {"p1", "g", "b", "m", "v"}, {"b1"})
        .node("MaxPool", {"b1"}, {"m1"}, {{"kernel_shape", ints{3, 3}}, {"strides", ints{2, 2}}, {"pads", ints{1, 1, 1, 1}}})
        .node("GlobalAveragePool", {"m1"}, {"gap"}).node("Flatten", {"gap"}, {"f"}).node("MatMul", {"f", "fc"}, {"l"})
        .node("Softmax", {"l"}, {"y"}, {{"axis", std::int64_t{1}}}).output("y");
    const auto g = gb.build();
    ferx::nn::session gpu(g, {true, true, {"gap"}}), cpu(g, {true, true, {"gap"}});
    ferx::cuda::stream stream;
    for (std::int64_t batch : {1, 33, 5}) {
        const dense_tensor x = random_tensor({batch, 1, 24, 24}, rng);
        const auto out = gpu.run(stream.policy(), {{x.data.data(), x.shape}});
        const dense_tensor got{out[0].shape, std::vector<float>(out[0].data, out[0].data + out[0].element_count())};
        const auto ref = cpu.run(ferx::exec::seq, {{x.data.data(), x.shape}});
        check_close(got, {ref[0].shape, std::vector<float>(ref[0].data, ref[0].data + ref[0].element_count())}, 1e-4,
                    "net batch " + std::to_string(batch));
        const auto gg = gpu.value("gap"), gc = cpu.value("gap");
        check_close({gg.shape, std::vector<float>(gg.data, gg.data + gg.element_count())},
                    {gc.shape, std::vector<float>(gc.data, gc.data + gc.element_count())}, 1e-4, "gap batch " + std::to_string(batch));
    }
}

BOOST_AUTO_TEST_SUITE_END()
