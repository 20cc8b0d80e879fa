// VLPQ: the 26 coefficients against known answers, the whitening against the model covariance,
// codes against the definition, blur insensitivity on a real clip, backends and bad input.
#include <ferx/features/vlpq.hpp>

#include <boost/test/unit_test.hpp>

#include "features_test.hpp"

#include <opencv2/imgproc.hpp>

#include <cmath>
#include <limits>
#include <random>

namespace {
ferx::volume<double> vlpq_volume(int t, int h, int w) {
    ferx::volume<double> v(std::array<std::size_t, 3>{std::size_t(t), std::size_t(h), std::size_t(w)});
    v.fill(0.0);
    return v;
}
ferx::volume<std::uint8_t> vlpq_random_clip(int t, int h, int w, unsigned seed) {
    ferx::volume<std::uint8_t> v(std::array<std::size_t, 3>{std::size_t(t), std::size_t(h), std::size_t(w)});
    std::mt19937 rng(seed);
    for (auto& x : v) x = static_cast<std::uint8_t>(rng() >> 24);
    return v;
}
// (u_y, u_x, u_t) of F1..F13 in units of (1/Ws, 1/Ws, 1/Wt), as documented
const int freqs[13][3] = {{1, 0, 0}, {1, 0, 1}, {1, 0, -1}, {0, 1, 0}, {0, 1, 1}, {0, 1, -1}, {1, 1, 0},
                          {1, 1, 1}, {1, 1, -1}, {1, -1, 0}, {1, -1, 1}, {1, -1, -1}, {0, 0, 1}};
}  // namespace

BOOST_AUTO_TEST_SUITE(vlpq)

BOOST_AUTO_TEST_CASE(a_single_exponential_excites_its_frequency) {
    const int ws = 5, wt = 3, n = ws * ws * wt;
    for (int k = 0; k < 13; ++k) {
        // f = cos(phi0 - 2 pi u_k . p): its window sums vanish at every listed frequency but u_k
        auto v = vlpq_volume(wt, ws, ws);
        const double phi0 = 0.3;
        for (int t = 0; t < wt; ++t)
            for (int y = 0; y < ws; ++y)
                for (int x = 0; x < ws; ++x)
                    v(t, y, x) = std::cos(phi0 - 2 * M_PI * (freqs[k][0] * double(y) / ws + freqs[k][1] * double(x) / ws +
                                                            freqs[k][2] * double(t) / wt));
        const auto r = ferx::vlpq_responses(ferx::view(v), ws, wt);
        BOOST_TEST_REQUIRE(r.shape()[1] == 1u);
        for (int j = 0; j < 13; ++j) {
            const double mag = std::hypot(r(std::size_t(2 * j), 0, 0, 0), r(std::size_t(2 * j + 1), 0, 0, 0));
            if (j == k) BOOST_TEST(mag == n / 2.0, boost::test_tools::tolerance(1e-9));
            else BOOST_TEST(mag < 1e-9, "F" << j + 1 << " of the exponential of F" << k + 1 << ": " << mag);
        }
    }
}

