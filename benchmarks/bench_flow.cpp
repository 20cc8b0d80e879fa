// Dense optical flow beside OpenCV: TV-L1 (ferx/flow/tvl1.hpp) against
// cv::optflow::DualTVL1OpticalFlow, both with OpenCV's default parameters, and Farneback
// (ferx/flow/farneback.hpp) against cv::calcOpticalFlowFarneback, both with the parameters of
// ../shared/README.md's table (pyr_scale 0.5, 3 levels, window 15, 3 iterations, poly_n 5,
// poly_sigma 1.2); and the HOF descriptor (hof/<impl>/640x480, 4x4 cells). Run:
//   build/release/benchmarks/bench_flow --benchmark_format=console
// Names flow/<method>/<impl>/<case>; impl: ferx_seq, ferx_par (default pool), opencv_1thread
// (cv::setNumThreads(1)), opencv (OpenCV's default threads). Cases: 640x480 (basketball1/2 of
// the Debian package opencv-doc), 1024x436 (Sintel alley_1 clean frames 2 -> 3, counter epe: mean
// end-point error against the ground truth), clip16_340x256 (the first 16 frames of
// ../shared/data/video/mmaction2/test.mp4, 15 consecutive pairs; ferx builds each frame's
// pyramid once, tvl1_sequence / farneback_sequence). TV-L1: one iteration each (a pair takes
// seconds); Farneback: as many as Google Benchmark needs.
#include <ferx/core/opencv.hpp>
#include <ferx/flow/farneback.hpp>
#include <ferx/flow/hof.hpp>
#include <ferx/flow/io.hpp>
#include <ferx/flow/metrics.hpp>
#include <ferx/flow/tvl1.hpp>

#include <benchmark/benchmark.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/optflow.hpp>
#include <opencv2/video/tracking.hpp>
#include <opencv2/videoio.hpp>

#include "bench_common.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;

fs::path shared() { return fs::path(FERX_BENCH_SHARED_DIR); }

struct flow_case {
    std::string name;
    std::vector<cv::Mat> frames;  // CV_8U grey; pairs (0,1), (1,2), ...
    cv::Mat gt;                   // CV_32FC2 or empty
    cv::Mat valid;                // CV_8U or empty
    std::string missing;          // why the case cannot run
};

flow_case load_case(const std::string& name) {
    flow_case c{name, {}, {}, {}, {}};
    auto grey = [&](const fs::path& p) {
        cv::Mat m = cv::imread(p.string(), cv::IMREAD_GRAYSCALE);
        if (m.empty()) c.missing = p.string() + " not found";
        return m;
    };
    if (name == "640x480") {
        const fs::path d = "/usr/share/doc/opencv-doc/examples/data";
        c.frames = {grey(d / "basketball1.png"), grey(d / "basketball2.png")};
    } else if (name == "1024x436") {
        const fs::path d = shared() / "data" / "flow" / "sintel" / "alley_1" / "clean";
        c.frames = {grey(d / "frame_0002.png"), grey(d / "frame_0003.png")};
        c.gt = cv::readOpticalFlow((d / "gt" / "frame_0002.flo").string());
        const cv::Mat inv = cv::imread((d / "gt" / "invalid" / "frame_0002.png").string(), cv::IMREAD_GRAYSCALE);
        if (!c.gt.empty()) c.valid = inv.empty() ? cv::Mat(c.gt.size(), CV_8U, cv::Scalar(1)) : cv::Mat(inv < 128);
    } else {
        const fs::path p = shared() / "data" / "video" / "mmaction2" / "test.mp4";
        cv::VideoCapture cap(p.string());
        cv::Mat f, g;
        while (c.frames.size() < 16 && cap.read(f)) {
            cv::cvtColor(f, g, cv::COLOR_BGR2GRAY);
            c.frames.push_back(g.clone());
        }
        if (c.frames.size() < 16) c.missing = p.string() + ": fewer than 16 frames could be read";
    }
    return c;
}

const flow_case& get_case(const std::string& name) {
    static std::vector<flow_case> cache;
    for (const auto& c : cache)
        if (c.name == name) return c;
    cache.push_back(load_case(name));
    return cache.back();
}

void set_counters(benchmark::State& state, const flow_case& c, const cv::Mat& last) {
    const double pairs = double(c.frames.size() - 1);
    state.counters["pairs_per_s"] = benchmark::Counter(pairs, benchmark::Counter::kIsIterationInvariantRate);
    state.SetItemsProcessed(static_cast<std::int64_t>(double(state.iterations()) * pairs * c.frames[0].total()));
    if (!c.gt.empty() && !last.empty()) state.counters["epe"] = ferx::endpoint_error(ferx::flow_view_of(last), ferx::flow_view_of(c.gt), ferx::view<std::uint8_t>(c.valid));
}

