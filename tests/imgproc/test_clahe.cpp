// CLAHE against cv::CLAHE on real images, bit for bit; par against seq.
#include "imgproc_test.hpp"

#include <ferx/core/opencv.hpp>
#include <ferx/imgproc/clahe.hpp>

#include <boost/test/unit_test.hpp>

#include <opencv2/imgproc.hpp>

#include <cmath>
#include <utility>
#include <vector>

using imgproc_test::differing;
using imgproc_test::real_images;

BOOST_AUTO_TEST_SUITE(clahe)

BOOST_AUTO_TEST_CASE(clahe_equals_opencv_on_real_images, *boost::unit_test::precondition(ferx_test::shared_data_present())) {
    const auto images = real_images();
    const std::vector<ferx::clahe_params> params = {{40.0, 8, 8}, {2.0, 6, 6}, {0.0, 4, 4}, {3.5, 3, 5}, {1.0, 7, 6}};
    long compared = 0;
    for (const cv::Mat& g : images)
        for (const auto& p : params) {
            cv::Mat ref;
            cv::createCLAHE(p.clip_limit, cv::Size(p.tiles_x, p.tiles_y))->apply(g, ref);
            const auto seq = ferx::clahe(ferx::exec::seq, ferx::view<std::uint8_t>(g), p);
            const auto par = ferx::clahe(ferx::exec::par, ferx::view<std::uint8_t>(g), p);
            BOOST_TEST(differing(ferx::to_mat(seq), ref) == 0, "clip " << p.clip_limit << ", tiles " << p.tiles_x << "x" << p.tiles_y
                                                                      << ", image " << g.cols << "x" << g.rows);
            BOOST_TEST(differing(ferx::to_mat(par), ferx::to_mat(seq)) == 0);
            compared += static_cast<long>(g.total());
        }
    BOOST_TEST_MESSAGE("CLAHE: " << compared << " pixels compared with cv::CLAHE");
}

BOOST_AUTO_TEST_CASE(clahe_bad_input) {
    cv::Mat g = ferx_test::random_mat<std::uint8_t>(20, 30, CV_8U, 3);
    ferx::image<std::uint8_t> out({20, 30}), wrong({20, 29});
    const auto v = ferx::view<std::uint8_t>(std::as_const(g));
    BOOST_CHECK_THROW(ferx::clahe(ferx::exec::seq, v, ferx::view(wrong)), ferx::error);
    BOOST_CHECK_THROW(ferx::clahe(ferx::exec::seq, v, ferx::view(out), {40, 0, 8}), ferx::error);
    BOOST_CHECK_THROW(ferx::clahe(ferx::exec::seq, v, ferx::view(out), {40, 31, 8}), ferx::error);
    BOOST_CHECK_THROW(ferx::clahe(ferx::exec::seq, v, ferx::view(out), {std::nan(""), 8, 8}), ferx::error);
    BOOST_CHECK_THROW(ferx::clahe(ferx::exec::seq, ferx::image_view<const std::uint8_t>(), ferx::view(out)), ferx::error);
    BOOST_CHECK_THROW(ferx::clahe(ferx::exec::seq, v, ferx::view<std::uint8_t>(g)), ferx::error);  // in place
}

BOOST_AUTO_TEST_SUITE_END()
