// TV-L1 optical flow: known motions, exec::par against exec::seq bit for bit, the sequence and
// clip forms against pair calls, bad input; and (label heavy) end-point error on Middlebury,
// Sintel and KITTI ground truth beside OpenCV's DualTVL1OpticalFlow, same parameters.
#include <ferx/core/opencv.hpp>
#include <ferx/flow/metrics.hpp>
#include <ferx/flow/tvl1.hpp>

#include <boost/test/unit_test.hpp>

#include "flow_test.hpp"

#include <opencv2/optflow.hpp>

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

cv::Ptr<cv::optflow::DualTVL1OpticalFlow> opencv_tvl1(const ferx::tvl1_params& p) {
    return cv::optflow::DualTVL1OpticalFlow::create(p.tau, p.lambda, p.theta, p.nscales, p.warps, p.epsilon,
                                                    p.inner_iterations, p.outer_iterations, p.scale_step, p.gamma,
                                                    p.median_filtering, p.use_initial_flow);
}

cv::Mat test_image() {
    const auto p = flow_test::flow_dir() / "middlebury" / "Dimetrodon" / "frame10.png";
    if (std::filesystem::is_regular_file(p)) return ferx::read_image(p.string());
    return ferx_test::random_grey(240, 320, 7, true);  // smooth random texture without the data
}

/// A known motion of a crop of the test image, as float frames in [0, 1].
std::pair<cv::Mat, cv::Mat> float_pair(const flow_test::known_pair& k) {
    cv::Mat a, b;
    k.frame0.convertTo(a, CV_32F, 1 / 255.0);
    k.frame1.convertTo(b, CV_32F, 1 / 255.0);
    return {a, b};
}

bool same_bits(const ferx::flow_field& a, const ferx::flow_field& b) {
    if (a.shape() != b.shape()) return false;
    return std::memcmp(a.data(), b.data(), a.size() * sizeof(ferx::flow_vector)) == 0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tvl1)

BOOST_AUTO_TEST_CASE(known_motions) {
    const cv::Mat f0 = test_image()(cv::Rect(60, 40, 200, 160)).clone();
    const flow_test::named_motion motions[] = {
        {"translation (1.3, -0.7)", flow_test::affine_motion::translation(1.3, -0.7), 0.05},  // measured 0.0226
        {"rotation 2 degrees", flow_test::affine_motion::rotation(2.0), 0.12},            // measured 0.0590
        {"zoom 1.03", flow_test::affine_motion::zoom(1.03), 0.14},                // measured 0.0689
    };
    for (const auto& k : motions) {
        const auto pair = flow_test::make_known_pair(f0, k.m, 8);
        const auto f = ferx::tvl1(ferx::exec::seq, ferx::view<std::uint8_t>(pair.frame0), ferx::view<std::uint8_t>(pair.frame1));
        const auto e = ferx::compare_flow(ferx::view(f), ferx::view(pair.truth), ferx::view(pair.mask));
        const auto [a, b] = float_pair(pair);
        const auto ff = ferx::tvl1(ferx::exec::seq, ferx::view<float>(a), ferx::view<float>(b));
        const auto ef = ferx::compare_flow(ferx::view(ff), ferx::view(pair.truth), ferx::view(pair.mask));
        BOOST_TEST_MESSAGE("TV-L1, " << k.name << ": EPE " << e.epe << " px (float frames " << ef.epe
                                                          << "), angular " << e.angular << " deg");
        BOOST_TEST(e.epe < k.bound, k.name);
        BOOST_TEST(ef.epe < k.bound, k.name << " (float frames)");
    }
}

BOOST_AUTO_TEST_CASE(par_equals_seq_bit_for_bit) {
    const auto [a, b] = float_pair(flow_test::make_known_pair(test_image()(cv::Rect(20, 20, 260, 200)).clone(),
                                                             flow_test::affine_motion::translation(-2.2, 1.6)));
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
    const auto [a, b] = float_pair(flow_test::make_known_pair(test_image()(cv::Rect(100, 60, 100, 80)).clone(),
                                                             flow_test::affine_motion::translation(1.3, -0.7), 8));
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

BOOST_AUTO_TEST_CASE(ground_truth_against_opencv,
                     *boost::unit_test::label("heavy") * boost::unit_test::precondition(ferx_test::shared_data_present{})) {
    const auto pairs = flow_test::truth_pairs();
    BOOST_TEST_REQUIRE(!pairs.empty());
    for (const auto& tp : pairs) {
        const ferx::tvl1_params p;
        const auto a = ferx::view<std::uint8_t>(tp.frame0), b = ferx::view<std::uint8_t>(tp.frame1);
        const auto t0 = std::chrono::steady_clock::now();
        const auto ours = ferx::tvl1(ferx::exec::seq, a, b, p);
        const auto t1 = std::chrono::steady_clock::now();
        cv::Mat theirs;
        opencv_tvl1(p)->calc(tp.frame0, tp.frame1, theirs);
        const auto t2 = std::chrono::steady_clock::now();
        const auto zero = ferx::make_flow_field(tp.truth.shape()[0], tp.truth.shape()[1]);
        const auto truth = ferx::view(tp.truth);
        const auto valid = ferx::view(tp.valid);
        const double e_ours = ferx::endpoint_error(ferx::view(ours), truth, valid);
        const double e_cv = ferx::endpoint_error(ferx::flow_view_of(theirs), truth, valid);
        const double e_zero = ferx::endpoint_error(ferx::view(zero), truth, valid);
        const double diff = ferx::mean_flow_difference(ferx::view(ours), ferx::flow_view_of(theirs));
        BOOST_TEST_MESSAGE(tp.name << " " << tp.frame0.cols << "x" << tp.frame0.rows << ": EPE ferx " << e_ours << " (seq "
                                   << std::chrono::duration<double>(t1 - t0).count() << " s), OpenCV " << e_cv << " ("
                                   << std::chrono::duration<double>(t2 - t1).count() << " s), zero flow " << e_zero
                                   << ", mean |ferx - OpenCV| " << diff);
        BOOST_TEST(e_ours <= e_cv * 1.02, tp.name);
        BOOST_TEST(e_ours < 0.5 * e_zero, tp.name);
        ferx::tvl1_params pe;
        pe.exact_median = true;
        const auto exact = ferx::tvl1(ferx::exec::seq, a, b, pe);
        const double e_exact = ferx::endpoint_error(ferx::view(exact), truth, valid);
        BOOST_TEST_MESSAGE(tp.name << ": EPE ferx with exact_median " << e_exact);
        BOOST_TEST(e_exact <= e_cv * 1.02, tp.name << " (exact_median)");
    }
}

BOOST_AUTO_TEST_SUITE_END()
