// Learn-area CUDA benchmarks: batched kernel C-SVC prediction of 10,000 samples on the device
// (svm/ferx_cuda/<case>/predict10000, beside svm/ferx_seq and svm/ferx_par of bench_learn), the
// model uploaded once outside the timed loop; the timed region includes the host -> device copy
// of the samples and the decision values' copy back (the stream is synchronised inside).
// Skipped without a CUDA device or without ../shared.
// Run: build/release/benchmarks/bench_learn_cuda --benchmark_filter=svm/

#include <ferx/learn/kernel_svm.hpp>

#include <benchmark/benchmark.h>

#include "learn_cases.hpp"

namespace {

using namespace learn_cases;

void ferx_cuda_predict(benchmark::State& state, std::string key) {
    if (!ferx::cuda::device_available()) {
        state.SkipWithError("no CUDA device present; skipped");
        return;
    }
    const auto* c = get_case(key);
    if (skip_absent(state, c)) return;
    const auto& m = rbf_model(c);
    ferx::cuda::stream stream;
    ferx::cuda::svm_predictor<ferx::rbf_kernel, float> predictor(stream.policy(), m);
    for (auto _ : state) {
        auto labels = predictor.predict(c->predict_set);
        benchmark::DoNotOptimize(labels.data());
    }
    state.SetItemsProcessed(state.iterations() * 10000);
    state.counters["support_vectors"] = double(m.n_support());
    state.counters["batch"] = double(predictor.max_batch());
}

const bool registered = [] {
    for (const auto& case_name : case_names()) {
        const std::string key = case_name.second;
        benchmark::RegisterBenchmark(("svm/ferx_cuda/" + case_name.first + "/predict10000").c_str(),
                                     [key](benchmark::State& s) { ferx_cuda_predict(s, key); })
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
    }
    return true;
}();

}  // namespace

BENCHMARK_MAIN();
