// HOG: parity with cv::HOGDescriptor::compute on real images, norms, backends, bad input.
#include <ferx/features/hog.hpp>

#include <boost/test/unit_test.hpp>
#include <opencv2/objdetect.hpp>

#include "features_test.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace {

using features_test::named_mat;

cv::Size cv_size(ferx::patch_size s) { return cv::Size(static_cast<int>(s.cols), static_cast<int>(s.rows)); }

/// OpenCV's descriptor of one window (the whole image) for the same parameters.
std::vector<float> opencv_hog(const cv::Mat& img, const ferx::hog_params<>& p) {
    cv::HOGDescriptor hog(cv::Size(img.cols, img.rows), cv_size(p.block), cv_size(p.block_stride), cv_size(p.cell),
                          p.bins, 1, p.win_sigma, cv::HOGDescriptor::L2Hys, p.l2hys_threshold, p.gamma_correction,
                          cv::HOGDescriptor::DEFAULT_NLEVELS, p.signed_gradient);
    std::vector<float> d;
    hog.compute(img, d);
    return d;
}

/// Max |ferx - OpenCV| over a set of images; every image is checked to 1e-4.
double compare_with_opencv(const std::vector<named_mat>& images, const ferx::hog_params<>& p, const std::string& what) {
    double worst = 0;
    for (const auto& im : images) {
        const auto ref = opencv_hog(im.mat, p);
        const auto ours = ferx::describe(ferx::exec::seq, ferx::view<std::uint8_t>(im.mat), p);
        BOOST_TEST_REQUIRE(ours.size() == ref.size(), what << " " << im.name << ": length " << ours.size() << " vs " << ref.size());
        BOOST_TEST(static_cast<std::size_t>(ferx::descriptor_length(p, im.mat.rows, im.mat.cols)) == ref.size());
        const double d = features_test::max_abs_diff(ours, ref, ref.size());
        BOOST_TEST(d <= 1e-4, what << " " << im.name << ": max |ferx - opencv| = " << d);
        worst = std::max(worst, d);
    }
    BOOST_TEST_MESSAGE(what << ": " << images.size() << " images, max |ferx - opencv| = " << worst);
    return worst;
}

