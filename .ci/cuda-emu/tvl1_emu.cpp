// The TV-L1 CUDA backend run on the host through .ci/cuda-emu (see run.sh), against exec::seq, bit for bit.
#include <cuda_runtime.h>
#include <ferx/core/opencv.hpp>
#include <ferx/flow/tvl1.hpp>
#include "dispatch_emu.hpp"
#include <opencv2/imgproc.hpp>
#include <cstdio>
#include <cstring>

using namespace ferx;
static int failures = 0;

template <class T>
static std::vector<flow_field> emu_run(const std::vector<cv::Mat>& frames, const tvl1_params& p, bool clip, const flow_field* init = nullptr) {
    const int R = frames[0].rows, C = frames[0].cols;
    auto st = detail::tvl1_device_create(exec::cuda, R, C, p);
    std::vector<image<T>> imgs;
    for (auto& f : frames) imgs.push_back(to_image<T>(f));
    std::vector<flow_field> out;
    if (!clip) {
        flow_field f = init ? *init : make_flow_field(R, C);
        const device_image_view<const T> a(imgs[0].data(), {R, C}), b(imgs[1].data(), {R, C});
        detail::tvl1_device_pair(*st, a, b, flow_view<memory_space::device>(f.data(), {R, C}));
        out.push_back(f);
    } else {
        std::vector<T> vol;
        for (auto& im : imgs) vol.insert(vol.end(), im.data(), im.data() + im.size());
        std::vector<flow_vector> fl(std::size_t(frames.size() - 1) * R * C);
        detail::tvl1_device_clip(*st, device_volume_view<const T>(vol.data(), {index_t(frames.size()), R, C}),
                                 tensor_view<flow_vector, 3, memory_space::device>(fl.data(), {index_t(frames.size() - 1), R, C}));
        for (std::size_t t = 0; t + 1 < frames.size(); ++t) {
            flow_field f = make_flow_field(R, C);
            std::memcpy(f.data(), fl.data() + t * R * C, sizeof(flow_vector) * R * C);
            out.push_back(f);
        }
    }
    return out;
}

static void report(const char* what, const flow_field& a, const flow_field& b) {
    std::size_t same = 0; double md = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        same += std::memcmp(&a.data()[i], &b.data()[i], sizeof(flow_vector)) == 0;
        md = std::max(md, (double)std::hypot(a.data()[i].u - b.data()[i].u, a.data()[i].v - b.data()[i].v));
    }
    std::printf("%-40s %zu of %zu bit-identical, max diff %g  (launches so far %ld)\n", what, same, a.size(), md, emu_launches);
    if (same != a.size()) ++failures;
}

int main() {
    const std::string d = std::string(FERX_EMU_SHARED_DIR) + "/data/flow/middlebury/";
    cv::Mat a = read_image(d + "Dimetrodon/frame10.png"), b = read_image(d + "Dimetrodon/frame11.png");
    cv::Rect roi(200, 150, 72, 56);
    cv::Mat ca = a(roi).clone(), cb = b(roi).clone();
    {
        tvl1_params p;
        auto ref = tvl1(exec::seq, view<std::uint8_t>(ca), view<std::uint8_t>(cb), p);
        report("default 56x72 u8", emu_run<std::uint8_t>({ca, cb}, p, false)[0], ref);
    }
    {
        tvl1_params p; p.warps = 2; p.outer_iterations = 2; p.inner_iterations = 5; p.gamma = 0.1;
        auto ref = tvl1(exec::seq, view<std::uint8_t>(ca), view<std::uint8_t>(cb), p);
        report("gamma 0.1 small iters", emu_run<std::uint8_t>({ca, cb}, p, false)[0], ref);
    }
    {
        tvl1_params p; p.exact_median = true; p.warps = 3; p.outer_iterations = 3;
        auto ref = tvl1(exec::seq, view<std::uint8_t>(ca), view<std::uint8_t>(cb), p);
        report("exact median", emu_run<std::uint8_t>({ca, cb}, p, false)[0], ref);
    }
    {
        tvl1_params p; p.median_filtering = 3; p.epsilon = 1e-7; p.warps = 2; p.outer_iterations = 2; p.inner_iterations = 10; p.scale_step = 0.5;
        auto ref = tvl1(exec::seq, view<std::uint8_t>(ca), view<std::uint8_t>(cb), p);
        report("3x3, step 0.5, no early stop", emu_run<std::uint8_t>({ca, cb}, p, false)[0], ref);
    }
    {
        cv::Mat fa, fb; ca.convertTo(fa, CV_32F, 1 / 255.0); cb.convertTo(fb, CV_32F, 1 / 255.0);
        tvl1_params p;
        auto ref = tvl1(exec::seq, view<float>(fa), view<float>(fb), p);
        report("float frames", emu_run<float>({fa, fb}, p, false)[0], ref);
    }
    {
        tvl1_params p0;
        auto init = tvl1(exec::seq, view<std::uint8_t>(ca), view<std::uint8_t>(cb), p0);
        tvl1_params p; p.use_initial_flow = true; p.nscales = 3;
        flow_field ref = init;
        tvl1(exec::seq, view<std::uint8_t>(ca), view<std::uint8_t>(cb), view(ref), p);
        report("initial flow", emu_run<std::uint8_t>({ca, cb}, p, false, &init)[0], ref);
    }
    {
        std::vector<cv::Mat> fr;
        for (const char* f : {"RubberWhale/frame07.png", "RubberWhale/frame08.png", "RubberWhale/frame09.png"}) fr.push_back(read_image(d + f)(roi).clone());
        tvl1_params p;
        auto clip = emu_run<std::uint8_t>(fr, p, true);
        tvl1_sequence seq(p);
        (void)seq.next(exec::seq, view<std::uint8_t>(fr[0]));
        for (int t = 0; t < 2; ++t) {
            auto ref = seq.next(exec::seq, view<std::uint8_t>(fr[t + 1]));
            report(("clip pair " + std::to_string(t)).c_str(), clip[t], ref);
            auto pair = emu_run<std::uint8_t>({fr[t], fr[t + 1]}, p, false)[0];
            report(("clip pair vs pair run " + std::to_string(t)).c_str(), clip[t], pair);
        }
    }
    std::printf("%s\n", failures ? "EMULATION: DIFFERENCES" : "EMULATION: all identical");
    return failures ? 1 : 0;
}
