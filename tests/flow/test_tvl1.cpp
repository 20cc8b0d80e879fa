// TV-L1 optical flow: a known sub-pixel translation, exec::par against exec::seq bit for bit, the
// sequence and clip forms against pair calls, bad input; and (label heavy) end-point error on
// Middlebury, Sintel and KITTI ground truth beside OpenCV's DualTVL1OpticalFlow, same parameters.
#include <ferx/core/opencv.hpp>
#include <ferx/flow/tvl1.hpp>

#include <boost/test/unit_test.hpp>

#include "../support/ferx_test.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/optflow.hpp>
#include <opencv2/video.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;

fs::path flow_dir() { return ferx_test::shared_dir() / "data" / "flow"; }

cv::Mat grey(const fs::path& p) { return cv::imread(p.string(), cv::IMREAD_GRAYSCALE); }

/// Mean end-point error of `f` (CV_32FC2) against `gt` over pixels where `valid` (CV_8U) is set.
double epe(const cv::Mat& f, const cv::Mat& gt, const cv::Mat& valid) {
    double s = 0;
    long n = 0;
    for (int y = 0; y < f.rows; ++y)
        for (int x = 0; x < f.cols; ++x) {
            if (!valid.empty() && !valid.at<std::uint8_t>(y, x)) continue;
            const cv::Vec2f a = f.at<cv::Vec2f>(y, x), b = gt.at<cv::Vec2f>(y, x);
            s += std::hypot(double(a[0]) - b[0], double(a[1]) - b[1]);
            ++n;
        }
    return n ? s / double(n) : 0.0;
}

cv::Mat to_cv(const ferx::flow_field& f) {
    cv::Mat m(int(f.shape()[0]), int(f.shape()[1]), CV_32FC2);
    for (int y = 0; y < m.rows; ++y)
        for (int x = 0; x < m.cols; ++x) m.at<cv::Vec2f>(y, x) = cv::Vec2f(f(y, x).u, f(y, x).v);
    return m;
}

cv::Ptr<cv::optflow::DualTVL1OpticalFlow> opencv_tvl1(const ferx::tvl1_params& p) {
    return cv::optflow::DualTVL1OpticalFlow::create(p.tau, p.lambda, p.theta, p.nscales, p.warps, p.epsilon,
                                                    p.inner_iterations, p.outer_iterations, p.scale_step, p.gamma,
                                                    p.median_filtering, p.use_initial_flow);
}

/// Runs both on (a, b) and checks ferx's EPE against OpenCV's.
void compare_with_opencv(const std::string& name, const cv::Mat& a, const cv::Mat& b, const cv::Mat& gt,
                         const cv::Mat& valid) {
    const ferx::tvl1_params p;
    auto t0 = std::chrono::steady_clock::now();
    const cv::Mat ours = to_cv(ferx::tvl1(ferx::exec::seq, ferx::view<std::uint8_t>(a), ferx::view<std::uint8_t>(b), p));
    auto t1 = std::chrono::steady_clock::now();
    cv::Mat theirs;
    opencv_tvl1(p)->calc(a, b, theirs);
    auto t2 = std::chrono::steady_clock::now();
    const cv::Mat zero = cv::Mat::zeros(a.size(), CV_32FC2);
    const double e_ours = epe(ours, gt, valid), e_cv = epe(theirs, gt, valid), e_zero = epe(zero, gt, valid);
    const double diff = epe(ours, theirs, cv::Mat());
    BOOST_TEST_MESSAGE(name << " " << a.cols << "x" << a.rows << ": EPE ferx " << e_ours << " (seq "
                            << std::chrono::duration<double>(t1 - t0).count() << " s), OpenCV " << e_cv << " ("
                            << std::chrono::duration<double>(t2 - t1).count() << " s), zero flow " << e_zero
                            << ", mean |ferx - OpenCV| " << diff);
    BOOST_TEST(e_ours <= e_cv * 1.02);
    BOOST_TEST(e_ours < 0.5 * e_zero);
    ferx::tvl1_params pe;
    pe.exact_median = true;
    const cv::Mat exact = to_cv(ferx::tvl1(ferx::exec::seq, ferx::view<std::uint8_t>(a), ferx::view<std::uint8_t>(b), pe));
    const double e_exact = epe(exact, gt, valid);
    BOOST_TEST_MESSAGE(name << ": EPE ferx with exact_median " << e_exact);
    BOOST_TEST(e_exact <= e_cv * 1.02);
}

