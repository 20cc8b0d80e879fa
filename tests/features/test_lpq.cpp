// LPQ: known answers (constant image, single frequencies), the whitening identity, codes against
// a direct evaluation of the definition, backends and bad input.
#include <ferx/features/lpq.hpp>

#include <boost/test/unit_test.hpp>

#include "features_test.hpp"

#include <cmath>
#include <complex>
#include <vector>

namespace {

const double pi = 3.14159265358979323846;

/// Codes by brute force: every window's components summed term by term from the definition.
std::vector<std::uint8_t> naive_codes(const cv::Mat& img, const ferx::lpq_params& p) {
    const int m = p.window, r = (m - 1) / 2;
    const auto v = ferx::lpq_whitening(m, p.rho);
    std::vector<std::uint8_t> out;
    for (int y = r; y < img.rows - r; ++y)
        for (int x = r; x < img.cols - r; ++x) {
            std::complex<double> F[4];
            double f0 = 0;
            for (int l = -r; l <= r; ++l)
                for (int j = -r; j <= r; ++j) {
                    const double f = img.at<std::uint8_t>(y + l, x + j);
                    const double a = 2 * pi / m;
                    f0 += f;
                    F[0] += f * std::polar(1.0, a * j);
                    F[1] += f * std::polar(1.0, a * l);
                    F[2] += f * std::polar(1.0, a * (l + j));
                    F[3] += f * std::polar(1.0, a * (l - j));
                }
            double g[8];
            for (int k = 0; k < 4; ++k) {
                g[2 * k] = F[k].real();
                g[2 * k + 1] = F[k].imag();
            }
            unsigned code = 0;
            for (int c = 0; c < 8; ++c) {
                double s = g[c];
                if (p.decorrelate) {
                    s = 0;
                    for (int k = 0; k < 8; ++k) s += v(static_cast<std::size_t>(k), static_cast<std::size_t>(c)) * g[k];
                }
                if (s > 1e-10 * std::abs(f0)) code |= 1u << c;
            }
            out.push_back(static_cast<std::uint8_t>(code));
        }
    return out;
}

void check_codes(const cv::Mat& img, const ferx::lpq_params& p, const std::string& what) {
    const auto ours = ferx::lpq_image(ferx::exec::seq, ferx::view<std::uint8_t>(img), p);
    const auto ref = naive_codes(img, p);
    BOOST_TEST_REQUIRE(ours.size() == ref.size());
    std::size_t bad = 0;
    for (std::size_t i = 0; i < ref.size(); ++i) bad += ours.data()[i] != ref[i];
    BOOST_TEST(bad == 0u, what << " M=" << p.window << (p.decorrelate ? " decorrelated" : "") << ": " << bad << " of "
                               << ref.size() << " codes differ");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(lpq)

BOOST_AUTO_TEST_CASE(constant_image_has_no_phase) {
    const cv::Mat flat(30, 30, CV_8U, cv::Scalar(173));
    const auto r = ferx::lpq_responses(ferx::view<const std::uint8_t>(flat), 7);
    for (std::size_t y = 0; y < r.shape(1); ++y)
        for (std::size_t x = 0; x < r.shape(2); ++x) {
            BOOST_TEST_REQUIRE(r(0, y, x) == 173.0 * 49.0);
            for (std::size_t k = 1; k < 9; ++k) BOOST_TEST_REQUIRE(std::abs(r(k, y, x)) < 1e-9 * 173 * 49);
        }
    for (bool dec : {false, true}) {
        ferx::lpq_params p;
        p.decorrelate = dec;
        const auto codes = ferx::lpq_image(ferx::exec::seq, ferx::view<const std::uint8_t>(flat), p);
        for (auto c : codes) BOOST_TEST_REQUIRE(c == 0);
        p.grid = {{2, 2}, 0.0, ferx::hist_norm::l1};
        const auto f = ferx::describe(ferx::exec::seq, ferx::view<const std::uint8_t>(flat), p);
        for (std::size_t c = 0; c < 4; ++c) BOOST_TEST(f[c * 256] == 1.f);  // all mass in bin 0
    }
}

BOOST_AUTO_TEST_CASE(single_frequency_along_x_and_y) {
    // f = 100 + 50 cos(2 pi a x + phi): F1 = 25 M^2 exp(-i theta) at the window centre
    // (theta = 2 pi a x_c + phi), the other frequencies vanish.
    for (int m : {3, 5, 7}) {
        const double a = 1.0 / m, phi = 0.3;
        for (bool along_x : {true, false}) {
            cv::Mat img(24, 26, CV_64F);
            for (int y = 0; y < img.rows; ++y)
                for (int x = 0; x < img.cols; ++x) img.at<double>(y, x) = 100 + 50 * std::cos(2 * pi * a * (along_x ? x : y) + phi);
            const auto r = ferx::lpq_responses(ferx::view<const double>(img), m);
            const int c = (m - 1) / 2;
            double worst = 0;
            for (std::size_t y = 0; y < r.shape(1); ++y)
                for (std::size_t x = 0; x < r.shape(2); ++x) {
                    const double theta = 2 * pi * a * double(along_x ? x + c : y + c) + phi;
                    const std::size_t k = along_x ? 1 : 3;  // F1 (along x) or F2 (along y)
                    worst = std::max(worst, std::abs(r(k, y, x) - 25.0 * m * m * std::cos(theta)));
                    worst = std::max(worst, std::abs(r(k + 1, y, x) + 25.0 * m * m * std::sin(theta)));
                    for (std::size_t o = 1; o < 9; ++o)
                        if (o != k && o != k + 1) worst = std::max(worst, std::abs(r(o, y, x)));
                }
            BOOST_TEST(worst < 1e-9, "M=" << m << (along_x ? " along x" : " along y") << ": max error " << worst);
            // Codes without decorrelation: bits of Re F = cos(theta) > 0 and Im F = -sin(theta) > 0 only.
            ferx::lpq_params p;
            p.window = m;
            p.decorrelate = false;
            const auto codes = ferx::lpq_image(ferx::exec::seq, ferx::view<const double>(img), p);
            std::size_t bad = 0;
            for (std::size_t y = 0; y < codes.shape(0); ++y)
                for (std::size_t x = 0; x < codes.shape(1); ++x) {
                    const double theta = 2 * pi * a * double(along_x ? x + c : y + c) + phi;
                    const unsigned shift = along_x ? 0 : 2;
                    const unsigned expect = ((std::cos(theta) > 0 ? 1u : 0u) | (-std::sin(theta) > 0 ? 2u : 0u)) << shift;
                    bad += codes(y, x) != expect;
                }
            BOOST_TEST(bad == 0u);
        }
    }
}

BOOST_AUTO_TEST_CASE(whitening_diagonalises_the_markov_covariance) {
    for (auto [m, rho] : std::vector<std::pair<int, double>>{{3, 0.9}, {7, 0.9}, {5, 0.5}}) {
        // D = W C W^T from the definition: 8 filters over the window, C = rho^distance.
        const int r = (m - 1) / 2;
        std::vector<std::array<double, 8>> w;
        std::vector<std::pair<int, int>> pos;
        for (int l = -r; l <= r; ++l)
            for (int j = -r; j <= r; ++j) {
                const double a = 2 * pi / m;
                const std::complex<double> F[4] = {std::polar(1.0, a * j), std::polar(1.0, a * l), std::polar(1.0, a * (l + j)),
                                                   std::polar(1.0, a * (l - j))};
                w.push_back({F[0].real(), F[0].imag(), F[1].real(), F[1].imag(), F[2].real(), F[2].imag(), F[3].real(), F[3].imag()});
                pos.emplace_back(l, j);
            }
        double D[8][8] = {};
        for (std::size_t s = 0; s < pos.size(); ++s)
            for (std::size_t t = 0; t < pos.size(); ++t) {
                const double c = std::pow(rho, std::hypot(pos[s].first - pos[t].first, pos[s].second - pos[t].second));
                for (int i = 0; i < 8; ++i)
                    for (int k = 0; k < 8; ++k) D[i][k] += w[s][static_cast<std::size_t>(i)] * c * w[t][static_cast<std::size_t>(k)];
            }
        for (int i = 0; i < 8; ++i)  // lpq.m's tie-breaking scale A
            for (int k = 0; k < 8; ++k) D[i][k] *= (1 + 1e-6 * (7 - i)) * (1 + 1e-6 * (7 - k));
        const auto V = ferx::lpq_whitening(m, rho);
        double S[8][8] = {}, I[8][8] = {}, largest = 0;
        for (int a = 0; a < 8; ++a)
            for (int b = 0; b < 8; ++b)
                for (int i = 0; i < 8; ++i) {
                    I[a][b] += V(std::size_t(i), std::size_t(a)) * V(std::size_t(i), std::size_t(b));
                    for (int k = 0; k < 8; ++k) S[a][b] += V(std::size_t(i), std::size_t(a)) * D[i][k] * V(std::size_t(k), std::size_t(b));
                }
        for (int a = 0; a < 8; ++a) largest = std::max(largest, S[a][a]);
        for (int a = 0; a < 8; ++a)
            for (int b = 0; b < 8; ++b) {
                BOOST_TEST(std::abs(I[a][b] - (a == b ? 1.0 : 0.0)) < 1e-10);
                if (a != b) BOOST_TEST(std::abs(S[a][b]) < 1e-9 * largest, "M=" << m << " S[" << a << "][" << b << "]=" << S[a][b]);
            }
        for (int a = 0; a + 1 < 8; ++a) BOOST_TEST(S[a][a] >= S[a + 1][a + 1]);  // decreasing variances
    }
}

BOOST_AUTO_TEST_CASE(codes_equal_the_definition) {
    const cv::Mat img = ferx_test::random_mat<std::uint8_t>(25, 31, CV_8U, 61);
    for (int m : {3, 5, 7})
        for (bool dec : {false, true}) {
            ferx::lpq_params p;
            p.window = m;
            p.decorrelate = dec;
            check_codes(img, p, "random");
        }
}

BOOST_AUTO_TEST_CASE(codes_equal_the_definition_on_real_images, *boost::unit_test::precondition(ferx_test::shared_data_present())) {
    for (const auto& im : features_test::ckplus(200)) check_codes(im.mat, ferx::lpq_params{}, im.name);
}

BOOST_AUTO_TEST_CASE(histograms_and_backends) {
    std::vector<cv::Mat> crops;
    for (std::uint32_t s = 0; s < 5; ++s) crops.push_back(ferx_test::random_mat<std::uint8_t>(48, 48, CV_8U, 70 + s));
    const auto batch = ferx::to_volume<std::uint8_t>(crops);
    ferx::thread_pool pool(3);
    ferx::lpq_params p;
    p.grid.norm = ferx::hist_norm::none;
    const auto seq = ferx::describe(ferx::exec::seq, batch, p);
    BOOST_TEST(seq == ferx::describe(ferx::exec::par.on(pool), batch, p));
    BOOST_TEST(seq.shape(1) == 36u * 256u);
    for (std::size_t i = 0; i < 5; ++i) {
        double total = 0;
        for (std::size_t j = 0; j < seq.shape(1); ++j) total += seq(i, j);
        BOOST_TEST(total == 42.0 * 42.0);
    }
    const cv::Mat big = ferx_test::random_mat<std::uint8_t>(120, 160, CV_8U, 79);
    BOOST_TEST(ferx::lpq_image(ferx::exec::seq, ferx::view<std::uint8_t>(big)) ==
               ferx::lpq_image(ferx::exec::par.on(pool), ferx::view<std::uint8_t>(big)));
}

BOOST_AUTO_TEST_CASE(bad_input_is_refused) {
    ferx::image<std::uint8_t> img({48, 48});
    img.fill(3);
    ferx::lpq_params p;
    p.window = 6;
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, img, p), ferx::error);
    p = {};
    p.rho = 1.0;
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, img, p), ferx::error);
    p = {};
    ferx::image<std::uint8_t> tiny({5, 40});
    tiny.fill(1);
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, tiny, p), ferx::error);
    ferx::image<float> nan_img({20, 20});
    nan_img.fill(1.f);
    nan_img(0, 0) = std::nanf("");
    p.grid.cells = {2, 2};
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, nan_img, p), ferx::error);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(lpq_kernel_arithmetic)

