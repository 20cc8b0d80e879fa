// LBP: codes against a direct evaluation, mapping tables checked exhaustively, histograms,
// multi-scale, backends and bad input.
#include <ferx/features/lbp.hpp>

#include <boost/test/unit_test.hpp>

#include "features_test.hpp"

#include <cmath>
#include <set>
#include <vector>

namespace {

/// The definition, evaluated pixel by pixel in double: sample positions on the circle (rounded
/// to 1/256 pixel, as documented), bilinear interpolation with the textbook weights.
template <class T>
std::vector<std::uint32_t> naive_codes(const cv::Mat& img, int P, double R, int& h, int& w) {
    const int m = static_cast<int>(std::ceil(R - 1e-9));
    h = img.rows - 2 * m;
    w = img.cols - 2 * m;
    std::vector<std::uint32_t> out;
    for (int y = m; y < img.rows - m; ++y)
        for (int x = m; x < img.cols - m; ++x) {
            const double centre = img.at<T>(y, x);
            std::uint32_t code = 0;
            for (int p = 0; p < P; ++p) {
                const double sy = y + std::round(-R * std::sin(2 * M_PI * p / P) * 256) / 256;
                const double sx = x + std::round(R * std::cos(2 * M_PI * p / P) * 256) / 256;
                const int y0 = static_cast<int>(std::floor(sy)), x0 = static_cast<int>(std::floor(sx));
                const double fy = sy - y0, fx = sx - x0;
                auto at = [&](int yy, int xx) { return (yy < img.rows && xx < img.cols) ? double(img.at<T>(yy, xx)) : 0.0; };
                const double v = (1 - fy) * (1 - fx) * at(y0, x0) + (1 - fy) * fx * at(y0, x0 + 1) +
                                 fy * (1 - fx) * at(y0 + 1, x0) + fy * fx * at(y0 + 1, x0 + 1);
                if (v >= centre) code |= 1u << p;
            }
            out.push_back(code);
        }
    return out;
}

/// Circular 0/1 transitions, counted bit by bit.
int transitions(std::uint32_t c, int P) {
    int n = 0;
    for (int i = 0; i < P; ++i) n += ((c >> i) & 1u) != ((c >> ((i + 1) % P)) & 1u);
    return n;
}

void check_codes(const cv::Mat& img, int P, double R, const std::string& what) {
    int h = 0, w = 0;
    const auto ref = naive_codes<std::uint8_t>(img, P, R, h, w);
    const auto ours = ferx::lbp_image<ferx::lbp_none>(ferx::exec::seq, ferx::view<std::uint8_t>(img), P, R);
    BOOST_TEST_REQUIRE(ours.shape(0) == static_cast<std::size_t>(h));
    BOOST_TEST_REQUIRE(ours.shape(1) == static_cast<std::size_t>(w));
    std::size_t bad = 0;
    for (std::size_t i = 0; i < ref.size(); ++i) bad += ours.data()[i] != ref[i];
    BOOST_TEST(bad == 0u, what << " LBP(" << P << "," << R << "): " << bad << " of " << ref.size() << " codes differ");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(lbp)

BOOST_AUTO_TEST_CASE(hand_computed_code) {
    // A horizontal ramp: samples to the right (and straight up/down, equal) are >= the centre.
    cv::Mat ramp(3, 3, CV_8U);
    for (int y = 0; y < 3; ++y)
        for (int x = 0; x < 3; ++x) ramp.at<std::uint8_t>(y, x) = static_cast<std::uint8_t>(10 * (x + 1));
    const auto c = ferx::lbp_image<ferx::lbp_none>(ferx::exec::seq, ferx::view<std::uint8_t>(ramp), 8, 1.0);
    BOOST_TEST_REQUIRE(c.size() == 1u);
    BOOST_TEST(c(0, 0) == 1u + 2u + 4u + 64u + 128u);  // bits 0 (right), 1, 2 (up), 6 (down), 7
}

BOOST_AUTO_TEST_CASE(codes_equal_the_definition_on_random_images) {
    const cv::Mat img = ferx_test::random_mat<std::uint8_t>(40, 47, CV_8U, 21);
    for (auto [P, R] : std::vector<std::pair<int, double>>{{8, 1.0}, {8, 2.0}, {16, 2.0}, {12, 1.5}, {24, 3.0}, {4, 1.0}, {32, 4.5}})
        check_codes(img, P, R, "random");
    // Few grey levels: many exact ties between samples and centres.
    cv::Mat coarse = ferx_test::random_mat<std::uint8_t>(30, 30, CV_8U, 22);
    coarse = coarse / 64;
    for (auto [P, R] : std::vector<std::pair<int, double>>{{8, 1.0}, {16, 2.0}}) check_codes(coarse, P, R, "4 grey levels");
}

BOOST_AUTO_TEST_CASE(codes_equal_the_definition_on_real_images, *boost::unit_test::precondition(ferx_test::shared_data_present())) {
    for (const auto& im : features_test::ckplus(100)) {
        check_codes(im.mat, 8, 1.0, im.name);
        check_codes(im.mat, 16, 2.0, im.name);
    }
}

BOOST_AUTO_TEST_CASE(float_and_16_bit_images_give_the_codes_of_8_bit_images) {
    const cv::Mat img = ferx_test::random_mat<std::uint8_t>(20, 20, CV_8U, 23);
    cv::Mat f, u16;
    img.convertTo(f, CV_32F);
    img.convertTo(u16, CV_16U, 257.0);
    const auto a = ferx::lbp_image<ferx::lbp_none>(ferx::exec::seq, ferx::view<std::uint8_t>(img), 8, 1.0);
    const auto b = ferx::lbp_image<ferx::lbp_none>(ferx::exec::seq, ferx::view<float>(f), 8, 1.0);
    const auto c = ferx::lbp_image<ferx::lbp_none>(ferx::exec::seq, ferx::view<std::uint16_t>(u16), 8, 1.0);
    BOOST_TEST(a == b);
    BOOST_TEST(a == c);
}

BOOST_AUTO_TEST_CASE(u2_and_riu2_tables_exhaustive) {
    for (int P : {8, 16}) {
        ferx::detail::lbp_mapper<ferx::lbp_u2> u2;
        ferx::detail::lbp_mapper<ferx::lbp_riu2> riu2;
        u2.build(P);
        riu2.build(P);
        const std::uint32_t n = 1u << P, nonuniform_u2 = static_cast<std::uint32_t>(P * (P - 1) + 2);
        std::uint32_t next_label = 0, uniform = 0;
        std::set<std::uint32_t> labels;
        for (std::uint32_t c = 0; c < n; ++c) {
            const bool is_uniform = transitions(c, P) <= 2;
            const std::uint32_t l = u2(c), r = riu2(c);
            labels.insert(l);
            if (is_uniform) {
                ++uniform;
                BOOST_TEST_REQUIRE(l == next_label);  // uniform codes labelled in increasing order
                ++next_label;
                int ones = 0;
                for (int i = 0; i < P; ++i) ones += (c >> i) & 1u;
                BOOST_TEST_REQUIRE(r == static_cast<std::uint32_t>(ones));
            } else {
                BOOST_TEST_REQUIRE(l == nonuniform_u2);
                BOOST_TEST_REQUIRE(r == static_cast<std::uint32_t>(P + 1));
            }
        }
        BOOST_TEST(uniform == static_cast<std::uint32_t>(P * (P - 1) + 2));
        BOOST_TEST(labels.size() == static_cast<std::size_t>(ferx::lbp_u2::bins(P)));
        BOOST_TEST(ferx::lbp_riu2::bins(P) == P + 2);
    }
    // P > 16 has no table: the labels come from the definition (binary search of uniform codes).
    ferx::detail::lbp_mapper<ferx::lbp_u2> u32;
    u32.build(24);
    BOOST_TEST(u32(0u) == 0u);
    BOOST_TEST(u32(0xFFFFFFu) == static_cast<std::uint32_t>(24 * 23 + 1));  // all ones: the largest uniform code
    BOOST_TEST(u32(0x5u) == static_cast<std::uint32_t>(24 * 23 + 2));       // 101: four transitions
}

BOOST_AUTO_TEST_CASE(histograms_sum_as_expected) {
    const cv::Mat img = ferx_test::random_mat<std::uint8_t>(48, 48, CV_8U, 31);
    ferx::lbp_params<ferx::lbp_u2> p;
    p.grid = {{5, 4}, 0.0, ferx::hist_norm::none};
    const auto f = ferx::describe(ferx::exec::seq, ferx::view<std::uint8_t>(img), p);
    const std::size_t bins = 59;
    BOOST_TEST_REQUIRE(f.size() == 20 * bins);
    double total = 0;
    for (float v : f) total += v;
    BOOST_TEST(total == 46.0 * 46.0);  // a partition of the 46x46 code image
    p.grid.norm = ferx::hist_norm::l1;
    p.grid.overlap = 0.5;
    const auto g = ferx::describe(ferx::exec::seq, ferx::view<std::uint8_t>(img), p);
    for (std::size_t c = 0; c < 20; ++c) {
        double s = 0;
        for (std::size_t b = 0; b < bins; ++b) s += g[c * bins + b];
        BOOST_TEST(std::abs(s - 1.0) < 1e-5);
    }
    // The histogram of one whole-image cell counts the codes of lbp_image.
    ferx::lbp_params<ferx::lbp_riu2> one;
    one.grid = {{1, 1}, 0.0, ferx::hist_norm::none};
    const auto h = ferx::describe(ferx::exec::seq, ferx::view<std::uint8_t>(img), one);
    const auto codes = ferx::lbp_image<ferx::lbp_riu2>(ferx::exec::seq, ferx::view<std::uint8_t>(img), 8, 1.0);
    std::vector<float> count(10, 0.f);
    for (auto c : codes) count[c] += 1.f;
    for (std::size_t b = 0; b < 10; ++b) BOOST_TEST(h[b] == count[b]);
}

BOOST_AUTO_TEST_CASE(multiscale_concatenates_the_scales) {
    const cv::Mat img = ferx_test::random_mat<std::uint8_t>(48, 48, CV_8U, 41);
    ferx::lbp_multiscale_params<ferx::lbp_u2> ms;  // (8, 1) and (16, 2)
    const auto f = ferx::describe(ferx::exec::seq, ferx::view<std::uint8_t>(img), ms);
    const auto a = ferx::describe(ferx::exec::seq, ferx::view<std::uint8_t>(img), ms.scales[0]);
    const auto b = ferx::describe(ferx::exec::seq, ferx::view<std::uint8_t>(img), ms.scales[1]);
    BOOST_TEST_REQUIRE(f.size() == a.size() + b.size());
    BOOST_TEST(f.size() == 36u * (59u + 243u));
    for (std::size_t i = 0; i < a.size(); ++i) BOOST_TEST_REQUIRE(f[i] == a[i]);
    for (std::size_t i = 0; i < b.size(); ++i) BOOST_TEST_REQUIRE(f[a.size() + i] == b[i]);
}

BOOST_AUTO_TEST_CASE(par_equals_seq) {
    std::vector<cv::Mat> crops;
    for (std::uint32_t s = 0; s < 7; ++s) crops.push_back(ferx_test::random_mat<std::uint8_t>(48, 48, CV_8U, 50 + s));
    const auto batch = ferx::to_volume<std::uint8_t>(crops);
    ferx::thread_pool pool(3);
    const ferx::lbp_params<> p;
    BOOST_TEST(ferx::describe(ferx::exec::seq, batch, p) == ferx::describe(ferx::exec::par.on(pool), batch, p));
    const cv::Mat big = ferx_test::random_mat<std::uint8_t>(480, 640, CV_8U, 51);
    BOOST_TEST(ferx::lbp_image(ferx::exec::seq, ferx::view<std::uint8_t>(big), 16, 2.0) ==
               ferx::lbp_image(ferx::exec::par.on(pool), ferx::view<std::uint8_t>(big), 16, 2.0));
}

BOOST_AUTO_TEST_CASE(bad_input_is_refused) {
    ferx::image<std::uint8_t> img({48, 48});
    img.fill(9);
    ferx::lbp_params<> p;
    p.points = 33;
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, img, p), ferx::error);
    BOOST_CHECK_THROW(ferx::lbp_image(ferx::exec::seq, ferx::view(img), 33, 1.0), ferx::error);
    p.points = 0;
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, img, p), ferx::error);
    p = {};
    p.radius = 0;
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, img, p), ferx::error);
    p = {};
    p.radius = 24;  // needs 49x49
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, img, p), ferx::error);
    p = {};
    p.grid.cells = {47, 47};  // more cells than code pixels (46x46)
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, img, p), ferx::error);
    p = {};
    p.grid.overlap = 1.0;
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, img, p), ferx::error);
    ferx::lbp_params<ferx::lbp_none> none;
    none.points = 20;  // 2^20 bins
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, img, none), ferx::error);
    ferx::image<double> inf_img({20, 20});
    inf_img.fill(0.5);
    inf_img(3, 4) = std::numeric_limits<double>::infinity();
    ferx::lbp_params<> small;
    small.grid.cells = {2, 2};
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, inf_img, small), ferx::error);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(lbp_kernel_arithmetic)

