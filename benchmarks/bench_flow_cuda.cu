// Dense optical flow on a CUDA device: ferx::cuda::farneback_estimator and
// ferx::cuda::tvl1_estimator on the cases of bench_flow.cpp, with its parameters (Farneback:
// farneback_params::opencv_sample(); TV-L1: OpenCV's defaults): compare
// flow/<method>/ferx_cuda/<case> with flow/<method>/{ferx_par,opencv}/<case> there. Cases:
// 640x480 (opencv-doc basketball1/2), 1024x436 (Sintel alley_1 clean frames 2 -> 3; counter epe
// where the ground truth .flo is present), clip16_340x256 (the first 16 frames of
// ../shared/data/video/mmaction2/test.mp4: 15 pairs in one clip run, each frame's expansion or
// pyramid built once). Frames are uploaded once, outside the timed loop; each iteration enqueues
// the run and synchronises the stream (inside the timed region); the flows stay on the device.
// The estimator (buffers, tables) is built once per case, as in a video loop. Skips with a
// message where no device is present. Run:
//   build/release/benchmarks/bench_flow_cuda [--benchmark_filter=farneback|tvl1]
// Under the GPU kit (FERX_KIT: no videoio) the clip's frames are the PGM files the kit build
// decoded (test.mp4.frames/<i>.pgm, grey as below).
#include <ferx/core/opencv.hpp>
#include <ferx/cuda/memory.cuh>
#include <ferx/flow/farneback.hpp>
#include <ferx/flow/io.hpp>
#include <ferx/flow/metrics.hpp>
#include <ferx/flow/tvl1.hpp>

#include <benchmark/benchmark.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#ifndef FERX_KIT
#include <opencv2/videoio.hpp>
#endif

#include "bench_common.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

fs::path shared() { return fs::path(FERX_BENCH_SHARED_DIR); }

/// opencv-doc's sample data: $FERX_OPENCV_SAMPLES_DIR (the GPU kit sets it), else Debian's folder.
fs::path samples() {
    const char* env = std::getenv("FERX_OPENCV_SAMPLES_DIR");
    return env ? fs::path(env) : fs::path("/usr/share/doc/opencv-doc/examples/data");
}

struct fb_case {
    std::string name;
    std::vector<cv::Mat> frames;  // CV_8U grey, one size
    ferx::flow_field gt;          // ground truth of the last pair, or empty
    cv::Mat valid;                // CV_8U mask of gt, or empty (all valid)
    std::string missing;          // why the case cannot run
};

fb_case load_case(const std::string& name) {
    fb_case c{name, {}, {}, {}, {}};
    auto grey = [&](const fs::path& p) {
        cv::Mat m = cv::imread(p.string(), cv::IMREAD_GRAYSCALE);
        if (m.empty() && c.missing.empty()) c.missing = p.string() + " not found";
        return m;
    };
    if (name == "640x480") {
        c.frames = {grey(samples() / "basketball1.png"), grey(samples() / "basketball2.png")};
    } else if (name == "1024x436") {
        const fs::path d = shared() / "data" / "flow" / "sintel" / "alley_1" / "clean";
        c.frames = {grey(d / "frame_0002.png"), grey(d / "frame_0003.png")};
        const fs::path flo = d / "gt" / "frame_0002.flo";
        if (fs::is_regular_file(flo)) {
            c.gt = ferx::read_flo(flo.string());
            const cv::Mat inv = cv::imread((d / "gt" / "invalid" / "frame_0002.png").string(), cv::IMREAD_GRAYSCALE);
            if (!inv.empty()) c.valid = inv < 128;
        }
    } else {
        const fs::path p = shared() / "data" / "video" / "mmaction2" / "test.mp4";
#ifdef FERX_KIT
        for (int i = 0; i < 16; ++i) {
            char file[32];
            std::snprintf(file, sizeof file, "%04d.pgm", i);
            const cv::Mat g = grey(fs::path(p.string() + ".frames") / file);
            if (g.empty()) break;
            c.frames.push_back(g);
        }
#else
        cv::VideoCapture cap(p.string());
        cv::Mat f, g;
        while (c.frames.size() < 16 && cap.read(f)) {
            cv::cvtColor(f, g, cv::COLOR_BGR2GRAY);
            c.frames.push_back(g.clone());
        }
#endif
        if (c.frames.size() < 16 && c.missing.empty()) c.missing = p.string() + ": fewer than 16 frames could be read";
    }
    return c;
}

const fb_case& get_case(const std::string& name) {
    static std::vector<fb_case> cache;  // Google Benchmark calls a case several times
    for (const auto& c : cache)
        if (c.name == name) return c;
    cache.push_back(load_case(name));
    return cache.back();
}

/// One case through an estimator made by make(policy, rows, cols).
template <class Make>
void ferx_cuda_flow(benchmark::State& state, const std::string& name, Make make) {
    if (!ferx::cuda::device_available()) {
        state.SkipWithError("no CUDA device present");
        return;
    }
    const fb_case& c = get_case(name);
    if (!c.missing.empty()) {
        state.SkipWithError(c.missing.c_str());
        return;
    }
    const ferx::index_t n = ferx::index_t(c.frames.size()), R = c.frames[0].rows, C = c.frames[0].cols;
    ferx::cuda::stream stream;
    const auto policy = stream.policy();
    const auto d_frames = ferx::cuda::to_device(policy, ferx::to_volume<std::uint8_t>(c.frames));
    ferx::cuda::device_volume<ferx::flow_vector> d_flows({n - 1, R, C});
    auto est = make(policy, R, C);
    const auto run = [&] {
        if (n == 2)
            est.run(d_frames.cview()[0], d_frames.cview()[1], d_flows.view()[0]);
        else
            est.run(d_frames.cview(), d_flows.view());
    };
    run();  // warm-up (module load, first-touch of the buffers)
    stream.synchronize();
    for (auto _ : state) {
        run();
        stream.synchronize();  // inside the timed region
    }
    const double pairs = double(n - 1);
    state.counters["pairs_per_s"] = benchmark::Counter(pairs, benchmark::Counter::kIsIterationInvariantRate);
    state.SetItemsProcessed(static_cast<std::int64_t>(double(state.iterations()) * pairs * double(R * C)));
    if (c.gt.size()) {
        const ferx::flow_field last = ferx::cuda::to_host(policy, d_flows.cview()[n - 2]);
        state.counters["epe"] =
            ferx::endpoint_error(ferx::view(last), ferx::view(c.gt), c.valid.empty() ? ferx::image_view<const std::uint8_t>()
                                                                                      : ferx::view<std::uint8_t>(c.valid));
    }
}

}  // namespace

int main(int argc, char** argv) {
    for (const std::string name : {"640x480", "1024x436", "clip16_340x256"}) {
        benchmark::RegisterBenchmark(("flow/farneback/ferx_cuda/" + name).c_str(),
                                     [name](benchmark::State& s) {
                                         ferx_cuda_flow(s, name, [](const auto& policy, ferx::index_t r, ferx::index_t c) {
                                             return ferx::cuda::farneback_estimator(policy, r, c, ferx::farneback_params::opencv_sample());
                                         });
                                     })
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
        benchmark::RegisterBenchmark(("flow/tvl1/ferx_cuda/" + name).c_str(),
                                     [name](benchmark::State& s) {
                                         ferx_cuda_flow(s, name, [](const auto& policy, ferx::index_t r, ferx::index_t c) {
                                             return ferx::cuda::tvl1_estimator(policy, r, c, ferx::tvl1_params{});
                                         });
                                     })
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
    }
    return ferx_bench::run_registered(argc, argv);
}