ferx::hog_params<> face_params() {
    ferx::hog_params<> p;  // 16x16 blocks, 8x8 stride and cells, 9 bins: the CK+ baseline of ../shared
    return p;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(hog)

BOOST_AUTO_TEST_CASE(person_window_matches_opencv_on_faces, *boost::unit_test::precondition(ferx_test::shared_data_present())) {
    compare_with_opencv(features_test::faces_resized(128, 64), ferx::hog_params<>{}, "64x128 default");
}

BOOST_AUTO_TEST_CASE(face_window_matches_opencv_on_faces, *boost::unit_test::precondition(ferx_test::shared_data_present())) {
    compare_with_opencv(features_test::faces_resized(48, 48), face_params(), "48x48 faces");
}

BOOST_AUTO_TEST_CASE(parameter_variants_match_opencv, *boost::unit_test::precondition(ferx_test::shared_data_present())) {
    const auto faces = features_test::faces_resized(48, 48);
    const auto ck = features_test::ckplus(97);
    std::vector<named_mat> images = faces;
    images.insert(images.end(), ck.begin(), ck.end());
    ferx::hog_params<> p = face_params();
    p.signed_gradient = true;
    compare_with_opencv(images, p, "signed");
    p = face_params();
    p.gamma_correction = false;
    compare_with_opencv(images, p, "no gamma");
    p = face_params();
    p.bins = 12;
    compare_with_opencv(images, p, "12 bins");
    p = face_params();
    p.win_sigma = 2.5;
    compare_with_opencv(images, p, "sigma 2.5");
    // (The L2-Hys threshold is not compared: OpenCV 4.6's SSE2 normalisation keeps the threshold
    // of the first block it normalised in a function-local static, so later thresholds are
    // ignored in that process. l2hys_threshold_clips_before_renormalising checks ours.)
    p = face_params();
    p.cell = {6, 6};
    p.block = {12, 12};
    p.block_stride = {6, 6};
    compare_with_opencv(images, p, "6x6 cells");
    p = face_params();
    p.cell = {8, 4};
    p.block = {24, 12};
    p.block_stride = {8, 12};
    compare_with_opencv(images, p, "non-square cells and 3x3-cell blocks");
}

BOOST_AUTO_TEST_CASE(ckplus_matches_opencv, *boost::unit_test::precondition(ferx_test::shared_data_present()) *
                                                boost::unit_test::label("heavy")) {
    compare_with_opencv(features_test::ckplus(1), face_params(), "CK+48 48x48");
    compare_with_opencv(features_test::ckplus(3, 128, 64), ferx::hog_params<>{}, "CK+48 upscaled to 64x128");
}

BOOST_AUTO_TEST_CASE(random_images_match_opencv) {
    std::vector<named_mat> images;
    for (std::uint32_t s = 0; s < 4; ++s)
        images.push_back({"random " + std::to_string(s), ferx_test::random_mat<std::uint8_t>(48, 48, CV_8U, s)});
    images.push_back({"constant", cv::Mat(48, 48, CV_8U, cv::Scalar(77))});
    compare_with_opencv(images, face_params(), "random 48x48");
}

BOOST_AUTO_TEST_CASE(float_pixels_equal_uint8_pixels) {
    const cv::Mat m = ferx_test::random_mat<std::uint8_t>(64, 48, CV_8U, 7);
    cv::Mat f;
    m.convertTo(f, CV_32F);
    for (bool gamma : {true, false}) {
        ferx::hog_params<> p;
        p.gamma_correction = gamma;
        const auto a = ferx::describe(ferx::exec::seq, ferx::view<std::uint8_t>(m), p);
        const auto b = ferx::describe(ferx::exec::seq, ferx::view<float>(f), p);
        BOOST_TEST(features_test::max_abs_diff(a, b, a.size()) == 0.0);
    }
}

BOOST_AUTO_TEST_CASE(l2_and_l1_norms_normalise_the_same_block_histograms) {
    const cv::Mat m = ferx_test::random_mat<std::uint8_t>(48, 48, CV_8U, 11);
    ferx::hog_params<ferx::hog_l2> p2;
    ferx::hog_params<ferx::hog_l1> p1;
    const auto a = ferx::describe(ferx::exec::seq, ferx::view<std::uint8_t>(m), p2);
    const auto b = ferx::describe(ferx::exec::seq, ferx::view<std::uint8_t>(m), p1);
    BOOST_TEST_REQUIRE(a.size() == b.size());
    const std::size_t block = 4 * 9;
    for (std::size_t k = 0; k < a.size(); k += block) {
        double n2 = 0, s1 = 0, dot = 0, nb = 0;
        for (std::size_t i = k; i < k + block; ++i) {
            n2 += double(a[i]) * a[i];
            s1 += b[i];
            dot += double(a[i]) * b[i];
            nb += double(b[i]) * b[i];
            BOOST_TEST(a[i] >= 0.f);
        }
        BOOST_TEST(std::abs(std::sqrt(n2) - 1.0) < 1e-4, "L2 block norm " << std::sqrt(n2));
        BOOST_TEST(std::abs(s1 - 1.0) < 1e-3, "L1 block sum " << s1);
        BOOST_TEST(std::abs(dot / std::sqrt(n2 * nb) - 1.0) < 1e-5, "L1 and L2 blocks not parallel");
    }
}

BOOST_AUTO_TEST_CASE(l2hys_threshold_clips_before_renormalising) {
    const cv::Mat m = ferx_test::random_mat<std::uint8_t>(48, 48, CV_8U, 12);
    ferx::hog_params<> loose = face_params();
    loose.l2hys_threshold = 1e6;  // never clips: L2-Hys is then a plain L2 normalisation
    ferx::hog_params<ferx::hog_l2> l2;
    const auto a = ferx::describe(ferx::exec::seq, ferx::view<std::uint8_t>(m), loose);
    const auto b = ferx::describe(ferx::exec::seq, ferx::view<std::uint8_t>(m), l2);
    BOOST_TEST(features_test::max_abs_diff(a, b, a.size()) < 1e-3);
    // A tight threshold: before the final renormalisation no value exceeds it, so the ratio of
    // the largest to the second-largest value of a block falls to 1 where several are clipped.
    ferx::hog_params<> tight = face_params();
    tight.l2hys_threshold = 0.05;
    const auto c = ferx::describe(ferx::exec::seq, ferx::view<std::uint8_t>(m), tight);
    std::size_t clipped_blocks = 0;
    for (std::size_t k = 0; k < c.size(); k += 36) {
        std::vector<float> v(c.begin() + static_cast<std::ptrdiff_t>(k), c.begin() + static_cast<std::ptrdiff_t>(k + 36));
        std::sort(v.rbegin(), v.rend());
        if (v[0] == v[1]) ++clipped_blocks;
    }
    BOOST_TEST(clipped_blocks * 2 > c.size() / 36, clipped_blocks << " of " << c.size() / 36 << " blocks clipped");
}

BOOST_AUTO_TEST_CASE(par_and_batches_equal_seq) {
    std::vector<cv::Mat> crops;
    for (std::uint32_t s = 0; s < 9; ++s) crops.push_back(ferx_test::random_mat<std::uint8_t>(48, 48, CV_8U, 100 + s));
    const auto batch = ferx::to_volume<std::uint8_t>(crops);
    ferx::thread_pool pool(3);
    const auto seq = ferx::describe(ferx::exec::seq, batch, face_params());
    const auto par = ferx::describe(ferx::exec::par.on(pool), batch, face_params());
    BOOST_TEST_REQUIRE(seq.shape(1) == static_cast<std::size_t>(ferx::descriptor_length(face_params(), 48, 48)));
    for (std::size_t i = 0; i < crops.size(); ++i) {
        const auto one = ferx::describe(ferx::exec::seq, ferx::view<std::uint8_t>(crops[i]), face_params());
        for (std::size_t j = 0; j < one.size(); ++j) {
            BOOST_TEST(seq(i, j) == one(j));
            BOOST_TEST(par(i, j) == one(j));
        }
    }
    // One large image: par splits gradient rows and blocks.
    const cv::Mat big = ferx_test::random_mat<std::uint8_t>(480, 640, CV_8U, 5);
    const auto a = ferx::describe(ferx::exec::seq, ferx::view<std::uint8_t>(big), face_params());
    const auto b = ferx::describe(ferx::exec::par.on(pool), ferx::view<std::uint8_t>(big), face_params());
    BOOST_TEST(features_test::max_abs_diff(a, b, a.size()) == 0.0);
}

BOOST_AUTO_TEST_CASE(bad_input_is_refused) {
    ferx::image<std::uint8_t> small({12, 12});
    small.fill(3);
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, small, face_params()), ferx::error);  // smaller than a block
    ferx::image<std::uint8_t> odd({50, 48});
    odd.fill(3);
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, odd, face_params()), ferx::error);  // not on the block grid
    ferx::image<std::uint8_t> ok({48, 48});
    ok.fill(3);
    auto p = face_params();
    p.bins = 0;
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, ok, p), ferx::error);
    p = face_params();
    p.block = {16, 12};
    p.cell = {8, 8};
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, ok, p), ferx::error);  // block not whole cells
    p = face_params();
    p.cell = {0, 8};
    BOOST_CHECK_THROW(ferx::descriptor_length(p, 48, 48), ferx::error);
    ferx::image<float> nan_img({48, 48});
    nan_img.fill(1.f);
    nan_img(20, 30) = std::nanf("");
    try {
        ferx::describe(ferx::exec::seq, nan_img, face_params());
        BOOST_ERROR("a NaN pixel was accepted");
    } catch (const ferx::error& e) {
        BOOST_TEST(std::string(e.what()).find("row 20, column 30") != std::string::npos, e.what());
    }
    ferx::image<float> neg({48, 48});
    neg.fill(-1.f);
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, neg, face_params()), ferx::error);  // gamma of a negative pixel
    ferx::image<std::uint8_t> empty;
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, ferx::view(empty), face_params()), ferx::error);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(hog_kernel_arithmetic)

