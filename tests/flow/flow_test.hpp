/// Helpers of the flow tests: where the flow data is, random fields.
#pragma once

#include <ferx/flow/field.hpp>

#include "ferx_test.hpp"

#include <filesystem>
#include <random>

namespace flow_test {

inline std::filesystem::path flow_dir() { return ferx_test::shared_dir() / "data" / "flow"; }

/// A rows x cols field of uniform random vectors in [-range, range]^2 (seeded).
inline ferx::flow_field random_field(int rows, int cols, float range, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(-range, range);
    ferx::flow_field f = ferx::make_flow_field(rows, cols);
    for (auto& w : f) w = {d(rng), d(rng)};
    return f;
}

}  // namespace flow_test

#include <ferx/core/opencv.hpp>
#include <ferx/flow/io.hpp>

#include <opencv2/imgproc.hpp>

#include <cmath>
#include <string>

namespace flow_test {

/// A known motion x -> A (x - c) + c + t of frame 0's pixels (c: the image centre).
struct affine_motion {
    double a11 = 1, a12 = 0, a21 = 0, a22 = 1, tx = 0, ty = 0;
    static affine_motion translation(double tx, double ty) { return {1, 0, 0, 1, tx, ty}; }
    static affine_motion rotation(double degrees) {
        const double r = degrees * M_PI / 180;
        return {std::cos(r), -std::sin(r), std::sin(r), std::cos(r), 0, 0};
    }
    static affine_motion zoom(double s) { return {s, 0, 0, s, 0, 0}; }
};

/// A named known motion and the bound its test sets on the recovered flow's EPE.
struct named_motion {
    const char* name;
    affine_motion m;
    double bound;  // set from the measurement beside it
};

/// Frame 1 of a known motion of `frame0` (8-bit grey): frame1(A (x - c) + c + t) = frame0(x), by
/// exact inverse mapping with bilinear interpolation (in float, rounded to 8 bits), and the true
/// flow of every pixel of frame 0 with a mask leaving out `border` pixels and every pixel whose
/// destination or source leaves the frame.
struct known_pair {
    cv::Mat frame0, frame1;
    ferx::flow_field truth;
    ferx::image<std::uint8_t> mask;
};

inline known_pair make_known_pair(const cv::Mat& frame0, const affine_motion& m, int border = 16) {
    known_pair k;
    k.frame0 = frame0;
    const double cx = (frame0.cols - 1) / 2.0, cy = (frame0.rows - 1) / 2.0;
    // forward map p' = A (p - c) + c + t; warpAffine with WARP_INVERSE_MAP takes the inverse
    const double det = m.a11 * m.a22 - m.a12 * m.a21;
    const double i11 = m.a22 / det, i12 = -m.a12 / det, i21 = -m.a21 / det, i22 = m.a11 / det;
    // p = A^-1 (p' - c - t) + c
    const double bx = cx - (i11 * (cx + m.tx) + i12 * (cy + m.ty)), by = cy - (i21 * (cx + m.tx) + i22 * (cy + m.ty));
    cv::Mat inv = (cv::Mat_<double>(2, 3) << i11, i12, bx, i21, i22, by);
    cv::Mat f0, f1;
    frame0.convertTo(f0, CV_32F);
    cv::warpAffine(f0, f1, inv, frame0.size(), cv::INTER_LINEAR | cv::WARP_INVERSE_MAP, cv::BORDER_REPLICATE);
    f1.convertTo(k.frame1, CV_8U);
    k.truth = ferx::make_flow_field(frame0.rows, frame0.cols);
    k.mask = ferx::image<std::uint8_t>(std::array<std::size_t, 2>{std::size_t(frame0.rows), std::size_t(frame0.cols)});
    for (int y = 0; y < frame0.rows; ++y)
        for (int x = 0; x < frame0.cols; ++x) {
            const double px = m.a11 * (x - cx) + m.a12 * (y - cy) + cx + m.tx, py = m.a21 * (x - cx) + m.a22 * (y - cy) + cy + m.ty;
            k.truth(y, x) = {float(px - x), float(py - y)};
            const bool in = x >= border && y >= border && x < frame0.cols - border && y < frame0.rows - border && px >= border &&
                            py >= border && px < frame0.cols - border && py < frame0.rows - border;
            k.mask(y, x) = in ? 1 : 0;
        }
    return k;
}

/// A shared optical-flow pair with ground truth: grey frames, truth, validity mask.
struct truth_pair {
    std::string name;
    cv::Mat frame0, frame1;
    ferx::flow_field truth;
    ferx::image<std::uint8_t> valid;
};

/// The ground-truth pairs of ../shared/data/flow (those present): Middlebury Dimetrodon, Sintel
/// alley_1 and cave_2 clean and final (frame 2 -> 3, invalid pixels left out) and KITTI 000010
/// (flow_occ's valid pixels).
inline std::vector<truth_pair> truth_pairs() {
    std::vector<truth_pair> out;
    const auto d = flow_dir();
    auto all_valid = [](const ferx::flow_field& f) {
        ferx::image<std::uint8_t> v(f.shape());
        v.fill(1);
        return v;
    };
    if (std::filesystem::is_regular_file(d / "middlebury/Dimetrodon/flow10.flo")) {
        truth_pair p{"Middlebury Dimetrodon", ferx::read_image((d / "middlebury/Dimetrodon/frame10.png").string()),
                     ferx::read_image((d / "middlebury/Dimetrodon/frame11.png").string()),
                     ferx::read_flo((d / "middlebury/Dimetrodon/flow10.flo").string()), {}};
        p.valid = all_valid(p.truth);
        out.push_back(std::move(p));
    }
    for (const char* scene : {"alley_1", "cave_2"})
        for (const char* pass : {"clean", "final"}) {
            const auto s = d / "sintel" / scene / pass;
            if (!std::filesystem::is_regular_file(s / "gt/frame_0002.flo")) continue;
            truth_pair p{std::string("Sintel ") + scene + " " + pass, ferx::read_image((s / "frame_0002.png").string()),
                         ferx::read_image((s / "frame_0003.png").string()), ferx::read_flo((s / "gt/frame_0002.flo").string()), {}};
            const cv::Mat inv = ferx::read_image((s / "gt/invalid/frame_0002.png").string());
            p.valid = all_valid(p.truth);
            for (int y = 0; y < inv.rows; ++y)
                for (int x = 0; x < inv.cols; ++x) p.valid(y, x) = inv.at<std::uint8_t>(y, x) < 128;
            out.push_back(std::move(p));
        }
    if (std::filesystem::is_regular_file(d / "kitti/flow_occ_000010_10.png")) {
        auto gt = ferx::read_kitti_flow((d / "kitti/flow_occ_000010_10.png").string());
        out.push_back({"KITTI 000010", ferx::read_image((d / "kitti/kitti_000010_10.png").string()),
                       ferx::read_image((d / "kitti/kitti_000010_11.png").string()), std::move(gt.flow), std::move(gt.valid)});
    }
    return out;
}

}  // namespace flow_test