template <class Sequence, class Policy>
void ferx_flow(benchmark::State& state, const std::string& name, Policy policy, Sequence proto) {
    const flow_case& c = get_case(name);
    if (!c.missing.empty()) {
        state.SkipWithError(c.missing.c_str());
        return;
    }
    cv::Mat last(c.frames[0].size(), CV_32FC2);
    Sequence s = proto;  // buffers kept from iteration to iteration, as in a video loop
    for (auto _ : state) {
        s.reset();
        for (const auto& f : c.frames) {
            const ferx::flow_field flow = s.next(policy, ferx::view<std::uint8_t>(f));
            if (flow.size()) std::memcpy(last.data, flow.data(), flow.size() * sizeof(ferx::flow_vector));
        }
        benchmark::ClobberMemory();
    }
    set_counters(state, c, last);
}

/// OpenCV on a case with `threads` threads (0: its default): run(frames, flow) computes the flows
/// of every consecutive pair, leaving the last one in `flow`.
template <class Run>
void opencv_flow(benchmark::State& state, const std::string& name, int threads, Run run) {
    const flow_case& c = get_case(name);
    if (!c.missing.empty()) {
        state.SkipWithError(c.missing.c_str());
        return;
    }
    const int previous = cv::getNumThreads();
    if (threads > 0) cv::setNumThreads(threads);
    cv::Mat flow;
    for (auto _ : state) {
        run(c.frames, flow);
        benchmark::ClobberMemory();
    }
    cv::setNumThreads(previous);
    set_counters(state, c, flow);
}

void opencv_tvl1(benchmark::State& state, const std::string& name, int threads) {
    opencv_flow(state, name, threads, [](const std::vector<cv::Mat>& frames, cv::Mat& flow) {
        auto tvl1 = cv::optflow::DualTVL1OpticalFlow::create();
        for (std::size_t i = 0; i + 1 < frames.size(); ++i) tvl1->calc(frames[i], frames[i + 1], flow);
    });
}

void opencv_farneback(benchmark::State& state, const std::string& name, int threads) {
    const auto p = ferx::farneback_params::opencv_sample();
    opencv_flow(state, name, threads, [&p](const std::vector<cv::Mat>& frames, cv::Mat& flow) {
        for (std::size_t i = 0; i + 1 < frames.size(); ++i)
            cv::calcOpticalFlowFarneback(frames[i], frames[i + 1], flow, p.pyr_scale, p.levels, p.winsize, p.iterations,
                                         p.poly_n, p.poly_sigma, 0);
    });
}

/// HOF of a 640x480 field (Farneback's flow of basketball1 -> 2), 4x4 cells, 8 directions.
template <class Policy>
void ferx_hof(benchmark::State& state, Policy policy) {
    const flow_case& c = get_case("640x480");
    if (!c.missing.empty()) {
        state.SkipWithError(c.missing.c_str());
        return;
    }
    const auto f = ferx::farneback(ferx::exec::par, ferx::view<std::uint8_t>(c.frames[0]), ferx::view<std::uint8_t>(c.frames[1]),
                                   ferx::farneback_params::opencv_sample());
    ferx::hof_params p;
    for (auto _ : state) {
        auto h = ferx::describe(policy, ferx::view(f), p);
        benchmark::DoNotOptimize(h.data());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(double(state.iterations()) * double(f.size())));
}

}  // namespace

int main(int argc, char** argv) {
    for (const std::string name : {"640x480", "1024x436", "clip16_340x256"}) {
        auto reg = [&](const std::string& impl, auto fn) {
            benchmark::RegisterBenchmark(("flow/tvl1/" + impl + "/" + name).c_str(), fn)
                ->Unit(benchmark::kMillisecond)
                ->Iterations(1)
                ->UseRealTime();
        };
        const ferx::tvl1_sequence tv{};
        reg("ferx_seq", [name, tv](benchmark::State& s) { ferx_flow(s, name, ferx::exec::seq, tv); });
        reg("ferx_par", [name, tv](benchmark::State& s) { ferx_flow(s, name, ferx::exec::par, tv); });
        reg("opencv_1thread", [name](benchmark::State& s) { opencv_tvl1(s, name, 1); });
        reg("opencv", [name](benchmark::State& s) { opencv_tvl1(s, name, 0); });
    }
    for (const std::string name : {"640x480", "1024x436", "clip16_340x256"}) {
        auto reg = [&](const std::string& impl, auto fn) {
            benchmark::RegisterBenchmark(("flow/farneback/" + impl + "/" + name).c_str(), fn)->Unit(benchmark::kMillisecond)->UseRealTime();
        };
        const ferx::farneback_sequence fb(ferx::farneback_params::opencv_sample());
        reg("ferx_seq", [name, fb](benchmark::State& s) { ferx_flow(s, name, ferx::exec::seq, fb); });
        reg("ferx_par", [name, fb](benchmark::State& s) { ferx_flow(s, name, ferx::exec::par, fb); });
        reg("opencv_1thread", [name](benchmark::State& s) { opencv_farneback(s, name, 1); });
        reg("opencv", [name](benchmark::State& s) { opencv_farneback(s, name, 0); });
    }
    benchmark::RegisterBenchmark("hof/ferx_seq/640x480", [](benchmark::State& s) { ferx_hof(s, ferx::exec::seq); })->Unit(benchmark::kMillisecond)->UseRealTime();
    return ferx_bench::run_registered(argc, argv);
}
