// The other ops, each as a one-node graph against a plain reference written here, on seq, and
// par bit-identical to seq.
#include "nn_test.hpp"

#include <array>
#include <functional>

namespace {

using namespace nn_test;
using ferx::nn::graph_builder;

dense_tensor map_values(const dense_tensor& x, const std::function<double(double)>& f) {
    dense_tensor y{x.shape, {}};
    for (float v : x.data) y.data.push_back(static_cast<float>(f(v)));
    return y;
}

ferx::nn::graph unary_graph(const std::string& op, const shape_t& shape, std::map<std::string, ferx::nn::attribute> attrs = {}) {
    return graph_builder(op).input("x", shape).node(op, {"x"}, {"y"}, std::move(attrs)).output("y").build();
}

// Index of `out_index` (row-major over `out`) in a tensor of shape `in`, NumPy broadcasting.
std::size_t broadcast_index(const shape_t& out, const shape_t& in, std::size_t out_index) {
    std::size_t idx = 0, stride = 1;
    for (std::size_t d = out.size(); d-- > 0;) {
        const std::size_t i = out_index % static_cast<std::size_t>(out[d]);
        out_index /= static_cast<std::size_t>(out[d]);
        const std::ptrdiff_t din = static_cast<std::ptrdiff_t>(d) - static_cast<std::ptrdiff_t>(out.size() - in.size());
        if (din < 0) continue;
        const std::size_t e = static_cast<std::size_t>(in[static_cast<std::size_t>(din)]);
        idx += (e == 1 ? 0 : i) * stride;
        stride *= e;
    }
    return idx;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ops)

BOOST_AUTO_TEST_CASE(activations) {
    std::mt19937 rng(21);
    const dense_tensor x = random_tensor({2, 3, 5, 7}, rng, -4.f, 4.f);
    const shape_t s = {-1, 3, 5, 7};
    check_op(unary_graph("Relu", s), {x}, map_values(x, [](double v) { return v < 0 ? 0 : v; }), "Relu");
    check_op(unary_graph("LeakyRelu", s, {{"alpha", 0.2f}}), {x}, map_values(x, [](double v) { return v < 0 ? 0.2 * v : v; }), "LeakyRelu");
    check_op(unary_graph("LeakyRelu", s), {x}, map_values(x, [](double v) { return v < 0 ? 0.01 * v : v; }), "LeakyRelu default alpha");
    check_op(unary_graph("Sigmoid", s), {x}, map_values(x, [](double v) { return 1 / (1 + std::exp(-v)); }), "Sigmoid");
    check_op(unary_graph("Tanh", s), {x}, map_values(x, [](double v) { return std::tanh(v); }), "Tanh");
    check_op(unary_graph("Clip", s, {{"min", -1.5f}, {"max", 2.f}}), {x}, map_values(x, [](double v) { return std::clamp(v, -1.5, 2.0); }), "Clip attrs");
    const auto clip_inputs = graph_builder("clip").input("x", s).initializer("lo", {{}, {-0.5f}}).initializer("hi", {{}, {0.25f}})
                                 .node("Clip", {"x", "lo", "hi"}, {"y"}).output("y").opset(11).build();
    check_op(clip_inputs, {x}, map_values(x, [](double v) { return std::clamp(v, -0.5, 0.25); }), "Clip inputs");
    const auto clip_max_only = graph_builder("clip").input("x", s).initializer("hi", {{}, {1.f}})
                                   .node("Clip", {"x", "", "hi"}, {"y"}).output("y").build();
    check_op(clip_max_only, {x}, map_values(x, [](double v) { return std::min(v, 1.0); }), "Clip max only");
    check_op(unary_graph("Identity", s), {x}, x, "Identity");
    check_op(unary_graph("Dropout", s, {{"ratio", 0.5f}}), {x}, x, "Dropout");
}

BOOST_AUTO_TEST_CASE(batch_normalization_unfolded) {
    std::mt19937 rng(22);
    const dense_tensor x = random_tensor({2, 4, 3, 5}, rng);
    const dense_tensor gamma = random_tensor({4}, rng), beta = random_tensor({4}, rng), mean = random_tensor({4}, rng),
                       var = random_tensor({4}, rng, 0.1f, 2.f);
    const auto g = graph_builder("bn").input("x", {-1, 4, 3, 5}).initializer("g", gamma).initializer("b", beta)
                       .initializer("m", mean).initializer("v", var)
                       .node("BatchNormalization", {"x", "g", "b", "m", "v"}, {"y"}, {{"epsilon", 1e-3f}}).output("y").build();
    dense_tensor want{x.shape, {}};
    for (std::size_t i = 0; i < x.data.size(); ++i) {
        const std::size_t c = (i / 15) % 4;
        want.data.push_back(static_cast<float>((x.data[i] - mean.data[c]) / std::sqrt(double(var.data[c]) + 1e-3) * gamma.data[c] + beta.data[c]));
    }
    check_op(g, {x}, want, "BatchNormalization");
}

BOOST_AUTO_TEST_CASE(binary_broadcasting) {
    std::mt19937 rng(23);
    const std::vector<std::pair<shape_t, shape_t>> pairs = {
        {{2, 3, 4, 5}, {2, 3, 4, 5}}, {{2, 3, 4, 5}, {3, 1, 1}}, {{2, 3, 4, 5}, {5}}, {{2, 1, 4, 1}, {1, 3, 1, 5}},
        {{2, 3, 4, 5}, {}}, {{4, 5}, {2, 3, 4, 5}}, {{1, 3, 1, 1}, {2, 3, 4, 5}}};
    const std::vector<std::pair<std::string, std::function<double(double, double)>>> ops = {
        {"Add", [](double a, double b) { return a + b; }}, {"Mul", [](double a, double b) { return a * b; }},
        {"Sub", [](double a, double b) { return a - b; }}, {"Div", [](double a, double b) { return a / b; }}};
    for (const auto& [sa, sb] : pairs)
        for (const auto& [op, f] : ops) {
            const dense_tensor a = random_tensor(sa, rng), b = random_tensor(sb, rng, 0.5f, 2.f);
            shape_t out(std::max(sa.size(), sb.size()), 1);
            for (std::size_t d = 0; d < out.size(); ++d) {
                const std::ptrdiff_t ia = std::ptrdiff_t(d) - std::ptrdiff_t(out.size() - sa.size()), ib = std::ptrdiff_t(d) - std::ptrdiff_t(out.size() - sb.size());
                out[d] = std::max(ia >= 0 ? sa[std::size_t(ia)] : 1, ib >= 0 ? sb[std::size_t(ib)] : 1);
            }
            dense_tensor want{out, {}};
            for (std::size_t i = 0; i < static_cast<std::size_t>(ferx::nn::element_count(out)); ++i)
                want.data.push_back(static_cast<float>(f(a.data[broadcast_index(out, sa, i)], b.data[broadcast_index(out, sb, i)])));
            // a runtime operand and a constant one
            const auto g = graph_builder(op).input("a", sa).initializer("b", b).node(op, {"a", "b"}, {"y"}).output("y").build();
            check_op(g, {a}, want, op + " " + ferx::nn::shape_string(sa) + " " + ferx::nn::shape_string(sb));
        }
    const auto bad = graph_builder("bad").input("a", {1, 3, 4}).initializer("b", random_tensor({5}, rng)).node("Add", {"a", "b"}, {"y"}).output("y").build();
    BOOST_CHECK_THROW(ferx::nn::session{bad}, ferx::error);
}

BOOST_AUTO_TEST_CASE(concat_any_axis) {
    std::mt19937 rng(24);
    for (std::int64_t axis : {0, 1, 2, 3, -1}) {
        shape_t sa = {2, 3, 4, 5}, sb = sa;
        const std::size_t ax = static_cast<std::size_t>(axis < 0 ? axis + 4 : axis);
        sb[ax] = 2;
        const dense_tensor a = random_tensor(sa, rng), b = random_tensor(sb, rng);
        shape_t out = sa;
        out[ax] += 2;
        dense_tensor want{out, std::vector<float>(static_cast<std::size_t>(ferx::nn::element_count(out)))};
        std::int64_t outer = 1, inner = 1;
        for (std::size_t d = 0; d < ax; ++d) outer *= sa[d];
        for (std::size_t d = ax + 1; d < 4; ++d) inner *= sa[d];
        for (std::int64_t o = 0; o < outer; ++o)
            for (std::int64_t j = 0; j < out[ax]; ++j)
                for (std::int64_t i = 0; i < inner; ++i) {
                    const bool first = j < sa[ax];
                    const dense_tensor& src = first ? a : b;
                    const std::int64_t ext = first ? sa[ax] : 2, jj = first ? j : j - sa[ax];
                    want.data[static_cast<std::size_t>((o * out[ax] + j) * inner + i)] = src.data[static_cast<std::size_t>((o * ext + jj) * inner + i)];
                }
        shape_t decl_a = sa, decl_b = sb;
        decl_a[0] = decl_b[0] = -1;
        // Axis 0 is the batch of every input: both inputs are runtime inputs here.
        const auto g = graph_builder("concat").input("a", decl_a).input("b", decl_b)
                           .node("Concat", {"a", "b"}, {"y"}, {{"axis", axis}}).output("y").build();
        check_op(g, {a, b}, want, "Concat axis " + std::to_string(axis));
    }
}

BOOST_AUTO_TEST_CASE(gemm_and_matmul) {
    std::mt19937 rng(25);
    const std::int64_t m = 5, k = 7, n = 9;
    for (int ta = 0; ta < 2; ++ta)
        for (int tb = 0; tb < 2; ++tb)
            for (const shape_t& cs : {shape_t{n}, shape_t{m, n}, shape_t{m, 1}, shape_t{}}) {
                const dense_tensor a = random_tensor(ta ? shape_t{k, m} : shape_t{m, k}, rng);
                const dense_tensor b = random_tensor(tb ? shape_t{n, k} : shape_t{k, n}, rng);
                const dense_tensor c = random_tensor(cs, rng);
                dense_tensor want{{m, n}, {}};
                for (std::int64_t i = 0; i < m; ++i)
                    for (std::int64_t j = 0; j < n; ++j) {
                        double s = 0;
                        for (std::int64_t p = 0; p < k; ++p)
                            s += double(a.data[std::size_t(ta ? p * m + i : i * k + p)]) * b.data[std::size_t(tb ? j * k + p : p * n + j)];
                        want.data.push_back(static_cast<float>(0.5 * s + 2.0 * c.data[broadcast_index({m, n}, cs, std::size_t(i * n + j))]));
                    }
                const auto g = graph_builder("gemm").input("a", a.shape).initializer("b", b).initializer("c", c)
                                   .node("Gemm", {"a", "b", "c"}, {"y"}, {{"alpha", 0.5f}, {"beta", 2.f}, {"transA", std::int64_t{ta}}, {"transB", std::int64_t{tb}}})
                                   .output("y").build();
                check_op(g, {a}, want, "Gemm transA " + std::to_string(ta) + " transB " + std::to_string(tb) + " C " + ferx::nn::shape_string(cs));
            }
    // MatMul: a batched A by a 2-D B, and equal batches.
    for (const shape_t& sb : {shape_t{7, 4}, shape_t{2, 3, 7, 4}}) {
        const dense_tensor a = random_tensor({2, 3, 5, 7}, rng), b = random_tensor(sb, rng);
        dense_tensor want{{2, 3, 5, 4}, {}};
        for (std::int64_t bt = 0; bt < 6; ++bt)
            for (std::int64_t i = 0; i < 5; ++i)
                for (std::int64_t j = 0; j < 4; ++j) {
                    double s = 0;
                    for (std::int64_t p = 0; p < 7; ++p)
                        s += double(a.data[std::size_t((bt * 5 + i) * 7 + p)]) * b.data[std::size_t((sb.size() == 2 ? 0 : bt * 28) + p * 4 + j)];
                    want.data.push_back(static_cast<float>(s));
                }
        const auto g = graph_builder("matmul").input("a", {-1, 3, 5, 7}).initializer("b", b).node("MatMul", {"a", "b"}, {"y"}).output("y").build();
        check_op(g, {a}, want, "MatMul B " + ferx::nn::shape_string(sb));
    }
}

BOOST_AUTO_TEST_CASE(flatten_reshape_transpose) {
    std::mt19937 rng(26);
    const dense_tensor x = random_tensor({2, 3, 4, 5}, rng);
    check_op(unary_graph("Flatten", {-1, 3, 4, 5}), {x}, {{2, 60}, x.data}, "Flatten default axis");
    check_op(unary_graph("Flatten", {-1, 3, 4, 5}, {{"axis", std::int64_t{2}}}), {x}, {{6, 20}, x.data}, "Flatten axis 2");
    check_op(unary_graph("Flatten", {-1, 3, 4, 5}, {{"axis", std::int64_t{0}}}), {x}, {{1, 120}, x.data}, "Flatten axis 0");
    for (const auto& [target, want_shape] : std::vector<std::pair<shape_t, shape_t>>{
             {{0, -1}, {2, 60}}, {{0, 3, 20}, {2, 3, 20}}, {{-1, 5}, {24, 5}}, {{2, 0, 2, 10}, {2, 3, 2, 10}}}) {
        dense_tensor shape_init{{static_cast<std::int64_t>(target.size())}, {}};
        for (auto d : target) shape_init.data.push_back(static_cast<float>(d));
        const auto g = graph_builder("reshape").input("x", {-1, 3, 4, 5}).initializer("s", shape_init)
                           .node("Reshape", {"x", "s"}, {"y"}).output("y").build();
        check_op(g, {x}, {want_shape, x.data}, "Reshape to " + ferx::nn::shape_string(target));
    }
    for (const ints& perm : {ints{0, 2, 3, 1}, ints{3, 1, 0, 2}, ints{}}) {
        shape_t out(4);
        const ints p = perm.empty() ? ints{3, 2, 1, 0} : perm;
        for (std::size_t i = 0; i < 4; ++i) out[i] = x.shape[std::size_t(p[i])];
        dense_tensor want{out, {}};
        std::int64_t idx[4];
        for (idx[0] = 0; idx[0] < out[0]; ++idx[0])
            for (idx[1] = 0; idx[1] < out[1]; ++idx[1])
                for (idx[2] = 0; idx[2] < out[2]; ++idx[2])
                    for (idx[3] = 0; idx[3] < out[3]; ++idx[3]) {
                        std::int64_t src[4];
                        for (std::size_t i = 0; i < 4; ++i) src[p[i]] = idx[i];
                        want.data.push_back(x.data[std::size_t(((src[0] * 3 + src[1]) * 4 + src[2]) * 5 + src[3])]);
                    }
        std::map<std::string, ferx::nn::attribute> attrs;
        if (!perm.empty()) attrs["perm"] = perm;
        check_op(unary_graph("Transpose", {-1, 3, 4, 5}, attrs), {x}, want, "Transpose");
    }
}

BOOST_AUTO_TEST_CASE(pad_modes) {
    std::mt19937 rng(27);
    const dense_tensor x = random_tensor({1, 2, 4, 5}, rng);
    const ints pads = {0, 1, 2, 1, 0, 0, 3, 2};
    for (const std::string mode : {"constant", "reflect", "edge"}) {
        const shape_t out = {1, 3, 9, 8};
        dense_tensor want{out, {}};
        for (std::int64_t a = 0; a < 1; ++a)
            for (std::int64_t c = 0; c < 3; ++c)
                for (std::int64_t y = 0; y < 9; ++y)
                    for (std::int64_t z = 0; z < 8; ++z) {
                        std::int64_t i[4] = {a, c - 1, y - 2, z - 1};
                        const std::int64_t ext[4] = {1, 2, 4, 5};
                        bool outside = false;
                        for (int d = 0; d < 4; ++d) {
                            if (i[d] >= 0 && i[d] < ext[d]) continue;
                            outside = true;
                            if (mode == "edge") i[d] = std::clamp<std::int64_t>(i[d], 0, ext[d] - 1);
                            if (mode == "reflect") i[d] = i[d] < 0 ? -i[d] : 2 * (ext[d] - 1) - i[d];
                        }
                        want.data.push_back(outside && mode == "constant" ? 0.75f : x.data[std::size_t(((i[0] * 2 + i[1]) * 4 + i[2]) * 5 + i[3])]);
                    }
        dense_tensor pads_init{{8}, {}};
        for (auto p : pads) pads_init.data.push_back(static_cast<float>(p));
        // opset 11+: pads and the value as inputs
        const auto g11 = graph_builder("pad").input("x", {-1, 2, 4, 5}).initializer("p", pads_init).initializer("v", {{}, {0.75f}})
                             .node("Pad", {"x", "p", "v"}, {"y"}, {{"mode", mode}}).output("y").build();
        check_op(g11, {x}, want, "Pad " + mode + " (inputs)");
        // opset < 11: attributes
        const auto g2 = graph_builder("pad").opset(2).input("x", {-1, 2, 4, 5})
                            .node("Pad", {"x"}, {"y"}, {{"mode", mode}, {"pads", pads}, {"value", 0.75f}}).output("y").build();
        check_op(g2, {x}, want, "Pad " + mode + " (attributes)");
    }
}

BOOST_AUTO_TEST_CASE(softmax_opset_semantics) {
    std::mt19937 rng(28);
    const dense_tensor x = random_tensor({2, 3, 4}, rng, -3.f, 3.f);
    // reference: softmax over groups of `len` elements spaced `inner` apart
    auto reference = [&](std::int64_t outer, std::int64_t len, std::int64_t inner) {
        dense_tensor y{x.shape, x.data};
        for (std::int64_t o = 0; o < outer; ++o)
            for (std::int64_t i = 0; i < inner; ++i) {
                double mx = -INFINITY, sum = 0;
                for (std::int64_t j = 0; j < len; ++j) mx = std::max(mx, double(x.data[std::size_t((o * len + j) * inner + i)]));
                for (std::int64_t j = 0; j < len; ++j) sum += std::exp(x.data[std::size_t((o * len + j) * inner + i)] - mx);
                for (std::int64_t j = 0; j < len; ++j)
                    y.data[std::size_t((o * len + j) * inner + i)] = static_cast<float>(std::exp(x.data[std::size_t((o * len + j) * inner + i)] - mx) / sum);
            }
        return y;
    };
    auto g = [&](std::int64_t opset, std::map<std::string, ferx::nn::attribute> attrs) {
        return graph_builder("softmax").opset(opset).input("x", {-1, 3, 4}).node("Softmax", {"x"}, {"y"}, attrs).output("y").build();
    };
    check_op(g(13, {}), {x}, reference(6, 4, 1), "Softmax opset 13 default axis -1");
    check_op(g(13, {{"axis", std::int64_t{1}}}), {x}, reference(2, 3, 4), "Softmax opset 13 axis 1");
    check_op(g(11, {}), {x}, reference(2, 12, 1), "Softmax opset 11 default axis 1 (2-D coercion)");
    check_op(g(11, {{"axis", std::int64_t{2}}}), {x}, reference(6, 4, 1), "Softmax opset 11 axis 2");
    check_op(g(11, {{"axis", std::int64_t{0}}}), {x}, reference(1, 24, 1), "Softmax opset 11 axis 0");
}

BOOST_AUTO_TEST_CASE(constant_node_becomes_an_initializer) {
    std::mt19937 rng(29);
    const dense_tensor x = random_tensor({2, 3}, rng), c = random_tensor({3}, rng);
    const auto g = graph_builder("const").input("x", {-1, 3}).node("Constant", {}, {"c"}, {{"value", c}})
                       .node("Add", {"x", "c"}, {"y"}).output("y").build();
    dense_tensor want{x.shape, {}};
    for (std::size_t i = 0; i < 6; ++i) want.data.push_back(x.data[i] + c.data[i % 3]);
    check_op(g, {x}, want, "Constant + Add");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(gemm_kernel)

// nn::gemm directly, on sizes with edges in both directions, big enough for par to split
// columns (wide) or rows (narrow): seq within 1e-5 of a double reference, par bit-identical.
BOOST_AUTO_TEST_CASE(equals_reference_and_par_equals_seq) {
    std::mt19937 rng(41);
    ferx::thread_pool pool(3);
    for_each_cpu_isa([&](const std::string& isa) {
    for (const auto& [m, n, k] : std::vector<std::array<std::int64_t, 3>>{{8, 3600, 72}, {37, 53, 129}, {131, 9, 301}, {3, 1000, 17}, {1, 1, 1}, {24, 70, 260}, {17, 33, 0}}) {
        const dense_tensor a = random_tensor({m, k}, rng), b = random_tensor({k, n}, rng);
        dense_tensor want{{m, n}, {}}, seq{{m, n}, std::vector<float>(std::size_t(m * n))}, par = seq;
        for (std::int64_t i = 0; i < m; ++i)
            for (std::int64_t j = 0; j < n; ++j) {
                double s = 0;
                for (std::int64_t p = 0; p < k; ++p) s += double(a.data[std::size_t(i * k + p)]) * b.data[std::size_t(p * n + j)];
                want.data.push_back(static_cast<float>(s));
            }
        ferx::nn::gemm(ferx::exec::seq, m, n, k, a.data.data(), k, b.data.data(), n, seq.data.data(), n);
        ferx::nn::gemm(ferx::exec::par.on(pool), m, n, k, a.data.data(), k, b.data.data(), n, par.data.data(), n);
        const std::string what = "gemm " + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k) + " " + isa;
        check_close(seq, want, 1e-5, what);
        check_identical(par, seq, what);
    }
    });
}

BOOST_AUTO_TEST_SUITE_END()
