// Appearance descriptors on a CUDA device: HOG, LBP and LPQ with ferx's cuda backend, on the
// cases of bench_features (crops already on the device; each iteration synchronises). Skips with
// a message where no device is present. Run:
//   build/release/benchmarks/bench_features_cuda
// Ratio: <d>/ferx_cuda/batch1024_48x48 vs <d>/ferx_par/batch1024_48x48 of bench_features.
#include <ferx/cuda/memory.cuh>
#include <ferx/features/hog.hpp>
#include <ferx/features/lbp.hpp>
#include <ferx/features/lpq.hpp>

#include <benchmark/benchmark.h>

#include "bench_common.hpp"

#include <string>
#include <vector>

namespace {

using ferx_bench::crop_case;

template <class Params>
void ferx_cuda_describe(benchmark::State& state, crop_case c, Params p) {
    if (!ferx::cuda::device_available()) {
        state.SkipWithError("no CUDA device present");
        return;
    }
    const auto px = ferx_bench::random_crop_pixels(c);
    const ferx::volume_view<const std::uint8_t> crops(px.data(), {c.crops, c.rows, c.cols});
    ferx::cuda::stream stream;
    const auto policy = stream.policy();
    const auto d_crops = ferx::cuda::to_device(policy, crops);
    ferx::cuda::device_image<float> d_out({c.crops, ferx::descriptor_length(p, c.rows, c.cols)});
    for (auto _ : state) {
        ferx::describe(policy, d_crops.cview(), p, d_out.view());  // enqueues only
        ferx::cuda::synchronize(policy);                           // the timed region ends when the results are ready
    }
    ferx_bench::set_descriptor_counters(state, c);
}

template <class Params>
void register_descriptor(const std::string& component, const Params& p) {
    for (const auto& c : ferx_bench::descriptor_cases())
        benchmark::RegisterBenchmark((component + "/ferx_cuda/" + c.name).c_str(),
                                     [c, p](benchmark::State& s) { ferx_cuda_describe(s, c, p); })
            ->Unit(benchmark::kMicrosecond)->UseRealTime();
}

}  // namespace

int main(int argc, char** argv) {
    register_descriptor("hog", ferx::hog_params<>{});
    register_descriptor("lbp", ferx::lbp_params<>{});
    register_descriptor("lpq", ferx::lpq_params{});
    return ferx_bench::run_registered(argc, argv);
}