BOOST_AUTO_TEST_CASE(whitening_diagonalises_the_model_covariance) {
    ferx::vlpq_params p;
    p.window = 5;
    p.window_t = 3;
    p.rho_s = 0.8;
    p.rho_t = 0.6;
    const int ws = 5, wt = 3, n = ws * ws * wt;
    // the filters, read off the responses to unit impulses (independent of ferx's filter tables)
    std::vector<std::array<double, 26>> filt(static_cast<std::size_t>(n));
    std::vector<std::array<int, 3>> pos(static_cast<std::size_t>(n));
    int q = 0;
    for (int t = 0; t < wt; ++t)
        for (int y = 0; y < ws; ++y)
            for (int x = 0; x < ws; ++x, ++q) {
                auto v = vlpq_volume(wt, ws, ws);
                v(t, y, x) = 1.0;
                const auto r = ferx::vlpq_responses(ferx::view(v), ws, wt);
                for (std::size_t k = 0; k < 26; ++k) filt[std::size_t(q)][k] = r(k, 0, 0, 0);
                pos[std::size_t(q)] = {t, y, x};
            }
    std::vector<double> d(26 * 26, 0.0);
    for (int a = 0; a < n; ++a)
        for (int b = 0; b < n; ++b) {
            const auto& pa = pos[std::size_t(a)];
            const auto& pb = pos[std::size_t(b)];
            const double c = std::pow(p.rho_s, std::hypot(double(pa[1] - pb[1]), double(pa[2] - pb[2]))) *
                             std::pow(p.rho_t, std::abs(pa[0] - pb[0]));
            for (std::size_t i = 0; i < 26; ++i)
                for (std::size_t j = 0; j < 26; ++j) d[i * 26 + j] += filt[std::size_t(a)][i] * c * filt[std::size_t(b)][j];
        }
    const auto v = ferx::vlpq_whitening(p);
    const double* sep = ferx::detail::vlpq_separation;
    double off = 0, off_a = 0, diag_min = 1e300, diag_max = 0, prev = 1e300;
    bool sorted = true;
    for (std::size_t i = 0; i < 26; ++i)
        for (std::size_t j = 0; j < 26; ++j) {
            double s = 0, sa = 0, o = 0;
            for (std::size_t a = 0; a < 26; ++a) {
                o += v(a, i) * v(a, j);
                for (std::size_t b = 0; b < 26; ++b) {
                    s += v(a, i) * d[a * 26 + b] * v(b, j);
                    sa += v(a, i) * sep[a] * d[a * 26 + b] * sep[b] * v(b, j);
                }
            }
            BOOST_TEST(o == (i == j ? 1.0 : 0.0), boost::test_tools::tolerance(1e-9));  // orthonormal
            if (i == j) {
                diag_min = std::min(diag_min, s);
                diag_max = std::max(diag_max, s);
                sorted = sorted && s <= prev * (1 + 1e-5);
                prev = s;
            } else {
                off = std::max(off, std::abs(s));
                off_a = std::max(off_a, std::abs(sa));
            }
        }
    BOOST_TEST_MESSAGE("V^T D V: largest off-diagonal " << off << ", diagonal " << diag_min << " .. " << diag_max
                                                        << "; V^T A D A V: largest off-diagonal " << off_a);
    // V diagonalises A D A exactly (Jacobi), and D up to A's perturbation of about 1e-6
    BOOST_TEST(off_a < 1e-9 * diag_max);
    BOOST_TEST(off < 1e-5 * diag_max);
    BOOST_TEST(sorted);  // decreasing variance
}

BOOST_AUTO_TEST_CASE(codes_follow_the_definition) {
    ferx::vlpq_params p;
    p.window = 5;
    p.window_t = 3;
    p.components = 12;
    const auto clip = vlpq_random_clip(6, 14, 15, 3);
    const auto codes = ferx::vlpq_codes(ferx::exec::seq, ferx::view(clip), p);
    const auto r = ferx::vlpq_responses(ferx::view(clip), 5, 3);
    const auto v = ferx::vlpq_whitening(p);
    BOOST_TEST_REQUIRE(codes.shape()[0] == 4u);
    BOOST_TEST_REQUIRE(codes.shape()[1] == 10u);
    BOOST_TEST_REQUIRE(codes.shape()[2] == 11u);
    int wrong = 0;
    for (std::size_t t = 0; t < 4; ++t)
        for (std::size_t y = 0; y < 10; ++y)
            for (std::size_t x = 0; x < 11; ++x) {
                unsigned code = 0;
                for (std::size_t c = 0; c < 12; ++c) {
                    double s = 0;
                    for (std::size_t k = 0; k < 26; ++k) s += v(k, c) * r(k, t, y, x);
                    code |= (s >= 0 ? 1u : 0u) << c;
                }
                wrong += codes(t, y, x) != code;
            }
    BOOST_TEST(wrong == 0);
    const auto q = ferx::vlpq_codes(ferx::exec::par, ferx::view(clip), p);
    BOOST_TEST(std::equal(codes.begin(), codes.end(), q.begin()));
}

