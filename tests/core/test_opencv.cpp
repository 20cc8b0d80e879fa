#include <ferx/core/opencv.hpp>

#include <boost/test/unit_test.hpp>

#include "ferx_test.hpp"

#include <cstdint>

BOOST_AUTO_TEST_SUITE(opencv_interop)

BOOST_AUTO_TEST_CASE(view_of_a_mat_is_zero_copy_including_rois) {
    cv::Mat m = ferx_test::random_mat<std::uint8_t>(20, 30, CV_8U, 1);
    auto v = ferx::view<std::uint8_t>(m);
    BOOST_TEST(v.data() == m.data);
    BOOST_TEST(v.rows() == 20);
    BOOST_TEST(v.cols() == 30);
    cv::Mat roi = m(cv::Rect(3, 4, 10, 7));
    auto r = ferx::view<std::uint8_t>(roi);
    BOOST_TEST(r.data() == roi.data);
    BOOST_TEST(r.stride(0) == 30);  // the parent's row step is kept
    BOOST_TEST(!r.contiguous());
    for (int y = 0; y < 7; ++y)
        for (int x = 0; x < 10; ++x) BOOST_TEST(r(y, x) == roi.at<std::uint8_t>(y, x));
    r(0, 0) = 17;
    BOOST_TEST(m.at<std::uint8_t>(4, 3) == 17);
}

BOOST_AUTO_TEST_CASE(wrong_type_channels_or_empty_mats_are_refused) {
    cv::Mat f(4, 4, CV_32F, cv::Scalar(1));
    BOOST_CHECK_THROW(ferx::view<std::uint8_t>(f), ferx::error);
    cv::Mat bgr(4, 4, CV_8UC3);
    BOOST_CHECK_THROW(ferx::view<std::uint8_t>(bgr), ferx::error);
    cv::Mat empty;
    BOOST_CHECK_THROW(ferx::view<float>(empty), ferx::error);
    try {
        ferx::view<std::uint8_t>(f);
    } catch (const ferx::error& e) {
        BOOST_TEST(std::string(e.what()).find("CV_32FC1") != std::string::npos);
        BOOST_TEST(std::string(e.what()).find("CV_8UC1") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(interleaved_view_exposes_channels) {
    cv::Mat bgr(5, 6, CV_8UC3);
    cv::randu(bgr, 0, 256);
    auto v = ferx::interleaved_view<std::uint8_t>(bgr);
    BOOST_TEST(v.shape(2) == 3);
    BOOST_TEST(v(4, 5, 2) == bgr.at<cv::Vec3b>(4, 5)[2]);
}

BOOST_AUTO_TEST_CASE(conversions_both_ways) {
    cv::Mat m = ferx_test::random_mat<float>(9, 11, CV_32F, 2);
    auto img = ferx::to_image<float>(m);  // deep copy
    BOOST_TEST(img.shape()[0] == 9u);
    BOOST_TEST(static_cast<const void*>(img.data()) != static_cast<const void*>(m.data));
    BOOST_TEST(cv::norm(ferx::to_mat(img), m, cv::NORM_INF) == 0.0);
    auto wrapped = ferx::as_mat(ferx::view(img));  // zero-copy header
    BOOST_TEST(static_cast<const void*>(wrapped.data) == static_cast<const void*>(img.data()));
    // depth conversion with saturation, as cv::Mat::convertTo does
    cv::Mat big(1, 2, CV_32F);
    big.at<float>(0, 0) = 300.f;
    big.at<float>(0, 1) = -5.f;
    auto sat = ferx::to_image<std::uint8_t>(big);
    BOOST_TEST(sat(0, 0) == 255);
    BOOST_TEST(sat(0, 1) == 0);
    BOOST_CHECK_THROW(ferx::to_image<float>(cv::Mat(2, 2, CV_8UC3)), ferx::error);
}

BOOST_AUTO_TEST_CASE(volumes_and_batches_from_frames) {
    std::vector<cv::Mat> frames;
    for (int i = 0; i < 4; ++i) frames.push_back(ferx_test::random_mat<std::uint8_t>(6, 7, CV_8U, 10 + i));
    auto vol = ferx::to_volume<std::uint8_t>(frames);
    BOOST_TEST(vol.shape()[0] == 4u);
    for (int i = 0; i < 4; ++i)
        BOOST_TEST(cv::norm(ferx::to_mat(ferx::view(vol)[i]), frames[static_cast<std::size_t>(i)],
                            cv::NORM_INF) == 0.0);
    frames.push_back(cv::Mat(6, 8, CV_8U, cv::Scalar(0)));
    BOOST_CHECK_THROW(ferx::to_volume<std::uint8_t>(frames), ferx::error);

    std::vector<cv::Mat> colour(2, cv::Mat(3, 4, CV_8UC3));
    colour[0] = cv::Mat(3, 4, CV_8UC3, cv::Scalar(1, 2, 3));
    colour[1] = cv::Mat(3, 4, CV_8UC3, cv::Scalar(4, 5, 6));
    auto b = ferx::to_batch<float>(colour);
    BOOST_TEST(b.shape()[1] == 3u);
    BOOST_TEST(b(1, 2, 2, 3) == 6.f);
    BOOST_TEST(b(0, 0, 0, 0) == 1.f);
}

BOOST_AUTO_TEST_CASE(read_image_names_the_missing_file) {
    try {
        ferx::read_image("/nonexistent/face.png");
        BOOST_FAIL("read_image of a missing file did not throw");
    } catch (const ferx::error& e) {
        BOOST_TEST(e.file() == "/nonexistent/face.png");
    }
}

BOOST_AUTO_TEST_CASE(read_image_reads_real_faces, *boost::unit_test::precondition(ferx_test::shared_data_present())) {
    const auto files = ferx_test::image_files(ferx_test::shared_dir() / "data" / "faces");
    BOOST_REQUIRE(!files.empty());
    for (const auto& f : files) {
        cv::Mat m = ferx::read_image(f.string());
        BOOST_TEST(m.type() == CV_8UC1);
        auto img = ferx::to_image<std::uint8_t>(m);
        BOOST_TEST(cv::norm(ferx::to_mat(img), m, cv::NORM_INF) == 0.0);
    }
}

BOOST_AUTO_TEST_SUITE_END()
