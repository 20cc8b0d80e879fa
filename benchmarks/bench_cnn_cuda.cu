// CNN inference on a CUDA device: the shipped mini-Xception networks run by a ferx session with
// exec::cuda, beside bench_cnn's CPU figures (same names, models, batches and input):
//   cnn/<impl>/<model>/<batch>, impl ferx_cuda (float32) | ferx_cuda_fp16
//   (session_options::precision = fp16: half storage, cuBLAS with fp32 accumulation),
//   model mini_xception | big_xception, batch 1 | 16 | 256.
// The timed region is one session.run(exec::cuda, host batch): the host -> device copy of the
// float32 input (and its conversion to half), every layer, the copy back of the scores, and the
// stream synchronisation that the returned host views imply. Weights are uploaded by an untimed
// first run.
// Counters: images_per_s; GFLOP/s achieved and MFLOP_per_image (session::flops(): 2 per
// multiply-add of the Conv / Gemm / MatMul steps; compare GFLOP/s with the device's peak: the
// context line cuda_device names it); host-side memory of the session (weights_MB, arena_MB,
// scratch_MB) and device_MB (weights, arena, scratch and staging on the device).
// Skipped without a device or without ../shared.
// Run: build/release/benchmarks/bench_cnn_cuda --benchmark_format=console
#include <ferx/core/execution.hpp>
#include <ferx/cuda/runtime.cuh>
#include <ferx/nn/onnx.hpp>
#include <ferx/nn/session.hpp>

#include <benchmark/benchmark.h>

#include "bench_common.hpp"
#include "cuda_context.cuh"

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct cnn_model {
    std::string name;
    fs::path file;
};

std::vector<cnn_model> models() {
    const fs::path dir = fs::path(FERX_BENCH_SHARED_DIR) / "models" / "mini_xception";
    return {{"mini_xception", dir / "fer2013_mini_XCEPTION.102-0.66.onnx"},
            {"big_xception", dir / "fer2013_big_XCEPTION.54-0.66.onnx"}};
}

void ferx_cuda_cnn(benchmark::State& state, cnn_model m, int batch, ferx::nn::precision precision) {
    if (!ferx::cuda::device_available()) {
        state.SkipWithError("no CUDA device present; skipped");
        return;
    }
    if (!fs::is_regular_file(m.file)) {
        state.SkipWithError(("model not found: " + m.file.string() + " (../shared absent)").c_str());
        return;
    }
    ferx::nn::session_options options;
    options.precision = precision;
    ferx::nn::session s(ferx::nn::load_onnx(m.file), options);
    std::vector<float> x(static_cast<std::size_t>(batch) * 64 * 64);  // as bench_cnn: seed 42, [-1, 1]
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    for (auto& v : x) v = u(rng);
    const std::vector<ferx::nn::tensor_ref> in = {{x.data(), {batch, 1, 64, 64}}};
    s.run(ferx::exec::cuda, in);  // uploads the weights, plans the device arena
    for (auto _ : state) {
        auto out = s.run(ferx::exec::cuda, in);  // returns host views: synchronised
        benchmark::DoNotOptimize(out[0].data);
    }
    ferx_bench::set_cnn_session_counters(state, s, batch);
}

}  // namespace

int main(int argc, char** argv) {
    ferx_bench::add_cuda_device_context();
    const std::vector<std::pair<std::string, ferx::nn::precision>> impls = {{"ferx_cuda", ferx::nn::precision::fp32},
                                                                             {"ferx_cuda_fp16", ferx::nn::precision::fp16}};
    for (const auto& m : models())
        for (int batch : {1, 16, 256})
            for (const auto& [impl, precision] : impls)
                benchmark::RegisterBenchmark(("cnn/" + impl + "/" + m.name + "/" + std::to_string(batch)).c_str(), ferx_cuda_cnn, m,
                                             batch, precision)
                    ->Unit(benchmark::kMillisecond)
                    ->UseRealTime()
                    ->MinTime(0.5);
    return ferx_bench::run_registered(argc, argv);
}
