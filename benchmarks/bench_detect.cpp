// Detection-area benchmarks on the CPU, ferx (seq, par) beside OpenCV (one thread, and its
// default threads):
//  - integral images vs cv::integral;
//  - face detection vs cv::CascadeClassifier::detectMultiScale (scale 1.1, min neighbours 3):
//    detect/<impl>/<case> with haarcascade_frontalface_default, detect_lbp/<impl>/<case> with
//    lbpcascade_frontalface_improved; cases 640x480 and 1920x1080 frames tiled from the
//    photographs of ../shared/data/faces, and batch64_video (64 frames of Megamind.avi, 720x528).
//    Counter frames_per_s. Skips with a message where the data is absent.
// Run:
//   build/benchmarks/bench_detect --benchmark_filter=integral/ --benchmark_format=console
//   build/benchmarks/bench_detect --benchmark_filter='detect' --benchmark_min_time=2
// Ratios: <c>/ferx_seq/C vs <c>/opencv_1thread/C, <c>/ferx_par/C vs <c>/opencv/C.
#include <ferx/core/opencv.hpp>
#include <ferx/detect/detect_multiscale.hpp>
#include <ferx/detect/integral.hpp>

#include <benchmark/benchmark.h>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>
#include <opencv2/videoio.hpp>

#include "bench_common.hpp"
#include "bench_detect_frames.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
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

// ---- face detection ----------------------------------------------------------------------

using ferx_bench::detect_case;
using ferx_bench::detect_cases;

const std::string cascade_dir = "/usr/share/opencv4/";

template <class Policy>
void ferx_detect(benchmark::State& state, const detect_case& c, const std::string& cascade_file, const Policy& policy) {
    if (c.frames.empty()) {
        state.SkipWithError(c.missing.c_str());
        return;
    }
    const ferx::cascade model = ferx::load_cascade(cascade_dir + cascade_file);
    std::vector<ferx::image_view<const std::uint8_t>> views;
    for (const auto& f : c.frames) views.push_back(ferx::view<std::uint8_t>(f));
    std::size_t found = 0;
    for (auto _ : state) {
        found = 0;
        if (views.size() == 1) {
            found = ferx::detect_multiscale(policy, model, views[0], {}).size();
        } else {
            for (const auto& d : ferx::detect_multiscale_batch(policy, model, views, {})) found += d.size();
        }
        benchmark::DoNotOptimize(found);
    }
    state.counters["faces"] = static_cast<double>(found);
    state.counters["frames_per_s"] =
        benchmark::Counter(static_cast<double>(c.frames.size()), benchmark::Counter::kIsIterationInvariantRate);
}

void opencv_detect(benchmark::State& state, const detect_case& c, const std::string& cascade_file, int threads) {
    if (c.frames.empty()) {
        state.SkipWithError(c.missing.c_str());
        return;
    }
    cv::CascadeClassifier model(cascade_dir + cascade_file);
    if (model.empty()) {
        state.SkipWithError("cascade not found (opencv-data)");
        return;
    }
    const int before = cv::getNumThreads();
    cv::setNumThreads(threads);
    std::size_t found = 0;
    for (auto _ : state) {
        found = 0;
        for (const auto& f : c.frames) {
            std::vector<cv::Rect> r;
            model.detectMultiScale(f, r, 1.1, 3);
            found += r.size();
        }
        benchmark::DoNotOptimize(found);
    }
    cv::setNumThreads(before);
    state.counters["faces"] = static_cast<double>(found);
    state.counters["frames_per_s"] =
        benchmark::Counter(static_cast<double>(c.frames.size()), benchmark::Counter::kIsIterationInvariantRate);
}

void register_detect(const std::string& component, const std::string& cascade_file) {
    for (const auto& c : detect_cases()) {
        const std::string suffix = "/" + c.name;
        const detect_case* cp = &c;
        benchmark::RegisterBenchmark((component + "/ferx_seq" + suffix).c_str(),
                                     [cp, cascade_file](benchmark::State& s) { ferx_detect(s, *cp, cascade_file, ferx::exec::seq); })
            ->Unit(benchmark::kMillisecond)->UseRealTime();
        benchmark::RegisterBenchmark((component + "/ferx_par" + suffix).c_str(),
                                     [cp, cascade_file](benchmark::State& s) { ferx_detect(s, *cp, cascade_file, ferx::exec::par); })
            ->Unit(benchmark::kMillisecond)->UseRealTime();
        benchmark::RegisterBenchmark((component + "/opencv_1thread" + suffix).c_str(),
                                     [cp, cascade_file](benchmark::State& s) { opencv_detect(s, *cp, cascade_file, 1); })
            ->Unit(benchmark::kMillisecond)->UseRealTime();
        benchmark::RegisterBenchmark((component + "/opencv" + suffix).c_str(),
                                     [cp, cascade_file](benchmark::State& s) { opencv_detect(s, *cp, cascade_file, -1); })
            ->Unit(benchmark::kMillisecond)->UseRealTime();
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
    register_detect("detect", "haarcascades/haarcascade_frontalface_default.xml");
    register_detect("detect_lbp", "lbpcascades/lbpcascade_frontalface_improved.xml");
    return ferx_bench::run_registered(argc, argv);
}