/// The bilinear sample of `m` (CV_8U) at (x, y), in double, clamped.
double bilinear(const cv::Mat& m, double x, double y) {
    x = std::min(std::max(x, 0.0), double(m.cols - 1));
    y = std::min(std::max(y, 0.0), double(m.rows - 1));
    const int x0 = std::min(int(x), m.cols - 2), y0 = std::min(int(y), m.rows - 2);
    const double fx = x - x0, fy = y - y0;
    auto at = [&](int r, int c) { return double(m.at<std::uint8_t>(r, c)); };
    return (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
}

/// A rows x cols crop of `src` at (x0, y0) and the same crop moved by (du, dv): float [0, 1]
/// frames with i1(x + du, y + dv) = i0(x, y).
std::pair<cv::Mat, cv::Mat> translated_pair(const cv::Mat& src, int x0, int y0, int rows, int cols, double du, double dv) {
    cv::Mat a(rows, cols, CV_32F), b(rows, cols, CV_32F);
    for (int y = 0; y < rows; ++y)
        for (int x = 0; x < cols; ++x) {
            a.at<float>(y, x) = float(src.at<std::uint8_t>(y0 + y, x0 + x) / 255.0);
            b.at<float>(y, x) = float(bilinear(src, x0 + x - du, y0 + y - dv) / 255.0);
        }
    return {a, b};
}

cv::Mat test_image() {
    const fs::path p = flow_dir() / "middlebury" / "Dimetrodon" / "frame10.png";
    if (fs::is_regular_file(p)) return grey(p);
    return ferx_test::random_grey(240, 320, 7, true);  // smooth random texture without the data
}

bool same_bits(const ferx::flow_field& a, const ferx::flow_field& b) {
    if (a.shape() != b.shape()) return false;
    return std::memcmp(a.data(), b.data(), a.size() * sizeof(ferx::flow_vector)) == 0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tvl1)

BOOST_AUTO_TEST_CASE(recovers_a_subpixel_translation) {
    const cv::Mat src = test_image();
    const auto [a, b] = translated_pair(src, 100, 60, 80, 100, 1.3, -0.7);
    const ferx::flow_field f = ferx::tvl1(ferx::exec::seq, ferx::view<float>(a), ferx::view<float>(b));
    double s = 0;
    int n = 0;
    for (int y = 8; y < 72; ++y)
        for (int x = 8; x < 92; ++x) {
            s += std::hypot(f(y, x).u - 1.3, f(y, x).v + 0.7);
            ++n;
        }
    BOOST_TEST_MESSAGE("translation (1.3, -0.7): mean EPE inside an 8-pixel border " << s / n);
    BOOST_TEST(s / n < 0.05);  // measured 0.0152 (Dimetrodon frame10 crop, default parameters)
}

BOOST_AUTO_TEST_CASE(par_equals_seq_bit_for_bit) {
    const cv::Mat src = test_image();
    const auto [a, b] = translated_pair(src, 20, 20, 200, 260, -2.2, 1.6);
    ferx::tvl1_params p;
    p.nscales = 3;
    p.warps = 2;
    p.outer_iterations = 3;
    p.inner_iterations = 10;
    const auto s = ferx::tvl1(ferx::exec::seq, ferx::view<float>(a), ferx::view<float>(b), p);
    ferx::thread_pool pool(3);
    const auto q = ferx::tvl1(ferx::exec::par.on(pool), ferx::view<float>(a), ferx::view<float>(b), p);
    const auto d = ferx::tvl1(ferx::exec::par, ferx::view<float>(a), ferx::view<float>(b), p);
    BOOST_TEST(same_bits(s, q));
    BOOST_TEST(same_bits(s, d));
    p.gamma = 0.2;
    p.median_filtering = 3;
    const auto sg = ferx::tvl1(ferx::exec::seq, ferx::view<float>(a), ferx::view<float>(b), p);
    const auto qg = ferx::tvl1(ferx::exec::par.on(pool), ferx::view<float>(a), ferx::view<float>(b), p);
    BOOST_TEST(same_bits(sg, qg));
    p.gamma = 0;
    p.median_filtering = 5;
    p.exact_median = true;
    const auto se = ferx::tvl1(ferx::exec::seq, ferx::view<float>(a), ferx::view<float>(b), p);
    const auto qe = ferx::tvl1(ferx::exec::par.on(pool), ferx::view<float>(a), ferx::view<float>(b), p);
    BOOST_TEST(same_bits(se, qe));
}

BOOST_AUTO_TEST_CASE(forgetful_median_equals_nth_element) {
    std::mt19937 rng(3);
    for (int t = 0; t < 20000; ++t) {
        float w[25], c[25];
        const unsigned range = t % 3 ? 1000u : 4u;  // many ties one time in three
        for (int i = 0; i < 25; ++i) w[i] = c[i] = float(rng() % range) - 2.f;
        const int n = t % 2 ? 25 : 9;
        const float m = n == 25 ? ferx::detail::tvl1_forgetful_median<25>(w, ferx::detail::tvl1_min, ferx::detail::tvl1_max)
                                : ferx::detail::tvl1_forgetful_median<9>(w, ferx::detail::tvl1_min, ferx::detail::tvl1_max);
        std::nth_element(c, c + n / 2, c + n);
        BOOST_TEST_REQUIRE(m == c[n / 2]);
    }
}

BOOST_AUTO_TEST_CASE(sequence_and_clip_equal_pair_calls) {
    const cv::Mat src = test_image();
    ferx::tvl1_params p;
    p.nscales = 3;
    p.warps = 2;
    p.outer_iterations = 2;
    p.inner_iterations = 10;
    const int rows = 60, cols = 80;
    std::vector<cv::Mat> frames;
    for (int t = 0; t < 4; ++t) {
        cv::Mat f = src(cv::Rect(40 + 2 * t, 30 + t, cols, rows)).clone();
        frames.push_back(f);
    }
    cv::Mat clip(std::vector<int>{4, rows, cols}, CV_8U);
    for (int t = 0; t < 4; ++t) std::memcpy(clip.ptr(t), frames[t].data, std::size_t(rows * cols));
    const ferx::volume_view<const std::uint8_t> vol(clip.ptr<std::uint8_t>(), {4, rows, cols});
    const auto flows = ferx::tvl1(ferx::exec::seq, vol, p);
    BOOST_TEST(flows.size() == 3u);
    ferx::tvl1_sequence seq(p);
    BOOST_TEST(seq.next(ferx::exec::par, ferx::view<std::uint8_t>(std::as_const(frames)[0])).size() == 0u);
    for (int t = 1; t < 4; ++t) {
        const auto pair = ferx::tvl1(ferx::exec::seq, ferx::view<std::uint8_t>(std::as_const(frames)[t - 1]), ferx::view<std::uint8_t>(std::as_const(frames)[t]), p);
        BOOST_TEST(same_bits(pair, flows[std::size_t(t - 1)]));
        BOOST_TEST(same_bits(pair, seq.next(ferx::exec::par, ferx::view<std::uint8_t>(std::as_const(frames)[t]))));
    }
}

BOOST_AUTO_TEST_CASE(initial_flow_is_used) {
    const cv::Mat src = test_image();
    const auto [a, b] = translated_pair(src, 100, 60, 80, 100, 1.3, -0.7);
    ferx::tvl1_params p;
    p.nscales = 1;
    p.warps = 1;
    p.outer_iterations = 1;
    p.inner_iterations = 1;
    p.use_initial_flow = true;
    ferx::flow_field f = ferx::make_flow_field(80, 100);
    for (auto& v : f) v = ferx::flow_vector{1.3f, -0.7f};
    ferx::tvl1(ferx::exec::seq, ferx::view<float>(a), ferx::view<float>(b), ferx::view(f), p);
    BOOST_TEST(std::abs(f(40, 50).u - 1.3f) < 0.2f);
    BOOST_TEST(std::abs(f(40, 50).v + 0.7f) < 0.2f);
}

BOOST_AUTO_TEST_CASE(tiny_frames_give_finite_flow) {
    for (const cv::Size sz : {cv::Size(1, 1), cv::Size(3, 2), cv::Size(1, 7), cv::Size(9, 1), cv::Size(17, 16)}) {
        const cv::Mat a = ferx_test::random_grey(sz.height, sz.width, 5, false), b = ferx_test::random_grey(sz.height, sz.width, 6, false);
        ferx::tvl1_params p;
        p.gamma = 0.1;
        const auto f = ferx::tvl1(ferx::exec::seq, ferx::view<std::uint8_t>(a), ferx::view<std::uint8_t>(b), p);
        BOOST_TEST(f.shape()[0] == std::size_t(sz.height));
        BOOST_TEST(f.shape()[1] == std::size_t(sz.width));
        for (const auto& v : f) BOOST_TEST((std::isfinite(v.u) && std::isfinite(v.v)));
    }
}

BOOST_AUTO_TEST_CASE(bad_input_throws) {
    const cv::Mat a = ferx_test::random_grey(40, 50, 1, true), b = ferx_test::random_grey(40, 50, 2, true);
    const cv::Mat c = ferx_test::random_grey(41, 50, 3, true);
    const auto va = ferx::view<std::uint8_t>(a), vb = ferx::view<std::uint8_t>(b);
    BOOST_CHECK_THROW(ferx::tvl1(ferx::exec::seq, va, ferx::view<std::uint8_t>(c)), ferx::error);
    BOOST_CHECK_THROW(ferx::tvl1(ferx::exec::seq, va, ferx::image_view<const std::uint8_t>()), ferx::error);
    auto bad = [&](auto change) {
        ferx::tvl1_params p;
        change(p);
        BOOST_CHECK_THROW(ferx::tvl1(ferx::exec::seq, va, vb, p), ferx::error);
    };
    bad([](ferx::tvl1_params& p) { p.tau = 0; });
    bad([](ferx::tvl1_params& p) { p.lambda = -1; });
    bad([](ferx::tvl1_params& p) { p.theta = std::nan(""); });
    bad([](ferx::tvl1_params& p) { p.epsilon = 0; });
    bad([](ferx::tvl1_params& p) { p.nscales = 0; });
    bad([](ferx::tvl1_params& p) { p.warps = 0; });
    bad([](ferx::tvl1_params& p) { p.inner_iterations = 0; });
    bad([](ferx::tvl1_params& p) { p.outer_iterations = 0; });
    bad([](ferx::tvl1_params& p) { p.scale_step = 1.0; });
    bad([](ferx::tvl1_params& p) { p.scale_step = 0.0; });
    bad([](ferx::tvl1_params& p) { p.gamma = -0.1; });
    bad([](ferx::tvl1_params& p) { p.median_filtering = 7; });
    cv::Mat fa, fb;
    a.convertTo(fa, CV_32F, 1 / 255.0);
    b.convertTo(fb, CV_32F, 1 / 255.0);
    fb.at<float>(3, 4) = std::nanf("");
    BOOST_CHECK_THROW(ferx::tvl1(ferx::exec::seq, ferx::view<float>(std::as_const(fa)), ferx::view<float>(std::as_const(fb))), ferx::error);
    ferx::flow_field wrong = ferx::make_flow_field(40, 49);
    BOOST_CHECK_THROW(ferx::tvl1(ferx::exec::seq, va, vb, ferx::view(wrong)), ferx::error);
    ferx::flow_field init = ferx::make_flow_field(40, 50);
    init(1, 1).u = std::nanf("");
    ferx::tvl1_params p;
    p.use_initial_flow = true;
    BOOST_CHECK_THROW(ferx::tvl1(ferx::exec::seq, va, vb, ferx::view(init), p), ferx::error);
}

BOOST_AUTO_TEST_CASE(middlebury_dimetrodon_vs_opencv, *boost::unit_test::label("heavy")) {
    const fs::path d = flow_dir() / "middlebury" / "Dimetrodon";
    if (!fs::is_regular_file(d / "flow10.flo")) {
        BOOST_TEST_MESSAGE("Middlebury Dimetrodon not found under " << d.string() << "; skipping");
        return;
    }
    const cv::Mat gt = cv::readOpticalFlow((d / "flow10.flo").string());
    cv::Mat valid(gt.size(), CV_8U);
    for (int y = 0; y < gt.rows; ++y)
        for (int x = 0; x < gt.cols; ++x) {
            const cv::Vec2f v = gt.at<cv::Vec2f>(y, x);
            valid.at<std::uint8_t>(y, x) = std::abs(v[0]) < 1e9f && std::abs(v[1]) < 1e9f;
        }
    compare_with_opencv("Middlebury Dimetrodon", grey(d / "frame10.png"), grey(d / "frame11.png"), gt, valid);
}

BOOST_AUTO_TEST_CASE(sintel_vs_opencv, *boost::unit_test::label("heavy")) {
    for (const char* scene : {"alley_1/clean", "alley_1/final", "cave_2/clean", "cave_2/final"}) {
        const fs::path d = flow_dir() / "sintel" / scene;
        if (!fs::is_regular_file(d / "gt" / "frame_0002.flo")) {
            BOOST_TEST_MESSAGE("Sintel " << scene << " not found; skipping");
            continue;
        }
        const cv::Mat gt = cv::readOpticalFlow((d / "gt" / "frame_0002.flo").string());
        const cv::Mat invalid = grey(d / "gt" / "invalid" / "frame_0002.png");
        cv::Mat valid = invalid.empty() ? cv::Mat(gt.size(), CV_8U, cv::Scalar(1)) : (invalid < 128);
        compare_with_opencv(std::string("Sintel ") + scene, grey(d / "frame_0002.png"), grey(d / "frame_0003.png"), gt, valid);
    }
}

BOOST_AUTO_TEST_CASE(kitti_vs_opencv, *boost::unit_test::label("heavy")) {
    const fs::path d = flow_dir() / "kitti";
    if (!fs::is_regular_file(d / "flow_occ_000010_10.png")) {
        BOOST_TEST_MESSAGE("KITTI not found under " << d.string() << "; skipping");
        return;
    }
    const cv::Mat raw = cv::imread((d / "flow_occ_000010_10.png").string(), cv::IMREAD_UNCHANGED);  // BGR, 16-bit
    cv::Mat gt(raw.size(), CV_32FC2), valid(raw.size(), CV_8U);
    for (int y = 0; y < raw.rows; ++y)
        for (int x = 0; x < raw.cols; ++x) {
            const cv::Vec3w p = raw.at<cv::Vec3w>(y, x);
            gt.at<cv::Vec2f>(y, x) = cv::Vec2f((float(p[2]) - 32768.f) / 64.f, (float(p[1]) - 32768.f) / 64.f);
            valid.at<std::uint8_t>(y, x) = p[0] != 0;
        }
    compare_with_opencv("KITTI 000010", grey(d / "kitti_000010_10.png"), grey(d / "kitti_000010_11.png"), gt, valid);
}

BOOST_AUTO_TEST_SUITE_END()
