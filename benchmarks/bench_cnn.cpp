// CNN inference benchmarks: the shipped mini-Xception networks (../shared/models/mini_xception,
// read at run time; skipped with a message where absent), ferx (importer + session) beside
// OpenCV 4.6 dnn on the same threads.
//   cnn/<impl>/<model>/<batch>
//   impl   ferx_seq, ferx_par (ferx's default pool: all cores), opencv_dnn (cv::setNumThreads to
//          the same count), opencv_dnn_1thread (the peer of ferx_seq)
//   model  mini_xception (fer2013_mini_XCEPTION.102-0.66.onnx), big_xception (fer2013_big_XCEPTION.54-0.66.onnx)
//   batch  1, 16, 256 images of 1x64x64 (random values in [-1, 1], the range of the preprocessing)
// Counters: images_per_s; ferx: GFLOP/s and MFLOP_per_image (session::flops(): 2 per multiply-add
// of the Conv / Gemm / MatMul steps); memory per session in MB: weights_MB, arena_MB, scratch_MB
// (ferx; arena and scratch for all threads), and for micro-batched runs micro_batch (images per
// pass) and results_MB (whole-batch outputs and inputs); and weights_MB, blobs_MB for OpenCV
// (its getMemoryConsumption for that input shape).
// ONNX Runtime is timed with the same names by bench_cnn_onnxruntime.py beside this file.
// Run: build/release/benchmarks/bench_cnn --benchmark_format=console
// Ratios: cnn/ferx_par/M/B vs cnn/opencv_dnn/M/B; cnn/ferx_seq/M/B vs cnn/opencv_dnn_1thread/M/B.
#include <ferx/core/execution.hpp>
#include <ferx/core/thread_pool.hpp>
#include <ferx/nn/onnx.hpp>
#include <ferx/nn/session.hpp>

#include <benchmark/benchmark.h>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include "bench_common.hpp"

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

const fs::path model_dir = fs::path(FERX_BENCH_SHARED_DIR) / "models" / "mini_xception";

struct cnn_model {
    std::string name;
    fs::path file;
};

const std::vector<cnn_model>& models() {
    static const std::vector<cnn_model> m = {
        {"mini_xception", model_dir / "fer2013_mini_XCEPTION.102-0.66.onnx"},
        {"big_xception", model_dir / "fer2013_big_XCEPTION.54-0.66.onnx"},
    };
    return m;
}

std::vector<float> random_batch(int batch) {
    std::vector<float> x(static_cast<std::size_t>(batch) * 64 * 64);
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    for (auto& v : x) v = u(rng);
    return x;
}

void set_rate(benchmark::State& state, int batch) {
    state.counters["images_per_s"] = benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
}

template <class Policy>
void ferx_cnn(benchmark::State& state, cnn_model m, int batch, Policy policy) {
    if (!fs::is_regular_file(m.file)) {
        state.SkipWithError(("model not found: " + m.file.string() + " (../shared absent)").c_str());
        return;
    }
    ferx::nn::session s(ferx::nn::load_onnx(m.file));
    const auto x = random_batch(batch);
    const std::vector<ferx::nn::tensor_ref> in = {{x.data(), {batch, 1, 64, 64}}};
    s.run(policy, in);  // plans the arena for this batch: the timed runs allocate nothing
    for (auto _ : state) {
        auto out = s.run(policy, in);
        benchmark::DoNotOptimize(out[0].data);
    }
    ferx_bench::set_cnn_session_counters(state, s, batch);
}

void opencv_cnn(benchmark::State& state, cnn_model m, int batch, int threads) {
    if (!fs::is_regular_file(m.file)) {
        state.SkipWithError(("model not found: " + m.file.string() + " (../shared absent)").c_str());
        return;
    }
    const int previous = cv::getNumThreads();
    cv::setNumThreads(threads);
    cv::dnn::Net net = cv::dnn::readNetFromONNX(m.file.string());
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    auto x = random_batch(batch);
    const int dims[] = {batch, 1, 64, 64};
    const cv::Mat blob(4, dims, CV_32F, x.data());
    net.setInput(blob);
    net.forward();  // allocates its blobs for this shape
    for (auto _ : state) {
        net.setInput(blob);
        cv::Mat out = net.forward();
        benchmark::DoNotOptimize(out.data);
    }
    set_rate(state, batch);
    std::size_t weights = 0, blobs = 0;
    net.getMemoryConsumption(cv::dnn::MatShape{batch, 1, 64, 64}, weights, blobs);
    state.counters["weights_MB"] = double(weights) / 1e6;
    state.counters["blobs_MB"] = double(blobs) / 1e6;
    cv::setNumThreads(previous);
}

void register_all() {
    const int threads = static_cast<int>(ferx::thread_pool::default_pool().size());
    for (const auto& m : models())
        for (int batch : {1, 16, 256}) {
            const std::string suffix = "/" + m.name + "/" + std::to_string(batch);
            // Large batches take seconds per run on one thread: fewer, but at least 3, repetitions.
            const double min_time = batch >= 256 ? 2.0 : 0.5;
            benchmark::RegisterBenchmark(("cnn/ferx_seq" + suffix).c_str(), ferx_cnn<ferx::exec::sequenced_policy>, m, batch,
                                         ferx::exec::seq)
                ->Unit(benchmark::kMillisecond)->MinTime(min_time)->UseRealTime();
            benchmark::RegisterBenchmark(("cnn/ferx_par" + suffix).c_str(), ferx_cnn<ferx::exec::parallel_policy>, m, batch,
                                         ferx::exec::par)
                ->Unit(benchmark::kMillisecond)->MinTime(min_time)->UseRealTime();
            benchmark::RegisterBenchmark(("cnn/opencv_dnn" + suffix).c_str(), opencv_cnn, m, batch, threads)
                ->Unit(benchmark::kMillisecond)->MinTime(min_time)->UseRealTime();
            benchmark::RegisterBenchmark(("cnn/opencv_dnn_1thread" + suffix).c_str(), opencv_cnn, m, batch, 1)
                ->Unit(benchmark::kMillisecond)->MinTime(min_time)->UseRealTime();
        }
}

}  // namespace

int main(int argc, char** argv) {
    register_all();
    return ferx_bench::run_registered(argc, argv);
}
