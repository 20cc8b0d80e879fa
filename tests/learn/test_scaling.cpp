// Scaling: fitted statistics on hand-made data, transforms of unseen data use the training
// statistics, seq == par, bad input.
#include <ferx/learn/scaling.hpp>

#include <boost/test/unit_test.hpp>

#include "learn_test.hpp"

#include <opencv2/core.hpp>

#include <cmath>
#include <limits>

BOOST_AUTO_TEST_SUITE(scaling)

BOOST_AUTO_TEST_CASE(standard_scaler_known_answer) {
    // Column 0: 1, 2, 3 (mean 2, population std sqrt(2/3)); column 1 constant (scale 1).
    xt::xtensor<double, 2> x = {{1, 5}, {2, 5}, {3, 5}};
    const auto s = ferx::fit_standard_scaler(x);
    BOOST_TEST(s.mean[0] == 2.0);
    BOOST_TEST(s.scale[0] == std::sqrt(2.0 / 3.0), boost::test_tools::tolerance(1e-12));
    BOOST_TEST(s.scale[1] == 1.0);
    const auto z = ferx::transform(ferx::exec::seq, s, x);
    BOOST_TEST(z(0, 0) == -1.0 / std::sqrt(2.0 / 3.0), boost::test_tools::tolerance(1e-12));
    BOOST_TEST(z(2, 1) == 0.0);
    // Unseen data: training statistics, not its own.
    xt::xtensor<double, 2> t = {{4, 6}};
    const auto zt = ferx::transform(ferx::exec::seq, s, t);
    BOOST_TEST(zt(0, 0) == 2.0 / std::sqrt(2.0 / 3.0), boost::test_tools::tolerance(1e-12));
    BOOST_TEST(zt(0, 1) == 1.0);
    BOOST_CHECK_THROW(ferx::transform(ferx::exec::seq, s, xt::xtensor<double, 2>({1, 3}, 0.0)), ferx::error);
}

BOOST_AUTO_TEST_CASE(minmax_and_l2) {
    xt::xtensor<float, 2> x = {{0, -1}, {5, 1}, {10, 3}};
    const auto s = ferx::fit_minmax_scaler(x, -1.0, 1.0);
    const auto z = ferx::transform(ferx::exec::seq, s, x);
    BOOST_TEST(z(0, 0) == -1.f);
    BOOST_TEST(z(1, 0) == 0.f);
    BOOST_TEST(z(2, 1) == 1.f);
    xt::xtensor<float, 2> t = {{20, 3}};
    BOOST_TEST(ferx::transform(ferx::exec::seq, s, t)(0, 0) == 3.f);  // outside the training range
    BOOST_CHECK_THROW(ferx::fit_minmax_scaler(x, 1.0, 1.0), ferx::error);
    xt::xtensor<float, 2> r = {{3, 4}, {0, 0}};
    const auto n = ferx::l2_normalize(ferx::exec::seq, r);
    BOOST_TEST(n(0, 0) == 0.6f, boost::test_tools::tolerance(1e-6f));
    BOOST_TEST(n(0, 1) == 0.8f, boost::test_tools::tolerance(1e-6f));
    BOOST_TEST(n(1, 1) == 0.f);
    // par == seq
    xt::xtensor<float, 2> big;
    ferx::label_vector y;
    learn_test::blobs<float>(3, 100, 7, 2.0, 4, big, y);
    const auto ss = ferx::fit_standard_scaler(big);
    BOOST_TEST(ferx::transform(ferx::exec::seq, ss, big) == ferx::transform(ferx::exec::par, ss, big));
    BOOST_TEST(ferx::l2_normalize(ferx::exec::seq, big) == ferx::l2_normalize(ferx::exec::par, big));
    auto nan = big;
    nan(3, 3) = std::numeric_limits<float>::quiet_NaN();
    BOOST_CHECK_THROW(ferx::fit_standard_scaler(nan), ferx::error);
    BOOST_CHECK_THROW(ferx::transform(ferx::exec::seq, ss, nan), ferx::error);
}

BOOST_AUTO_TEST_SUITE_END()
