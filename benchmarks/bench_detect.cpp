// Detection-area benchmarks on the CPU: integral images, ferx (seq, par) beside cv::integral
// (one thread, and OpenCV's default threads). Run:
//   build/benchmarks/bench_detect --benchmark_filter=integral/ --benchmark_format=console
// Ratios: integral/ferx_seq/C vs integral/opencv_1thread/C, integral/ferx_par/C vs the same.
#include <ferx/core/opencv.hpp>
#include <ferx/detect/integral.hpp>

#include <benchmark/benchmark.h>
#include <opencv2/imgproc.hpp>

#include "bench_common.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace {

using ferx_bench::frame_case;

std::vector<cv::Mat> make_frames(const frame_case& c) {
    std::vector<cv::Mat> frames;
    cv::RNG rng(42);
    for (int i = 0; i < c.frames; ++i) {
        cv::Mat m(c.rows, c.cols, CV_8U);
        rng.fill(m, cv::RNG::UNIFORM, 0, 256);
        frames.push_back(m);
    }
    return frames;
}

/// OpenCV, with `threads` threads (1, or 0 for OpenCV's default).
template <int Sdepth, int SQdepth, bool Tilted>
void opencv_integral(benchmark::State& state, frame_case c, int threads) {
    const int previous = cv::getNumThreads();
    cv::setNumThreads(threads == 0 ? -1 : threads);
    auto frames = make_frames(c);
    std::vector<cv::Mat> sums(frames.size()), sq(frames.size()), tilt(frames.size());
    for (auto _ : state) {
        for (std::size_t i = 0; i < frames.size(); ++i) {
            if (SQdepth < 0)
                cv::integral(frames[i], sums[i], Sdepth);
            else if (!Tilted)
                cv::integral(frames[i], sums[i], sq[i], Sdepth, SQdepth);
            else
                cv::integral(frames[i], sums[i], sq[i], tilt[i], Sdepth, SQdepth);
        }
        benchmark::DoNotOptimize(sums.back().data);
        benchmark::ClobberMemory();
    }
    ferx_bench::set_integral_counters(state, c, CV_ELEM_SIZE(Sdepth));
    cv::setNumThreads(previous);
}

template <class S, class Q, bool SQ, bool Tilted, class Policy>
void ferx_integral(benchmark::State& state, frame_case c, Policy policy) {
    auto clip = ferx::to_volume<std::uint8_t>(make_frames(c));
    const std::size_t n = static_cast<std::size_t>(c.frames), h = static_cast<std::size_t>(c.rows) + 1,
                      w = static_cast<std::size_t>(c.cols) + 1;
    ferx::volume<S> sum({n, h, w}), tilted;
    ferx::volume<Q> sq;
    if (SQ) sq = ferx::volume<Q>({n, h, w});
    if (Tilted) tilted = ferx::volume<S>({n, h, w});
    const ferx::volume_view<const std::uint8_t> src = ferx::view(clip);
    for (auto _ : state) {
        ferx::integral(policy, src, ferx::view(sum), SQ ? ferx::view(sq) : ferx::volume_view<Q>{},
                       Tilted ? ferx::view(tilted) : ferx::volume_view<S>{});
        benchmark::DoNotOptimize(sum.data());
        benchmark::ClobberMemory();
    }
    ferx_bench::set_integral_counters(state, c, sizeof(S));
}

template <class S, int Sdepth, class Q, int SQdepth, bool Tilted>
void register_family(const std::string& component) {
    constexpr bool sq = SQdepth >= 0;
    for (const auto& c : ferx_bench::integral_cases()) {
        const std::string suffix = "/" + c.name;
        benchmark::RegisterBenchmark((component + "/ferx_seq" + suffix).c_str(),
                                     [c](benchmark::State& s) { ferx_integral<S, Q, sq, Tilted>(s, c, ferx::exec::seq); })
            ->Unit(benchmark::kMicrosecond)->UseRealTime();
        benchmark::RegisterBenchmark((component + "/ferx_par" + suffix).c_str(),
                                     [c](benchmark::State& s) { ferx_integral<S, Q, sq, Tilted>(s, c, ferx::exec::par); })
            ->Unit(benchmark::kMicrosecond)->UseRealTime();
        benchmark::RegisterBenchmark((component + "/opencv_1thread" + suffix).c_str(),
                                     [c](benchmark::State& s) { opencv_integral<Sdepth, SQdepth, Tilted>(s, c, 1); })
            ->Unit(benchmark::kMicrosecond)->UseRealTime();
        benchmark::RegisterBenchmark((component + "/opencv" + suffix).c_str(),
                                     [c](benchmark::State& s) { opencv_integral<Sdepth, SQdepth, Tilted>(s, c, 0); })
            ->Unit(benchmark::kMicrosecond)->UseRealTime();
    }
}

}  // namespace

int main(int argc, char** argv) {
    // integral: uint8 -> int32 sum (what cascades use); integral_f64: uint8 -> double sum;
    // integral_sqsum: int32 sum + double squared sum (variance normalisation);
    // integral_all: sum, squared sum and tilted sum (rotated Haar features).
    register_family<std::int32_t, CV_32S, double, -1, false>("integral");
    register_family<double, CV_64F, double, -1, false>("integral_f64");
    register_family<std::int32_t, CV_32S, double, CV_64F, false>("integral_sqsum");
    register_family<std::int32_t, CV_32S, double, CV_64F, true>("integral_all");
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
