// Appearance descriptors on a CUDA device: HOG, LBP and LPQ, and the clip descriptors LBP-TOP,
// VLPQ and LPQ-TOP, with ferx's cuda backend, on the cases of bench_features (crops and clips
// already on the device, the same random pixels; each iteration synchronises). Skips with a
// message where no device is present. Run:
//   build/release/benchmarks/bench_features_cuda
// Ratio: <d>/ferx_cuda/batch1024_48x48 vs <d>/ferx_par/batch1024_48x48 of bench_features, and
// <clip d>/ferx_cuda/<case> vs <clip d>/ferx_par/<case> (clip_3x48x48, batch327_3x48x48,
// video_30x480x640).
#include <ferx/cuda/memory.cuh>
#include <ferx/features/hog.hpp>
#include <ferx/features/lbp.hpp>
#include <ferx/features/lbp_top.hpp>
#include <ferx/features/lpq.hpp>
#include <ferx/features/lpq_top.hpp>
#include <ferx/features/vlpq.hpp>

#include <benchmark/benchmark.h>

#include "bench_common.hpp"

#include <array>
#include <cstdint>
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

using ferx_bench::clip_case;
using ferx_bench::clip_cases;

template <class Params>
void ferx_cuda_describe_clips(benchmark::State& state, clip_case c, Params p) {
    if (!ferx::cuda::device_available()) {
        state.SkipWithError("no CUDA device present");
        return;
    }
    // bench_features' pixels: clips * frames random crops
    const auto px = ferx_bench::random_crop_pixels({c.name, c.clips * c.frames, c.rows, c.cols});
    const ferx::batch_view<const std::uint8_t> clips(px.data(), {c.clips, c.frames, c.rows, c.cols});
    ferx::cuda::stream stream;
    const auto policy = stream.policy();
    const auto d_clips = ferx::cuda::to_device(policy, clips);
    ferx::cuda::device_image<float> d_out({c.clips, ferx::clip_descriptor_length(p, c.frames, c.rows, c.cols)});
    for (auto _ : state) {
        ferx::describe(policy, d_clips.cview(), p, d_out.view());  // enqueues only
        ferx::cuda::synchronize(policy);                           // the timed region ends when the results are ready
    }
    ferx_bench::set_clip_counters(state, c);
}

template <class Params>
void register_clip_descriptor(const std::string& component, const Params& p) {
    for (const auto& c : clip_cases())
        benchmark::RegisterBenchmark((component + "/ferx_cuda/" + c.name).c_str(),
                                     [c, p](benchmark::State& s) { ferx_cuda_describe_clips(s, c, p); })
            ->Unit(benchmark::kMicrosecond)->UseRealTime();
}

}  // namespace

int main(int argc, char** argv) {
    register_descriptor("hog", ferx::hog_params<>{});
    register_descriptor("lbp", ferx::lbp_params<>{});
    register_descriptor("lpq", ferx::lpq_params{});
    register_clip_descriptor("lbp_top", ferx::lbp_top_params<>{});  // LBP-TOP(8,8,8; 1,1,1), u2, 4x4x1 blocks
    register_clip_descriptor("vlpq", ferx::vlpq_params{});           // 3x3x3 window, L = 10, one block
    {
        ferx::lpq_top_params p;  // windows 5 (XY) and 3 (XT, YT: 3-frame clips), 4x4x1 blocks
        p.window_xt = p.window_yt = 3;
        register_clip_descriptor("lpq_top", p);
    }
    return ferx_bench::run_registered(argc, argv);
}
