// Flow error measures: values worked out by hand, masks, unknown ground truth, bad input.
#include <ferx/flow/metrics.hpp>

#include <boost/test/unit_test.hpp>

#include "flow_test.hpp"

#include <cmath>
#include <limits>

BOOST_AUTO_TEST_SUITE(flow_metrics)

BOOST_AUTO_TEST_CASE(hand_computed_values) {
    auto truth = ferx::make_flow_field(2, 2);
    auto est = ferx::make_flow_field(2, 2);
    // pixel (0,0): truth 0, estimate (3,4): EPE 5, angle acos(1/sqrt(26)) degrees; an outlier
    est(0, 0) = {3.f, 4.f};
    // pixel (0,1): truth (1,0), estimate (0,0): EPE 1, angle acos(1/sqrt(2)) = 45 degrees
    truth(0, 1) = {1.f, 0.f};
    // pixels (1,0), (1,1): exact
    truth(1, 0) = est(1, 0) = {-2.f, 7.5f};
    truth(1, 1) = est(1, 1) = {0.25f, -0.5f};
    const auto e = ferx::compare_flow(ferx::view(est), ferx::view(truth));
    BOOST_TEST(e.count == 4);
    BOOST_TEST(e.epe == 6.0 / 4, boost::test_tools::tolerance(1e-12));
    const double a00 = std::acos(1 / std::sqrt(26.0)) * 180 / M_PI;
    BOOST_TEST(e.angular == (a00 + 45.0) / 4, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(e.outliers == 0.25);
    BOOST_TEST(ferx::endpoint_error(ferx::view(est), ferx::view(truth)) == 1.5, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(mask_and_unknown_truth_leave_pixels_out) {
    auto truth = ferx::make_flow_field(1, 3);
    auto est = ferx::make_flow_field(1, 3);
    est(0, 0) = {1.f, 0.f};
    est(0, 1) = {0.f, 2.f};
    est(0, 2) = {100.f, 0.f};
    truth(0, 2) = {1e10f, 0.f};  // the Middlebury "unknown" marker
    ferx::image<std::uint8_t> mask(std::array<std::size_t, 2>{1, 3});
    mask(0, 0) = 0;
    mask(0, 1) = 1;
    mask(0, 2) = 1;
    const auto e = ferx::compare_flow(ferx::view(est), ferx::view(truth), ferx::view(mask));
    BOOST_TEST(e.count == 1);
    BOOST_TEST(e.epe == 2.0);
    const auto all = ferx::compare_flow(ferx::view(est), ferx::view(truth));
    BOOST_TEST(all.count == 2);
    BOOST_TEST(all.epe == 1.5);
}

BOOST_AUTO_TEST_CASE(a_field_against_itself_has_no_error) {
    const auto f = flow_test::random_field(20, 30, 10.f, 3);
    const auto e = ferx::compare_flow(ferx::view(f), ferx::view(f));
    BOOST_TEST(e.epe == 0.0);
    BOOST_TEST(e.angular < 1e-3);  // acos near 1 in double
    BOOST_TEST(e.count == 600);
}

BOOST_AUTO_TEST_CASE(bad_input) {
    const auto a = flow_test::random_field(4, 4, 1.f, 1);
    const auto b = flow_test::random_field(4, 5, 1.f, 2);
    BOOST_CHECK_THROW(ferx::compare_flow(ferx::view(a), ferx::view(b)), ferx::error);
    ferx::image<std::uint8_t> zero(std::array<std::size_t, 2>{4, 4});
    zero.fill(0);
    BOOST_CHECK_THROW(ferx::compare_flow(ferx::view(a), ferx::view(a), ferx::view(zero)), ferx::error);
    auto nan = a;
    nan(2, 2).v = std::numeric_limits<float>::quiet_NaN();
    BOOST_CHECK_THROW(ferx::compare_flow(ferx::view(nan), ferx::view(a)), ferx::error);
    BOOST_CHECK_THROW(ferx::compare_flow(ferx::const_flow_view<>{}, ferx::view(a)), ferx::error);
}

BOOST_AUTO_TEST_SUITE_END()
