// The cuda backend of the cascade detector against the seq reference: raw windows and grouped
// detections, frame by frame, on real and random images, Haar (stumps, trees, tilted) and LBP.
// Needs a GPU: the tests that run kernels are skipped, with a message, where none is present.
#include <ferx/core/opencv.hpp>
#include <ferx/cuda/memory.cuh>
#include <ferx/detect/detect_multiscale.hpp>

#include <boost/test/unit_test.hpp>

#include "cuda_test.hpp"
#include "ferx_test.hpp"

#include <opencv2/imgproc.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace {

const std::string cascade_root = ferx_test::opencv_data_dir();

/// Frames of one size: real photographs of ../shared (resized) when present, else smooth noise.
std::vector<cv::Mat> frames_of(int rows, int cols, int n) {
    std::vector<cv::Mat> out;
    const auto files = ferx_test::image_files(ferx_test::shared_dir() / "data/faces");
    for (int i = 0; i < n; ++i) {
        cv::Mat f;
        if (!files.empty()) {
            cv::resize(ferx::read_image(files[static_cast<std::size_t>(i) % files.size()].string()), f, cv::Size(cols, rows));
        } else {
            f = ferx_test::random_mat<std::uint8_t>(rows, cols, CV_8U, static_cast<std::uint32_t>(i));
            cv::GaussianBlur(f, f, cv::Size(7, 7), 2.0);
        }
        out.push_back(f);
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(detect_cuda)

BOOST_AUTO_TEST_CASE(cuda_detector_without_a_device_raises, *boost::unit_test::precondition(ferx_test::gpu_absent())) {
    const auto c = ferx::load_cascade(cascade_root + "lbpcascades/lbpcascade_frontalface.xml");
    auto* fake = reinterpret_cast<const std::uint8_t*>(std::uintptr_t{4096});
    const ferx::device_volume_view<const std::uint8_t> frames(fake, {2, 64, 64});
    try {
        (void)ferx::detect_multiscale_batch(ferx::exec::cuda, c, frames, {});
        BOOST_FAIL("exec::cuda without a device did not raise");
    } catch (const ferx::error& e) {
        BOOST_TEST(std::string(e.what()).find("no CUDA device") != std::string::npos, e.what());
    }
}

BOOST_AUTO_TEST_CASE(cuda_equals_seq_frame_by_frame, *boost::unit_test::precondition(ferx_test::gpu_present())) {
    ferx::cuda::stream stream;
    const auto policy = stream.policy();
    for (const char* name : {"haarcascades/haarcascade_frontalface_default.xml", "haarcascades/haarcascade_eye_tree_eyeglasses.xml",
                             "haarcascades/haarcascade_smile.xml", "lbpcascades/lbpcascade_frontalface_improved.xml"}) {
        const auto c = ferx::load_cascade(cascade_root + name);
        for (const auto& [rows, cols, n] : std::vector<std::tuple<int, int, int>>{{240, 320, 5}, {528, 720, 3}, {97, 131, 2}}) {
            const auto frames = frames_of(rows, cols, n);
            const auto d_frames = ferx::cuda::to_device(policy, ferx::to_volume<std::uint8_t>(frames));
            ferx::detect_params p;
            p.min_neighbors = 0;
            // A small budget forces several chunks of frames.
            const auto raw = ferx::detect_candidates_batch(policy, c, d_frames.cview(), p, {std::size_t{1} << 20});
            const auto grouped = ferx::detect_multiscale_batch(policy, c, d_frames.cview(), {});
            BOOST_TEST_REQUIRE(raw.size() == frames.size());
            for (std::size_t i = 0; i < frames.size(); ++i) {
                const auto v = ferx::view<std::uint8_t>(frames[i]);
                const auto ref = ferx::detect_candidates(ferx::exec::seq, c, v, p);
                BOOST_TEST_REQUIRE(raw[i].size() == ref.size(), name << " frame " << i << " " << cols << "x" << rows);
                for (std::size_t j = 0; j < ref.size(); ++j) BOOST_TEST((raw[i][j] == ref[j]));
                const auto gref = ferx::detect_multiscale(ferx::exec::seq, c, v, {});
                BOOST_TEST_REQUIRE(grouped[i].size() == gref.size());
                for (std::size_t j = 0; j < gref.size(); ++j)
                    BOOST_TEST((grouped[i][j].box == gref[j].box && grouped[i][j].neighbors == gref[j].neighbors));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(cuda_single_image_and_bad_input, *boost::unit_test::precondition(ferx_test::gpu_present())) {
    ferx::cuda::stream stream;
    const auto policy = stream.policy();
    const auto c = ferx::load_cascade(cascade_root + "haarcascades/haarcascade_frontalface_alt.xml");
    const cv::Mat img = frames_of(300, 400, 1).front();
    const auto d = ferx::cuda::to_device(policy, ferx::view<std::uint8_t>(img));
    const auto got = ferx::detect_multiscale(policy, c, d.cview(), {});
    const auto ref = ferx::detect_multiscale(ferx::exec::seq, c, ferx::view<std::uint8_t>(img), {});
    BOOST_TEST_REQUIRE(got.size() == ref.size());
    for (std::size_t j = 0; j < ref.size(); ++j) BOOST_TEST((got[j].box == ref[j].box));
    BOOST_CHECK_THROW(ferx::detect_multiscale_batch(policy, c, ferx::device_volume_view<const std::uint8_t>{}, {}), ferx::error);
    ferx::detect_params bad;
    bad.scale_factor = 0.5;
    BOOST_CHECK_THROW(ferx::detect_multiscale(policy, c, d.cview(), bad), ferx::error);
}

BOOST_AUTO_TEST_CASE(resident_detector_reuses_its_buffers, *boost::unit_test::precondition(ferx_test::gpu_present())) {
    ferx::cuda::stream stream;
    const auto policy = stream.policy();
    const auto c = ferx::load_cascade(cascade_root + "haarcascades/haarcascade_frontalface_default.xml");
    const int rows = 240, cols = 320;
    const auto frames = frames_of(rows, cols, 4);
    const auto d_frames = ferx::cuda::to_device(policy, ferx::to_volume<std::uint8_t>(frames));
    ferx::cuda::cascade_detector det(policy, c, rows, cols, {});
    std::vector<std::vector<ferx::detection>> ref;
    for (const auto& f : frames) ref.push_back(ferx::detect_multiscale(ferx::exec::seq, c, ferx::view<std::uint8_t>(f), {}));
    const auto check = [&](const std::vector<std::vector<ferx::detection>>& got, std::size_t first) {
        for (std::size_t i = 0; i < got.size(); ++i) {
            BOOST_TEST_REQUIRE(got[i].size() == ref[first + i].size(), "frame " << first + i);
            for (std::size_t j = 0; j < got[i].size(); ++j) BOOST_TEST((got[i][j].box == ref[first + i][j].box));
        }
    };
    check(det.detect(d_frames.cview()), 0);  // the largest batch first: the buffers grow once
    const std::size_t bytes = det.device_bytes();
    BOOST_TEST(bytes > 0u);
    for (int round = 0; round < 3; ++round) {
        const ferx::device_volume_view<const std::uint8_t> two(d_frames.cview().data() + rows * cols, {2, rows, cols});
        check(det.detect(two), 1);
        check(det.detect(d_frames.cview()), 0);
        BOOST_TEST(det.device_bytes() == bytes, "round " << round << ": the detector allocated again");
    }
    const auto other = ferx::cuda::to_device(policy, ferx::to_volume<std::uint8_t>(frames_of(rows / 2, cols / 2, 1)));
    BOOST_CHECK_THROW(det.detect(other.cview()), ferx::error);  // built for another frame size
}

BOOST_AUTO_TEST_SUITE_END()
