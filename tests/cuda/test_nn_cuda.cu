// The cuda backend of ferx::nn::session against seq: float32 within 1e-4 and the fp16 option
// (session_options::precision) within 1e-2 of the output range (check_close: max |diff| <=
// tol * max(1, max |seq|)), on one-op graphs over the conv cases (general, grouped, depthwise,
// pointwise, dilated, asymmetric pads), pools, Gemm/MatMul, layout ops, a small network with
// folding, fusion, batches and kept values, and the mini- and big-Xception architectures with
// random weights, the recurrent layers (LSTM, GRU, RNN; float32) and the host fallback of the other extension ops. Where test_cuda links ferx::onnx (FERX_TEST_HAS_ONNX), also the shipped
// mini/big-Xception files on FER2013 test images (../shared): fp16 scores within 1e-2 of seq and
// the predicted class the same on at least 98% of the images. Needs a GPU: skipped, with a
// message, where no CUDA device is present; the no-device errors are checked where none is, and
// the refusal of a cuda_blas_policy without a cuBLAS handle everywhere.
#include <ferx/nn/builder.hpp>
#include <ferx/nn/session.hpp>

#include <boost/test/unit_test.hpp>

#include "../nn/nn_test.hpp"
#include "cuda_test.hpp"

#if defined(FERX_TEST_HAS_ONNX)
#include <ferx/data/fer2013.hpp>
#include <ferx/nn/onnx.hpp>

#include "../onnx/onnx_test.hpp"
#endif

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace nn_test;
using ferx::nn::graph_builder;

/// The fp16 option's documented tolerance (docs/nn.md), relative to max(1, max |seq output|).
constexpr double fp16_tolerance = 1e-2;

ferx::nn::session_options fp16(ferx::nn::session_options o = {}) {
    o.precision = ferx::nn::precision::fp16;
    return o;
}

/// cuda equals seq within 1e-4 in float32 and within fp16_tolerance with the fp16 option.
void check_cuda(const ferx::nn::graph& g, const std::vector<dense_tensor>& inputs, const std::string& what,
                ferx::nn::session_options options = {}) {
    const dense_tensor want = run(ferx::exec::seq, g, inputs, options);
    ferx::cuda::stream stream;
    check_close(run(stream.policy(), g, inputs, options), want, 1e-4, what + " (cuda vs seq)");
    check_close(run(stream.policy(), g, inputs, fp16(options)), want, fp16_tolerance, what + " (cuda fp16 vs seq)");
}

/// The architectures of ../shared's mini_XCEPTION (stem 8, 8; modules 16, 32, 64, 128) and
/// big_XCEPTION (stem 32 with stride 2, 64; modules 128, 256) on 1x64x64 inputs, with random
/// weights of variance 1 / fan-in and random BatchNormalization statistics: stem convs + BN +
/// Relu; per module a strided 1x1 shortcut + BN beside two depthwise-separable convs (BN, Relu
/// between) and a 3x3 stride-2 MaxPool, added; a 3x3 conv to 7 classes, GAP, Flatten, Softmax.
ferx::nn::graph xception(std::mt19937& rng, const std::string& name, std::int64_t stem1, std::int64_t stem1_stride,
                         std::int64_t stem2, const std::vector<std::int64_t>& modules) {
    graph_builder gb(name);
    gb.input("x", {-1, 1, 64, 64});
    int id = 0;
    auto weights = [&](const shape_t& shape) {
        const std::int64_t fan_in = shape[1] * shape[2] * shape[3];
        const float a = std::sqrt(3.f / static_cast<float>(fan_in));
        const std::string w = "w" + std::to_string(id++);
        gb.initializer(w, random_tensor(shape, rng, -a, a));
        return w;
    };
    auto conv = [&](const std::string& x, const shape_t& shape, std::int64_t stride, std::int64_t pad, std::int64_t group) {
        const std::string y = "conv" + std::to_string(id);
        gb.node("Conv", {x, weights(shape)}, {y},
                {{"strides", ints{stride, stride}}, {"pads", ints{pad, pad, pad, pad}}, {"group", group}});
        return y;
    };
    auto bn = [&](const std::string& x, std::int64_t c) {
        const std::string p = "bn" + std::to_string(id++);
        gb.initializer(p + "_g", random_tensor({c}, rng, 0.5f, 1.5f)).initializer(p + "_b", random_tensor({c}, rng, -0.2f, 0.2f))
            .initializer(p + "_m", random_tensor({c}, rng, -0.2f, 0.2f)).initializer(p + "_v", random_tensor({c}, rng, 0.5f, 1.5f));
        gb.node("BatchNormalization", {x, p + "_g", p + "_b", p + "_m", p + "_v"}, {p});
        return p;
    };
    auto relu = [&](const std::string& x) {
        const std::string y = "relu" + std::to_string(id++);
        gb.node("Relu", {x}, {y});
        return y;
    };
    auto separable = [&](const std::string& x, std::int64_t c, std::int64_t m) {
        return bn(conv(conv(x, {c, 1, 3, 3}, 1, 1, c), {m, c, 1, 1}, 1, 0, 1), m);
    };
    std::string x = relu(bn(conv("x", {stem1, 1, 3, 3}, stem1_stride, 0, 1), stem1));
    x = relu(bn(conv(x, {stem2, stem1, 3, 3}, 1, 0, 1), stem2));
    std::int64_t c = stem2;
    for (std::int64_t m : modules) {
        const std::string shortcut = bn(conv(x, {m, c, 1, 1}, 2, 0, 1), m);
        const std::string branch = separable(relu(separable(x, c, m)), m, m);
        const std::string pooled = "pool" + std::to_string(id++);
        gb.node("MaxPool", {branch}, {pooled}, {{"kernel_shape", ints{3, 3}}, {"strides", ints{2, 2}}, {"pads", ints{1, 1, 1, 1}}});
        x = "add" + std::to_string(id++);
        gb.node("Add", {pooled, shortcut}, {x});
        c = m;
    }
    gb.node("GlobalAveragePool", {conv(x, {7, c, 3, 3}, 1, 1, 1)}, {"gap"}).node("Flatten", {"gap"}, {"flat"})
        .node("Softmax", {"flat"}, {"scores"}, {{"axis", std::int64_t{1}}}).output("scores");
    return gb.build();
}

