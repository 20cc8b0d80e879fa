// The cuda backend of ferx::integral against the seq reference. Needs a GPU: every test that
// runs kernels is skipped, with a message, where no CUDA device is present.
#include <ferx/core/opencv.hpp>
#include <ferx/cuda/memory.cuh>
#include <ferx/detect/integral.hpp>

#include <boost/test/unit_test.hpp>

#include "cuda_test.hpp"
#include "ferx_test.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace {

/// Bit-identical for integer sums and for double sums of integer images; within a few ulps of
/// the largest value for float outputs and floating-point sources (the GPU adds in another order).
template <class T, class S>
void check_same(const ferx::image_view<const S>& gpu, const ferx::image_view<const S>& cpu, const std::string& what) {
    double diff = 0, largest = 1;
    for (ferx::index_t y = 0; y < cpu.rows(); ++y)
        for (ferx::index_t x = 0; x < cpu.cols(); ++x) {
            diff = std::max(diff, std::abs(static_cast<double>(gpu(y, x)) - static_cast<double>(cpu(y, x))));
            largest = std::max(largest, std::abs(static_cast<double>(cpu(y, x))));
        }
    if (std::is_integral<T>::value && !std::is_same<S, float>::value)
        BOOST_TEST(diff == 0.0, what << ": max |cuda - seq| = " << diff);
    else {
        const double tol = 8.0 * std::numeric_limits<S>::epsilon() * largest;
        BOOST_TEST(diff <= tol, what << ": max |cuda - seq| = " << diff << " > " << tol);
    }
}

template <class T, class S, class Q>
void compare_with_seq(const std::vector<cv::Mat>& frames, const std::string& name) {
    const auto clip = ferx::to_volume<T>(frames);
    const auto ref = ferx::integrals<S, Q>(ferx::exec::seq, ferx::view(clip));
    ferx::cuda::stream stream;
    const auto policy = stream.policy();
    const auto d_src = ferx::cuda::to_device(policy, clip);
    const ferx::index_t n = d_src.shape(0), h = d_src.shape(1), w = d_src.shape(2);
    ferx::cuda::device_volume<S> d_sum({n, h + 1, w + 1}), d_tilted({n, h + 1, w + 1});
    ferx::cuda::device_volume<Q> d_sq({n, h + 1, w + 1});
    ferx::integral(policy, d_src.cview(), d_sum.view(), d_sq.view(), d_tilted.view());
    const auto sum = ferx::cuda::to_host(policy, d_sum.cview());
    const auto sq = ferx::cuda::to_host(policy, d_sq.cview());
    const auto tilted = ferx::cuda::to_host(policy, d_tilted.cview());
    for (ferx::index_t i = 0; i < n; ++i) {
        const std::string tag = name + " frame " + std::to_string(i);
        check_same<T, S>(ferx::view(sum)[i], ferx::view(ref.sum)[i], tag + " sum");
        check_same<T, Q>(ferx::view(sq)[i], ferx::view(ref.sqsum)[i], tag + " sqsum");
        check_same<T, S>(ferx::view(tilted)[i], ferx::view(ref.tilted)[i], tag + " tilted");
    }
    // the sum alone (a different launch sequence: no tilted pass)
    ferx::cuda::device_volume<S> d_sum_only({n, h + 1, w + 1});
    ferx::integral(policy, d_src.cview(), d_sum_only.view());
    const auto sum_only = ferx::cuda::to_host(policy, d_sum_only.cview());
    BOOST_TEST((sum_only == sum), name << " sum alone equals sum with the other parts");
}

