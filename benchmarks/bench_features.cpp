// Appearance descriptors on the CPU: HOG (beside cv::HOGDescriptor::compute on one thread), FHOG,
// LBP and LPQ, ferx seq and par (the default pool: all hardware threads). Run:
//   build/release/benchmarks/bench_features --benchmark_format=console
// Ratios: hog/ferx_seq/C vs hog/opencv/C (OpenCV single-threaded: cv::setNumThreads(1)),
// <d>/ferx_par/C vs <d>/ferx_seq/C. Counter crops_per_s: descriptors per second.
// Clip descriptors (lbp_top, vlpq, lpq_top) on one CK+48-sized clip (3x48x48), a batch of 327 of
// them (CK+48's clips), and 30 frames of 640x480; counters clips_per_s and frames_per_s.
#include <ferx/core/opencv.hpp>
#include <ferx/features/fhog.hpp>
#include <ferx/features/hog.hpp>
#include <ferx/features/lbp.hpp>
#include <ferx/features/lbp_top.hpp>
#include <ferx/features/lpq.hpp>
#include <ferx/features/lpq_top.hpp>
#include <ferx/features/vlpq.hpp>

#include <benchmark/benchmark.h>
#include <opencv2/objdetect.hpp>

#include "bench_common.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using ferx_bench::crop_case;

/// Random 8-bit crops (ferx_bench::random_crop_pixels) as an n x rows x cols volume.
ferx::volume<std::uint8_t> make_crops(const crop_case& c) {
    const auto px = ferx_bench::random_crop_pixels(c);
    ferx::volume<std::uint8_t> v(std::array<std::size_t, 3>{static_cast<std::size_t>(c.crops), static_cast<std::size_t>(c.rows),
                                                            static_cast<std::size_t>(c.cols)});
    std::copy(px.begin(), px.end(), v.begin());
    return v;
}

template <class Params, class Policy>
void ferx_describe(benchmark::State& state, crop_case c, Params p, Policy policy) {
    const auto crops = make_crops(c);
    const auto src = ferx::view(crops);
    const ferx::index_t len = ferx::descriptor_length(p, c.rows, c.cols);
    ferx::image<float> out({static_cast<std::size_t>(c.crops), static_cast<std::size_t>(len)});
    for (auto _ : state) {
        if (c.crops == 1)
            ferx::describe(policy, ferx::image_view<const std::uint8_t>(src[0]), p, ferx::view(out)[0]);
        else
            ferx::describe(policy, src, p, ferx::view(out));
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    ferx_bench::set_descriptor_counters(state, c);
}

void opencv_hog(benchmark::State& state, crop_case c) {
    const int previous = cv::getNumThreads();
    cv::setNumThreads(1);
    auto crops = make_crops(c);
    cv::HOGDescriptor hog(cv::Size(c.cols, c.rows), cv::Size(16, 16), cv::Size(8, 8), cv::Size(8, 8), 9);
    std::vector<float> d;
    for (auto _ : state) {
        for (int i = 0; i < c.crops; ++i) hog.compute(ferx::as_mat(ferx::view(crops)[i]), d);
        benchmark::DoNotOptimize(d.data());
        benchmark::ClobberMemory();
    }
    ferx_bench::set_descriptor_counters(state, c);
    cv::setNumThreads(previous);
}

template <class Params>
void register_descriptor(const std::string& component, const Params& p) {
    for (const auto& c : ferx_bench::descriptor_cases()) {
        benchmark::RegisterBenchmark((component + "/ferx_seq/" + c.name).c_str(),
                                     [c, p](benchmark::State& s) { ferx_describe(s, c, p, ferx::exec::seq); })
            ->Unit(benchmark::kMicrosecond)->UseRealTime();
        benchmark::RegisterBenchmark((component + "/ferx_par/" + c.name).c_str(),
                                     [c, p](benchmark::State& s) { ferx_describe(s, c, p, ferx::exec::par); })
            ->Unit(benchmark::kMicrosecond)->UseRealTime();
    }
}

using ferx_bench::clip_case;
using ferx_bench::clip_cases;

template <class Params, class Policy>
void ferx_describe_clips(benchmark::State& state, clip_case c, Params p, Policy policy) {
    const auto px = ferx_bench::random_crop_pixels({c.name, c.clips * c.frames, c.rows, c.cols});
    ferx::batch<std::uint8_t> clips(std::array<std::size_t, 4>{std::size_t(c.clips), std::size_t(c.frames), std::size_t(c.rows),
                                                              std::size_t(c.cols)});
    std::copy(px.begin(), px.end(), clips.begin());
    const ferx::index_t len = ferx::clip_descriptor_length(p, c.frames, c.rows, c.cols);
    ferx::image<float> out({static_cast<std::size_t>(c.clips), static_cast<std::size_t>(len)});
    const auto src = ferx::batch_view<const std::uint8_t>(ferx::view(clips));
    for (auto _ : state) {
        if (c.clips == 1)
            ferx::describe(policy, src[0], p, ferx::view(out)[0]);
        else
            ferx::describe(policy, src, p, ferx::view(out));
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    ferx_bench::set_clip_counters(state, c);
}

template <class Params>
void register_clip_descriptor(const std::string& component, const Params& p) {
    for (const auto& c : clip_cases()) {
        benchmark::RegisterBenchmark((component + "/ferx_seq/" + c.name).c_str(),
                                     [c, p](benchmark::State& s) { ferx_describe_clips(s, c, p, ferx::exec::seq); })
            ->Unit(benchmark::kMillisecond)->UseRealTime();
        benchmark::RegisterBenchmark((component + "/ferx_par/" + c.name).c_str(),
                                     [c, p](benchmark::State& s) { ferx_describe_clips(s, c, p, ferx::exec::par); })
            ->Unit(benchmark::kMillisecond)->UseRealTime();
    }
}

}  // namespace

int main(int argc, char** argv) {
    register_descriptor("hog", ferx::hog_params<>{});       // 16x16 blocks, 8x8 cells, 9 bins, L2-Hys
    register_descriptor("fhog", ferx::fhog_params{});       // 8x8 cells
    register_descriptor("lbp", ferx::lbp_params<>{});       // u2 LBP(8,1), 6x6 grid
    register_descriptor("lpq", ferx::lpq_params{});         // 7x7 window, decorrelated, 6x6 grid
    register_clip_descriptor("lbp_top", ferx::lbp_top_params<>{});  // LBP-TOP(8,8,8; 1,1,1), u2, 4x4x1 blocks
    register_clip_descriptor("vlpq", ferx::vlpq_params{});           // 3x3x3 window, L = 10, one block
    {
        ferx::lpq_top_params p;  // windows 5 (XY) and 3 (XT, YT: 3-frame clips), 4x4x1 blocks
        p.window_xt = p.window_yt = 3;
        register_clip_descriptor("lpq_top", p);
    }
    for (const auto& c : ferx_bench::descriptor_cases())
        benchmark::RegisterBenchmark(("hog/opencv/" + c.name).c_str(), [c](benchmark::State& s) { opencv_hog(s, c); })
            ->Unit(benchmark::kMicrosecond)->UseRealTime();
    return ferx_bench::run_registered(argc, argv);
}
