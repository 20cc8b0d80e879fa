// Farneback: ground-truth pairs against OpenCV's calcOpticalFlowFarneback (same parameters),
// known motions, backends, sequences, the initial flow and bad input.
#include <ferx/flow/farneback.hpp>
#include <ferx/flow/metrics.hpp>

#include <boost/test/unit_test.hpp>

#include "flow_test.hpp"

#include <opencv2/video/tracking.hpp>

#include <cstring>
#include <limits>
#include <utility>

namespace {

/// The README's parameters (../shared/README.md's OpenCV table).
ferx::farneback_params readme_params(bool gaussian) {
    auto p = ferx::farneback_params::opencv_sample();
    p.gaussian_window = gaussian;
    return p;
}

ferx::flow_field fb_of(const cv::Mat& a, const cv::Mat& b, const ferx::farneback_params& p) {
    return ferx::farneback(ferx::exec::seq, ferx::view<std::uint8_t>(a), ferx::view<std::uint8_t>(b), p);
}

bool same_flow_bits(const ferx::flow_field& a, const ferx::flow_field& b) {
    return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(ferx::flow_vector)) == 0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(farneback)

BOOST_AUTO_TEST_CASE(ground_truth_against_opencv, *boost::unit_test::precondition(ferx_test::shared_data_present{})) {
    const auto pairs = flow_test::truth_pairs();
    BOOST_TEST_REQUIRE(!pairs.empty());
    for (bool gaussian : {false, true}) {
        const auto p = readme_params(gaussian);
        for (const auto& tp : pairs) {
            const auto f = fb_of(tp.frame0, tp.frame1, p);
            cv::Mat cvf;
            cv::calcOpticalFlowFarneback(tp.frame0, tp.frame1, cvf, p.pyr_scale, p.levels, p.winsize, p.iterations, p.poly_n,
                                         p.poly_sigma, gaussian ? cv::OPTFLOW_FARNEBACK_GAUSSIAN : 0);
            const auto cvv = ferx::flow_view_of(cvf);
            const auto zero = ferx::make_flow_field(tp.truth.shape()[0], tp.truth.shape()[1]);
            const double e = ferx::endpoint_error(ferx::view(f), ferx::view(tp.truth), ferx::view(tp.valid));
            const double e_cv = ferx::endpoint_error(cvv, ferx::view(tp.truth), ferx::view(tp.valid));
            const double e_zero = ferx::endpoint_error(ferx::view(zero), ferx::view(tp.truth), ferx::view(tp.valid));
            const double diff = ferx::mean_flow_difference(ferx::view(f), cvv);
            BOOST_TEST_MESSAGE(tp.name << (gaussian ? " (Gaussian window)" : " (box)") << ": EPE ferx " << e << ", OpenCV " << e_cv
                                       << ", zero flow " << e_zero << "; mean |ferx - OpenCV| " << diff);
            BOOST_TEST(e <= e_cv * 1.02, tp.name);
            // the same algorithm: measured 0.004-0.27 px (largest on cave_2's large motions)
            BOOST_TEST(diff < 0.1 * e_zero, tp.name << ": mean difference " << diff);
        }
    }
}

BOOST_AUTO_TEST_CASE(known_motions,
                     *boost::unit_test::precondition(ferx_test::file_present{flow_test::flow_dir() / "middlebury/RubberWhale/frame10.png", "RubberWhale frame10 (../shared)"})) {
    // RubberWhale (textured; Dimetrodon's flat regions leave Farneback's 15x15 window without
    // structure: there, 2 degrees of rotation measured 3.6 px for ferx and 4.1 px for OpenCV)
    const cv::Mat f0 = ferx::read_image((flow_test::flow_dir() / "middlebury/RubberWhale/frame10.png").string());
    const flow_test::named_motion motions[] = {
        {"translation (1.3, -0.7)", flow_test::affine_motion::translation(1.3, -0.7), 0.2},  // measured 0.126
        {"rotation 2 degrees", flow_test::affine_motion::rotation(2.0), 1.0},                 // measured 0.736
        {"zoom 1.03", flow_test::affine_motion::zoom(1.03), 0.9},                             // measured 0.653
    };
    for (const auto& k : motions) {
        const auto pair = flow_test::make_known_pair(f0, k.m);
        auto p = readme_params(false);
        p.smooth_first_level = false;
        const auto f = fb_of(pair.frame0, pair.frame1, p);
        const auto e = ferx::compare_flow(ferx::view(f), ferx::view(pair.truth), ferx::view(pair.mask));
        BOOST_TEST_MESSAGE("Farneback on RubberWhale, " << k.name << ": EPE " << e.epe << " px, angular " << e.angular << " deg");
        BOOST_TEST(e.epe < k.bound, k.name);
    }
}

BOOST_AUTO_TEST_CASE(par_equals_seq_bit_for_bit) {
    const cv::Mat a = ferx_test::random_grey(97, 131, 3, true);
    const auto pair = flow_test::make_known_pair(a, flow_test::affine_motion::translation(2.2, 1.1), 4);
    for (bool gaussian : {false, true}) {
        const auto p = readme_params(gaussian);
        const auto s = ferx::farneback(ferx::exec::seq, ferx::view<std::uint8_t>(pair.frame0), ferx::view<std::uint8_t>(pair.frame1), p);
        const auto q = ferx::farneback(ferx::exec::par, ferx::view<std::uint8_t>(pair.frame0), ferx::view<std::uint8_t>(pair.frame1), p);
        BOOST_TEST(same_flow_bits(s, q), (gaussian ? "Gaussian" : "box"));
        ferx::thread_pool three(3);
        const auto t = ferx::farneback(ferx::exec::par.on(three), ferx::view<std::uint8_t>(pair.frame0),
                                       ferx::view<std::uint8_t>(pair.frame1), p);
        BOOST_TEST(same_flow_bits(s, t));
    }
}

BOOST_AUTO_TEST_CASE(sequences_equal_pair_calls) {
    std::vector<cv::Mat> frames;
    const cv::Mat base = ferx_test::random_grey(64, 80, 5, true);
    for (int i = 0; i < 4; ++i) frames.push_back(flow_test::make_known_pair(base, flow_test::affine_motion::translation(0.7 * i, 0.3 * i)).frame1);
    const auto p = readme_params(false);
    ferx::farneback_sequence seq(p);
    BOOST_TEST(seq.next(ferx::exec::seq, ferx::view<std::uint8_t>(frames[0])).size() == 0u);
    ferx::volume<std::uint8_t> clip(std::array<std::size_t, 3>{4, 64, 80});
    for (std::size_t t = 0; t < 4; ++t)
        for (int y = 0; y < 64; ++y) std::memcpy(&clip(t, std::size_t(y), 0), frames[t].ptr(y), 80);
    const auto flows = ferx::farneback(ferx::exec::par, ferx::volume_view<const std::uint8_t>(ferx::view(clip)), p);
    BOOST_TEST_REQUIRE(flows.size() == 3u);
    for (int t = 1; t < 4; ++t) {
        const auto pair = fb_of(frames[std::size_t(t - 1)], frames[std::size_t(t)], p);
        BOOST_TEST(same_flow_bits(pair, seq.next(ferx::exec::seq, ferx::view<std::uint8_t>(frames[std::size_t(t)]))));
        BOOST_TEST(same_flow_bits(pair, flows[std::size_t(t - 1)]));
    }
}

BOOST_AUTO_TEST_CASE(initial_flow_is_used) {
    const cv::Mat a = ferx_test::random_grey(90, 110, 9, true);
    const auto pair = flow_test::make_known_pair(a, flow_test::affine_motion::translation(6.0, -5.0), 12);
    auto p = readme_params(false);
    p.levels = 0;  // no pyramid: 6 pixels are beyond a single level's reach from zero ...
    p.iterations = 5;
    const auto from_zero = fb_of(pair.frame0, pair.frame1, p);
    auto f = ferx::make_flow_field(90, 110);
    for (auto& v : f) v = {5.5f, -4.5f};  // ... but not from a close initial flow
    p.use_initial_flow = true;
    ferx::farneback(ferx::exec::seq, ferx::view<std::uint8_t>(pair.frame0), ferx::view<std::uint8_t>(pair.frame1), ferx::view(f), p);
    const double e0 = ferx::endpoint_error(ferx::view(from_zero), ferx::view(pair.truth), ferx::view(pair.mask));
    const double e1 = ferx::endpoint_error(ferx::view(f), ferx::view(pair.truth), ferx::view(pair.mask));
    BOOST_TEST_MESSAGE("6-pixel shift, no pyramid: EPE " << e0 << " from zero, " << e1 << " from a close initial flow");
    BOOST_TEST(e1 < 0.5);
    BOOST_TEST(e1 < 0.5 * e0);
}

BOOST_AUTO_TEST_CASE(bad_input) {
    const cv::Mat a = ferx_test::random_grey(40, 50, 1, true), b = ferx_test::random_grey(40, 51, 2, true);
    BOOST_CHECK_THROW(fb_of(a, b, {}), ferx::error);
    BOOST_CHECK_THROW(ferx::farneback(ferx::exec::seq, ferx::image_view<const std::uint8_t>{}, ferx::view<std::uint8_t>(a)), ferx::error);
    for (auto bad : {+[](ferx::farneback_params& p) { p.pyr_scale = 1.0; }, +[](ferx::farneback_params& p) { p.pyr_scale = 0; },
                     +[](ferx::farneback_params& p) { p.levels = -1; }, +[](ferx::farneback_params& p) { p.winsize = 0; },
                     +[](ferx::farneback_params& p) { p.iterations = 0; }, +[](ferx::farneback_params& p) { p.poly_n = 6; },
                     +[](ferx::farneback_params& p) { p.poly_sigma = -1; }}) {
        ferx::farneback_params p;
        bad(p);
        BOOST_CHECK_THROW(fb_of(a, a, p), ferx::error);
    }
    auto wrong = ferx::make_flow_field(39, 50);
    BOOST_CHECK_THROW(ferx::farneback(ferx::exec::seq, ferx::view<std::uint8_t>(a), ferx::view<std::uint8_t>(a), ferx::view(wrong)),
                      ferx::error);
    ferx::image<float> fa(std::array<std::size_t, 2>{40, 50});
    fa.fill(0.5f);
    auto fb = fa;
    fb(3, 3) = std::numeric_limits<float>::quiet_NaN();
    BOOST_CHECK_THROW(ferx::farneback(ferx::exec::seq, ferx::view(std::as_const(fa)), ferx::view(std::as_const(fb))), ferx::error);
    auto init = ferx::make_flow_field(40, 50);
    init(1, 1).u = std::numeric_limits<float>::infinity();
    ferx::farneback_params p;
    p.use_initial_flow = true;
    BOOST_CHECK_THROW(ferx::farneback(ferx::exec::seq, ferx::view<std::uint8_t>(a), ferx::view<std::uint8_t>(a), ferx::view(init), p),
                      ferx::error);
    // tiny frames give finite flow
    for (int s : {1, 2, 7}) {
        const cv::Mat t = ferx_test::random_grey(s, s + 1, 4, false);
        const auto f = fb_of(t, t, {});
        for (const auto& v : f) BOOST_TEST((std::isfinite(v.u) && std::isfinite(v.v)));
    }
}

BOOST_AUTO_TEST_SUITE_END()
