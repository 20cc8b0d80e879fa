// optical_flow: dense optical flow of two images or of a video, colour-coded, with its error
// against ground truth and the TSN flow frames.
//
//   optical_flow FRAME0 FRAME1 [--gt truth.flo|kitti.png] [--out flow.png] [--flo flow.flo]
//   optical_flow VIDEO [--out flow.avi] [--tsn DIR] [--frames N]
//   options: --method tvl1|farneback (default tvl1; Farneback with ../shared/README.md's parameters)
//            --threads N (0: all cores, default)
//            --bound B (TSN clamp, default 20)  --scales N --warps N (TV-L1 pyramid and warps)
//
// Two images: computes the flow from FRAME0 to FRAME1 (read as grey), writes its Middlebury
// colour image, and prints EPE / angular error / KITTI outliers when a ground-truth file is given
// (.flo, or a KITTI 16-bit PNG whose invalid pixels are left out), beside the zero-flow EPE.
// A video: the flow of every consecutive pair of frames (the first N with --frames), written as a
// colour-coded video and, with --tsn DIR, as DIR/x_%05d.jpg and DIR/y_%05d.jpg, the 8-bit layout
// TSN and mmaction2 read (each component clamped to ±bound, mapped to 0..255), with the frames as
// DIR/img_%05d.jpg.
#include <ferx/core/opencv.hpp>
#include <ferx/flow/encode.hpp>
#include <ferx/flow/farneback.hpp>
#include <ferx/flow/io.hpp>
#include <ferx/flow/metrics.hpp>
#include <ferx/flow/tvl1.hpp>

#include "annotated_video.hpp"

#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace {

struct options {
    std::vector<std::string> inputs;
    std::string method = "tvl1", gt, out, flo, tsn;
    int threads = 0, frames = 0, scales = 0, warps = 0;
    float bound = 20.f;
};

[[noreturn]] void usage(const std::string& why) {
    std::cerr << "optical_flow: " << why << "\n"
              << "usage: optical_flow FRAME0 FRAME1 [--gt FILE] [--out PNG] [--flo FILE]\n"
              << "       optical_flow VIDEO [--out AVI] [--tsn DIR] [--frames N]\n"
              << "       [--method tvl1|farneback] [--threads N] [--bound B] [--scales N] [--warps N]\n"
              << "(see the comment at the top of examples/optical_flow.cpp)\n";
    std::exit(2);
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage("option " + a + " needs a value");
            return argv[++i];
        };
        auto whole = [&]() {
            const std::string v = value();
            try {
                std::size_t used = 0;
                const int n = std::stoi(v, &used);
                if (used != v.size() || n < 0) throw std::invalid_argument(v);
                return n;
            } catch (const std::exception&) {
                usage("option " + a + " needs a whole number >= 0, got '" + v + "'");
            }
        };
        if (a == "--method") o.method = value();
        else if (a == "--gt") o.gt = value();
        else if (a == "--out") o.out = value();
        else if (a == "--flo") o.flo = value();
        else if (a == "--tsn") o.tsn = value();
        else if (a == "--threads") o.threads = whole();
        else if (a == "--frames") o.frames = whole();
        else if (a == "--scales") o.scales = whole();
        else if (a == "--warps") o.warps = whole();
        else if (a == "--bound") {
            const std::string v = value();
            try {
                o.bound = std::stof(v);
            } catch (const std::exception&) {
                usage("--bound needs a number, got '" + v + "'");
            }
            if (!(o.bound > 0)) usage("--bound must be positive");
        }
        else if (a.size() > 1 && a[0] == '-') usage("unknown option " + a);
        else o.inputs.push_back(a);
    }
    if (o.inputs.empty() || o.inputs.size() > 2) usage("give two images or one video");
    if (o.method != "tvl1" && o.method != "farneback") usage("--method is tvl1 or farneback");
    return o;
}

/// The flow of one pair with the chosen method, on the pool.
ferx::flow_field flow_of(const options& o, ferx::thread_pool& pool, const ferx::image<std::uint8_t>& a,
                         const ferx::image<std::uint8_t>& b) {
    const auto policy = ferx::exec::par.on(pool);
    const ferx::image_view<const std::uint8_t> va = ferx::view(a), vb = ferx::view(b);
    if (o.method == "farneback") return ferx::farneback(policy, va, vb, ferx::farneback_params::opencv_sample());
    ferx::tvl1_params p;
    if (o.scales) p.nscales = o.scales;
    if (o.warps) p.warps = o.warps;
    return ferx::tvl1(policy, va, vb, p);
}