// The CUDA kernel computes each pixel's votes with hog_pixel_vote and each block accumulator with
// hog_block4_acc; evaluated here on the host, they must give seq's descriptor bit for bit.
BOOST_AUTO_TEST_CASE(per_pixel_and_per_accumulator_functions_reproduce_seq) {
    for (auto [rows, cols] : std::vector<std::pair<int, int>>{{48, 48}, {128, 64}}) {
        const cv::Mat img = ferx_test::random_mat<std::uint8_t>(rows, cols, CV_8U, static_cast<std::uint32_t>(rows));
        for (bool signed_gradient : {false, true}) {
            ferx::hog_params<> p;
            p.signed_gradient = signed_gradient;
            const auto ref = ferx::describe(ferx::exec::seq, ferx::view<std::uint8_t>(img), p);
            const auto l = ferx::detail::hog_check(p, rows, cols);
            ferx::detail::hog_workspace ws;
            ferx::detail::hog_block_tables(p, l, ws);
            const auto v = ferx::view<std::uint8_t>(img);
            const ferx::image_view<const std::uint8_t> cv_view(v);
            std::vector<float> m0(static_cast<std::size_t>(rows * cols)), m1(m0.size());
            std::vector<std::int32_t> b0(m0.size());
            for (int y = 0; y < rows; ++y)
                for (int x = 0; x < cols; ++x) {
                    int b;
                    const std::size_t q = static_cast<std::size_t>(y * cols + x);
                    ferx::detail::hog_pixel_vote(cv_view, y, x, p.gamma_correction, l.angle_scale, l.bins, m0[q], m1[q], b);
                    b0[q] = b;
                }
            const int nacc = 4 * (p.bins + 1);
            std::vector<float> out(ref.size()), acc(static_cast<std::size_t>(2 * nacc));
            for (ferx::index_t k = 0; k < l.blocks_x * l.blocks_y; ++k) {
                const ferx::index_t bx = k / l.blocks_y, by = k % l.blocks_y;
                const std::size_t origin = static_cast<std::size_t>(by * 8 * cols + bx * 8);
                for (int t = 0; t < 2 * nacc; ++t)
                    acc[static_cast<std::size_t>(t)] = ferx::detail::hog_block4_acc(
                        t / nacc, (t % nacc) / 4, t % 4, m0.data() + origin, m1.data() + origin, b0.data() + origin, cols,
                        ws.w4.data(), 16, 16);
                float* o = out.data() + k * l.block_len;
                for (int c = 0; c < 4; ++c)
                    for (int b = 0; b < p.bins; ++b) {
                        const auto A = [&](int parity, int i) { return acc[static_cast<std::size_t>(parity * nacc + i)]; };
                        o[c * p.bins + b] = b == 0 ? (A(0, c) + A(1, c)) + (A(0, 4 * p.bins + c) + A(1, 4 * p.bins + c))
                                                   : A(0, 4 * b + c) + A(1, 4 * b + c);
                    }
                ferx::hog_l2hys::apply(o, l.block_len, 0.2f);
            }
            std::size_t differ = 0;
            for (std::size_t i = 0; i < out.size(); ++i) differ += out[i] != ref[i];
            BOOST_TEST(differ == 0u, rows << "x" << cols << (signed_gradient ? " signed" : "") << ": " << differ << " values differ");
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
