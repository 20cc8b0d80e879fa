// FHOG: against a direct evaluation of the definition (atan2 orientations, tent weights), and
// its symmetries.
#include <ferx/features/fhog.hpp>

#include <boost/test/unit_test.hpp>

#include "features_test.hpp"

#include <array>
#include <cmath>
#include <vector>

namespace {

/// The definition evaluated directly: orientation by atan2 rounded to the nearest of 18 (ties,
/// which integer gradients only have at 90 and 270 degrees, to the lower one), each pixel's
/// weight to every cell by the tent max(0, 1 - |p - c|) in cell units, then the normalisations.
std::vector<double> naive_fhog(const cv::Mat& img, int s) {
    const int rows = img.rows, cols = img.cols;
    const int cy = static_cast<int>(std::lround(double(rows) / s)), cx = static_cast<int>(std::lround(double(cols) / s));
    std::vector<double> hist(static_cast<std::size_t>(cy * cx * 18), 0.0);
    const double pi = 3.14159265358979323846;
    for (int y = 1; y < cy * s - 1; ++y)
        for (int x = 1; x < cx * s - 1; ++x) {
            const int sy = std::min(y, rows - 2), sx = std::min(x, cols - 2);
            const double dy = double(img.at<std::uint8_t>(sy + 1, sx)) - img.at<std::uint8_t>(sy - 1, sx);
            const double dx = double(img.at<std::uint8_t>(sy, sx + 1)) - img.at<std::uint8_t>(sy, sx - 1);
            if (dx == 0 && dy == 0) continue;
            int bin;
            if (dx == 0)
                bin = dy > 0 ? 4 : 13;
            else {
                double theta = std::atan2(dy, dx);
                if (theta < 0) theta += 2 * pi;
                bin = static_cast<int>(std::lround(theta / (pi / 9))) % 18;
            }
            const double mag = std::sqrt(dx * dx + dy * dy);
            const double py = (y + 0.5) / s - 0.5, px = (x + 0.5) / s - 0.5;
            for (int c = 0; c < cy; ++c)
                for (int d = 0; d < cx; ++d) {
                    const double w = std::max(0.0, 1 - std::abs(py - c)) * std::max(0.0, 1 - std::abs(px - d));
                    hist[static_cast<std::size_t>((c * cx + d) * 18 + bin)] += w * mag;
                }
        }
    auto H = [&](int c, int d, int o) { return hist[static_cast<std::size_t>((c * cx + d) * 18 + o)]; };
    auto energy = [&](int c, int d) {
        double e = 0;
        for (int o = 0; o < 9; ++o) e += (H(c, d, o) + H(c, d, o + 9)) * (H(c, d, o) + H(c, d, o + 9));
        return e;
    };
    auto norm = [&](int c, int d) {
        return 1 / std::sqrt(energy(c, d) + energy(c, d + 1) + energy(c + 1, d) + energy(c + 1, d + 1) + 1e-4);
    };
    std::vector<double> out;
    for (int y = 0; y < cy - 2; ++y)
        for (int x = 0; x < cx - 2; ++x) {
            const double n[4] = {norm(y + 1, x + 1), norm(y, x + 1), norm(y + 1, x), norm(y, x)};
            double t[4] = {0, 0, 0, 0};
            for (int o = 0; o < 18; ++o) {
                double sum = 0;
                for (int k = 0; k < 4; ++k) {
                    sum += std::min(H(y + 1, x + 1, o) * n[k], 0.2);
                    t[k] += std::min(H(y + 1, x + 1, o) * n[k], 0.2);
                }
                out.push_back(0.5 * sum);
            }
            for (int o = 0; o < 9; ++o) {
                double sum = 0;
                for (int k = 0; k < 4; ++k) sum += std::min((H(y + 1, x + 1, o) + H(y + 1, x + 1, o + 9)) * n[k], 0.2);
                out.push_back(0.5 * sum);
            }
            for (int k = 0; k < 4; ++k) out.push_back(0.2357 * t[k]);
        }
    return out;
}

void check_against_naive(const cv::Mat& img, int cell, const std::string& what) {
    ferx::fhog_params p;
    p.cell = cell;
    const auto ours = ferx::describe(ferx::exec::seq, ferx::view<std::uint8_t>(img), p);
    const auto ref = naive_fhog(img, cell);
    BOOST_TEST_REQUIRE(ours.size() == ref.size(), what);
    const double d = features_test::max_abs_diff(ours, ref, ref.size());
    BOOST_TEST(d < 1e-6, what << ": max |ferx - definition| = " << d);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(fhog)

BOOST_AUTO_TEST_CASE(equals_the_definition_on_random_images) {
    check_against_naive(ferx_test::random_mat<std::uint8_t>(48, 48, CV_8U, 1), 8, "48x48 cell 8");
    check_against_naive(ferx_test::random_mat<std::uint8_t>(37, 53, CV_8U, 2), 6, "37x53 cell 6 (partial cells)");
    check_against_naive(ferx_test::random_mat<std::uint8_t>(30, 30, CV_8U, 3), 4, "30x30 cell 4");
}

BOOST_AUTO_TEST_CASE(equals_the_definition_on_real_images, *boost::unit_test::precondition(ferx_test::shared_data_present())) {
    for (const auto& im : features_test::ckplus(140)) check_against_naive(im.mat, 8, im.name);
    for (const auto& im : features_test::faces_resized(64, 64)) check_against_naive(im.mat, 8, im.name);
}

// One large image under par: bands of cell rows (the edge cells' pixel rows visited by both
// bands) give the bits of seq, whatever the thread count and the cell size.
BOOST_AUTO_TEST_CASE(par_on_one_large_image_equals_seq) {
    for (auto [rows, cols, cell, seed] : std::vector<std::array<int, 4>>{{480, 640, 8, 11}, {301, 417, 6, 12}, {260, 1030, 5, 13}}) {
        cv::Mat img = ferx_test::random_mat<std::uint8_t>(rows, cols, CV_8U, static_cast<std::uint32_t>(seed));
        cv::GaussianBlur(img, img, cv::Size(5, 5), 1.2);
        ferx::fhog_params p;
        p.cell = cell;
        const auto v = ferx::view<std::uint8_t>(std::as_const(img));
        const auto ref = ferx::describe(ferx::exec::seq, v, p);
        for (std::size_t threads : {2u, 3u, 7u}) {
            ferx::thread_pool pool(threads);
            const auto par = ferx::describe(ferx::exec::par.on(pool), v, p);
            BOOST_TEST((par == ref), rows << "x" << cols << " cell " << cell << ", " << threads << " threads");
        }
    }
}

BOOST_AUTO_TEST_CASE(layout_and_length) {
    ferx::fhog_params p;
    BOOST_TEST(ferx::descriptor_length(p, 48, 48) == 4 * 4 * 31);
    BOOST_TEST(ferx::descriptor_length(p, 112, 112) == 12 * 12 * 31);
    BOOST_TEST(ferx::descriptor_length(p, 51, 45) == 4 * 4 * 31);  // round(51/8) = 6, round(45/8) = 6
    BOOST_CHECK_THROW(ferx::descriptor_length(p, 19, 48), ferx::error);  // round(19/8) = 2 cells
}

BOOST_AUTO_TEST_CASE(constant_image_has_zero_features) {
    const cv::Mat flat(40, 40, CV_8U, cv::Scalar(200));
    const auto f = ferx::describe(ferx::exec::seq, ferx::view<std::uint8_t>(flat), ferx::fhog_params{});
    for (float v : f) BOOST_TEST(v == 0.f);
}

BOOST_AUTO_TEST_CASE(half_turn_swaps_signed_orientations_and_blocks) {
    // Rotating the image by 180 degrees negates every gradient (signed bin o -> o + 9 mod 18),
    // mirrors the cell grid and exchanges the normalising blocks 1 <-> 4 and 2 <-> 3.
    const cv::Mat img = ferx_test::random_mat<std::uint8_t>(48, 56, CV_8U, 9);
    cv::Mat rot;
    cv::flip(img, rot, -1);
    ferx::fhog_params p;
    const auto a = ferx::describe(ferx::exec::seq, ferx::view<std::uint8_t>(img), p);
    const auto b = ferx::describe(ferx::exec::seq, ferx::view<std::uint8_t>(rot), p);
    const int oy = 4, ox = 5;
    double worst = 0;
    for (int y = 0; y < oy; ++y)
        for (int x = 0; x < ox; ++x) {
            const float* fa = &a[static_cast<std::size_t>((y * ox + x) * 31)];
            const float* fb = &b[static_cast<std::size_t>(((oy - 1 - y) * ox + (ox - 1 - x)) * 31)];
            for (int o = 0; o < 18; ++o) worst = std::max(worst, double(std::abs(fa[o] - fb[(o + 9) % 18])));
            for (int o = 0; o < 9; ++o) worst = std::max(worst, double(std::abs(fa[18 + o] - fb[18 + o])));
            const int swap[4] = {3, 2, 1, 0};
            for (int k = 0; k < 4; ++k) worst = std::max(worst, double(std::abs(fa[27 + k] - fb[27 + swap[k]])));
        }
    BOOST_TEST(worst < 1e-6, "max deviation from the half-turn symmetry: " << worst);
}

BOOST_AUTO_TEST_CASE(bad_input_is_refused) {
    ferx::image<std::uint8_t> img({48, 48});
    img.fill(1);
    ferx::fhog_params p;
    p.cell = 0;
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, img, p), ferx::error);
    p.cell = 20;  // 48 / 20 rounds to 2 cells: no interior cell
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, img, p), ferx::error);
}

BOOST_AUTO_TEST_SUITE_END()
