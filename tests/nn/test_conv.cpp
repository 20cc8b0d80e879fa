// Conv and the pools against plain reference loops written here (double accumulation), on
// random inputs over many shapes: asymmetric pads, strides, dilations, groups (depthwise,
// pointwise), auto_pad, ceil_mode, count_include_pad. par must equal seq bit for bit.
#include "nn_test.hpp"

#include <sstream>

namespace {

using namespace nn_test;
using ferx::nn::graph_builder;

struct conv_case {
    std::int64_t n, c, h, w, m, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, group;
    bool bias;
    std::string auto_pad = "NOTSET";
};

// ONNX Conv, literally: output extent floor((in + pads - dilated kernel) / stride) + 1, or
// ceil(in / stride) with SAME_* padding split as the spec says.
dense_tensor conv_reference(const conv_case& k, const dense_tensor& x, const dense_tensor& w, const dense_tensor* b) {
    std::int64_t pt = k.pt, pl = k.pl, pb = k.pb, pr = k.pr;
    auto same = [&](std::int64_t in, std::int64_t kk, std::int64_t s, std::int64_t d, std::int64_t& lo, std::int64_t& hi) {
        const std::int64_t out = (in + s - 1) / s;
        const std::int64_t total = std::max<std::int64_t>(0, (out - 1) * s + (kk - 1) * d + 1 - in);
        lo = k.auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
        hi = total - lo;
    };
    if (k.auto_pad == "VALID") pt = pl = pb = pr = 0;
    if (k.auto_pad.rfind("SAME", 0) == 0) {
        same(k.h, k.kh, k.sh, k.dh, pt, pb);
        same(k.w, k.kw, k.sw, k.dw, pl, pr);
    }
    const std::int64_t oh = (k.h + pt + pb - ((k.kh - 1) * k.dh + 1)) / k.sh + 1;
    const std::int64_t ow = (k.w + pl + pr - ((k.kw - 1) * k.dw + 1)) / k.sw + 1;
    dense_tensor y{{k.n, k.m, oh, ow}, std::vector<float>(static_cast<std::size_t>(k.n * k.m * oh * ow))};
    const std::int64_t cg = k.c / k.group, mg = k.m / k.group;
    for (std::int64_t n = 0; n < k.n; ++n)
        for (std::int64_t m = 0; m < k.m; ++m)
            for (std::int64_t oy = 0; oy < oh; ++oy)
                for (std::int64_t ox = 0; ox < ow; ++ox) {
                    double acc = b ? b->data[static_cast<std::size_t>(m)] : 0.0;
                    const std::int64_t g = m / mg;
                    for (std::int64_t ci = 0; ci < cg; ++ci)
                        for (std::int64_t ky = 0; ky < k.kh; ++ky)
                            for (std::int64_t kx = 0; kx < k.kw; ++kx) {
                                const std::int64_t iy = oy * k.sh - pt + ky * k.dh, ix = ox * k.sw - pl + kx * k.dw;
                                if (iy < 0 || iy >= k.h || ix < 0 || ix >= k.w) continue;
                                acc += double(x.data[static_cast<std::size_t>(((n * k.c + g * cg + ci) * k.h + iy) * k.w + ix)]) *
                                       double(w.data[static_cast<std::size_t>(((m * cg + ci) * k.kh + ky) * k.kw + kx)]);
                            }
                    y.data[static_cast<std::size_t>(((n * k.m + m) * oh + oy) * ow + ox)] = static_cast<float>(acc);
                }
    return y;
}

std::string describe(const conv_case& k) {
    std::ostringstream s;
    s << "conv n" << k.n << " c" << k.c << " " << k.h << "x" << k.w << " m" << k.m << " k" << k.kh << "x" << k.kw << " s" << k.sh
      << "," << k.sw << " d" << k.dh << "," << k.dw << " p" << k.pt << "," << k.pl << "," << k.pb << "," << k.pr << " g" << k.group
      << (k.bias ? " bias" : "") << " " << k.auto_pad;
    return s.str();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(conv)

BOOST_AUTO_TEST_CASE(equals_reference_over_many_shapes) {
    std::mt19937 rng(7);
    const std::vector<conv_case> cases = {
        {1, 1, 64, 64, 8, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1, false},        // mini-Xception conv2d_1
        {2, 8, 62, 62, 8, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1, true},
        {2, 8, 31, 31, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 8, false},        // depthwise
        {2, 16, 31, 31, 32, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true},       // pointwise
        {2, 16, 31, 31, 32, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1, false},      // strided 1x1 shortcut
        {1, 6, 17, 13, 4, 3, 5, 2, 1, 1, 1, 0, 2, 1, 0, 2, true},         // asymmetric pads, groups 2
        {1, 4, 20, 21, 6, 3, 3, 1, 2, 2, 3, 2, 3, 1, 0, 1, true},         // dilation
        {3, 5, 9, 11, 5, 5, 5, 3, 2, 1, 1, 2, 2, 2, 2, 5, true},          // depthwise 5x5 strided
        {1, 12, 10, 10, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3, false},       // grouped, 4 in / 2 out per group
        {1, 3, 15, 16, 7, 4, 4, 2, 3, 1, 1, 0, 0, 0, 0, 1, true, "SAME_UPPER"},
        {1, 3, 15, 16, 7, 4, 2, 2, 3, 1, 2, 0, 0, 0, 0, 1, false, "SAME_LOWER"},
        {2, 3, 8, 9, 2, 3, 3, 2, 2, 1, 1, 5, 5, 5, 5, 1, true, "VALID"},
        {1, 128, 4, 4, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true},         // mini-Xception conv2d_7
        {1, 2, 1, 1, 3, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, true},
        {1, 3, 5, 5, 2, 7, 7, 1, 1, 1, 1, 3, 3, 3, 3, 1, false},          // kernel larger than the input
    };
    for_each_cpu_isa([&](const std::string& isa) {
    for (const auto& k : cases) {
        const dense_tensor x = random_tensor({k.n, k.c, k.h, k.w}, rng);
        dense_tensor w = random_tensor({k.m, k.c / k.group, k.kh, k.kw}, rng);
        const dense_tensor b = random_tensor({k.m}, rng);
        graph_builder gb("conv");
        gb.input("x", {-1, k.c, k.h, k.w}).initializer("w", w);
        std::vector<std::string> ins = {"x", "w"};
        if (k.bias) {
            gb.initializer("b", b);
            ins.push_back("b");
        }
        std::map<std::string, ferx::nn::attribute> attrs = {{"kernel_shape", ints{k.kh, k.kw}}, {"strides", ints{k.sh, k.sw}},
                                                           {"dilations", ints{k.dh, k.dw}}, {"group", k.group}};
        if (k.auto_pad == "NOTSET") attrs["pads"] = ints{k.pt, k.pl, k.pb, k.pr};
        else attrs["auto_pad"] = k.auto_pad;
        gb.node("Conv", ins, {"y"}, attrs).output("y");
        check_op(gb.build(), {x}, conv_reference(k, x, w, k.bias ? &b : nullptr), describe(k) + " " + isa);
        // With a fused Relu (the session fuses it into the kernel's store).
        gb.node("Relu", {"y"}, {"r"}).output("r");
        auto g = gb.build();
        g.outputs = {{"r", {}}};
        dense_tensor want = conv_reference(k, x, w, k.bias ? &b : nullptr);
        for (auto& v : want.data) v = v < 0.f ? 0.f : v;
        check_op(g, {x}, want, describe(k) + " + Relu " + isa);
    }
    });
}

BOOST_AUTO_TEST_CASE(bad_geometry_is_an_error) {
    std::mt19937 rng(1);
    auto build = [&](std::int64_t c, std::int64_t group, ints wshape) {
        return graph_builder("bad")
            .input("x", {1, c, 8, 8})  // a declared batch: shapes are checked at construction
            .initializer("w", random_tensor(wshape, rng))
            .node("Conv", {"x", "w"}, {"y"}, {{"group", group}}, "the_conv")
            .output("y")
            .build();
    };
    BOOST_CHECK_THROW(ferx::nn::session(build(6, 4, {8, 1, 3, 3})), ferx::error);  // 6 channels, 4 groups
    BOOST_CHECK_THROW(ferx::nn::session(build(3, 1, {8, 2, 3, 3})), ferx::error);  // channel mismatch
    BOOST_CHECK_THROW(ferx::nn::session(build(3, 1, {8, 3, 9, 9})), ferx::error);  // kernel > input
    BOOST_CHECK_THROW(ferx::nn::session(build(3, 1, {8, 3, 3})), ferx::error);     // 1-D weights
    // With a dynamic batch the same fault is reported by the first run.
    auto dynamic = build(3, 1, {8, 2, 3, 3});
    dynamic.inputs[0].shape[0] = -1;
    ferx::nn::session s(dynamic);
    const std::vector<float> x(2 * 3 * 8 * 8, 0.f);
    BOOST_CHECK_THROW(s.run(ferx::exec::seq, {{x.data(), {2, 3, 8, 8}}}), ferx::error);
    try {
        ferx::nn::session s(build(3, 1, {8, 2, 3, 3}));
    } catch (const ferx::error& e) {
        BOOST_TEST(std::string(e.what()).find("the_conv") != std::string::npos, e.what());
    }
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

struct pool_case {
    std::int64_t n, c, h, w, kh, kw, sh, sw, pt, pl, pb, pr;
    bool ceil_mode, count_include_pad;
    std::int64_t dh = 1, dw = 1;
};

// ONNX MaxPool / AveragePool, literally: output extent with floor or ceil, the last window
// starting inside the input or its begin padding; padded taps ignored by max, counted by the
// average when count_include_pad (only those inside the padded input).
dense_tensor pool_reference(bool is_max, const pool_case& k, const dense_tensor& x) {
    auto extent = [&](std::int64_t in, std::int64_t kk, std::int64_t s, std::int64_t d, std::int64_t lo, std::int64_t hi) {
        const double q = double(in + lo + hi - ((kk - 1) * d + 1)) / double(s);
        std::int64_t out = static_cast<std::int64_t>(k.ceil_mode ? std::ceil(q) : std::floor(q)) + 1;
        if (k.ceil_mode && (out - 1) * s >= in + lo) --out;
        return out;
    };
    const std::int64_t oh = extent(k.h, k.kh, k.sh, k.dh, k.pt, k.pb), ow = extent(k.w, k.kw, k.sw, k.dw, k.pl, k.pr);
    dense_tensor y{{k.n, k.c, oh, ow}, {}};
    for (std::int64_t p = 0; p < k.n * k.c; ++p)
        for (std::int64_t oy = 0; oy < oh; ++oy)
            for (std::int64_t ox = 0; ox < ow; ++ox) {
                double best = -INFINITY, sum = 0;
                int inside = 0, padded = 0;
                for (std::int64_t ky = 0; ky < k.kh; ++ky)
                    for (std::int64_t kx = 0; kx < k.kw; ++kx) {
                        const std::int64_t iy = oy * k.sh - k.pt + ky * k.dh, ix = ox * k.sw - k.pl + kx * k.dw;
                        if (iy >= k.h + k.pb || ix >= k.w + k.pr) continue;
                        ++padded;
                        if (iy < 0 || iy >= k.h || ix < 0 || ix >= k.w) continue;
                        const double v = x.data[static_cast<std::size_t>((p * k.h + iy) * k.w + ix)];
                        ++inside;
                        sum += v;
                        best = std::max(best, v);
                    }
                y.data.push_back(static_cast<float>(is_max ? best : sum / (k.count_include_pad ? padded : inside)));
            }
    return y;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pool)

BOOST_AUTO_TEST_CASE(max_and_average_equal_reference) {
    std::mt19937 rng(11);
    const std::vector<pool_case> cases = {
        {1, 16, 62, 62, 3, 3, 2, 2, 0, 0, 1, 1, false, false},  // mini-Xception max_pooling2d_1
        {2, 64, 8, 8, 3, 3, 2, 2, 1, 1, 1, 1, false, false},
        {2, 3, 7, 9, 2, 2, 2, 2, 0, 0, 0, 0, false, false},
        {1, 4, 7, 9, 3, 2, 2, 2, 1, 0, 1, 1, true, false},
        {1, 4, 7, 9, 3, 2, 2, 2, 1, 0, 1, 1, true, true},
        {2, 2, 10, 6, 3, 3, 1, 1, 1, 1, 1, 1, false, true},
        {1, 2, 6, 6, 3, 3, 3, 3, 0, 0, 0, 0, true, false},
        {1, 3, 12, 11, 2, 3, 1, 2, 0, 1, 1, 0, false, false, 2, 2},  // dilated
    };
    for_each_cpu_isa([&](const std::string& isa) {
    for (const auto& k : cases)
        for (bool is_max : {true, false}) {
            const dense_tensor x = random_tensor({k.n, k.c, k.h, k.w}, rng);
            std::map<std::string, ferx::nn::attribute> attrs = {
                {"kernel_shape", ints{k.kh, k.kw}}, {"strides", ints{k.sh, k.sw}}, {"pads", ints{k.pt, k.pl, k.pb, k.pr}},
                {"ceil_mode", std::int64_t{k.ceil_mode}}, {"dilations", ints{k.dh, k.dw}}};
            if (!is_max) attrs["count_include_pad"] = std::int64_t{k.count_include_pad};
            const auto g = graph_builder("pool").input("x", {-1, k.c, k.h, k.w}).node(is_max ? "MaxPool" : "AveragePool", {"x"}, {"y"}, attrs).output("y").build();
            std::ostringstream what;
            what << (is_max ? "MaxPool " : "AveragePool ") << k.h << "x" << k.w << " k" << k.kh << "x" << k.kw << " s" << k.sh << ","
                 << k.sw << " p" << k.pt << k.pl << k.pb << k.pr << " ceil " << k.ceil_mode << " cip " << k.count_include_pad
                 << " " << isa;
            check_op(g, {x}, pool_reference(is_max, k, x), what.str());
        }
    });
}

BOOST_AUTO_TEST_CASE(auto_pad_same_upper) {
    std::mt19937 rng(12);
    const dense_tensor x = random_tensor({1, 2, 7, 8}, rng);
    const auto g = graph_builder("pool").input("x", {-1, 2, 7, 8})
                       .node("MaxPool", {"x"}, {"y"}, {{"kernel_shape", ints{3, 3}}, {"strides", ints{2, 2}}, {"auto_pad", std::string("SAME_UPPER")}})
                       .output("y").build();
    // out = ceil(7/2) x ceil(8/2) = 4 x 4; total pads 2 and 1: (1,1) rows, (0,1) columns.
    check_op(g, {x}, pool_reference(true, {1, 2, 7, 8, 3, 3, 2, 2, 1, 0, 1, 1, false, false}, x), "MaxPool SAME_UPPER");
}

BOOST_AUTO_TEST_CASE(global_average_pool_equals_mean) {
    std::mt19937 rng(13);
    const dense_tensor x = random_tensor({3, 5, 6, 7}, rng);
    dense_tensor want{{3, 5, 1, 1}, {}};
    for (std::size_t p = 0; p < 15; ++p) {
        double s = 0;
        for (std::size_t i = 0; i < 42; ++i) s += x.data[p * 42 + i];
        want.data.push_back(static_cast<float>(s / 42));
    }
    const auto g = graph_builder("gap").input("x", {-1, 5, 6, 7}).node("GlobalAveragePool", {"x"}, {"y"}).output("y").build();
    check_op(g, {x}, want, "GlobalAveragePool");
}

BOOST_AUTO_TEST_SUITE_END()
