// The cuda backend of the descriptors (HOG, LBP, LPQ) against the seq reference: the kernels
// reproduce seq's arithmetic operation by operation, so the descriptors must be identical.
// Tests that run kernels are skipped, with a message, where no CUDA device is present.
#include <ferx/core/opencv.hpp>
#include <ferx/cuda/memory.cuh>
#include <ferx/features/hog.hpp>
#include <ferx/features/lbp.hpp>
#include <ferx/features/lpq.hpp>

#include <boost/test/unit_test.hpp>
#include <opencv2/imgproc.hpp>

#include "cuda_test.hpp"
#include "ferx_test.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace {

ferx::volume<std::uint8_t> random_batch(int n, int rows, int cols, std::uint32_t seed) {
    std::vector<cv::Mat> crops;
    for (int i = 0; i < n; ++i) crops.push_back(ferx_test::random_mat<std::uint8_t>(rows, cols, CV_8U, seed + static_cast<std::uint32_t>(i)));
    return ferx::to_volume<std::uint8_t>(crops);
}

/// cuda == seq, value for value, on one batch.
template <class Params>
void compare_with_seq(const ferx::volume<std::uint8_t>& batch, const Params& p, const std::string& what) {
    const auto ref = ferx::describe(ferx::exec::seq, batch, p);
    ferx::cuda::stream stream;
    const auto policy = stream.policy();
    const auto d_batch = ferx::cuda::to_device(policy, batch);
    ferx::cuda::device_image<float> d_out({static_cast<ferx::index_t>(ref.shape(0)), static_cast<ferx::index_t>(ref.shape(1))});
    ferx::describe(policy, d_batch.cview(), p, d_out.view());
    const auto got = ferx::cuda::to_host(policy, d_out.cview());
    std::size_t differ = 0;
    for (std::size_t i = 0; i < ref.size(); ++i) differ += got.data()[i] != ref.data()[i];
    BOOST_TEST(differ == 0u, what << ": " << differ << " of " << ref.size() << " values differ from seq");
}

/// The CK+48 crops of three expressions (591 crops).
std::vector<cv::Mat> ckplus_crops() {
    std::vector<cv::Mat> out;
    for (const char* label : {"anger", "happy", "surprise"})
        for (const auto& f : ferx_test::image_files(ferx_test::shared_dir() / "data" / "ckplus48" / label))
            out.push_back(ferx::read_image(f.string()));
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(features_cuda)

BOOST_AUTO_TEST_CASE(cuda_policy_without_a_device_raises, *boost::unit_test::precondition(ferx_test::gpu_absent())) {
    // Views over an address no one dereferences: the calls must stop at the device check.
    auto* fake = reinterpret_cast<const std::uint8_t*>(std::uintptr_t{4096});
    auto* fake_out = reinterpret_cast<float*>(std::uintptr_t{8192});
    const ferx::device_volume_view<const std::uint8_t> batch(fake, {2, 48, 48});
    const auto check = [&](const auto& p, const char* what) {
        const ferx::index_t len = ferx::descriptor_length(p, 48, 48);
        const ferx::tensor_view<float, 2, ferx::memory_space::device> out(fake_out, {2, len});
        try {
            ferx::describe(ferx::exec::cuda, batch, p, out);
            BOOST_ERROR(what << ": exec::cuda without a device did not raise");
        } catch (const ferx::error& e) {
            BOOST_TEST(std::string(e.what()).find("no CUDA device") != std::string::npos, e.what());
        }
    };
    check(ferx::hog_params<>{}, "hog");
    check(ferx::lbp_params<>{}, "lbp");
    check(ferx::lpq_params{}, "lpq");
}

BOOST_AUTO_TEST_CASE(unsupported_parameters_are_refused_before_any_device_work) {
    auto* fake = reinterpret_cast<const std::uint8_t*>(std::uintptr_t{4096});
    auto* fake_out = reinterpret_cast<float*>(std::uintptr_t{8192});
    const ferx::device_volume_view<const std::uint8_t> batch(fake, {2, 48, 48});
    ferx::hog_params<> hog3;  // 3x3-cell blocks
    hog3.block = {24, 24};
    const ferx::index_t lh = ferx::descriptor_length(hog3, 48, 48);
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::cuda, batch, hog3, ferx::tensor_view<float, 2, ferx::memory_space::device>(fake_out, {2, lh})),
                      ferx::error);
    ferx::lbp_params<ferx::lbp_none> big;
    big.points = 14;
    big.grid.cells = {1, 1};
    const ferx::index_t ll = ferx::descriptor_length(big, 48, 48);
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::cuda, batch, big, ferx::tensor_view<float, 2, ferx::memory_space::device>(fake_out, {2, ll})),
                      ferx::error);
    ferx::lpq_params wide;
    wide.window = 33;
    wide.grid.cells = {1, 1};
    const ferx::index_t lq = ferx::descriptor_length(wide, 48, 48);
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::cuda, batch, wide, ferx::tensor_view<float, 2, ferx::memory_space::device>(fake_out, {2, lq})),
                      ferx::error);
    // A wrong output shape is refused too.
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::cuda, batch, ferx::lpq_params{},
                                     ferx::tensor_view<float, 2, ferx::memory_space::device>(fake_out, {2, 5})),
                      ferx::error);
}

