// Face crop helpers: choosing a face, padding, cropping (against cv::resize), eye localisation on
// real faces, and eye-levelling rotation.
#include <ferx/core/opencv.hpp>
#include <ferx/detect/face_crop.hpp>

#include <boost/test/unit_test.hpp>

#include "ferx_test.hpp"

#include <opencv2/imgproc.hpp>

#include <filesystem>

namespace {

const std::string cascades = "/usr/share/opencv4/haarcascades/";

/// Row and column of the darkest pixel of a region.
std::pair<int, int> darkest(const cv::Mat& m, const cv::Rect& region) {
    double lo;
    cv::Point at;
    cv::minMaxLoc(m(region), &lo, nullptr, &at, nullptr);
    return {at.y + region.y, at.x + region.x};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(face_crop)

BOOST_AUTO_TEST_CASE(choosing_a_face) {
    const std::vector<ferx::detection> faces = {{{0, 0, 10, 10}, 9}, {{5, 5, 30, 30}, 4}, {{50, 5, 30, 30}, 7}};
    BOOST_TEST((ferx::largest_face(faces)->box == ferx::rect{50, 5, 30, 30}));  // tie on area: more neighbours
    BOOST_TEST((ferx::most_confident_face(faces)->box == ferx::rect{0, 0, 10, 10}));
    BOOST_TEST(!ferx::largest_face({}).has_value());
    BOOST_TEST(!ferx::most_confident_face({}).has_value());
}

BOOST_AUTO_TEST_CASE(padding) {
    BOOST_TEST((ferx::pad_box({20, 30, 40, 50}, 0.25, 200, 200) == ferx::rect{10, 17, 60, 76}));
    BOOST_TEST((ferx::pad_box({5, 5, 40, 40}, 0.5, 60, 60) == ferx::rect{0, 0, 60, 60}));  // clipped
    BOOST_TEST((ferx::pad_box({20, 20, 40, 40}, -0.25, 100, 100) == ferx::rect{30, 30, 20, 20}));
    BOOST_CHECK_THROW(ferx::pad_box({0, 0, 4, 4}, std::nan(""), 10, 10), ferx::error);
    BOOST_CHECK_THROW(ferx::pad_box({0, 0, 4, 4}, -0.6, 10, 10), ferx::error);
    BOOST_CHECK_THROW(ferx::pad_box({0, 0, 4, 4}, 1e30, 10, 10), ferx::error);
}

// An unrotated crop is cv::resize(INTER_LINEAR_EXACT) of the padded box, bit for bit.
BOOST_AUTO_TEST_CASE(crop_equals_opencv_resize_of_the_padded_box) {
    cv::Mat img = ferx_test::random_mat<std::uint8_t>(120, 160, CV_8U, 3);
    cv::GaussianBlur(img, img, cv::Size(5, 5), 1.5);
    const auto v = ferx::view<std::uint8_t>(std::as_const(img));
    for (const auto& [box, size] : std::vector<std::pair<ferx::rect, int>>{
             {{30, 20, 60, 60}, 48}, {{0, 0, 50, 40}, 64}, {{100, 70, 55, 45}, 32}, {{40, 30, 20, 20}, 96}}) {
        const ferx::face_crop_params p{0.2, size, size};
        const auto crop = ferx::crop_face(v, box, p);
        const ferx::rect r = ferx::pad_box(box, 0.2, img.rows, img.cols);
        cv::Mat ref;
        cv::resize(img(cv::Rect(r.x, r.y, r.width, r.height)), ref, cv::Size(size, size), 0, 0, cv::INTER_LINEAR_EXACT);
        BOOST_TEST(cv::countNonZero(ref != ferx::to_mat(crop)) == 0);
    }
    BOOST_CHECK_THROW(ferx::crop_face(v, {200, 200, 10, 10}), ferx::error);
    BOOST_CHECK_THROW(ferx::crop_face(v, {10, 10, 0, 10}), ferx::error);
    BOOST_CHECK_THROW(ferx::crop_face(v, {10, 10, 20, 20}, {0.2, 0, 10}), ferx::error);
    BOOST_CHECK_THROW(ferx::crop_face(ferx::image_view<const std::uint8_t>{}, {10, 10, 20, 20}), ferx::error);
}

// With level eyes the rotated path samples where the plain path does (float vs fixed point: at
// most one grey level apart); with tilted eyes, the eyes come out on one row.
BOOST_AUTO_TEST_CASE(rotation_levels_the_eyes) {
    cv::Mat img(200, 200, CV_8U, cv::Scalar(200));
    cv::GaussianBlur(ferx_test::random_mat<std::uint8_t>(200, 200, CV_8U, 5), img, cv::Size(9, 9), 3);
    img = img / 4 + 150;  // bright, low-contrast background
    const auto v = ferx::view<std::uint8_t>(std::as_const(img));
    const ferx::rect box{50, 50, 100, 100};
    ferx::eye_pair level{80.f, 90.f, 120.f, 90.f};
    const auto a = ferx::to_mat(ferx::crop_face(v, box, {0.1, 80, 80}, &level));
    const auto b = ferx::to_mat(ferx::crop_face(v, box, {0.1, 80, 80}));
    cv::Mat diff;
    cv::absdiff(a, b, diff);
    double worst;
    cv::minMaxLoc(diff, nullptr, &worst);
    BOOST_TEST(worst <= 1.0);
    // Two dark dots 40 px apart, tilted by 20 degrees about (100, 95).
    cv::Mat tilted = img.clone();
    const double t = 20.0 * CV_PI / 180.0;
    const cv::Point2d c(100, 95), d(20 * std::cos(t), 20 * std::sin(t));
    cv::circle(tilted, c - d, 4, cv::Scalar(0), cv::FILLED);
    cv::circle(tilted, c + d, 4, cv::Scalar(0), cv::FILLED);
    const ferx::eye_pair eyes{float(c.x - d.x), float(c.y - d.y), float(c.x + d.x), float(c.y + d.y)};
    const auto crop = ferx::to_mat(ferx::crop_face(ferx::view<std::uint8_t>(std::as_const(tilted)), box, {0.0, 100, 100}, &eyes));
    const auto le = darkest(crop, cv::Rect(0, 0, 50, 100)), re = darkest(crop, cv::Rect(50, 0, 50, 100));
    BOOST_TEST(std::abs(le.first - re.first) <= 1, "eye rows " << le.first << " and " << re.first);
    BOOST_TEST(std::abs((re.second - le.second) - 40) <= 2, "eye columns " << le.second << " and " << re.second);
}

BOOST_AUTO_TEST_CASE(eyes_on_real_faces,
                     *boost::unit_test::precondition(ferx_test::opencv_cascades_present()) *
                         boost::unit_test::precondition(ferx_test::shared_data_present())) {
    const auto faces = ferx::load_cascade(cascades + "haarcascade_frontalface_default.xml");
    const auto eyes = ferx::load_cascade(cascades + "haarcascade_eye.xml");
    int located = 0;
    for (const char* f : {"happy.jpg", "neutral.jpg", "surprised.jpg", "angry.jpg"}) {
        const cv::Mat img = ferx::read_image((ferx_test::shared_dir() / "data/faces" / f).string());
        const auto v = ferx::view<std::uint8_t>(img);
        const auto face = ferx::largest_face(ferx::detect_multiscale(ferx::exec::seq, faces, v, {}));
        BOOST_TEST_REQUIRE(face.has_value(), f);
        const auto e = ferx::locate_eyes(ferx::exec::seq, eyes, v, face->box);
        if (!e) continue;
        ++located;
        const ferx::rect& b = face->box;
        BOOST_TEST(e->left_x < e->right_x);
        BOOST_TEST((e->left_x > b.x && e->right_x < b.x + b.width));
        BOOST_TEST((e->left_y > b.y && e->left_y < b.y + b.height * 0.6f));
        BOOST_TEST((e->right_y > b.y && e->right_y < b.y + b.height * 0.6f));
        BOOST_TEST(std::abs(e->left_y - e->right_y) < b.height * 0.15f);
        const auto crop = ferx::crop_face(v, b, {0.2, 64, 64}, &*e);
        BOOST_TEST(crop.shape()[0] == 64u);
    }
    BOOST_TEST(located >= 3);
}

BOOST_AUTO_TEST_SUITE_END()
