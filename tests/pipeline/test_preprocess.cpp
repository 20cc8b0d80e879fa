// Preprocessing against OpenCV on real images: the crops equal cv::resize(INTER_LINEAR_EXACT) +
// cv::equalizeHist of cv::CascadeClassifier's boxes; par against seq; bad input.
#include "pipeline_test.hpp"

#include <ferx/core/opencv.hpp>
#include <ferx/pipeline/preprocess.hpp>

#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include <algorithm>
#include <cmath>

namespace {

const ferx::face_detector& detector() {
    static const ferx::face_detector d = ferx::load_face_detector();
    return d;
}

cv::Mat reference_crop(const cv::Mat& grey, const cv::Rect& box, int w, int h) {
    cv::Mat resized, eq;
    cv::resize(grey(box), resized, cv::Size(w, h), 0, 0, cv::INTER_LINEAR_EXACT);
    cv::equalizeHist(resized, eq);
    return eq;
}

cv::Mat crop_mat(const ferx::preprocessed& p, std::size_t i) {
    const int h = static_cast<int>(p.crops.shape(1)), w = static_cast<int>(p.crops.shape(2));
    return cv::Mat(h, w, CV_8U, const_cast<std::uint8_t*>(p.crops.data()) + i * static_cast<std::size_t>(h * w)).clone();
}

bool same_box(const ferx::rect& a, const cv::Rect& b) { return a.x == b.x && a.y == b.y && a.width == b.width && a.height == b.height; }

}  // namespace

BOOST_AUTO_TEST_SUITE(preprocess)

BOOST_AUTO_TEST_CASE(crops_are_resized_and_equalised_as_opencv, *boost::unit_test::precondition(ferx_test::shared_data_present())) {
    ferx::preprocess_params p;  // crop source, 48x48, global equalisation
    auto crops = pipeline_test::ckplus_crops(2);
    const cv::Mat tight = cv::imread((ferx_test::shared_dir() / "data" / "faces" / "angry_cropped.jpg").string(), cv::IMREAD_GRAYSCALE);
    BOOST_REQUIRE(!tight.empty());
    crops.push_back(tight);
    std::vector<ferx::image_view<const std::uint8_t>> views;
    for (const auto& c : crops) views.push_back(ferx::view<std::uint8_t>(c));
    const auto seq = ferx::preprocess(ferx::exec::seq, p, views);
    const auto par = ferx::preprocess(ferx::exec::par, p, views);
    BOOST_REQUIRE_EQUAL(seq.size(), crops.size());
    BOOST_TEST(seq.crops == par.crops);
    for (std::size_t i = 0; i < crops.size(); ++i) {
        const cv::Mat ref = reference_crop(crops[i], cv::Rect(0, 0, crops[i].cols, crops[i].rows), 48, 48);
        BOOST_TEST(cv::countNonZero(crop_mat(seq, i) != ref) == 0, "crop " << i);
        BOOST_TEST(seq.faces[i].image == i);
    }
    // CLAHE and no equalisation.
    p.equalize = ferx::equalization::clahe;
    const auto cl = ferx::preprocess(ferx::exec::seq, p, views.front());
    cv::Mat ref;
    cv::createCLAHE(p.clahe.clip_limit, cv::Size(p.clahe.tiles_x, p.clahe.tiles_y))->apply(crops.front(), ref);
    BOOST_TEST(cv::countNonZero(crop_mat(cl, 0) != ref) == 0);
    p.equalize = ferx::equalization::none;
    BOOST_TEST(cv::countNonZero(crop_mat(ferx::preprocess(ferx::exec::seq, p, views.front()), 0) != crops.front()) == 0);
}

