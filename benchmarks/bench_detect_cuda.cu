// Detection-area benchmarks on a CUDA device: integral images with ferx's cuda backend, beside a
// device-to-device copy of the same bytes (the bandwidth reference: ratio = integral bytes/s over
// copy bytes/s); face detection detect/ferx_cuda/<case> and detect_lbp/ferx_cuda/<case> (the
// cases of bench_detect: compare with detect/opencv/<case> there; frames are uploaded once,
// outside the timed loop, and every iteration ends with the detections on the host).
// Skips with a message where no device is present. Run:
//   build/benchmarks/bench_detect_cuda --benchmark_filter=integral
//   build/benchmarks/bench_detect_cuda --benchmark_filter=detect
#include <ferx/core/opencv.hpp>
#include <ferx/cuda/memory.cuh>
#include <ferx/detect/detect_multiscale.hpp>
#include <ferx/detect/integral.hpp>

#include <benchmark/benchmark.h>

#include "bench_common.hpp"
#include "bench_detect_frames.hpp"

#include <cstdint>
#include <string>

namespace {

using ferx_bench::frame_case;

template <class S, bool SQ, bool Tilted>
void ferx_cuda_integral(benchmark::State& state, frame_case c) {
    if (!ferx::cuda::device_available()) {
        state.SkipWithError("no CUDA device present");
        return;
    }
    ferx::cuda::stream stream;
    const auto policy = stream.policy();
    ferx::cuda::device_volume<std::uint8_t> src({c.frames, c.rows, c.cols});
    ferx::cuda::check(cudaMemset(src.view().data(), 7, src.bytes()), "bench", "cudaMemset");
    ferx::cuda::device_volume<S> sum({c.frames, c.rows + 1, c.cols + 1});
    ferx::cuda::device_volume<double> sq;
    ferx::cuda::device_volume<S> tilted;
    if (SQ) sq = ferx::cuda::device_volume<double>({c.frames, c.rows + 1, c.cols + 1});
    if (Tilted) tilted = ferx::cuda::device_volume<S>({c.frames, c.rows + 1, c.cols + 1});
    for (auto _ : state) {
        ferx::integral(policy, src.cview(), sum.view(), sq.view(), tilted.view());
        stream.synchronize();  // inside the timed region
    }
    ferx_bench::set_integral_counters(state, c, sizeof(S));
}

/// cudaMemcpyAsync device-to-device of (source + output) bytes / 2 each way: the same traffic.
void d2d_copy(benchmark::State& state, frame_case c, std::size_t out_bytes) {
    if (!ferx::cuda::device_available()) {
        state.SkipWithError("no CUDA device present");
        return;
    }
    ferx::cuda::stream stream;
    const std::size_t bytes = (std::size_t(c.frames) * c.rows * c.cols +
                               std::size_t(c.frames) * (c.rows + 1) * (c.cols + 1) * out_bytes) / 2;
    ferx::cuda::device_buffer<std::uint8_t> a(bytes), b(bytes);
    for (auto _ : state) {
        ferx::cuda::check(cudaMemcpyAsync(b.data(), a.data(), bytes, cudaMemcpyDeviceToDevice, stream), "bench",
                          "cudaMemcpyAsync");
        stream.synchronize();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * 2 * bytes));
}

void ferx_cuda_detect(benchmark::State& state, const ferx_bench::detect_case& c, const std::string& cascade_file) {
    if (!ferx::cuda::device_available()) {
        state.SkipWithError("no CUDA device present");
        return;
    }
    if (c.frames.empty()) {
        state.SkipWithError(c.missing.c_str());
        return;
    }
    const ferx::cascade model = ferx::load_cascade(ferx_bench::opencv_data_dir() + cascade_file);
    ferx::cuda::stream stream;
    const auto policy = stream.policy();
    const auto frames = ferx::cuda::to_device(policy, ferx::to_volume<std::uint8_t>(c.frames));
    // The detector is resident (model, tables and level buffers on the device): built once, as a
    // video loop would; each iteration scans the batch and brings the detections back.
    ferx::cuda::cascade_detector detector(policy, model, frames.shape(1), frames.shape(2), {});
    std::size_t found = 0;
    for (auto _ : state) {
        found = 0;
        for (const auto& d : detector.detect(frames.cview())) found += d.size();
        benchmark::DoNotOptimize(found);
    }
    state.counters["faces"] = static_cast<double>(found);
    state.counters["frames_per_s"] =
        benchmark::Counter(static_cast<double>(c.frames.size()), benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

int main(int argc, char** argv) {
    for (const auto& c : ferx_bench::detect_cases()) {
        const ferx_bench::detect_case* cp = &c;
        benchmark::RegisterBenchmark(("detect/ferx_cuda/" + c.name).c_str(),
                                     [cp](benchmark::State& s) {
                                         ferx_cuda_detect(s, *cp, "haarcascades/haarcascade_frontalface_default.xml");
                                     })
            ->Unit(benchmark::kMillisecond)->UseRealTime();
        benchmark::RegisterBenchmark(("detect_lbp/ferx_cuda/" + c.name).c_str(),
                                     [cp](benchmark::State& s) {
                                         ferx_cuda_detect(s, *cp, "lbpcascades/lbpcascade_frontalface_improved.xml");
                                     })
            ->Unit(benchmark::kMillisecond)->UseRealTime();
    }
    for (const auto& c : ferx_bench::integral_cases()) {
        const std::string suffix = "/" + c.name;
        benchmark::RegisterBenchmark(("integral/ferx_cuda" + suffix).c_str(),
                                     [c](benchmark::State& s) { ferx_cuda_integral<std::int32_t, false, false>(s, c); })
            ->Unit(benchmark::kMicrosecond)->UseRealTime();
        benchmark::RegisterBenchmark(("integral/cuda_d2d_copy" + suffix).c_str(),
                                     [c](benchmark::State& s) { d2d_copy(s, c, sizeof(std::int32_t)); })
            ->Unit(benchmark::kMicrosecond)->UseRealTime();
        benchmark::RegisterBenchmark(("integral_f64/ferx_cuda" + suffix).c_str(),
                                     [c](benchmark::State& s) { ferx_cuda_integral<double, false, false>(s, c); })
            ->Unit(benchmark::kMicrosecond)->UseRealTime();
        benchmark::RegisterBenchmark(("integral_sqsum/ferx_cuda" + suffix).c_str(),
                                     [c](benchmark::State& s) { ferx_cuda_integral<std::int32_t, true, false>(s, c); })
            ->Unit(benchmark::kMicrosecond)->UseRealTime();
        benchmark::RegisterBenchmark(("integral_all/ferx_cuda" + suffix).c_str(),
                                     [c](benchmark::State& s) { ferx_cuda_integral<std::int32_t, true, true>(s, c); })
            ->Unit(benchmark::kMicrosecond)->UseRealTime();
    }
    return ferx_bench::run_registered(argc, argv);
}