BOOST_AUTO_TEST_CASE(blur_insensitivity_on_a_real_clip,
                     *boost::unit_test::precondition(ferx_test::file_present{ferx_test::shared_dir() / "data/flow/middlebury/RubberWhale/frame07.png", "RubberWhale frames (../shared)"})) {
    std::vector<cv::Mat> frames, blurred;
    for (int i = 7; i <= 14; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "frame%02d.png", i);
        const cv::Mat m = ferx::read_image((ferx_test::shared_dir() / "data/flow/middlebury/RubberWhale" / name).string());
        frames.push_back(m(cv::Rect(200, 120, 160, 120)).clone());
    }
    // a symmetric 3-D point-spread function: 3x3 Gaussian in each frame (sigma 0.6), then
    // [1 2 1] / 4 along time with replicated ends
    std::vector<cv::Mat> spatial;
    for (const auto& f : frames) {
        cv::Mat g, d;
        f.convertTo(d, CV_64F);
        cv::GaussianBlur(d, g, cv::Size(3, 3), 0.6, 0.6, cv::BORDER_REPLICATE);
        spatial.push_back(g);
    }
    const int T = int(frames.size());
    ferx::volume<double> sharp(std::array<std::size_t, 3>{std::size_t(T), 120, 160}), blur = sharp;
    for (int t = 0; t < T; ++t)
        for (int y = 0; y < 120; ++y)
            for (int x = 0; x < 160; ++x) {
                sharp(t, y, x) = frames[std::size_t(t)].at<std::uint8_t>(y, x);
                const double a = spatial[std::size_t(std::max(t - 1, 0))].at<double>(y, x),
                             b = spatial[std::size_t(t)].at<double>(y, x), c = spatial[std::size_t(std::min(t + 1, T - 1))].at<double>(y, x);
                blur(t, y, x) = (a + 2 * b + c) / 4;
            }
    ferx::vlpq_params p;
    p.window = 5;
    p.window_t = 5;
    const auto cs = ferx::vlpq_codes(ferx::exec::seq, ferx::view(sharp), p);
    const auto cb = ferx::vlpq_codes(ferx::exec::seq, ferx::view(blur), p);
    std::size_t same = 0, bits_same = 0;
    for (std::size_t i = 0; i < cs.size(); ++i) {
        same += cs.data()[i] == cb.data()[i];
        for (int b = 0; b < 10; ++b) bits_same += ((cs.data()[i] >> b) & 1u) == ((cb.data()[i] >> b) & 1u);
    }
    const double codes_frac = double(same) / double(cs.size()), bits_frac = double(bits_same) / (10.0 * double(cs.size()));
    BOOST_TEST_MESSAGE("VLPQ 5x5x5 on RubberWhale (160x120x8) vs its blurred copy: " << 100 * codes_frac << " % of codes and "
                                                                                   << 100 * bits_frac << " % of bits agree");
    BOOST_TEST(bits_frac > 0.9);     // measured 0.941
    BOOST_TEST(codes_frac > 0.45);   // measured 0.568; chance: 1/1024
}

BOOST_AUTO_TEST_CASE(descriptor_layout_and_backends) {
    ferx::vlpq_params p;
    p.grid = {{2, 2}, 2, 0.0, ferx::hist_norm::l1};
    const auto clip = vlpq_random_clip(7, 30, 28, 5);
    const auto s = ferx::describe(ferx::exec::seq, ferx::view(clip), p);
    BOOST_TEST_REQUIRE(s.size() == 8u * 1024u);
    for (int b = 0; b < 8; ++b) {
        float sum = 0;
        for (int i = 0; i < 1024; ++i) sum += s(std::size_t(b * 1024 + i));
        BOOST_TEST(sum == 1.f, boost::test_tools::tolerance(1e-5f));
    }
    const auto q = ferx::describe(ferx::exec::par, ferx::view(clip), p);
    BOOST_TEST(std::equal(s.begin(), s.end(), q.begin()));
    ferx::batch<std::uint8_t> clips(std::array<std::size_t, 4>{2, 7, 30, 28});
    std::copy(clip.begin(), clip.end(), clips.begin());
    const auto other = vlpq_random_clip(7, 30, 28, 6);
    std::copy(other.begin(), other.end(), clips.begin() + std::ptrdiff_t(clip.size()));
    const auto bs = ferx::describe(ferx::exec::seq, ferx::view(clips), p);
    const auto bp = ferx::describe(ferx::exec::par, ferx::view(clips), p);
    BOOST_TEST(std::equal(bs.begin(), bs.end(), bp.begin()));
    BOOST_TEST(std::equal(s.begin(), s.end(), bs.begin()));
}