BOOST_AUTO_TEST_CASE(detected_faces_match_opencv, *boost::unit_test::precondition(ferx_test::shared_data_present()) * boost::unit_test::label("heavy")) {
    cv::CascadeClassifier cv_faces((ferx::default_cascade_dir() / "haarcascade_frontalface_default.xml").string());
    BOOST_REQUIRE(!cv_faces.empty());
    ferx::preprocess_params p;
    p.source = ferx::face_source::all;
    std::vector<cv::Mat> photos;  // several faces, one face, no face
    for (const char* name : {"bbt1.jpg", "bbt4.jpg", "faces.jpg", "happy.jpg", "white.png"})
        photos.push_back(ferx::read_image((ferx_test::shared_dir() / "data" / "faces" / name).string()));
    std::vector<ferx::image_view<const std::uint8_t>> views;
    for (const auto& g : photos) views.push_back(ferx::view<std::uint8_t>(g));
    const auto seq = ferx::preprocess(ferx::exec::seq, p, views, &detector());
    const auto par = ferx::preprocess(ferx::exec::par, p, views, &detector());
    BOOST_REQUIRE_EQUAL(seq.size(), par.size());
    BOOST_TEST(seq.crops == par.crops);
    std::size_t total = 0;
    std::vector<std::vector<cv::Rect>> refs(photos.size());
    for (std::size_t i = 0; i < photos.size(); ++i) {
        std::vector<cv::Rect>& ref = refs[i];
        cv_faces.detectMultiScale(photos[i], ref, 1.1, 3, 0, cv::Size(30, 30));
        std::vector<std::size_t> mine;
        for (std::size_t k = 0; k < seq.size(); ++k)
            if (seq.faces[k].image == i) mine.push_back(k);
        BOOST_TEST(mine.size() == ref.size(), "image " << i);
        for (std::size_t k : mine) {
            const auto it = std::find_if(ref.begin(), ref.end(), [&](const cv::Rect& r) { return same_box(seq.faces[k].box, r); });
            BOOST_REQUIRE(it != ref.end());
            BOOST_TEST(cv::countNonZero(crop_mat(seq, k) != reference_crop(photos[i], *it, 48, 48)) == 0);
            ++total;
        }
    }
    BOOST_TEST(total >= 15u);  // bbt*.jpg and faces.jpg hold several faces each
    BOOST_TEST_MESSAGE(total << " detected face crops equal OpenCV's");

    // largest: the largest of OpenCV's boxes; a photo without a face gives no crop.
    p.source = ferx::face_source::largest;
    for (std::size_t i = 0; i < photos.size(); ++i) {
        const std::vector<cv::Rect>& ref = refs[i];
        const auto one = ferx::preprocess(ferx::exec::par, p, views[i], &detector());
        BOOST_REQUIRE_EQUAL(one.size(), ref.empty() ? 0u : 1u);
        if (!ref.empty()) {
            const auto big = std::max_element(ref.begin(), ref.end(), [](const cv::Rect& a, const cv::Rect& b) { return a.area() < b.area(); });
            BOOST_TEST(one.faces[0].box.area() == static_cast<long long>(big->area()));
        }
    }
}

BOOST_AUTO_TEST_CASE(eye_alignment_levels_found_eyes, *boost::unit_test::precondition(ferx_test::shared_data_present()) * boost::unit_test::label("heavy")) {
    ferx::preprocess_params p;
    p.source = ferx::face_source::largest;
    p.align_eyes = true;
    std::size_t aligned = 0, faces = 0;
    for (const char* name : {"happy.jpg", "sad.jpg", "neutral.jpg", "surprised.jpg", "angry.jpg"}) {
        const cv::Mat g = ferx::read_image((ferx_test::shared_dir() / "data" / "faces" / name).string());
        const auto r = ferx::preprocess(ferx::exec::seq, p, ferx::view<std::uint8_t>(g), &detector());
        faces += r.size();
        for (const auto& f : r.faces) aligned += f.aligned;
        if (r.size() == 1 && r.faces[0].aligned) {  // an aligned crop is another crop than the plain one
            ferx::preprocess_params plain = p;
            plain.align_eyes = false;
            const auto u = ferx::preprocess(ferx::exec::seq, plain, ferx::view<std::uint8_t>(g), &detector());
            BOOST_TEST((u.faces[0].box == r.faces[0].box));
        }
    }
    BOOST_TEST(faces == 5u);
    BOOST_TEST(aligned >= 3u);
    BOOST_TEST_MESSAGE("eyes found and levelled in " << aligned << " of " << faces << " posed photographs");
}

