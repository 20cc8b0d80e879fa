// Scaling and PCA: fitted statistics on hand-made data, transforms of unseen data use the
// training statistics, PCA against cv::PCA, seq == par, bad input.
#include <ferx/learn/pca.hpp>
#include <ferx/learn/scaling.hpp>

#include <boost/test/unit_test.hpp>

#include "learn_test.hpp"

#include <opencv2/core.hpp>

#include <cmath>
#include <limits>

BOOST_AUTO_TEST_SUITE(preprocess)

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

BOOST_AUTO_TEST_CASE(pca_matches_opencv) {
    xt::xtensor<float, 2> x;
    ferx::label_vector y;
    learn_test::blobs<float>(4, 60, 12, 2.0, 9, x, y);
    const std::size_t k = 5;
    const auto p = ferx::fit_pca(x, k);
    cv::PCA cvp(learn_test::to_mat(x), cv::noArray(), cv::PCA::DATA_AS_ROW, static_cast<int>(k));
    const double n = double(x.shape(0));
    for (std::size_t c = 0; c < k; ++c) {
        // OpenCV's eigenvalues are of the covariance normalised by n; ferx's by n - 1.
        BOOST_TEST(p.explained_variance[c] * (n - 1) / n == cvp.eigenvalues.at<float>(int(c)),
                   boost::test_tools::tolerance(1e-4));
        double d = 0;  // same direction up to sign
        for (std::size_t j = 0; j < x.shape(1); ++j) d += p.components(c, j) * cvp.eigenvectors.at<float>(int(c), int(j));
        BOOST_TEST(std::abs(d) == 1.0, boost::test_tools::tolerance(1e-4));
    }
    const auto z = ferx::transform(ferx::exec::seq, p, x);
    BOOST_TEST(z == ferx::transform(ferx::exec::par, p, x));
    // Whitened projections of the training set have unit variance per component.
    const auto w = ferx::transform(ferx::exec::seq, ferx::fit_pca(x, k, true), x);
    for (std::size_t c = 0; c < k; ++c) {
        double m = 0, v = 0;
        for (std::size_t i = 0; i < w.shape(0); ++i) m += w(i, c) / n;
        for (std::size_t i = 0; i < w.shape(0); ++i) v += (w(i, c) - m) * (w(i, c) - m) / (n - 1);
        BOOST_TEST(v == 1.0, boost::test_tools::tolerance(1e-4));
    }
    BOOST_CHECK_THROW(ferx::fit_pca(x, 0), ferx::error);
    BOOST_CHECK_THROW(ferx::fit_pca(x, 13), ferx::error);
}

BOOST_AUTO_TEST_SUITE_END()
