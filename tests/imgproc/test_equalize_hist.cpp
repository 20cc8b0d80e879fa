// Global histogram equalisation against cv::equalizeHist on real images, bit for bit; par against seq.
#include "imgproc_test.hpp"

#include <ferx/core/opencv.hpp>
#include <ferx/imgproc/equalize_hist.hpp>

#include <boost/test/unit_test.hpp>

#include <opencv2/imgproc.hpp>

#include <cmath>
#include <utility>
#include <vector>

using imgproc_test::differing;
using imgproc_test::real_images;

BOOST_AUTO_TEST_SUITE(equalize_hist)

BOOST_AUTO_TEST_CASE(equalize_hist_equals_opencv_on_real_images, *boost::unit_test::precondition(ferx_test::shared_data_present())) {
    const auto images = real_images();
    BOOST_REQUIRE_GE(images.size(), 40u);
    for (const cv::Mat& g : images) {
        BOOST_REQUIRE(!g.empty());
        cv::Mat ref;
        cv::equalizeHist(g, ref);
        const auto seq = ferx::equalize_hist(ferx::exec::seq, ferx::view<std::uint8_t>(g));
        const auto par = ferx::equalize_hist(ferx::exec::par, ferx::view<std::uint8_t>(g));
        BOOST_TEST(differing(ferx::to_mat(seq), ref) == 0);
        BOOST_TEST(differing(ferx::to_mat(par), ref) == 0);
    }
    // A region of interest (strided rows) and in-place use.
    cv::Mat big = images.front().clone();
    cv::Mat roi = big(cv::Rect(5, 7, big.cols / 2, big.rows / 3));
    cv::Mat ref;
    cv::equalizeHist(roi, ref);
    ferx::equalize_hist(ferx::exec::seq, ferx::view<std::uint8_t>(std::as_const(roi)), ferx::view<std::uint8_t>(roi));
    BOOST_TEST(differing(roi, ref) == 0);
}

BOOST_AUTO_TEST_CASE(equalize_hist_flat_and_bad_input) {
    cv::Mat flat(10, 12, CV_8U, cv::Scalar(77)), ref;
    cv::equalizeHist(flat, ref);
    BOOST_TEST(differing(ferx::to_mat(ferx::equalize_hist(ferx::exec::seq, ferx::view<std::uint8_t>(flat))), ref) == 0);
    ferx::image<std::uint8_t> out({5, 5});
    BOOST_CHECK_THROW(ferx::equalize_hist(ferx::exec::seq, ferx::image_view<const std::uint8_t>(), ferx::view(out)), ferx::error);
    BOOST_CHECK_THROW(ferx::equalize_hist(ferx::exec::seq, ferx::view<std::uint8_t>(flat), ferx::view(out)), ferx::error);
}

BOOST_AUTO_TEST_SUITE_END()
