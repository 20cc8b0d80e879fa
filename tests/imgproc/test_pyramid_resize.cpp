// The pyramid resize against cv::resize(INTER_LINEAR_EXACT), bit for bit.
#include <ferx/core/opencv.hpp>
#include <ferx/imgproc/pyramid_resize.hpp>

#include <boost/test/unit_test.hpp>

#include "ferx_test.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>
#include <vector>

BOOST_AUTO_TEST_SUITE(pyramid_resize)

// The pyramid's resize reproduces cv::resize INTER_LINEAR_EXACT bit for bit.
BOOST_AUTO_TEST_CASE(pyramid_resize_matches_opencv) {
    std::mt19937 rng(7);
    std::vector<int> rows;
    for (int it = 0; it < 400; ++it) {
        const int sw = 1 + static_cast<int>(rng() % 500), sh = 1 + static_cast<int>(rng() % 300);
        const double f = it % 5 == 0 ? std::pow(1.1, static_cast<double>(rng() % 30)) : 1.0 + (rng() % 3000) / 1000.0;
        int dw = std::max(1, static_cast<int>(std::lround(sw / f))), dh = std::max(1, static_cast<int>(std::lround(sh / f)));
        cv::Mat src = ferx_test::random_grey(sh, sw, static_cast<std::uint32_t>(it), it % 2 == 0);
        if (it % 40 == 0) {  // exact 2:1
            dw = std::max(1, sw / 2);
            dh = std::max(1, sh / 2);
            src = ferx_test::random_grey(2 * dh, 2 * dw, static_cast<std::uint32_t>(it), false);
        }
        cv::Mat ref, ours(dh, dw, CV_8U);
        cv::resize(src, ref, cv::Size(dw, dh), 0, 0, cv::INTER_LINEAR_EXACT);
        ferx::detail::pyramid_resize(ferx::view<std::uint8_t>(std::as_const(src)), ferx::view<std::uint8_t>(ours), rows);
        BOOST_TEST(cv::countNonZero(ref != ours) == 0, src.cols << "x" << src.rows << " -> " << dw << "x" << dh);
    }
}

// Bands of destination rows give the bytes of the whole call (the detector resizes a level in
// bands on several threads).
BOOST_AUTO_TEST_CASE(bands_equal_the_whole_image) {
    std::vector<int> rows;
    for (const auto& sz : {std::pair<int, int>{97, 131}, {40, 60}, {301, 233}}) {
        const cv::Mat src = ferx_test::random_grey(sz.first, sz.second, 5, true);
        const int dh = std::max(1, sz.first * 5 / 7), dw = std::max(1, sz.second * 5 / 7);
        cv::Mat whole(dh, dw, CV_8U), banded(dh, dw, CV_8U, cv::Scalar(0));
        const auto v = ferx::view<std::uint8_t>(std::as_const(src));
        ferx::detail::pyramid_resize(v, ferx::view<std::uint8_t>(whole), rows);
        for (int b = 0; b < 4; ++b)
            ferx::detail::pyramid_resize(v, ferx::view<std::uint8_t>(banded), rows, dh * b / 4, dh * (b + 1) / 4);
        BOOST_TEST(cv::countNonZero(whole != banded) == 0, sz.second << "x" << sz.first);
    }
}

BOOST_AUTO_TEST_SUITE_END()