// What the CUDA kernel evaluates per pixel (lpq_code_at) equals seq's separable computation.
BOOST_AUTO_TEST_CASE(per_pixel_function_reproduces_seq) {
    const cv::Mat img = ferx_test::random_mat<std::uint8_t>(29, 34, CV_8U, 88);
    for (int m : {3, 7})
        for (bool dec : {false, true}) {
            ferx::lpq_params p;
            p.window = m;
            p.decorrelate = dec;
            const auto ref = ferx::lpq_image(ferx::exec::seq, ferx::view<std::uint8_t>(img), p);
            std::vector<double> kre, kim;
            ferx::detail::stft_kernel(m, kre, kim);
            const auto v = ferx::detail::lpq_whitening_matrix(m, p.rho);
            std::size_t bad = 0;
            for (std::size_t y = 0; y < ref.shape(0); ++y)
                for (std::size_t x = 0; x < ref.shape(1); ++x)
                    bad += ferx::detail::lpq_code_at(img.ptr<std::uint8_t>(int(y)) + x, img.cols, m, kre.data(), kim.data(), v.data(), dec) !=
                           ref(y, x);
            BOOST_TEST(bad == 0u, "M=" << m << (dec ? " decorrelated" : ""));
        }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(lpq_par)

BOOST_AUTO_TEST_CASE(one_large_image_par_equals_seq) {
    const cv::Mat big = ferx_test::random_mat<std::uint8_t>(200, 180, CV_8U, 91);
    ferx::thread_pool pool(3);
    ferx::lpq_params p;
    BOOST_TEST(ferx::describe(ferx::exec::seq, ferx::view<std::uint8_t>(big), p) ==
               ferx::describe(ferx::exec::par.on(pool), ferx::view<std::uint8_t>(big), p));
}

BOOST_AUTO_TEST_SUITE_END()
