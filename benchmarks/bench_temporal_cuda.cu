// The temporal and graph networks on a CUDA device: bench_temporal's cases (same names, shapes,
// weights and inputs; benchmarks/bench_temporal_cases.hpp) run by a ferx session with exec::cuda:
//   lstm/ferx_cuda/<case>, gru/ferx_cuda/<case>   the recurrent layers (CUDA kernels, float32)
//   effgcn/ferx_cuda/<batch>, effgcn_plain/ferx_cuda/1   EfficientGCN-B0 (its Einsum, Reduce,
//                          Slice and 3-D Conv steps run by the host fallback inside the cuda run)
//   stgcn_unit/ferx_cuda/<case>   the ST-GCN unit (its Einsum by the host fallback)
// The timed region is one session.run(exec::cuda, host input): the copy in, every step, the copy
// of the outputs back and the synchronisation the returned host views imply. Weights are
// uploaded by an untimed first run. Skipped without a device (and effgcn without ../shared).
// Run: build/release/benchmarks/bench_temporal_cuda --benchmark_format=console
#include <ferx/core/execution.hpp>
#include <ferx/cuda/runtime.cuh>
#include <ferx/nn/session.hpp>

#include <benchmark/benchmark.h>

#include "bench_common.hpp"
#include "cuda_context.cuh"
#include "bench_temporal_cases.hpp"

#include <cstdint>
#include <string>

namespace {

using namespace temporal_bench;

/// Registers `name`, which runs `body(state)` where a device is present and skips elsewhere.
template <class F>
void register_on_device(const std::string& name, F body) {
    benchmark::RegisterBenchmark(name.c_str(), [body](benchmark::State& state) {
        if (!ferx::cuda::device_available()) {
            state.SkipWithError("no CUDA device present; skipped");
            return;
        }
        body(state);
    })->Unit(benchmark::kMillisecond)->UseRealTime();
}

}  // namespace

int main(int argc, char** argv) {
    ferx_bench::add_cuda_device_context();
    for (const std::string op : {"LSTM", "GRU"})
        for (const auto& c : rnn_cases())
            register_on_device((op == "LSTM" ? "lstm" : "gru") + std::string("/ferx_cuda/") + c.name,
                               [op, c](benchmark::State& s) { ferx_rnn(s, op, c, ferx::exec::cuda); });
    for (std::int64_t batch : {1, 16})
        register_on_device("effgcn/ferx_cuda/" + std::to_string(batch),
                           [batch](benchmark::State& s) { ferx_effgcn(s, false, batch, ferx::exec::cuda); });
    register_on_device("effgcn_plain/ferx_cuda/1", [](benchmark::State& s) { ferx_effgcn(s, true, 1, ferx::exec::cuda); });
    for (const auto& c : unit_cases())
        register_on_device("stgcn_unit/ferx_cuda/" + c.name, [c](benchmark::State& s) { ferx_stgcn_unit(s, c, ferx::exec::cuda); });
    return ferx_bench::run_registered(argc, argv);
}
