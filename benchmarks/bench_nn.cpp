// Per-op timings of the nn area: the convolutions of mini-Xception (batch 8) on ferx seq / par
// beside OpenCV dnn's Convolution layer (1 thread / all threads) fed the same weights, and the
// GEMM kernel beside OpenBLAS (through xtensor-blas, OpenBLAS's default threads) on the
// im2col-shaped products. Names: conv/<impl>/<case>, gemm/<impl>/<MxNxK>.
#include <ferx/core/linalg.hpp>
#include <ferx/nn/builder.hpp>
#include <ferx/nn/session.hpp>

#include <benchmark/benchmark.h>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include "bench_common.hpp"

#include <random>
#include <string>
#include <vector>

namespace {

struct conv_case {
    std::string name;
    int c, h, w, m, k, stride, pad, group;
};

// The convolution shapes of fer2013_mini_XCEPTION (64x64 input).
const std::vector<conv_case>& conv_cases() {
    static const std::vector<conv_case> cases = {
        {"conv1_1x64x64_8x3x3", 1, 64, 64, 8, 3, 1, 0, 1},
        {"conv2_8x62x62_8x3x3", 8, 62, 62, 8, 3, 1, 0, 1},
        {"dw_8x60x60_3x3", 8, 60, 60, 8, 3, 1, 1, 8},
        {"pw_8x60x60_16", 8, 60, 60, 16, 1, 1, 0, 1},
        {"shortcut_8x60x60_16_s2", 8, 60, 60, 16, 1, 2, 0, 1},
        {"dw_64x15x15_3x3", 64, 15, 15, 64, 3, 1, 1, 64},
        {"pw_64x15x15_128", 64, 15, 15, 128, 1, 1, 0, 1},
        {"conv7_128x4x4_7x3x3", 128, 4, 4, 7, 3, 1, 1, 1},
    };
    return cases;
}

constexpr int conv_batch = 8;

std::vector<float> random_values(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    std::vector<float> v(n);
    for (auto& x : v) x = u(rng);
    return v;
}

ferx::nn::graph conv_graph(const conv_case& c, const std::vector<float>& w, const std::vector<float>& b) {
    using ints = std::vector<std::int64_t>;
    return ferx::nn::graph_builder(c.name)
        .input("x", {-1, c.c, c.h, c.w})
        .initializer("w", {{c.m, c.c / c.group, c.k, c.k}, w})
        .initializer("b", {{c.m}, b})
        .node("Conv", {"x", "w", "b"}, {"y"},
              {{"strides", ints{c.stride, c.stride}}, {"pads", ints{c.pad, c.pad, c.pad, c.pad}}, {"group", std::int64_t{c.group}}})
        .output("y")
        .build();
}

void set_counters(benchmark::State& state, const conv_case& c) {
    const int oh = (c.h + 2 * c.pad - c.k) / c.stride + 1, ow = (c.w + 2 * c.pad - c.k) / c.stride + 1;
    const double flops = 2.0 * conv_batch * c.m * oh * ow * (c.c / c.group) * c.k * c.k;
    state.counters["GFLOPS"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["images_per_s"] = benchmark::Counter(conv_batch, benchmark::Counter::kIsIterationInvariantRate);
}

template <class Policy>
void bench_conv_ferx(benchmark::State& state, const conv_case& c, Policy policy) {
    const auto w = random_values(static_cast<std::size_t>(c.m * (c.c / c.group) * c.k * c.k), 1);
    const auto b = random_values(static_cast<std::size_t>(c.m), 2);
    const auto x = random_values(static_cast<std::size_t>(conv_batch * c.c * c.h * c.w), 3);
    ferx::nn::session s(conv_graph(c, w, b));
    const std::vector<ferx::nn::tensor_ref> in = {{x.data(), {conv_batch, c.c, c.h, c.w}}};
    for (auto _ : state) benchmark::DoNotOptimize(s.run(policy, in)[0].data);
    set_counters(state, c);
}

void bench_conv_opencv(benchmark::State& state, const conv_case& c, int threads) {
    const auto w = random_values(static_cast<std::size_t>(c.m * (c.c / c.group) * c.k * c.k), 1);
    const auto b = random_values(static_cast<std::size_t>(c.m), 2);
    auto x = random_values(static_cast<std::size_t>(conv_batch * c.c * c.h * c.w), 3);
    cv::dnn::LayerParams lp;
    lp.type = "Convolution";
    lp.name = c.name;
    lp.set("kernel_size", c.k);
    lp.set("stride", c.stride);
    lp.set("pad", c.pad);
    lp.set("num_output", c.m);
    lp.set("group", c.group);
    lp.set("bias_term", true);
    const int wshape[] = {c.m, c.c / c.group, c.k, c.k};
    lp.blobs.push_back(cv::Mat(4, wshape, CV_32F, const_cast<float*>(w.data())).clone());
    lp.blobs.push_back(cv::Mat(1, c.m, CV_32F, const_cast<float*>(b.data())).clone());
    cv::dnn::Net net;
    net.addLayerToPrev(lp.name, lp.type, lp);
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    const int xshape[] = {conv_batch, c.c, c.h, c.w};
    const cv::Mat blob(4, xshape, CV_32F, x.data());
    const int previous = cv::getNumThreads();
    cv::setNumThreads(threads);
    net.setInput(blob);
    net.forward();  // first call allocates and tunes
    for (auto _ : state) {
        net.setInput(blob);
        cv::Mat y = net.forward();
        benchmark::DoNotOptimize(y.data);
    }
    cv::setNumThreads(previous);
    set_counters(state, c);
}

// The products conv2d's im2col path makes for mini-Xception (M = out channels, N = pixels of a
// block, K = C*kh*kw) and a pointwise one.
struct gemm_case {
    std::int64_t m, n, k;
};
const std::vector<gemm_case> gemm_cases = {{8, 3600, 72}, {16, 3600, 8}, {128, 225, 64}, {128, 512, 1152}};

std::string gemm_name(const gemm_case& g) {
    return std::to_string(g.m) + "x" + std::to_string(g.n) + "x" + std::to_string(g.k);
}

void bench_gemm_ferx(benchmark::State& state, const gemm_case& g) {
    const auto a = random_values(static_cast<std::size_t>(g.m * g.k), 4), b = random_values(static_cast<std::size_t>(g.k * g.n), 5);
    std::vector<float> c(static_cast<std::size_t>(g.m * g.n));
    for (auto _ : state) {
        ferx::nn::gemm(ferx::exec::seq, g.m, g.n, g.k, a.data(), g.k, b.data(), g.n, c.data(), g.n);
        benchmark::DoNotOptimize(c.data());
    }
    state.counters["GFLOPS"] = benchmark::Counter(2e-9 * double(g.m * g.n * g.k), benchmark::Counter::kIsIterationInvariantRate);
}

void bench_gemm_openblas(benchmark::State& state, const gemm_case& g) {
    xt::xtensor<float, 2> a = xt::adapt(random_values(static_cast<std::size_t>(g.m * g.k), 4), {std::size_t(g.m), std::size_t(g.k)});
    xt::xtensor<float, 2> b = xt::adapt(random_values(static_cast<std::size_t>(g.k * g.n), 5), {std::size_t(g.k), std::size_t(g.n)});
    for (auto _ : state) {
        xt::xtensor<float, 2> c = xt::linalg::dot(a, b);
        benchmark::DoNotOptimize(c.data());
    }
    state.counters["GFLOPS"] = benchmark::Counter(2e-9 * double(g.m * g.n * g.k), benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

int main(int argc, char** argv) {
    for (const auto& c : conv_cases()) {
        benchmark::RegisterBenchmark(("conv/ferx_seq/" + c.name).c_str(), [c](benchmark::State& s) { bench_conv_ferx(s, c, ferx::exec::seq); })
            ->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark(("conv/ferx_par/" + c.name).c_str(), [c](benchmark::State& s) { bench_conv_ferx(s, c, ferx::exec::par); })
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
        benchmark::RegisterBenchmark(("conv/opencv_dnn_1thread/" + c.name).c_str(), [c](benchmark::State& s) { bench_conv_opencv(s, c, 1); })
            ->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark(("conv/opencv_dnn/" + c.name).c_str(), [c](benchmark::State& s) { bench_conv_opencv(s, c, -1); })
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
    }
    for (const auto& g : gemm_cases) {
        benchmark::RegisterBenchmark(("gemm/ferx_seq/" + gemm_name(g)).c_str(), [g](benchmark::State& s) { bench_gemm_ferx(s, g); })
            ->Unit(benchmark::kMicrosecond);
        benchmark::RegisterBenchmark(("gemm/openblas/" + gemm_name(g)).c_str(), [g](benchmark::State& s) { bench_gemm_openblas(s, g); })
            ->Unit(benchmark::kMicrosecond)
            ->UseRealTime();
    }
    return ferx_bench::run_registered(argc, argv);
}
