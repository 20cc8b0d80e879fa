// The shipped mini-Xception networks (../shared/models/mini_xception, trained on FER2013) on all
// 3,589 FER2013 test (PrivateTest) images, with the preprocessing of ../shared/README.md: grey
// JPEG, bilinear resize to 64x64, (x/255 - 0.5) * 2, NCHW. ferx (importer + session) and OpenCV
// 4.6 dnn on the same batches: every score within 1e-4 and ferx's count of correct labels within 2 of
// OpenCV dnn's (measured: both 2088 / 3589 = 0.58178 for the 102-0.66 file, ../shared/README.md's
// figure). Heavy: labelled "heavy".
#include "onnx_test.hpp"

#include <ferx/core/execution.hpp>
#include <ferx/data/fer2013.hpp>
#include <ferx/nn/session.hpp>

#include <boost/test/unit_test.hpp>

#include <opencv2/dnn.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace fn = ferx::nn;
namespace fs = std::filesystem;

namespace {

/// A Boost.Test precondition (a plain function: GCC 12 warns on an empty functor object here).
boost::test_tools::assertion_result fer2013_test_present(boost::unit_test::test_unit_id) {
    const bool ok = fs::is_directory(ferx_test::shared_dir() / "data" / "fer2013" / "test") &&
                    fs::is_regular_file(onnx_test::mini_xception_file());
    boost::test_tools::assertion_result r(ok);
    r.message() << "FER2013 test images or mini-Xception models not found under '"
                << ferx_test::shared_dir().string() << "' (set FERX_SHARED_DIR); skipping";
    return r;
}

struct outcome {
    int correct_ferx = 0, correct_opencv = 0, images = 0;
    double max_diff = 0;
};

/// Runs the model on every test image in batches of 256, ferx (exec::par) beside OpenCV dnn.
outcome run_fer2013(const fs::path& model_file) {
    const auto list = ferx::fer2013_folder(ferx_test::shared_dir() / "data" / "fer2013", ferx::fer2013_split::test);
    BOOST_REQUIRE_EQUAL(list.size(), 3589u);
    fn::session s(fn::load_onnx(model_file));
    cv::dnn::Net net = cv::dnn::readNetFromONNX(model_file.string());
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);

    outcome r;
    const std::size_t batch = 256;
    for (std::size_t first = 0; first < list.size(); first += batch) {
        const std::size_t n = std::min(batch, list.size() - first);
        std::vector<float> pixels = onnx_test::fer2013_input(list.paths, first, n);
        const auto out = s.run(ferx::exec::par, {{pixels.data(), {std::int64_t(n), 1, 64, 64}}});
        BOOST_REQUIRE_EQUAL(out.size(), 1u);
        BOOST_REQUIRE(out[0].shape == (fn::shape_t{std::int64_t(n), 7}));
        const int dims[] = {int(n), 1, 64, 64};
        net.setInput(cv::Mat(4, dims, CV_32F, pixels.data()));
        const cv::Mat ocv = net.forward();
        BOOST_REQUIRE_EQUAL(ocv.total(), n * 7);
        const float* ref = ocv.ptr<float>();
        for (std::size_t i = 0; i < n; ++i) {
            const float* f = out[0].data + i * 7;
            const float* o = ref + i * 7;
            for (int k = 0; k < 7; ++k) r.max_diff = std::max(r.max_diff, double(std::fabs(f[k] - o[k])));
            const int label = list.labels[first + i];
            r.correct_ferx += int(std::max_element(f, f + 7) - f) == label;
            r.correct_opencv += int(std::max_element(o, o + 7) - o) == label;
        }
        r.images += int(n);
    }
    BOOST_TEST_MESSAGE(model_file.filename().string()
                       << ": ferx " << r.correct_ferx << "/" << r.images << " = " << double(r.correct_ferx) / r.images
                       << ", OpenCV dnn " << r.correct_opencv << "/" << r.images
                       << ", max |score difference| " << r.max_diff);
    return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(onnx_fer2013, *boost::unit_test::precondition(fer2013_test_present))

BOOST_AUTO_TEST_CASE(mini_xception_scores_and_accuracy, *boost::unit_test::label("heavy")) {
    const outcome r = run_fer2013(onnx_test::mini_xception_file());
    BOOST_TEST(r.max_diff <= 1e-4);
    // The property, not a count: on the same inputs ferx's labels are OpenCV dnn's but for scores
    // within 1e-4 of a tie. ../shared/README.md gives 2088 / 3589 for OpenCV; the bound below only
    // says the data and preprocessing are that reference's (a wrong resize or scaling moves it far).
    BOOST_TEST(std::abs(r.correct_ferx - r.correct_opencv) <= 2);
    BOOST_TEST(std::abs(r.correct_opencv - 2088) <= 36);  // within 1 % of the reference accuracy
}

BOOST_AUTO_TEST_CASE(big_xception_scores_and_accuracy, *boost::unit_test::label("heavy")) {
    const outcome r = run_fer2013(onnx_test::big_xception_file());
    BOOST_TEST(r.max_diff <= 1e-4);
    BOOST_TEST(std::abs(r.correct_ferx - r.correct_opencv) <= 2);
    BOOST_TEST(r.correct_ferx > 3589 / 2);  // far above chance (1/7): the network works
}

BOOST_AUTO_TEST_SUITE_END()