cv::Mat colour_mat(const ferx::flow_field& f, double radius = 0) {
    auto c = ferx::flow_to_color(ferx::view(f), radius, true);
    return cv::Mat(int(c.shape()[0]), int(c.shape()[1]), CV_8UC3, c.data()).clone();
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int two_images(const options& o, ferx::thread_pool& pool) {
    const auto a = ferx::to_image<std::uint8_t>(ferx::read_image(o.inputs[0]));
    const auto b = ferx::to_image<std::uint8_t>(ferx::read_image(o.inputs[1]));
    const auto t0 = std::chrono::steady_clock::now();
    const auto f = flow_of(o, pool, a, b);
    std::printf("%s flow %zux%zu in %.3f s on %zu threads\n", o.method.c_str(), f.shape()[1], f.shape()[0],
                seconds_since(t0), pool.size());
    if (!o.gt.empty()) {
        ferx::masked_flow truth;
        if (std::filesystem::path(o.gt).extension() == ".png") {
            truth = ferx::read_kitti_flow(o.gt);
        } else {
            truth.flow = ferx::read_flo(o.gt);
            truth.valid = ferx::image<std::uint8_t>(truth.flow.shape());
            truth.valid.fill(1);
        }
        const auto e = ferx::compare_flow(ferx::view(f), ferx::view(truth.flow), ferx::view(truth.valid));
        const auto zero = ferx::make_flow_field(f.shape()[0], f.shape()[1]);
        const auto z = ferx::compare_flow(ferx::view(zero), ferx::view(truth.flow), ferx::view(truth.valid));
        std::printf("EPE %.4f  angular %.3f deg  outliers %.2f %%  (%td pixels; zero flow: EPE %.4f)\n", e.epe,
                    e.angular, 100 * e.outliers, e.count, z.epe);
    }
    if (!o.flo.empty()) ferx::write_flo(o.flo, ferx::view(f));
    const std::string out = o.out.empty() ? "flow.png" : o.out;
    ferx::write_image(out, colour_mat(f), "optical_flow");
    std::printf("wrote %s\n", out.c_str());
    return 0;
}

int video(const options& o, ferx::thread_pool& pool) {
    cv::VideoCapture cap(o.inputs[0]);
    if (!cap.isOpened()) throw ferx::error("optical_flow", "cannot open the video", o.inputs[0]);
    if (!o.tsn.empty()) std::filesystem::create_directories(o.tsn);
    const std::string out = o.out.empty() ? "flow.avi" : o.out;
    const auto policy = ferx::exec::par.on(pool);
    // the sequences build each frame's pyramid (and Farneback's expansions) once
    ferx::tvl1_params tp;
    if (o.scales) tp.nscales = o.scales;
    if (o.warps) tp.warps = o.warps;
    ferx::tvl1_sequence tvl1(tp);
    ferx::farneback_sequence farneback(ferx::farneback_params::opencv_sample());
    ferx_examples::annotated_video writer(out, 25);
    cv::Mat frame, grey;
    int n = 0, pairs = 0;
    double secs = 0;
    char name[64];
    while (cap.read(frame) && (o.frames == 0 || n < o.frames)) {
        cv::cvtColor(frame, grey, cv::COLOR_BGR2GRAY);
        ++n;
        if (!o.tsn.empty()) {
            std::snprintf(name, sizeof name, "img_%05d.jpg", n);
            ferx::write_image((std::filesystem::path(o.tsn) / name).string(), frame, "optical_flow");
        }
        const auto t0 = std::chrono::steady_clock::now();
        const ferx::image_view<const std::uint8_t> g = ferx::view<std::uint8_t>(std::as_const(grey));
        const ferx::flow_field f = o.method == "farneback" ? farneback.next(policy, g) : tvl1.next(policy, g);
        if (f.size() == 0) continue;  // the first frame
        secs += seconds_since(t0);
        ++pairs;
        writer.write(colour_mat(f, o.bound / 2), [](const std::string& dst) { throw ferx::error("optical_flow", "cannot create the video", dst); });
        if (!o.tsn.empty()) {
            const auto t = ferx::tsn_encode(ferx::view(f), o.bound);
            std::snprintf(name, sizeof name, "x_%05d.jpg", pairs);
            ferx::write_image((std::filesystem::path(o.tsn) / name).string(), ferx::to_mat(t.x), "optical_flow");
            std::snprintf(name, sizeof name, "y_%05d.jpg", pairs);
            ferx::write_image((std::filesystem::path(o.tsn) / name).string(), ferx::to_mat(t.y), "optical_flow");
        }
    }
    if (pairs == 0) throw ferx::error("optical_flow", "the video has fewer than two frames", o.inputs[0]);
    writer.finish();
    std::printf("%s: %d flows of %dx%d in %.2f s (%.1f pairs/s) on %zu threads; wrote %s%s%s\n", o.method.c_str(),
                pairs, grey.cols, grey.rows, secs, pairs / secs, pool.size(), out.c_str(),
                o.tsn.empty() ? "" : " and ", o.tsn.c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const options o = parse(argc, argv);
    try {
        ferx::thread_pool pool(o.threads);
        return o.inputs.size() == 2 ? two_images(o, pool) : video(o, pool);
    } catch (const std::exception& e) {
        std::cerr << "optical_flow: " << e.what() << "\n";
        return 1;
    }
}