BOOST_AUTO_TEST_CASE(intensity_normalisation) {
    xt::xtensor<std::uint8_t, 3> crops({3, 8, 8});
    for (std::size_t i = 0; i < crops.size(); ++i) crops.data()[i] = static_cast<std::uint8_t>((i * 37) % 256);
    std::fill_n(crops.data() + 128, 64, std::uint8_t{9});  // a flat crop
    const auto unit = ferx::normalize_intensity(ferx::exec::par, crops, ferx::intensity_norm::unit_range);
    for (std::size_t i = 0; i < crops.size(); ++i) BOOST_TEST(unit.data()[i] == static_cast<float>(crops.data()[i] / 255.0));
    const auto z = ferx::normalize_intensity(ferx::exec::seq, crops, ferx::intensity_norm::standardize);
    for (std::size_t c = 0; c < 2; ++c) {
        double s = 0, q = 0;
        for (std::size_t k = 0; k < 64; ++k) s += z.data()[c * 64 + k];
        for (std::size_t k = 0; k < 64; ++k) q += z.data()[c * 64 + k] * z.data()[c * 64 + k];
        BOOST_TEST(std::abs(s / 64) < 1e-5);
        BOOST_TEST(std::abs(q / 64 - 1.0) < 1e-4);
    }
    for (std::size_t k = 0; k < 64; ++k) BOOST_TEST(z.data()[128 + k] == 0.0f);
    BOOST_TEST((ferx::normalize_intensity(ferx::exec::par, crops, ferx::intensity_norm::standardize) == z));
    BOOST_TEST((ferx::normalize_intensity(ferx::exec::seq, crops, ferx::intensity_norm::unit_range) == unit));
}

BOOST_AUTO_TEST_CASE(bad_input) {
    ferx::preprocess_params p;
    const cv::Mat g = ferx_test::random_mat<std::uint8_t>(60, 50, CV_8U, 5);
    const auto v = ferx::view<std::uint8_t>(g);
    BOOST_CHECK_THROW(ferx::preprocess(ferx::exec::seq, p, ferx::image_view<const std::uint8_t>()), ferx::error);
    BOOST_CHECK_THROW(ferx::preprocess(ferx::exec::seq, p, ferx::volume_view<const std::uint8_t>()), ferx::error);
    p.width = 4;
    BOOST_CHECK_THROW(ferx::preprocess(ferx::exec::seq, p, v), ferx::error);
    p.width = 48;
    p.pad = std::nan("");
    BOOST_CHECK_THROW(ferx::preprocess(ferx::exec::seq, p, v), ferx::error);
    p.pad = 0;
    p.equalize = ferx::equalization::clahe;
    p.clahe.tiles_x = 49;
    BOOST_CHECK_THROW(ferx::preprocess(ferx::exec::seq, p, v), ferx::error);
    p = {};
    p.source = ferx::face_source::all;
    BOOST_CHECK_THROW(ferx::preprocess(ferx::exec::seq, p, v), ferx::error);  // no detector
    ferx::face_detector no_eyes;
    no_eyes.face = detector().face;
    p.align_eyes = true;
    BOOST_CHECK_THROW(ferx::preprocess(ferx::exec::seq, p, v, &no_eyes), ferx::error);
    BOOST_CHECK_THROW(ferx::load_face_detector("/nonexistent/face.xml", ""), ferx::error);
}

BOOST_AUTO_TEST_SUITE_END()
