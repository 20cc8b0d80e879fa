/// The cases of bench_temporal (CPU) and bench_temporal_cuda (device), one definition for both:
/// the LSTM / GRU layers, EfficientGCN-B0's files and the ST-GCN unit, each timed as one
/// session.run(policy, host input) after an untimed first run. See bench_temporal.cpp.
#pragma once

#include <ferx/core/execution.hpp>
#include <ferx/nn/builder.hpp>
#include <ferx/nn/graph_conv.hpp>
#include <ferx/nn/onnx.hpp>
#include <ferx/nn/session.hpp>

#include <benchmark/benchmark.h>

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace temporal_bench {

namespace fs = std::filesystem;

struct rnn_case {
    std::string name;
    std::int64_t hidden, steps, batch, input;
    bool bidirectional;
};

inline const std::vector<rnn_case>& rnn_cases() {
    static const std::vector<rnn_case> cases = {
        {"h108_t40_b1", 108, 40, 1, 128, false},
        {"h108_t40_b64", 108, 40, 64, 128, false},
        {"bi256_t300_b1", 256, 300, 1, 256, true},
    };
    return cases;
}

inline std::vector<float> random_values(std::size_t n, std::uint32_t seed, float scale = 1.f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.f, scale);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

inline ferx::nn::graph rnn_graph(const std::string& op, const rnn_case& c) {
    const std::int64_t gates = op == "LSTM" ? 4 : 3, d = c.bidirectional ? 2 : 1, gh = gates * c.hidden;
    const auto t = [](std::vector<std::int64_t> shape, std::uint32_t seed) {
        std::size_t n = 1;
        for (auto e : shape) n *= static_cast<std::size_t>(e);
        return ferx::nn::dense_tensor{shape, random_values(n, seed, 0.1f)};
    };
    return ferx::nn::graph_builder(op + "_" + c.name)
        .input("X", {c.steps, c.batch, c.input})
        .initializer("W", t({d, gh, c.input}, 1))
        .initializer("R", t({d, gh, c.hidden}, 2))
        .initializer("B", t({d, 2 * gh}, 3))
        .node(op, {"X", "W", "R", "B"}, {"Y", "Y_h"},
              {{"hidden_size", c.hidden}, {"direction", std::string(c.bidirectional ? "bidirectional" : "forward")}}, "rnn")
        .output("Y")
        .output("Y_h")
        .opset(14)
        .build();
}

inline void set_memory(benchmark::State& state, const ferx::nn::session& s, std::int64_t batch) {
    state.counters["sequences_per_s"] = benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
    const auto mem = s.memory();
    state.counters["weights_MB"] = double(mem.weights_bytes) / 1e6;
    state.counters["arena_MB"] = double(mem.arena_bytes) / 1e6;
    state.counters["scratch_MB"] = double(mem.scratch_bytes) / 1e6;
}

template <class Policy>
void ferx_rnn(benchmark::State& state, std::string op, rnn_case c, Policy policy) {
    ferx::nn::session s(rnn_graph(op, c));
    const auto x = random_values(static_cast<std::size_t>(c.steps * c.batch * c.input), 4);
    const std::vector<ferx::nn::tensor_ref> in = {{x.data(), {c.steps, c.batch, c.input}}};
    s.run(policy, in);
    for (auto _ : state) {
        auto out = s.run(policy, in);
        benchmark::DoNotOptimize(out[0].data);
    }
    set_memory(state, s, c.batch);
}

inline fs::path effgcn_file(bool plain) {
    return fs::path(FERX_BENCH_SHARED_DIR) / "models" / "efficientgcn" /
           (plain ? "effgcn_b0_ntu60_xsub_plain_dynbatch.onnx" : "effgcn_b0_ntu60_xsub_einsum_dynbatch.onnx");
}

template <class Policy>
void ferx_effgcn(benchmark::State& state, bool plain, std::int64_t batch, Policy policy) {
    const fs::path file = effgcn_file(plain);
    if (!fs::is_regular_file(file)) {
        state.SkipWithError(("model not found: " + file.string() + " (../shared absent)").c_str());
        return;
    }
    ferx::nn::session s(ferx::nn::load_onnx(file));
    const std::int64_t per = 3 * 6 * 288 * 25 * 2;
    const auto x = random_values(static_cast<std::size_t>(batch * per), 5, 0.3f);
    const std::vector<ferx::nn::tensor_ref> in = {{x.data(), {batch, 3, 6, 288, 25, 2}}};
    s.run(policy, in);
    for (auto _ : state) {
        auto out = s.run(policy, in);
        benchmark::DoNotOptimize(out[0].data);
    }
    set_memory(state, s, batch);
}

struct unit_case {
    std::string name;
    std::int64_t in_channels, out_channels, frames, batch;
    int stride;
};

inline const std::vector<unit_case>& unit_cases() {  // as bench_temporal_onnxruntime.py's UNIT_CASES
    static const std::vector<unit_case> cases = {
        {"c64_t300_b1", 64, 64, 300, 1, 1},
        {"c64_t300_b16", 64, 64, 300, 16, 1},
        {"c64to128_s2_t300_b1", 64, 128, 300, 1, 2},
    };
    return cases;
}

inline ferx::nn::batch_norm_weights random_bn(std::int64_t c, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(0.5f, 1.5f), v(-0.5f, 0.5f);
    ferx::nn::batch_norm_weights b;
    for (std::int64_t i = 0; i < c; ++i) {
        b.scale.push_back(u(rng));
        b.bias.push_back(v(rng));
        b.mean.push_back(v(rng));
        b.var.push_back(u(rng));
    }
    return b;
}

inline ferx::nn::graph unit_graph(const unit_case& c) {
    namespace fn = ferx::nn;
    fn::stgcn_unit u;
    u.adjacency = fn::graph_adjacency(fn::ntu25_layout(), fn::adjacency_params{});
    const auto K = static_cast<std::int64_t>(u.adjacency.shape()[0]);
    u.edge_importance = xt::ones<float>(u.adjacency.shape());
    u.in_channels = c.in_channels;
    u.out_channels = c.out_channels;
    u.temporal_kernel = 9;
    u.stride = c.stride;
    const auto t = [](std::vector<std::int64_t> shape, std::uint32_t seed, float scale) {
        std::size_t n = 1;
        for (auto e : shape) n *= static_cast<std::size_t>(e);
        return fn::dense_tensor{shape, random_values(n, seed, scale)};
    };
    const std::int64_t ci = c.in_channels, co = c.out_channels;
    auto& w = u.weights;
    w.spatial_weight = t({K * co, ci, 1, 1}, 11, 0.1f);
    w.spatial_bias = random_values(static_cast<std::size_t>(K * co), 12, 0.1f);
    w.spatial_bn = random_bn(co, 13);
    w.temporal_weight = t({co, co, 9, 1}, 14, 0.05f);
    w.temporal_bias = random_values(static_cast<std::size_t>(co), 15, 0.1f);
    w.temporal_bn = random_bn(co, 16);
    if (ci != co || c.stride != 1) {
        w.residual_weight = t({co, ci, 1, 1}, 17, 0.1f);
        w.residual_bias = random_values(static_cast<std::size_t>(co), 18, 0.1f);
        w.residual_bn = random_bn(co, 19);
    }
    return fn::stgcn_unit_graph(u, c.frames);
}

template <class Policy>
void ferx_stgcn_unit(benchmark::State& state, unit_case c, Policy policy) {
    ferx::nn::session s(unit_graph(c));
    const std::int64_t v = 25;
    const auto x = random_values(static_cast<std::size_t>(c.batch * c.in_channels * c.frames * v), 6);
    const std::vector<ferx::nn::tensor_ref> in = {{x.data(), {c.batch, c.in_channels, c.frames, v}}};
    s.run(policy, in);
    for (auto _ : state) {
        auto out = s.run(policy, in);
        benchmark::DoNotOptimize(out[0].data);
    }
    set_memory(state, s, c.batch);
}

}  // namespace temporal_bench
