/// What every ferx benchmark shares: the image sizes and batch shapes (so CPU and GPU runs line
/// up) and the counters they report.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ferx_bench {

struct frame_case {
    std::string name;
    int frames, rows, cols;
};

/// integral/<impl>/<case>: single frames of video sizes, and a batch of face crops.
inline const std::vector<frame_case>& integral_cases() {
    static const std::vector<frame_case> cases = {
        {"640x480", 1, 480, 640},
        {"1920x1080", 1, 1080, 1920},
        {"3840x2160", 1, 2160, 3840},
        {"batch256_48x48", 256, 48, 48},
    };
    return cases;
}

/// Pixels per second, bytes per second (the source read and the (H+1) x (W+1) output written
/// once, `out_bytes` per element) and frames per second of an integral-image benchmark.
inline void set_integral_counters(benchmark::State& state, const frame_case& c, std::size_t out_bytes) {
    const double pixels = double(c.frames) * c.rows * c.cols;
    state.SetItemsProcessed(static_cast<std::int64_t>(double(state.iterations()) * pixels));
    state.SetBytesProcessed(static_cast<std::int64_t>(
        double(state.iterations()) * (pixels + double(c.frames) * (c.rows + 1) * (c.cols + 1) * out_bytes)));
    state.counters["frames_per_s"] =
        benchmark::Counter(double(c.frames), benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace ferx_bench

namespace ferx_bench {

/// <descriptor>/<impl>/<case> of the features benchmarks: one face crop, a batch of crops, a
/// VGA frame described as one window.
struct crop_case {
    std::string name;
    int crops, rows, cols;
};
inline const std::vector<crop_case>& descriptor_cases() {
    static const std::vector<crop_case> cases = {
        {"48x48", 1, 48, 48},
        {"batch1024_48x48", 1024, 48, 48},
        {"640x480", 1, 480, 640},
    };
    return cases;
}

/// crops_per_s (and pixels/s as items) of a descriptor benchmark.
inline void set_descriptor_counters(benchmark::State& state, const crop_case& c) {
    state.SetItemsProcessed(static_cast<std::int64_t>(double(state.iterations()) * c.crops * c.rows * c.cols));
    state.counters["crops_per_s"] = benchmark::Counter(double(c.crops), benchmark::Counter::kIsIterationInvariantRate);
}

/// <descriptor>/<impl>/<case> of the clip descriptors (bench_features, bench_features_cuda):
/// one CK+48-sized clip, the 327 clips of CK+48, 30 frames of VGA video.
struct clip_case {
    std::string name;
    int clips, frames, rows, cols;
};
inline const std::vector<clip_case>& clip_cases() {
    static const std::vector<clip_case> cases = {
        {"clip_3x48x48", 1, 3, 48, 48}, {"batch327_3x48x48", 327, 3, 48, 48}, {"video_30x480x640", 1, 30, 480, 640}};
    return cases;
}

/// clips_per_s and frames_per_s of a clip-descriptor benchmark.
inline void set_clip_counters(benchmark::State& state, const clip_case& c) {
    state.counters["clips_per_s"] = benchmark::Counter(double(c.clips), benchmark::Counter::kIsIterationInvariantRate);
    state.counters["frames_per_s"] = benchmark::Counter(double(c.clips) * c.frames, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace ferx_bench

#include <random>

namespace ferx_bench {

/// The pixels of c.crops random 8-bit crops of c.rows x c.cols, packed crop after crop; the same
/// in every run and in the CPU and GPU benchmarks.
inline std::vector<std::uint8_t> random_crop_pixels(const crop_case& c, std::uint32_t seed = 42) {
    std::vector<std::uint8_t> px(static_cast<std::size_t>(c.crops) * c.rows * c.cols);
    std::mt19937 rng(seed);
    for (auto& v : px) v = static_cast<std::uint8_t>(rng() >> 24);
    return px;
}

/// The main() of a benchmark executable whose benchmarks were registered at run time: parses
/// Google Benchmark's flags (refusing unknown ones), runs the selected benchmarks.
inline int run_registered(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

}  // namespace ferx_bench

namespace ferx_bench {

/// Counters of a cnn/ferx_*/<model>/<batch> benchmark after its timed runs of `s` (a
/// ferx::nn::session planned for `batch`): images_per_s; GFLOP/s achieved (the session's
/// flops(): 2 per multiply-add of its Conv / Gemm / MatMul steps) and MFLOP_per_image; memory
/// in MB: weights_MB, arena_MB, scratch_MB (host), and device_MB after exec::cuda runs.
template <class Session>
void set_cnn_session_counters(benchmark::State& state, const Session& s, int batch) {
    state.counters["images_per_s"] = benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
    const double flops = double(s.flops());
    state.counters["GFLOP/s"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["MFLOP_per_image"] = flops / 1e6 / double(batch);
    const auto mem = s.memory();
    state.counters["weights_MB"] = double(mem.weights_bytes) / 1e6;
    state.counters["arena_MB"] = double(mem.arena_bytes) / 1e6;
    state.counters["scratch_MB"] = double(mem.scratch_bytes) / 1e6;
    if (mem.device_bytes > 0) state.counters["device_MB"] = double(mem.device_bytes) / 1e6;
    if (mem.micro_batch > 0) {  // host runs of a large batch: passes of micro_batch images
        state.counters["micro_batch"] = double(mem.micro_batch);
        state.counters["results_MB"] = double(mem.results_bytes) / 1e6;
    }
}

}  // namespace ferx_bench