BOOST_AUTO_TEST_CASE(bad_input) {
    ferx::vlpq_params p;
    const auto two = vlpq_random_clip(2, 20, 20, 1);
    try {
        ferx::describe(ferx::exec::seq, ferx::view(two), p);
        BOOST_ERROR("no error for a clip shorter than Wt");
    } catch (const ferx::error& e) {
        BOOST_TEST(std::string(e.what()).find("at least 3") != std::string::npos, e.what());
    }
    const auto ok = vlpq_random_clip(3, 20, 20, 1);
    p.window = 4;
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, ferx::view(ok), p), ferx::error);
    p = {};
    p.rho_t = 1.0;
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, ferx::view(ok), p), ferx::error);
    p = {};
    p.components = 17;
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, ferx::view(ok), p), ferx::error);
    p = {};
    p.grid.cells = {30, 30};
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, ferx::view(ok), p), ferx::error);
    ferx::volume<float> nan(std::array<std::size_t, 3>{3, 5, 5});
    nan.fill(0.f);
    nan(1, 1, 1) = std::numeric_limits<float>::infinity();
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, ferx::view(nan), ferx::vlpq_params{}), ferx::error);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(vlpq_kernel_arithmetic)

// What the CUDA kernel evaluates per voxel (vlpq_code_at with compute_cuda's arguments, on a clip
// with padded rows and frames) equals seq's codes: the same products summed in the same order.
BOOST_AUTO_TEST_CASE(per_voxel_function_reproduces_seq) {
    const auto v = vlpq_random_clip(9, 17, 19, 701);
    const auto T = ferx::index_t(v.shape(0)), H = ferx::index_t(v.shape(1)), W = ferx::index_t(v.shape(2));
    const ferx::index_t sy = W + 3, st = (H + 2) * sy;
    std::vector<std::uint8_t> pad(static_cast<std::size_t>(T * st), 0);
    for (ferx::index_t t = 0; t < T; ++t)
        for (ferx::index_t y = 0; y < H; ++y)
            for (ferx::index_t x = 0; x < W; ++x) pad[std::size_t(t * st + y * sy + x)] = v(std::size_t(t), std::size_t(y), std::size_t(x));
    ferx::vlpq_params big;
    big.window = 5;
    big.window_t = 3;
    big.components = 13;
    big.rho_s = 0.9;
    big.rho_t = 0.5;
    ferx::vlpq_params cube;
    cube.window = cube.window_t = 5;
    cube.components = 12;
    for (const auto& p : {ferx::vlpq_params{}, big, cube}) {
        const auto ref = ferx::vlpq_codes(ferx::exec::seq, ferx::view(v), p);
        const auto a = ferx::detail::vlpq_cuda_args_for(p, "test");
        std::size_t bad = 0;
        for (std::size_t t = 0; t < ref.shape(0); ++t)
            for (std::size_t y = 0; y < ref.shape(1); ++y)
                for (std::size_t x = 0; x < ref.shape(2); ++x)
                    bad += ferx::detail::vlpq_code_at(pad.data() + ferx::index_t(t) * st + ferx::index_t(y) * sy + ferx::index_t(x), st, sy,
                                                      a.proj, a.ws, a.l, a.n) != ref(t, y, x);
        BOOST_TEST(bad == 0u, p.window << "x" << p.window << "x" << p.window_t << " L = " << p.components << ": " << bad
                                       << " codes differ");
    }
    ferx::vlpq_params many;
    many.components = 14;
    BOOST_CHECK_THROW(ferx::detail::vlpq_cuda_args_for(many, "test"), ferx::error);
    ferx::vlpq_params large;
    large.window = large.window_t = 5;
    large.components = 13;  // 1625 projection entries
    BOOST_CHECK_THROW(ferx::detail::vlpq_cuda_args_for(large, "test"), ferx::error);
}

BOOST_AUTO_TEST_SUITE_END()
