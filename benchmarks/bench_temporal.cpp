// The temporal and graph networks through ferx's session, beside ONNX Runtime
// (benchmarks/bench_temporal_onnxruntime.py times the same cases, named <component>/onnxruntime/...):
//   lstm/<impl>/<case>     one LSTM layer (Y and Y_h): hidden 108 x 40 steps x batch 1 and 64
//                          (input 128, a CNN-LSTM head over per-frame CNN features), and
//                          bidirectional hidden 256 x 300 steps (input 256)
//   gru/<impl>/<case>      the same shapes as a GRU
//   effgcn/<impl>/<batch>  EfficientGCN-B0 (NTU-60) as written (Einsum form), batches 1 and 16
//   effgcn_plain/<impl>/1  the same network exported with basic ops only
//   stgcn_unit/<impl>/<case>  one ST-GCN unit built in C++ (ferx::nn::stgcn_unit_graph: graph
//                          conv on NTU-25's spatial partition, BN, ReLU, temporal conv 9 x 1,
//                          BN, residual, ReLU), random weights: 64 -> 64 channels (identity
//                          residual) x 300 frames at batches 1 and 16, and 64 -> 128 at
//                          stride 2 (conv residual) at batch 1
// impl: ferx_seq, ferx_par (the default pool). Counters: sequences_per_s, weights_MB, arena_MB,
// scratch_MB (memory per session).
#include <ferx/core/execution.hpp>
#include <ferx/core/thread_pool.hpp>
#include <ferx/nn/builder.hpp>
#include <ferx/nn/graph_conv.hpp>
#include <ferx/nn/onnx.hpp>
#include <ferx/nn/session.hpp>

#include <benchmark/benchmark.h>

#include "bench_common.hpp"
#include "bench_temporal_cases.hpp"

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace temporal_bench;

void register_all() {
    for (const std::string op : {"LSTM", "GRU"})
        for (const auto& c : rnn_cases()) {
            const std::string comp = op == "LSTM" ? "lstm" : "gru";
            benchmark::RegisterBenchmark((comp + "/ferx_seq/" + c.name).c_str(), ferx_rnn<ferx::exec::sequenced_policy>, op, c,
                                         ferx::exec::seq)
                ->Unit(benchmark::kMillisecond)->UseRealTime();
            benchmark::RegisterBenchmark((comp + "/ferx_par/" + c.name).c_str(), ferx_rnn<ferx::exec::parallel_policy>, op, c,
                                         ferx::exec::par)
                ->Unit(benchmark::kMillisecond)->UseRealTime();
        }
    for (std::int64_t batch : {1, 16}) {
        const std::string b = "/" + std::to_string(batch);
        benchmark::RegisterBenchmark(("effgcn/ferx_seq" + b).c_str(), ferx_effgcn<ferx::exec::sequenced_policy>, false, batch,
                                     ferx::exec::seq)
            ->Unit(benchmark::kMillisecond)->UseRealTime();
        benchmark::RegisterBenchmark(("effgcn/ferx_par" + b).c_str(), ferx_effgcn<ferx::exec::parallel_policy>, false, batch,
                                     ferx::exec::par)
            ->Unit(benchmark::kMillisecond)->UseRealTime();
    }
    benchmark::RegisterBenchmark("effgcn_plain/ferx_seq/1", ferx_effgcn<ferx::exec::sequenced_policy>, true, 1, ferx::exec::seq)
        ->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark("effgcn_plain/ferx_par/1", ferx_effgcn<ferx::exec::parallel_policy>, true, 1, ferx::exec::par)
        ->Unit(benchmark::kMillisecond)->UseRealTime();
    for (const auto& c : unit_cases()) {
        benchmark::RegisterBenchmark(("stgcn_unit/ferx_seq/" + c.name).c_str(), ferx_stgcn_unit<ferx::exec::sequenced_policy>, c,
                                     ferx::exec::seq)
            ->Unit(benchmark::kMillisecond)->UseRealTime();
        benchmark::RegisterBenchmark(("stgcn_unit/ferx_par/" + c.name).c_str(), ferx_stgcn_unit<ferx::exec::parallel_policy>, c,
                                     ferx::exec::par)
            ->Unit(benchmark::kMillisecond)->UseRealTime();
    }
}

}  // namespace

int main(int argc, char** argv) {
    register_all();
    return ferx_bench::run_registered(argc, argv);
}