// What the CUDA kernel evaluates per pixel (lbp_code_at, lbp_label_direct) equals seq.
BOOST_AUTO_TEST_CASE(per_pixel_functions_reproduce_seq) {
    for (int P : {8, 16}) {
        ferx::detail::lbp_mapper<ferx::lbp_u2> u2;
        ferx::detail::lbp_mapper<ferx::lbp_riu2> riu2;
        u2.build(P);
        riu2.build(P);
        std::size_t bad = 0;
        for (std::uint32_t c = 0; c < (1u << P); ++c)
            bad += (ferx::detail::lbp_label_direct<ferx::lbp_u2>(c, P) != u2(c)) +
                   (ferx::detail::lbp_label_direct<ferx::lbp_riu2>(c, P) != riu2(c));
        BOOST_TEST(bad == 0u, "P=" << P);
    }
    const cv::Mat img = ferx_test::random_mat<std::uint8_t>(30, 33, CV_8U, 77);
    for (auto [P, R] : std::vector<std::pair<int, double>>{{8, 1.0}, {16, 2.0}, {12, 2.5}}) {
        const auto ref = ferx::lbp_image<ferx::lbp_none>(ferx::exec::seq, ferx::view<std::uint8_t>(img), P, R);
        const auto taps = ferx::detail::lbp_taps(P, R);
        const int m = static_cast<int>(ferx::detail::lbp_margin(R));
        std::size_t bad = 0;
        for (std::size_t y = 0; y < ref.shape(0); ++y)
            for (std::size_t x = 0; x < ref.shape(1); ++x)
                bad += ferx::detail::lbp_code_at(img.ptr<std::uint8_t>(int(y) + m) + int(x) + m, img.cols, taps.data(), P) != ref(y, x);
        BOOST_TEST(bad == 0u, "LBP(" << P << "," << R << ")");
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(lbp_par)

BOOST_AUTO_TEST_CASE(one_large_image_par_equals_seq) {
    const cv::Mat big = ferx_test::random_mat<std::uint8_t>(300, 320, CV_8U, 92);
    ferx::thread_pool pool(3);
    ferx::lbp_params<ferx::lbp_u2> p;
    p.points = 16;
    p.radius = 2;
    BOOST_TEST(ferx::describe(ferx::exec::seq, ferx::view<std::uint8_t>(big), p) ==
               ferx::describe(ferx::exec::par.on(pool), ferx::view<std::uint8_t>(big), p));
}

BOOST_AUTO_TEST_SUITE_END()