dense_tensor copy(const ferx::nn::tensor_ref& r) { return {r.shape, std::vector<float>(r.data, r.data + r.element_count())}; }

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
    ferx::nn::session half(conv_graph(rng, 3, 8, 8, 4, 3, 1, 1, {1, 1, 1, 1}, 1, false), fp16());
    BOOST_CHECK_THROW(half.run(ferx::exec::cuda, {{x.data.data(), x.shape}}), ferx::error);
    BOOST_TEST(half.memory().device_bytes == 0u);
}

// The ops that call cuBLAS take their handle in the policy (nn::cuda_blas_policy); one without a
// handle is refused before anything is enqueued, with or without a device.
BOOST_AUTO_TEST_CASE(cuda_blas_policy_without_a_handle_raises) {
    const ferx::nn::cuda_blas_policy none(ferx::exec::cuda, nullptr);
    BOOST_TEST(none.blas() == nullptr);
    BOOST_TEST(none.stream() == ferx::exec::cuda.stream());
    auto refused = [](auto&& call) {
        try {
            call();
        } catch (const ferx::error& e) {
            return std::string(e.what()).find("no cuBLAS handle") != std::string::npos;
        }
        return false;
    };
    ferx::nn::window_params win;
    win.kernel_h = win.kernel_w = 3;
    const auto g = ferx::nn::make_conv_geometry(1, 3, 8, 8, 4, 3, win, 1, "test");
    BOOST_TEST(refused([&] { ferx::nn::conv2d(none, g, nullptr, nullptr, nullptr, nullptr, nullptr); }));
    BOOST_TEST(refused([&] { ferx::nn::gemm(none, false, false, 2, 2, 2, 1.f, nullptr, nullptr, 0.f, nullptr, 0, 0, nullptr); }));
    BOOST_TEST(refused([&] { ferx::nn::matmul(none, 1, 2, 2, 2, nullptr, 0, nullptr, 0, nullptr); }));
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

// LSTM, GRU (with and without linear_before_reset) and RNN on the device against seq, float32
// within 1e-4: forward, reverse and bidirectional, layout 0 and 1, sequence lengths and initial
// states, each output (Y, Y_h, Y_c) on its own; fp16 sessions refuse them with a ferx::error.
BOOST_AUTO_TEST_CASE(recurrent_equals_seq, *boost::unit_test::precondition(ferx_test::gpu_present())) {
    std::mt19937 rng(5);
    const std::int64_t T = 7, B = 5, I = 6, H = 9;
    ferx::cuda::stream stream;
    struct variant {
        std::string op, direction;
        std::int64_t layout, lbr;
    };
    const std::vector<variant> variants = {{"LSTM", "forward", 0, 0}, {"LSTM", "reverse", 1, 0}, {"LSTM", "bidirectional", 0, 0},
                                           {"GRU", "forward", 0, 1},  {"GRU", "bidirectional", 1, 0}, {"GRU", "reverse", 0, 0},
                                           {"RNN", "bidirectional", 0, 0}};
    for (const auto& v : variants) {
        const std::int64_t G = v.op == "LSTM" ? 4 : v.op == "GRU" ? 3 : 1, D = v.direction == "bidirectional" ? 2 : 1;
        const shape_t xs = v.layout == 0 ? shape_t{T, B, I} : shape_t{B, T, I};
        const shape_t state = v.layout == 0 ? shape_t{D, B, H} : shape_t{B, D, H};
        std::vector<std::string> outs{"Y", "Y_h"};
        if (v.op == "LSTM") outs.push_back("Y_c");
        std::vector<std::string> ins{"X", "W", "R", "B", "lens", "h0"};
        if (v.op == "LSTM") ins.push_back("c0");
        const dense_tensor x = random_tensor(xs, rng), h0 = random_tensor(state, rng), c0 = random_tensor(state, rng);
        const dense_tensor lens{{B}, {7.f, 3.f, 0.f, 5.f, 1.f}};
        const auto w = random_tensor({D, G * H, I}, rng, -0.5f, 0.5f), r = random_tensor({D, G * H, H}, rng, -0.5f, 0.5f),
                   b = random_tensor({D, 2 * G * H}, rng, -0.5f, 0.5f);
        for (const auto& out : outs) {
            std::vector<std::string> node_outs(outs.size());
            for (std::size_t i = 0; i < outs.size(); ++i)
                if (outs[i] == out) node_outs[i] = out;
            std::map<std::string, ferx::nn::attribute> attrs{{"hidden_size", H}, {"direction", v.direction}, {"layout", v.layout}};
            if (v.op == "GRU") attrs["linear_before_reset"] = v.lbr;
            graph_builder gb(v.op);
            gb.opset(14).input("X", xs).input("lens", {B}).input("h0", state);
            if (v.op == "LSTM") gb.input("c0", state);
            const auto g = gb.initializer("W", w).initializer("R", r).initializer("B", b).node(v.op, ins, node_outs, attrs).output(out).build();
            std::vector<dense_tensor> inputs{x, lens, h0};
            if (v.op == "LSTM") inputs.push_back(c0);
            const std::string what = v.op + " " + v.direction + " layout " + std::to_string(v.layout) + " lbr " + std::to_string(v.lbr) + ": " + out;
            check_close(run(stream.policy(), g, inputs), run(ferx::exec::seq, g, inputs), 1e-4, what + " (cuda vs seq)");
            BOOST_CHECK_THROW(run(stream.policy(), g, inputs, fp16()), ferx::error);
        }
    }
}

// Extension ops without a CUDA kernel (Einsum, ReduceMean, a 1-D Conv) run by their host
// kernels inside a float32 cuda run, between device steps: equal to seq within 1e-4; an fp16
// session refuses them with a ferx::error naming the node.
BOOST_AUTO_TEST_CASE(host_fallback_equals_seq, *boost::unit_test::precondition(ferx_test::gpu_present())) {
    std::mt19937 rng(8);
    ferx::cuda::stream stream;
    const auto einsum = graph_builder("einsum_reduce")
                            .opset(13)
                            .input("x", {-1, 3, 8, 5})
                            .initializer("a", random_tensor({5, 5}, rng))
                            .node("Relu", {"x"}, {"r"})
                            .node("Einsum", {"r", "a"}, {"e"}, {{"equation", std::string("nctv,vw->nctw")}}, "graph_product")
                            .node("ReduceMean", {"e"}, {"m"}, {{"axes", ints{2}}, {"keepdims", std::int64_t{0}}}, "mean_over_time")
                            .node("Sigmoid", {"m"}, {"y"})
                            .output("y")
                            .build();
    const std::vector<dense_tensor> x{random_tensor({2, 3, 8, 5}, rng)};
    check_close(run(stream.policy(), einsum, x), run(ferx::exec::seq, einsum, x), 1e-4, "Einsum + ReduceMean (cuda vs seq)");
    try {
        run(stream.policy(), einsum, x, fp16());
        BOOST_ERROR("an fp16 session ran a host-only op");
    } catch (const ferx::error& e) {
        BOOST_TEST(std::string(e.what()).find("graph_product") != std::string::npos, e.what());
    }
    const auto conv1d = graph_builder("conv1d")
                            .input("x", {-1, 3, 20})
                            .initializer("w", random_tensor({4, 3, 3}, rng))
                            .initializer("b", random_tensor({4}, rng))
                            .node("Conv", {"x", "w", "b"}, {"c"}, {{"dilations", ints{2}}, {"pads", ints{2, 2}}}, "temporal_conv")
                            .node("Relu", {"c"}, {"y"})
                            .output("y")
                            .build();
    const std::vector<dense_tensor> t{random_tensor({3, 3, 20}, rng)};
    check_close(run(stream.policy(), conv1d, t), run(ferx::exec::seq, conv1d, t), 1e-4, "Conv 1-D (cuda vs seq)");
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
    for (const bool half : {false, true}) {
        const double tol = half ? fp16_tolerance : 1e-4;
        const std::string tag = half ? " (fp16)" : "";
        ferx::nn::session_options o{true, true, {"gap"}};
        ferx::nn::session gpu(g, half ? fp16(o) : o), cpu(g, o);
        ferx::cuda::stream stream;
        for (std::int64_t batch : {1, 33, 5}) {
            const dense_tensor x = random_tensor({batch, 1, 24, 24}, rng);
            const auto out = gpu.run(stream.policy(), {{x.data.data(), x.shape}});
            const dense_tensor got = copy(out[0]);
            const auto ref = cpu.run(ferx::exec::seq, {{x.data.data(), x.shape}});
            check_close(got, copy(ref[0]), tol, "net batch " + std::to_string(batch) + tag);
            check_close(copy(gpu.value("gap")), copy(cpu.value("gap")), tol, "gap batch " + std::to_string(batch) + tag);
            // A graph input reads back as the caller's float32 values, in both precisions.
            check_close(copy(gpu.value("x")), x, 0.0, "input x batch " + std::to_string(batch) + tag);
        }
    }
}

BOOST_AUTO_TEST_CASE(xception_architectures_fp16_equal_seq, *boost::unit_test::precondition(ferx_test::gpu_present())) {
    std::mt19937 rng(5);
    struct arch { ferx::nn::graph g; std::int64_t batch; };
    const std::vector<arch> archs = {{xception(rng, "mini_xception_random", 8, 1, 8, {16, 32, 64, 128}), 16},
                                     {xception(rng, "big_xception_random", 32, 2, 64, {128, 256}), 4}};
    for (const auto& a : archs) {
        const dense_tensor x = random_tensor({a.batch, 1, 64, 64}, rng);
        ferx::nn::session cpu(a.g), gpu32(a.g), gpu16(a.g, fp16());
        ferx::cuda::stream stream;
        const dense_tensor want = copy(cpu.run(ferx::exec::seq, {{x.data.data(), x.shape}})[0]);
        check_close(copy(gpu32.run(stream.policy(), {{x.data.data(), x.shape}})[0]), want, 1e-4, a.g.name + " (cuda vs seq)");
        const dense_tensor got = copy(gpu16.run(stream.policy(), {{x.data.data(), x.shape}})[0]);
        check_close(got, want, fp16_tolerance, a.g.name + " (cuda fp16 vs seq)");
        // Half the device memory: weights, arena and scratch in half (plus a float32 stage).
        const auto m32 = gpu32.memory(), m16 = gpu16.memory();
        BOOST_TEST(m32.device_bytes > 0u);
        BOOST_TEST(double(m16.device_bytes) < 0.6 * double(m32.device_bytes),
                   a.g.name << ": fp16 holds " << m16.device_bytes << " device bytes, fp32 " << m32.device_bytes);
        // A second run of the same batch reuses the device buffers and gives the same scores.
        check_close(copy(gpu16.run(stream.policy(), {{x.data.data(), x.shape}})[0]), got, 0.0, a.g.name + " (fp16 rerun)");
        BOOST_TEST(gpu16.memory().device_bytes == m16.device_bytes);
    }
}

BOOST_AUTO_TEST_CASE(fp16_rejects_weights_beyond_half_range, *boost::unit_test::precondition(ferx_test::gpu_present())) {
    std::mt19937 rng(6);
    dense_tensor w = random_tensor({4, 3, 3, 3}, rng);
    w.data[5] = 1e6f;
    const auto g = graph_builder("big_weight").input("x", {-1, 3, 8, 8}).initializer("w", w).node("Conv", {"x", "w"}, {"y"}).output("y").build();
    const dense_tensor x = random_tensor({1, 3, 8, 8}, rng);
    ferx::nn::session s(g, fp16());
    ferx::cuda::stream stream;
    try {
        s.run(stream.policy(), {{x.data.data(), x.shape}});
        BOOST_ERROR("no ferx::error for a weight of 1e6 in fp16");
    } catch (const ferx::error& e) {
        BOOST_TEST(std::string(e.what()).find("'w'") != std::string::npos, e.what());
        BOOST_TEST(std::string(e.what()).find("65504") != std::string::npos, e.what());
    }
    // float32 has the range: the same graph runs there.
    check_close(run(stream.policy(), g, {x}), run(ferx::exec::seq, g, {x}), 1e-4, "a weight of 1e6 in float32 (cuda vs seq)");
}

#if defined(FERX_TEST_HAS_ONNX)
boost::test_tools::assertion_result gpu_and_fer2013_present(boost::unit_test::test_unit_id id) {
    auto r = ferx_test::gpu_present()(id);
    if (!r) return r;
    const bool ok = std::filesystem::is_directory(ferx_test::shared_dir() / "data" / "fer2013" / "test") &&
                    std::filesystem::is_regular_file(onnx_test::mini_xception_file());
    boost::test_tools::assertion_result d(ok);
    d.message() << "FER2013 test images or mini-Xception models not found under '" << ferx_test::shared_dir().string()
                << "' (set FERX_SHARED_DIR); skipping";
    return d;
}

BOOST_AUTO_TEST_CASE(shipped_xceptions_fp16_on_fer2013, *boost::unit_test::precondition(gpu_and_fer2013_present)) {
    const auto list = ferx::fer2013_folder(ferx_test::shared_dir() / "data" / "fer2013", ferx::fer2013_split::test);
    std::vector<std::string> paths;  // every 12th test image: about 300, all seven classes
    for (std::size_t i = 0; i < list.size(); i += 12) paths.push_back(list.paths[i]);
    const std::int64_t n = static_cast<std::int64_t>(paths.size());
    std::vector<float> pixels = onnx_test::fer2013_input(paths, 0, paths.size());
    const std::vector<ferx::nn::tensor_ref> in = {{pixels.data(), {n, 1, 64, 64}}};
    ferx::cuda::stream stream;
    for (const auto& file : {onnx_test::mini_xception_file(), onnx_test::big_xception_file()}) {
        const ferx::nn::graph g = ferx::nn::load_onnx(file);
        ferx::nn::session cpu(g), gpu32(g), gpu16(g, fp16());
        const dense_tensor want = copy(cpu.run(ferx::exec::par, in)[0]);
        check_close(copy(gpu32.run(stream.policy(), in)[0]), want, 1e-4, file.filename().string() + " (cuda vs par)");
        const dense_tensor got = copy(gpu16.run(stream.policy(), in)[0]);
        check_close(got, want, fp16_tolerance, file.filename().string() + " (cuda fp16 vs par)");
        std::int64_t agree = 0;
        for (std::int64_t i = 0; i < n; ++i) {
            const float* a = got.data.data() + i * 7;
            const float* b = want.data.data() + i * 7;
            agree += (std::max_element(a, a + 7) - a) == (std::max_element(b, b + 7) - b);
        }
        BOOST_TEST_MESSAGE(file.filename().string() << ": fp16 and float32 predict the same class on " << agree << "/" << n
                                                    << " FER2013 test images");
        BOOST_TEST(double(agree) >= 0.98 * double(n), file.filename().string() << ": classes agree on " << agree << "/" << n);
    }
}
#else
boost::test_tools::assertion_result built_with_onnx(boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result r(false);
    r.message() << "test_cuda is built without ferx::onnx (FERX_TEST_HAS_ONNX undefined): the fp16 tests on the shipped "
                   "mini/big-Xception files are not compiled in; the random-weight architectures above stand in";
    return r;
}

BOOST_AUTO_TEST_CASE(shipped_xceptions_fp16_on_fer2013, *boost::unit_test::precondition(built_with_onnx)) {}
#endif

BOOST_AUTO_TEST_SUITE_END()
