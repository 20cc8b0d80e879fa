// The session: BatchNormalization folding and activation fusion against the unfused graph,
// buffer reuse across runs and batch sizes, micro-batches against the whole batch (and graphs
// that must run whole), intermediate values, the memory report, node order,
// NaN inputs, and the errors for bad graphs and bad inputs.
#include "nn_test.hpp"

#include <algorithm>
#include <cmath>

namespace {

using namespace nn_test;
using ferx::nn::graph_builder;
using ferx::nn::session;
using ferx::nn::session_options;

dense_tensor bn_param(std::int64_t c, std::mt19937& rng, float lo, float hi) { return random_tensor({c}, rng, lo, hi); }

void add_bn(graph_builder& gb, const std::string& name, std::int64_t c, std::mt19937& rng) {
    gb.initializer(name + "_g", bn_param(c, rng, 0.5f, 1.5f)).initializer(name + "_b", bn_param(c, rng, -0.5f, 0.5f))
        .initializer(name + "_m", bn_param(c, rng, -0.5f, 0.5f)).initializer(name + "_v", bn_param(c, rng, 0.2f, 2.f));
}

/// A small network in the mini-Xception style: conv-BN-relu, a depthwise-separable branch with
/// BN, a strided 1x1 shortcut with BN, Add, MaxPool, GAP, Flatten, Gemm, Softmax.
ferx::nn::graph small_net(std::mt19937& rng) {
    graph_builder gb("small_net");
    gb.source("small_net.test").opset(11).input("x", {-1, 1, 20, 20});
    gb.initializer("w1", random_tensor({8, 1, 3, 3}, rng)).initializer("dw", random_tensor({8, 1, 3, 3}, rng))
        .initializer("pw", random_tensor({16, 8, 1, 1}, rng)).initializer("sc", random_tensor({16, 8, 1, 1}, rng))
        .initializer("fc_w", random_tensor({7, 16}, rng)).initializer("fc_b", random_tensor({7}, rng));
    add_bn(gb, "bn1", 8, rng);
    add_bn(gb, "bn2", 16, rng);
    add_bn(gb, "bn3", 16, rng);
    gb.node("Conv", {"x", "w1"}, {"c1"}, {{"kernel_shape", ints{3, 3}}}, "conv1")
        .node("BatchNormalization", {"c1", "bn1_g", "bn1_b", "bn1_m", "bn1_v"}, {"b1"}, {{"epsilon", 1e-3f}}, "bn1")
        .node("Relu", {"b1"}, {"r1"}, {}, "relu1")
        .node("Conv", {"r1", "dw"}, {"d1"}, {{"group", std::int64_t{8}}, {"pads", ints{1, 1, 1, 1}}}, "dwconv")
        .node("Conv", {"d1", "pw"}, {"p1"}, {}, "pwconv")
        .node("BatchNormalization", {"p1", "bn2_g", "bn2_b", "bn2_m", "bn2_v"}, {"b2"}, {}, "bn2")
        .node("MaxPool", {"b2"}, {"m1"}, {{"kernel_shape", ints{3, 3}}, {"strides", ints{2, 2}}, {"pads", ints{0, 0, 1, 1}}}, "pool")
        .node("Conv", {"r1", "sc"}, {"s1"}, {{"strides", ints{2, 2}}}, "shortcut")
        .node("BatchNormalization", {"s1", "bn3_g", "bn3_b", "bn3_m", "bn3_v"}, {"b3"}, {}, "bn3")
        .node("Add", {"m1", "b3"}, {"a1"}, {}, "add")
        .node("GlobalAveragePool", {"a1"}, {"gap"}, {}, "gap")
        .node("Flatten", {"gap"}, {"flat"}, {}, "flatten")
        .node("Gemm", {"flat", "fc_w", "fc_b"}, {"logits"}, {{"transB", std::int64_t{1}}}, "fc")
        .node("Softmax", {"logits"}, {"prob"}, {}, "softmax")
        .output("prob");
    return gb.build();
}

std::vector<ferx::nn::tensor_ref> refs(const std::vector<dense_tensor>& ts) {
    std::vector<ferx::nn::tensor_ref> r;
    for (const auto& t : ts) r.push_back({t.data.data(), t.shape});
    return r;
}

dense_tensor copy(const ferx::nn::tensor_ref& r) { return {r.shape, std::vector<float>(r.data, r.data + r.element_count())}; }

template <class F>
void check_error_mentions(F&& f, const std::vector<std::string>& parts) {
    try {
        f();
        BOOST_ERROR("no ferx::error raised; expected one mentioning " << parts.front());
    } catch (const ferx::error& e) {
        for (const auto& p : parts) BOOST_TEST(std::string(e.what()).find(p) != std::string::npos, "'" << e.what() << "' lacks '" << p << "'");
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(session_tests)

BOOST_AUTO_TEST_CASE(folding_and_fusion_equal_the_plain_graph) {
    std::mt19937 rng(31);
    const auto g = small_net(rng);
    const dense_tensor x = random_tensor({3, 1, 20, 20}, rng);
    session folded(g), plain(g, {false, false, {}});
    BOOST_TEST(folded.count_op("BatchNormalization") == 0u);  // all three follow a Conv
    BOOST_TEST(folded.count_op("Relu") == 0u);                // fused into conv1
    BOOST_TEST(plain.count_op("BatchNormalization") == 3u);
    BOOST_TEST(folded.step_count() < plain.step_count());
    const dense_tensor a = copy(folded.run(ferx::exec::seq, refs({x}))[0]);
    const dense_tensor b = copy(plain.run(ferx::exec::seq, refs({x}))[0]);
    BOOST_TEST((a.shape == shape_t{3, 7}));
    check_close(a, b, 1e-5, "folded vs unfolded");
    ferx::thread_pool pool(2);
    check_identical(copy(folded.run(ferx::exec::par.on(pool), refs({x}))[0]), a, "folded net par vs seq");
    // Softmax rows sum to one.
    for (int r = 0; r < 3; ++r) {
        double s = 0;
        for (int c = 0; c < 7; ++c) s += a.data[std::size_t(r * 7 + c)];
        BOOST_TEST(std::abs(s - 1.0) < 1e-5);
    }
}

BOOST_AUTO_TEST_CASE(bn_not_folded_where_the_conv_output_is_used_twice_or_kept) {
    std::mt19937 rng(32);
    auto g = small_net(rng);
    const dense_tensor x = random_tensor({2, 1, 20, 20}, rng);
    session keep_c1(g, {true, true, {"c1"}});
    BOOST_TEST(keep_c1.count_op("BatchNormalization") == 1u);  // conv1's output must stay readable
    session plain(g, {false, false, {"c1"}});
    check_close(copy(keep_c1.run(ferx::exec::seq, refs({x}))[0]), copy(plain.run(ferx::exec::seq, refs({x}))[0]), 1e-5, "kept c1");
    check_identical(copy(keep_c1.value("c1")), copy(plain.value("c1")), "c1 value");
}

BOOST_AUTO_TEST_CASE(buffer_reuse_matches_fresh_sessions) {
    std::mt19937 rng(33);
    const auto g = small_net(rng);
    session reused(g);
    for (std::int64_t batch : {4, 1, 4, 7, 1}) {
        const dense_tensor x = random_tensor({batch, 1, 20, 20}, rng);
        const dense_tensor got = copy(reused.run(ferx::exec::seq, refs({x}))[0]);
        session fresh(g);
        check_identical(got, copy(fresh.run(ferx::exec::seq, refs({x}))[0]), "reused session, batch " + std::to_string(batch));
        BOOST_TEST(reused.memory().batch == batch);
    }
}

BOOST_AUTO_TEST_CASE(arena_is_smaller_than_all_activations) {
    // A chain of 8 convolutions: liveness lets two (plus the input) buffers serve them all.
    std::mt19937 rng(34);
    graph_builder gb("chain");
    gb.input("x", {-1, 4, 16, 16});
    std::string prev = "x";
    for (int i = 0; i < 8; ++i) {
        const std::string w = "w" + std::to_string(i), y = "y" + std::to_string(i);
        gb.initializer(w, random_tensor({4, 4, 3, 3}, rng)).node("Conv", {prev, w}, {y}, {{"pads", ints{1, 1, 1, 1}}});
        prev = y;
    }
    gb.output(prev);
    session s(gb.build());
    const dense_tensor x = random_tensor({2, 4, 16, 16}, rng);
    s.run(ferx::exec::seq, refs({x}));
    const std::size_t one = 2 * 4 * 16 * 16 * sizeof(float);
    const auto m = s.memory();
    BOOST_TEST(m.arena_bytes <= 3 * one, "arena " << m.arena_bytes << " bytes for activations of " << one << " bytes");
    BOOST_TEST(m.arena_bytes >= 2 * one);  // the input and the output at least
    BOOST_TEST(m.weights_bytes == 8u * 4 * 4 * 3 * 3 * sizeof(float));
    BOOST_TEST(m.batch == 2);
}

BOOST_AUTO_TEST_CASE(intermediate_values_by_name) {
    std::mt19937 rng(35);
    const auto g = small_net(rng);
    const dense_tensor x = random_tensor({2, 1, 20, 20}, rng);
    session s(g, {true, true, {"gap"}});
    BOOST_CHECK_THROW(s.value("gap"), ferx::error);  // nothing computed yet
    s.run(ferx::exec::seq, refs({x}));
    const dense_tensor gap = copy(s.value("gap"));
    BOOST_TEST((gap.shape == shape_t{2, 16, 1, 1}));
    // The same value as the output of a graph that ends there.
    auto g2 = g;
    g2.outputs = {{"gap", {}}};
    session s2(g2);
    check_identical(gap, copy(s2.run(ferx::exec::seq, refs({x}))[0]), "kept gap vs gap as output");
    check_error_mentions([&] { s.value("m1"); }, {"m1", "keep"});
    check_error_mentions([&] { s.value("no_such_value"); }, {"no_such_value"});
    BOOST_TEST(s.value("x").data != nullptr);
    BOOST_TEST((s.value("fc_b").shape == shape_t{7}));
    check_error_mentions([&] { s.value("fc_w"); }, {"fc_w", "transposed"});  // Gemm transB: held transposed
    check_error_mentions([&] { s.value("bn1_g"); }, {"bn1_g", "folded"});
}

BOOST_AUTO_TEST_CASE(micro_batches_equal_the_whole_batch) {
    std::mt19937 rng(40);
    const auto g = small_net(rng);
    const dense_tensor x = random_tensor({7, 1, 20, 20}, rng);
    session_options whole_opts;
    whole_opts.keep = {"gap"};
    whole_opts.micro_batch = -1;
    session whole(g, whole_opts);
    const dense_tensor want = copy(whole.run(ferx::exec::seq, refs({x}))[0]);
    const dense_tensor want_gap = copy(whole.value("gap"));
    BOOST_TEST(whole.memory().micro_batch == 0);
    for (std::int64_t m : {1, 2, 3, 5, 0}) {
        session_options o = whole_opts;
        o.micro_batch = m;
        if (m == 0) o.micro_batch_bytes = 1;  // automatic size, forced down to one image
        session s(g, o);
        for (int par = 0; par < 2; ++par) {
            const std::string what = "micro_batch " + std::to_string(m) + (par ? " par" : " seq");
            const auto out = par ? s.run(ferx::exec::par, refs({x})) : s.run(ferx::exec::seq, refs({x}));
            check_identical(copy(out[0]), want, what);
            check_identical(copy(s.value("gap")), want_gap, what + ", kept gap");
            check_identical(copy(s.value("x")), x, what + ", input");
            BOOST_TEST((s.shape_of("gap") == shape_t{7, 16, 1, 1}));
            const auto mem = s.memory();
            BOOST_TEST(mem.batch == 7);
            BOOST_TEST(mem.micro_batch == (m == 0 ? 1 : m));
            BOOST_TEST(s.flops() == whole.flops());
            BOOST_TEST(mem.results_bytes == (7u * 7 + 7 * 16 + 7 * 400) * sizeof(float));  // prob, gap, x
        }
        // A batch no larger than the micro-batch runs whole; a larger one goes back to passes.
        const dense_tensor x1 = random_tensor({1, 1, 20, 20}, rng);
        session one(g, whole_opts);
        check_identical(copy(s.run(ferx::exec::seq, refs({x1}))[0]), copy(one.run(ferx::exec::seq, refs({x1}))[0]),
                        "batch 1 after micro-batches");
        BOOST_TEST(s.memory().micro_batch == 0);
        check_identical(copy(s.run(ferx::exec::par, refs({x}))[0]), want, "micro-batches again");
    }
}

BOOST_AUTO_TEST_CASE(graphs_that_mix_images_run_whole) {
    // Softmax over the batch axis, and Flatten(axis 0) then Softmax over everything: each output
    // depends on every image, so the session must not split the batch.
    std::mt19937 rng(41);
    const dense_tensor x = random_tensor({6, 5}, rng);
    for (int variant = 0; variant < 2; ++variant) {
        graph_builder gb("mixing");
        gb.opset(13).input("x", {-1, 5});
        if (variant == 0) {
            gb.node("Softmax", {"x"}, {"y"}, {{"axis", std::int64_t{0}}}).output("y");
        } else {
            gb.node("Flatten", {"x"}, {"f"}, {{"axis", std::int64_t{0}}})
                .node("Softmax", {"f"}, {"y"}, {{"axis", std::int64_t{1}}})
                .output("y");
        }
        session_options o;
        o.micro_batch = 1;
        session s(gb.build(), o);
        const dense_tensor got = copy(s.run(ferx::exec::par, refs({x}))[0]);
        BOOST_TEST(s.memory().micro_batch == 0);
        // Reference: softmax over the batch axis (variant 0) or over all 30 values (variant 1).
        std::vector<double> sums(variant == 0 ? 5 : 1, 0.0);
        for (std::size_t i = 0; i < x.data.size(); ++i) sums[variant == 0 ? i % 5 : 0] += std::exp(double(x.data[i]));
        double worst = 0;
        for (std::size_t i = 0; i < x.data.size(); ++i)
            worst = std::max(worst, std::abs(got.data[i] - std::exp(double(x.data[i])) / sums[variant == 0 ? i % 5 : 0]));
        BOOST_TEST(worst < 1e-6, "variant " << variant << ": max |diff| " << worst);
    }
}

BOOST_AUTO_TEST_CASE(node_order_does_not_matter) {
    std::mt19937 rng(36);
    const auto g = small_net(rng);
    auto shuffled = g;
    std::reverse(shuffled.nodes.begin(), shuffled.nodes.end());
    std::swap(shuffled.nodes[2], shuffled.nodes[7]);
    const dense_tensor x = random_tensor({2, 1, 20, 20}, rng);
    check_identical(run(ferx::exec::seq, shuffled, {x}), run(ferx::exec::seq, g, {x}), "shuffled nodes");
}

BOOST_AUTO_TEST_CASE(nan_inputs_propagate) {
    std::mt19937 rng(37);
    const auto g = small_net(rng);
    dense_tensor x = random_tensor({2, 1, 20, 20}, rng);
    x.data[5] = NAN;  // image 0 only
    const dense_tensor y = run(ferx::exec::seq, g, {x});
    for (int c = 0; c < 7; ++c) {
        BOOST_TEST(std::isnan(y.data[std::size_t(c)]));
        BOOST_TEST(!std::isnan(y.data[std::size_t(7 + c)]));
    }
}

BOOST_AUTO_TEST_CASE(bad_graphs_are_errors) {
    std::mt19937 rng(38);
    const auto good = small_net(rng);
    {
        auto g = good;
        g.nodes[3].op_type = "Loop";
        check_error_mentions([&] { session s(g); }, {"unsupported op 'Loop'", "dwconv", "small_net.test"});
    }
    {
        auto g = good;
        g.initializers.erase("pw");
        check_error_mentions([&] { session s(g); }, {"pw", "pwconv", "missing initializer"});
    }
    {
        auto g = good;  // relu1 reads the add's output: a cycle
        g.nodes[2].inputs[0] = "a1";
        check_error_mentions([&] { session s(g); }, {"cycle"});
    }
    {
        auto g = good;
        g.nodes[4].outputs[0] = "d1";  // two nodes write d1
        check_error_mentions([&] { session s(g); }, {"d1", "already defined"});
    }
    {
        auto g = good;
        g.outputs = {{"nowhere", {}}};
        check_error_mentions([&] { session s(g); }, {"nowhere"});
    }
    {
        auto g = good;
        g.nodes[0].attributes["kernel_shape"] = std::string("3x3");
        check_error_mentions([&] { session s(g); }, {"kernel_shape", "wrong type"});
    }
    {
        auto g = good;
        g.initializers["w1"].data.pop_back();
        check_error_mentions([&] { session s(g); }, {"w1"});
    }
}

BOOST_AUTO_TEST_CASE(wrong_inputs_are_errors) {
    std::mt19937 rng(39);
    session s(small_net(rng));
    const dense_tensor ok = random_tensor({2, 1, 20, 20}, rng);
    const dense_tensor wrong_size = random_tensor({2, 1, 21, 20}, rng), wrong_rank = random_tensor({2, 400}, rng),
                       wrong_channels = random_tensor({2, 3, 20, 20}, rng);
    check_error_mentions([&] { s.run(ferx::exec::seq, refs({wrong_size})); }, {"'x'", "[2, 1, 21, 20]"});
    check_error_mentions([&] { s.run(ferx::exec::seq, refs({wrong_rank})); }, {"'x'"});
    check_error_mentions([&] { s.run(ferx::exec::par, refs({wrong_channels})); }, {"'x'"});
    check_error_mentions([&] { s.run(ferx::exec::seq, refs({ok, ok})); }, {"1 inputs"});
    check_error_mentions([&] { s.run(ferx::exec::seq, {{nullptr, {2, 1, 20, 20}}}); }, {"no data"});
    // The session still works after the errors.
    BOOST_TEST((s.run(ferx::exec::seq, refs({ok}))[0].shape == shape_t{2, 7}));
}

BOOST_AUTO_TEST_CASE(fp16_is_a_cuda_only_option) {
    std::mt19937 rng(40);
    session_options o;
    o.precision = ferx::nn::precision::fp16;
    session s(small_net(rng), o);
    const dense_tensor x = random_tensor({2, 1, 20, 20}, rng);
    check_error_mentions([&] { s.run(ferx::exec::seq, refs({x})); }, {"fp16", "exec::cuda", "small_net.test"});
    check_error_mentions([&] { s.run(ferx::exec::par, refs({x})); }, {"fp16", "exec::cuda"});
    BOOST_TEST(s.memory().device_bytes == 0u);
}

BOOST_AUTO_TEST_CASE(flops_count_conv_gemm_and_matmul_multiply_adds) {
    std::mt19937 rng(41);
    session s(small_net(rng));
    // Per image, from the architecture: conv1 1 -> 8 channels, 3x3 on 20x20 -> 18x18; depthwise 8
    // channels 3x3 -> 18x18; pointwise 8 -> 16 at 18x18; shortcut 8 -> 16, 1x1 stride 2 -> 9x9;
    // Gemm 16 -> 7. Pools, Add and Softmax are not counted.
    const std::int64_t per_image = 8 * 18 * 18 * 9 + 8 * 18 * 18 * 9 + 16 * 18 * 18 * 8 + 16 * 9 * 9 * 8 + 7 * 16;
    BOOST_TEST(s.flops() == 2 * per_image);  // batch 1, inferred at construction
    s.run(ferx::exec::seq, refs({random_tensor({5, 1, 20, 20}, rng)}));
    BOOST_TEST(s.flops() == 2 * 5 * per_image);
    // MatMul [2, 3, 4, 5] x [5, 6]: 6 products of 4 x 5 by 5 x 6.
    session mm(graph_builder("mm").input("a", {-1, 3, 4, 5}).initializer("b", random_tensor({5, 6}, rng))
                   .node("MatMul", {"a", "b"}, {"y"}).output("y").build());
    mm.run(ferx::exec::seq, refs({random_tensor({2, 3, 4, 5}, rng)}));
    BOOST_TEST(mm.flops() == 2 * 6 * 4 * 5 * 6);
    // A graph whose input extents are not declared: nothing to count before a run.
    session unknown(graph_builder("u").input("a", {}).initializer("b", random_tensor({5, 6}, rng))
                        .node("MatMul", {"a", "b"}, {"y"}).output("y").build());
    BOOST_TEST(unknown.flops() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