template <class T>
std::vector<cv::Mat> random_frames(int n, int h, int w, int depth, std::uint32_t seed) {
    std::vector<cv::Mat> frames;
    for (int i = 0; i < n; ++i) frames.push_back(ferx_test::random_mat<T>(h, w, depth, seed + static_cast<std::uint32_t>(i)));
    return frames;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(integral_cuda)

BOOST_AUTO_TEST_CASE(cuda_policy_without_a_device_raises_instead_of_falling_back,
                     *boost::unit_test::precondition(ferx_test::gpu_absent())) {
    // Views over an address no one dereferences: the call must stop at the device check.
    auto* fake = reinterpret_cast<std::uint8_t*>(std::uintptr_t{4096});
    auto* fake_sum = reinterpret_cast<std::int32_t*>(std::uintptr_t{8192});
    ferx::device_image_view<const std::uint8_t> src(fake, {4, 4});
    ferx::device_image_view<std::int32_t> sum(fake_sum, {5, 5});
    try {
        ferx::integral(ferx::exec::cuda, src, sum);
        BOOST_FAIL("exec::cuda without a device did not raise");
    } catch (const ferx::error& e) {
        BOOST_TEST(std::string(e.what()).find("no CUDA device") != std::string::npos, e.what());
    }
    BOOST_CHECK_THROW(ferx::cuda::device_volume<float>({2, 3, 4}), ferx::error);
}

BOOST_AUTO_TEST_CASE(equals_seq_on_random_images_of_odd_sizes, *boost::unit_test::precondition(ferx_test::gpu_present())) {
    std::uint32_t seed = 1;
    for (auto [h, w] : std::vector<std::pair<int, int>>{{1, 1}, {1, 17}, {17, 1}, {31, 47}, {33, 129}, {480, 641}, {1080, 1920}}) {
        const std::string name = std::to_string(h) + "x" + std::to_string(w);
        const auto u8 = random_frames<std::uint8_t>(1, h, w, CV_8U, seed += 10);
        compare_with_seq<std::uint8_t, std::int32_t, double>(u8, name + " u8");
        compare_with_seq<std::uint8_t, float, float>(u8, name + " u8");
        compare_with_seq<std::uint8_t, double, double>(u8, name + " u8");
        compare_with_seq<std::uint8_t, std::int64_t, double>(u8, name + " u8");
        compare_with_seq<std::uint16_t, double, double>(random_frames<std::uint16_t>(1, h, w, CV_16U, seed + 1), name + " u16");
        compare_with_seq<std::int16_t, double, double>(random_frames<std::int16_t>(1, h, w, CV_16S, seed + 2), name + " s16");
        compare_with_seq<float, double, double>(random_frames<float>(1, h, w, CV_32F, seed + 3), name + " f32");
        compare_with_seq<float, float, float>(random_frames<float>(1, h, w, CV_32F, seed + 4), name + " f32");
    }
}

BOOST_AUTO_TEST_CASE(equals_seq_on_batches_of_crops, *boost::unit_test::precondition(ferx_test::gpu_present())) {
    compare_with_seq<std::uint8_t, std::int32_t, double>(random_frames<std::uint8_t>(256, 48, 48, CV_8U, 99), "256 crops 48x48");
    compare_with_seq<std::uint8_t, float, double>(random_frames<std::uint8_t>(7, 64, 100, CV_8U, 199), "7 frames 64x100");
}

BOOST_AUTO_TEST_CASE(equals_seq_on_real_images,
                     *boost::unit_test::precondition(ferx_test::gpu_present()) *
                         boost::unit_test::precondition(ferx_test::shared_data_present())) {
    for (const auto& f : ferx_test::image_files(ferx_test::shared_dir() / "data" / "faces")) {
        std::vector<cv::Mat> one{ferx::read_image(f.string())};
        compare_with_seq<std::uint8_t, std::int32_t, double>(one, f.filename().string());
        compare_with_seq<std::uint8_t, float, float>(one, f.filename().string());
    }
}

BOOST_AUTO_TEST_CASE(bad_input_raises_ferx_error_before_any_launch, *boost::unit_test::precondition(ferx_test::gpu_present())) {
    ferx::cuda::device_image<std::uint8_t> src({10, 12});
    ferx::cuda::device_image<std::int32_t> wrong({10, 12});
    BOOST_CHECK_THROW(ferx::integral(ferx::exec::cuda, src.cview(), wrong.view()), ferx::error);
    BOOST_CHECK_THROW(ferx::integral(ferx::exec::cuda, ferx::device_image_view<const std::uint8_t>{}, wrong.view()),
                      ferx::error);
    ferx::cuda::device_image<std::uint8_t> big({3000, 3000});
    ferx::cuda::device_image<std::int32_t> big_sum({3001, 3001});
    BOOST_CHECK_THROW(ferx::integral(ferx::exec::cuda, big.cview(), big_sum.view()), ferx::error);
}

BOOST_AUTO_TEST_SUITE_END()
