// LPQ-TOP: each plane's codes against ferx's 2-D LPQ of that plane's slice, histograms, backends
// and bad input.
#include <ferx/features/lpq_top.hpp>

#include <boost/test/unit_test.hpp>

#include "features_test.hpp"

#include <limits>
#include <random>

namespace {
ferx::volume<std::uint8_t> lpq_top_clip(int t, int h, int w, unsigned seed) {
    ferx::volume<std::uint8_t> v(std::array<std::size_t, 3>{std::size_t(t), std::size_t(h), std::size_t(w)});
    std::mt19937 rng(seed);
    for (auto& x : v) x = static_cast<std::uint8_t>(rng() >> 24);
    return v;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(lpq_top)

BOOST_AUTO_TEST_CASE(planes_are_the_2d_lpq_of_their_slices) {
    ferx::lpq_top_params p;
    p.window_xy = 7;
    p.window_xt = 5;
    p.window_yt = 3;
    p.grid.cells = {1, 1};
    const int T = 9, H = 17, W = 19;
    const auto v = lpq_top_clip(T, H, W, 4);
    const auto codes = ferx::lpq_top_codes(ferx::exec::seq, ferx::view(v), p);
    const int mt = 2, my = 3, mx = 3;  // max(r_xt, r_yt), max(r_xy, r_yt), max(r_xy, r_xt)
    BOOST_TEST_REQUIRE(codes[0].shape()[0] == std::size_t(T - 2 * mt));
    BOOST_TEST_REQUIRE(codes[0].shape()[1] == std::size_t(H - 2 * my));
    BOOST_TEST_REQUIRE(codes[0].shape()[2] == std::size_t(W - 2 * mx));
    const int ct = T - 2 * mt, ch = H - 2 * my, cw = W - 2 * mx;
    int wrong = 0;
    ferx::lpq_params q;
    for (int t = 0; t < ct; ++t) {  // XY: frame t + mt, window 7 (r = 3)
        q.window = 7;
        const auto c = ferx::lpq_image(ferx::exec::seq, ferx::view(v)[t + mt], q);
        for (int y = 0; y < ch; ++y)
            for (int x = 0; x < cw; ++x) wrong += codes[0](t, y, x) != c(y + my - 3, x + mx - 3);
    }
    for (int y = 0; y < ch; ++y) {  // XT: row y + my, window 5 (r = 2)
        ferx::image<std::uint8_t> s(std::array<std::size_t, 2>{std::size_t(T), std::size_t(W)});
        for (int t = 0; t < T; ++t)
            for (int x = 0; x < W; ++x) s(t, x) = v(t, y + my, x);
        q.window = 5;
        const auto c = ferx::lpq_image(ferx::exec::seq, ferx::view(s), q);
        for (int t = 0; t < ct; ++t)
            for (int x = 0; x < cw; ++x) wrong += codes[1](t, y, x) != c(t + mt - 2, x + mx - 2);
    }
    for (int x = 0; x < cw; ++x) {  // YT: column x + mx, window 3 (r = 1)
        ferx::image<std::uint8_t> s(std::array<std::size_t, 2>{std::size_t(T), std::size_t(H)});
        for (int t = 0; t < T; ++t)
            for (int y = 0; y < H; ++y) s(t, y) = v(t, y, x + mx);
        q.window = 3;
        const auto c = ferx::lpq_image(ferx::exec::seq, ferx::view(s), q);
        for (int t = 0; t < ct; ++t)
            for (int y = 0; y < ch; ++y) wrong += codes[2](t, y, x) != c(t + mt - 1, y + my - 1);
    }
    BOOST_TEST(wrong == 0);
}

BOOST_AUTO_TEST_CASE(histograms_and_backends) {
    ferx::lpq_top_params p;
    p.grid = {{2, 2}, 2, 0.5, ferx::hist_norm::l1};
    const auto v = lpq_top_clip(8, 30, 26, 8);
    const auto s = ferx::describe(ferx::exec::seq, ferx::view(v), p);
    BOOST_TEST_REQUIRE(s.size() == std::size_t(2 * 2 * 2 * 768));
    for (int b = 0; b < 8 * 3; ++b) {
        float sum = 0;
        for (int i = 0; i < 256; ++i) sum += s(std::size_t(b * 256 + i));
        BOOST_TEST(sum == 1.f, boost::test_tools::tolerance(1e-5f));
    }
    const auto q = ferx::describe(ferx::exec::par, ferx::view(v), p);
    BOOST_TEST(std::equal(s.begin(), s.end(), q.begin()));
    ferx::batch<std::uint8_t> clips(std::array<std::size_t, 4>{2, 8, 30, 26});
    std::copy(v.begin(), v.end(), clips.begin());
    const auto w = lpq_top_clip(8, 30, 26, 9);
    std::copy(w.begin(), w.end(), clips.begin() + std::ptrdiff_t(v.size()));
    const auto bs = ferx::describe(ferx::exec::seq, ferx::view(clips), p);
    const auto bp = ferx::describe(ferx::exec::par, ferx::view(clips), p);
    BOOST_TEST(std::equal(bs.begin(), bs.end(), bp.begin()));
    BOOST_TEST(std::equal(s.begin(), s.end(), bs.begin()));
    // float clips of the same values give the same descriptor
    ferx::volume<float> fv(v.shape());
    std::copy(v.begin(), v.end(), fv.begin());
    const auto fs = ferx::describe(ferx::exec::seq, ferx::view(fv), p);
    BOOST_TEST(std::equal(s.begin(), s.end(), fs.begin()));
}

BOOST_AUTO_TEST_CASE(bad_input) {
    ferx::lpq_top_params p;
    const auto three = lpq_top_clip(3, 20, 20, 1);  // CK+48's clip length: too short for 5-frame windows
    try {
        ferx::describe(ferx::exec::seq, ferx::view(three), p);
        BOOST_ERROR("no error for a 3-frame clip");
    } catch (const ferx::error& e) {
        BOOST_TEST(std::string(e.what()).find("at least 5") != std::string::npos, e.what());
    }
    p.window_xt = p.window_yt = 3;  // 3-frame clips work with 3-frame windows in time
    BOOST_TEST(ferx::describe(ferx::exec::seq, ferx::view(three), p).size() == 16u * 768u);
    p.window_xy = 4;
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, ferx::view(three), p), ferx::error);
    p = {};
    p.rho = 1.5;
    const auto six = lpq_top_clip(6, 20, 20, 2);
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, ferx::view(six), p), ferx::error);
    ferx::volume<double> nan(std::array<std::size_t, 3>{6, 10, 10});
    nan.fill(1.0);
    nan(2, 2, 2) = std::numeric_limits<double>::quiet_NaN();
    p = {};
    p.grid.cells = {1, 1};
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, ferx::view(nan), p), ferx::error);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {
/// A copy of a clip with padded rows and frames (what a strided device clip looks like).
std::vector<std::uint8_t> lpq_top_padded_clip(const ferx::volume<std::uint8_t>& v, ferx::index_t& st, ferx::index_t& sy) {
    const auto T = ferx::index_t(v.shape(0)), H = ferx::index_t(v.shape(1)), W = ferx::index_t(v.shape(2));
    sy = W + 3;
    st = (H + 2) * sy;
    std::vector<std::uint8_t> pad(static_cast<std::size_t>(T * st), 0);
    for (ferx::index_t t = 0; t < T; ++t)
        for (ferx::index_t y = 0; y < H; ++y)
            for (ferx::index_t x = 0; x < W; ++x) pad[std::size_t(t * st + y * sy + x)] = v(std::size_t(t), std::size_t(y), std::size_t(x));
    return pad;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(lpq_top_kernel_arithmetic)

// What the CUDA kernel evaluates per voxel (lpq_top_codes_at with compute_cuda's arguments, on a
// clip with padded rows and frames) equals seq's code volumes.
BOOST_AUTO_TEST_CASE(per_voxel_function_reproduces_seq) {
    const auto v = lpq_top_clip(11, 17, 19, 601);
    ferx::lpq_top_params plain;
    plain.decorrelate = false;
    plain.window_xy = 7;
    plain.window_xt = 3;
    plain.window_yt = 5;
    for (const auto& p : {ferx::lpq_top_params{}, plain}) {
        const auto ref = ferx::lpq_top_codes(ferx::exec::seq, ferx::view(v), p);
        const auto a = ferx::detail::lpq_top_cuda_args_for(p, "test");
        ferx::index_t st = 0, sy = 0;
        const auto pad = lpq_top_padded_clip(v, st, sy);
        std::size_t bad = 0;
        for (std::size_t t = 0; t < ref[0].shape(0); ++t)
            for (std::size_t y = 0; y < ref[0].shape(1); ++y)
                for (std::size_t x = 0; x < ref[0].shape(2); ++x) {
                    std::uint8_t codes[3];
                    ferx::detail::lpq_top_codes_at(pad.data(), st, sy, ferx::index_t(t), ferx::index_t(y), ferx::index_t(x), a, codes);
                    for (std::size_t k = 0; k < 3; ++k) bad += codes[k] != ref[k](t, y, x);
                }
        BOOST_TEST(bad == 0u, "windows " << p.window_xy << "/" << p.window_xt << "/" << p.window_yt << ": " << bad
                                         << " codes differ");
    }
    ferx::lpq_top_params wide;
    wide.window_yt = 33;
    BOOST_CHECK_THROW(ferx::detail::lpq_top_cuda_args_for(wide, "test"), ferx::error);
}

BOOST_AUTO_TEST_SUITE_END()
