// TV-L1 optical flow on a CUDA device: ferx::cuda::tvl1_estimator (ferx/flow/tvl1.hpp, exec::cuda)
// on the TV-L1 cases of bench_flow, OpenCV's default parameters, frames already on the device,
// the estimator built once (as in a video loop); each iteration synchronises, so the timed
// region ends when the flows are ready. Skips with a message where no device is present. Run:
//   build/release/benchmarks/bench_flow_cuda
// Names flow/tvl1/ferx_cuda/<case>: 640x480 (basketball1/2 of opencv-doc), 1024x436 (Sintel
// alley_1 clean frames 2 -> 3), clip16_340x256 (the first 16 frames of
// ../shared/data/video/mmaction2/test.mp4: one run() of the clip, 15 flows, each frame's pyramid
// built once). Ratio: against flow/tvl1/ferx_par/<case> of bench_flow.
// In the GPU kit (FERX_KIT: no imgcodecs, no videoio) the frames are the PGM files the kit build
// decoded (ferx_kit_predecode): the images under their own names, the video's 16 frames as
// test.mp4.frames/0000..0015.pgm.
#include <ferx/core/opencv.hpp>
#include <ferx/cuda/memory.cuh>
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

struct tvl1_case {
    std::string name;
    std::vector<cv::Mat> frames;  // CV_8U grey; pairs (0, 1), (1, 2), ...
    std::string missing;          // why the case cannot run
};

/// opencv-doc's sample folder: $FERX_OPENCV_SAMPLES_DIR (the GPU kit's run.sh sets it), else Debian's.
std::string samples_dir() {
    const char* env = std::getenv("FERX_OPENCV_SAMPLES_DIR");
    return env ? std::string(env) : std::string("/usr/share/doc/opencv-doc/examples/data");
}

tvl1_case load_case(const std::string& name) {
    tvl1_case c{name, {}, {}};
    auto grey = [&](const fs::path& p) {
        cv::Mat m = cv::imread(p.string(), cv::IMREAD_GRAYSCALE);
        if (m.empty() && c.missing.empty()) c.missing = p.string() + " not found";
        return m;
    };
    const fs::path shared = FERX_BENCH_SHARED_DIR;
    if (name == "640x480") {
        const fs::path d = samples_dir();
        c.frames = {grey(d / "basketball1.png"), grey(d / "basketball2.png")};
    } else if (name == "1024x436") {
        const fs::path d = shared / "data" / "flow" / "sintel" / "alley_1" / "clean";
        c.frames = {grey(d / "frame_0002.png"), grey(d / "frame_0003.png")};
    } else {
        const fs::path p = shared / "data" / "video" / "mmaction2" / "test.mp4";
#ifdef FERX_KIT
        for (int i = 0; i < 16 && c.missing.empty(); ++i) {
            char f[32];
            std::snprintf(f, sizeof f, "%04d.pgm", i);
            c.frames.push_back(grey(fs::path(p.string() + ".frames") / f));
        }
#else
        cv::VideoCapture cap(p.string());
        cv::Mat f, g;
        while (c.frames.size() < 16 && cap.read(f)) {
            cv::cvtColor(f, g, cv::COLOR_BGR2GRAY);
            c.frames.push_back(g.clone());
        }
        if (c.frames.size() < 16) c.missing = p.string() + ": fewer than 16 frames could be read";
#endif
    }
    return c;
}

void ferx_cuda_tvl1(benchmark::State& state, const std::string& name) {
    if (!ferx::cuda::device_available()) {
        state.SkipWithError("no CUDA device present");
        return;
    }
    const tvl1_case c = load_case(name);
    if (!c.missing.empty()) {
        state.SkipWithError(c.missing.c_str());
        return;
    }
    ferx::cuda::stream stream;
    const auto policy = stream.policy();
    const int rows = c.frames[0].rows, cols = c.frames[0].cols;
    const ferx::index_t pairs = static_cast<ferx::index_t>(c.frames.size()) - 1;
    const auto d_frames = ferx::cuda::to_device(policy, ferx::to_volume<std::uint8_t>(c.frames));
    ferx::cuda::device_volume<ferx::flow_vector> d_flows({pairs, rows, cols});
    ferx::cuda::tvl1_estimator tv(policy, rows, cols, ferx::tvl1_params{});  // buffers allocated once
    for (auto _ : state) {
        if (pairs == 1)
            tv.run(d_frames.cview()[0], d_frames.cview()[1], d_flows.view()[0]);
        else
            tv.run(d_frames.cview(), d_flows.view());  // every pair of the clip, one call
        ferx::cuda::synchronize(policy);                // the timed region ends when the flows are ready
    }
    state.counters["pairs_per_s"] = benchmark::Counter(double(pairs), benchmark::Counter::kIsIterationInvariantRate);
    state.SetItemsProcessed(static_cast<std::int64_t>(double(state.iterations()) * double(pairs) * rows * cols));
}

}  // namespace

int main(int argc, char** argv) {
    for (const std::string name : {"640x480", "1024x436", "clip16_340x256"})
        benchmark::RegisterBenchmark(("flow/tvl1/ferx_cuda/" + name).c_str(),
                                     [name](benchmark::State& s) { ferx_cuda_tvl1(s, name); })
            ->Unit(benchmark::kMillisecond)->UseRealTime();
    return ferx_bench::run_registered(argc, argv);
}