BOOST_AUTO_TEST_CASE(hog_equals_seq, *boost::unit_test::precondition(ferx_test::gpu_present())) {
    compare_with_seq(random_batch(1024, 48, 48, 1), ferx::hog_params<>{}, "hog 1024 x 48x48");
    compare_with_seq(random_batch(3, 128, 64, 2), ferx::hog_params<>{}, "hog 3 x 64x128");
    ferx::hog_params<ferx::hog_l1> l1;
    l1.signed_gradient = true;
    l1.gamma_correction = false;
    compare_with_seq(random_batch(17, 48, 48, 3), l1, "hog L1 signed, no gamma");
    compare_with_seq(random_batch(2, 480, 640, 4), ferx::hog_params<>{}, "hog 640x480");
    // The per-pixel cell weights are computed on the device from the host's Gaussian table: the
    // largest block (32x32, 1024 pixels), an odd non-square one, and 1x2 cells.
    ferx::hog_params<> big;
    big.block = {32, 32};
    big.cell = {16, 16};
    big.block_stride = {16, 16};
    compare_with_seq(random_batch(5, 96, 64, 5), big, "hog 32x32 blocks");
    ferx::hog_params<ferx::hog_l2> odd;
    odd.block = {30, 18};
    odd.cell = {15, 9};
    odd.block_stride = {5, 3};
    compare_with_seq(random_batch(4, 60, 42, 6), odd, "hog 30x18 blocks of 15x9 cells");
    ferx::hog_params<> wide;
    wide.block = {8, 16};
    wide.cell = {8, 8};
    wide.block_stride = {8, 8};
    compare_with_seq(random_batch(4, 48, 48, 7), wide, "hog 1x2-cell blocks");
}

BOOST_AUTO_TEST_CASE(lbp_equals_seq, *boost::unit_test::precondition(ferx_test::gpu_present())) {
    const auto batch = random_batch(1024, 48, 48, 5);
    compare_with_seq(batch, ferx::lbp_params<ferx::lbp_u2>{}, "lbp u2");
    compare_with_seq(batch, ferx::lbp_params<ferx::lbp_riu2>{}, "lbp riu2");
    ferx::lbp_params<ferx::lbp_none> none;
    none.grid = {{3, 3}, 0.5, ferx::hist_norm::none};
    compare_with_seq(batch, none, "lbp none, overlapping cells, counts");
    compare_with_seq(random_batch(5, 48, 48, 6), ferx::lbp_multiscale_params<ferx::lbp_u2>{}, "lbp multi-scale (8,1)+(16,2)");
    ferx::lbp_params<ferx::lbp_u2> p24;
    p24.points = 24;
    p24.radius = 3;
    compare_with_seq(random_batch(5, 48, 48, 7), p24, "lbp u2 P=24 (no table)");
}

BOOST_AUTO_TEST_CASE(lpq_equals_seq, *boost::unit_test::precondition(ferx_test::gpu_present())) {
    const auto batch = random_batch(1024, 48, 48, 8);
    compare_with_seq(batch, ferx::lpq_params{}, "lpq decorrelated");
    ferx::lpq_params plain;
    plain.decorrelate = false;
    plain.window = 3;
    compare_with_seq(batch, plain, "lpq M=3");
}

BOOST_AUTO_TEST_CASE(real_crops_equal_seq, *boost::unit_test::precondition(ferx_test::gpu_present()) *
                                               boost::unit_test::precondition(ferx_test::shared_data_present())) {
    const auto batch = ferx::to_volume<std::uint8_t>(ckplus_crops());
    compare_with_seq(batch, ferx::hog_params<>{}, "hog CK+");
    compare_with_seq(batch, ferx::lbp_params<>{}, "lbp CK+");
    compare_with_seq(batch, ferx::lpq_params{}, "lpq CK+");
}

BOOST_AUTO_TEST_SUITE_END()
