// PCA against cv::PCA, seq == par, bad input.
#include <ferx/learn/pca.hpp>

#include <boost/test/unit_test.hpp>

#include "learn_test.hpp"

#include <opencv2/core.hpp>

#include <cmath>
#include <limits>

BOOST_AUTO_TEST_SUITE(pca)

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
