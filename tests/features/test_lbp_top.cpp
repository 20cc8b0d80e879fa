// LBP-TOP: codes of every plane against a direct evaluation of the definition, the XY plane
// against ferx's 2-D LBP, clips of identical frames, histograms, backends and bad input.
#include <ferx/features/lbp_top.hpp>

#include <boost/test/unit_test.hpp>

#include "features_test.hpp"

#include <cmath>
#include <limits>
#include <random>

namespace {

ferx::volume<std::uint8_t> random_clip(int t, int h, int w, unsigned seed) {
    ferx::volume<std::uint8_t> v(std::array<std::size_t, 3>{std::size_t(t), std::size_t(h), std::size_t(w)});
    std::mt19937 rng(seed);
    for (auto& x : v) x = static_cast<std::uint8_t>(rng() >> 24);
    return v;
}

/// The definition in double: sample positions rounded to 1/256 voxel, bilinear interpolation
/// with the textbook weights, on the plane (a, b) through the centre.
struct plane_def {
    double ra, sign_a, rb;
    int axis_a, axis_b;  // 0 = t, 1 = y, 2 = x
};

std::uint32_t naive_code(const ferx::volume<std::uint8_t>& v, int t, int y, int x, int P, const plane_def& d) {
    const double centre = v(t, y, x);
    std::uint32_t code = 0;
    for (int p = 0; p < P; ++p) {
        const double th = 2 * M_PI * p / P;
        double pos[3] = {double(t), double(y), double(x)};
        pos[d.axis_a] += std::round(d.sign_a * d.ra * std::sin(th) * 256) / 256;
        pos[d.axis_b] += std::round(d.rb * std::cos(th) * 256) / 256;
        const double fa = pos[d.axis_a] - std::floor(pos[d.axis_a]), fb = pos[d.axis_b] - std::floor(pos[d.axis_b]);
        int base[3] = {int(std::floor(pos[0])), int(std::floor(pos[1])), int(std::floor(pos[2]))};
        auto at = [&](int da, int db) {
            int q[3] = {base[0], base[1], base[2]};
            q[d.axis_a] += da;
            q[d.axis_b] += db;
            return double(v(q[0], q[1], q[2]));
        };
        const double s = (1 - fa) * (1 - fb) * at(0, 0) + (1 - fa) * fb * (fb > 0 ? at(0, 1) : 0) +
                         fa * (1 - fb) * (fa > 0 ? at(1, 0) : 0) + fa * fb * (fa > 0 && fb > 0 ? at(1, 1) : 0);
        if (s >= centre) code |= 1u << p;
    }
    return code;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(lbp_top)

BOOST_AUTO_TEST_CASE(every_code_of_every_plane_matches_the_definition) {
    for (const auto& radii : {std::array<double, 3>{1, 1, 1}, std::array<double, 3>{2, 1.5, 1}, std::array<double, 3>{1, 2, 2}}) {
        ferx::lbp_top_params<ferx::lbp_none> p;
        p.rx = radii[0];
        p.ry = radii[1];
        p.rt = radii[2];
        p.p_xy = 8;
        p.p_xt = 6;
        p.p_yt = 10;
        p.grid.cells = {1, 1};
        const auto v = random_clip(7, 11, 13, 5);
        const auto labels = ferx::lbp_top_labels(ferx::exec::seq, ferx::view(v), p);
        const int mx = int(std::ceil(p.rx)), my = int(std::ceil(p.ry)), mt = int(std::ceil(p.rt));
        BOOST_TEST_REQUIRE(labels[0].shape()[0] == std::size_t(7 - 2 * mt));
        BOOST_TEST_REQUIRE(labels[0].shape()[1] == std::size_t(11 - 2 * my));
        BOOST_TEST_REQUIRE(labels[0].shape()[2] == std::size_t(13 - 2 * mx));
        const plane_def xy{p.ry, -1, p.rx, 1, 2}, xt{p.rt, +1, p.rx, 0, 2}, yt{p.ry, -1, p.rt, 1, 0};
        int wrong = 0;
        for (int t = 0; t < int(labels[0].shape()[0]); ++t)
            for (int y = 0; y < int(labels[0].shape()[1]); ++y)
                for (int x = 0; x < int(labels[0].shape()[2]); ++x) {
                    wrong += labels[0](t, y, x) != naive_code(v, t + mt, y + my, x + mx, p.p_xy, xy);
                    wrong += labels[1](t, y, x) != naive_code(v, t + mt, y + my, x + mx, p.p_xt, xt);
                    wrong += labels[2](t, y, x) != naive_code(v, t + mt, y + my, x + mx, p.p_yt, yt);
                }
        BOOST_TEST(wrong == 0, "radii " << p.rx << "," << p.ry << "," << p.rt);
    }
}

BOOST_AUTO_TEST_CASE(xy_plane_is_the_2d_lbp_of_each_frame) {
    for (double r : {1.0, 2.0}) {
        ferx::lbp_top_params<ferx::lbp_u2> p;
        p.rx = p.ry = r;
        p.rt = 1;
        p.p_xy = r == 1.0 ? 8 : 16;
        p.grid.cells = {1, 1};
        const auto v = random_clip(5, 20, 24, 11);
        const auto labels = ferx::lbp_top_labels(ferx::exec::seq, ferx::view(v), p);
        for (int t = 1; t < 4; ++t) {
            const auto frame = ferx::view(v)[t];
            const auto lbp = ferx::lbp_image<ferx::lbp_u2>(ferx::exec::seq, frame, p.p_xy, r);
            BOOST_TEST_REQUIRE(lbp.shape()[0] == labels[0].shape()[1]);
            bool same = true;
            for (std::size_t y = 0; y < lbp.shape()[0]; ++y)
                for (std::size_t x = 0; x < lbp.shape()[1]; ++x) same = same && lbp(y, x) == labels[0](t - 1, y, x);
            BOOST_TEST(same, "frame " << t << ", R = " << r);
        }
    }
}

BOOST_AUTO_TEST_CASE(identical_frames_give_time_symmetric_codes) {
    // A clip of one frame repeated: along t the signal is constant, so XT samples at t + Rt sin
    // equal those at t - Rt sin (bits p and P - p agree), and YT likewise for the cos axis.
    const auto one = random_clip(1, 16, 16, 3);
    ferx::volume<std::uint8_t> v(std::array<std::size_t, 3>{5, 16, 16});
    for (std::size_t t = 0; t < 5; ++t) std::copy(one.begin(), one.end(), v.begin() + std::ptrdiff_t(t * 256));
    ferx::lbp_top_params<ferx::lbp_none> p;
    p.rt = 2;
    p.grid.cells = {1, 1};
    const auto labels = ferx::lbp_top_labels(ferx::exec::seq, ferx::view(v), p);
    bool xt_symmetric = true, yt_symmetric = true, yt_bits_on_t_axis = true;
    for (std::size_t i = 0; i < labels[1].size(); ++i) {
        const std::uint32_t xt = labels[1].data()[i], yt = labels[2].data()[i];
        for (int b = 1; b < 8; ++b) {
            xt_symmetric = xt_symmetric && (((xt >> b) & 1u) == ((xt >> (8 - b)) & 1u));
            // YT: sample p sits at (y - Ry sin, t + Rt cos): bits p and (P/2 - p) mod P share y
            const int q = (4 - b + 8) % 8;
            yt_symmetric = yt_symmetric && (((yt >> b) & 1u) == ((yt >> q) & 1u));
        }
        // samples 0 and 4 lie on the t axis through the centre: equal to it, so set (>=)
        yt_bits_on_t_axis = yt_bits_on_t_axis && (yt & 1u) && ((yt >> 4) & 1u);
    }
    BOOST_TEST(xt_symmetric);
    BOOST_TEST(yt_symmetric);
    BOOST_TEST(yt_bits_on_t_axis);
}

BOOST_AUTO_TEST_CASE(histograms_layout_and_normalisation) {
    ferx::lbp_top_params<> p;  // u2, 8 points: 59 bins per plane
    p.grid = {{2, 3}, 2, 0.0, ferx::hist_norm::l1};
    const auto v = random_clip(6, 30, 32, 9);
    const auto f = ferx::describe(ferx::exec::seq, ferx::view(v), p);
    BOOST_TEST_REQUIRE(f.size() == std::size_t(2 * 2 * 3 * 3 * 59));
    BOOST_TEST(ferx::clip_descriptor_length(p, 6, 30, 32) == 2 * 2 * 3 * 3 * 59);
    for (int block = 0; block < 12; ++block)
        for (int plane = 0; plane < 3; ++plane) {
            float s = 0;
            for (int b = 0; b < 59; ++b) s += f(std::size_t(block * 177 + plane * 59 + b));
            BOOST_TEST(s == 1.f, boost::test_tools::tolerance(1e-5f));
        }
    // the first block's XY histogram equals counts of the label volume over that block
    const auto labels = ferx::lbp_top_labels(ferx::exec::seq, ferx::view(v), p);
    std::vector<double> h(59, 0.0);
    int n = 0;
    for (int t = 0; t < 2; ++t)  // 4 code frames in 2 slices
        for (int y = 0; y < 14; ++y)  // 28 code rows in 2 cells
            for (int x = 0; x < 10; ++x, ++n) h[labels[0](t, y, x)] += 1;  // 30 code columns in 3 cells
    for (int b = 0; b < 59; ++b) BOOST_TEST(f(std::size_t(b)) == float(h[std::size_t(b)] / n), boost::test_tools::tolerance(1e-6f));
}

BOOST_AUTO_TEST_CASE(par_equals_seq_for_clips_and_batches) {
    ferx::lbp_top_params<ferx::lbp_riu2> p;
    p.rx = p.ry = 2;
    p.p_xy = 16;
    p.grid = {{3, 3}, 2, 0.5, ferx::hist_norm::l1};
    const auto v = random_clip(9, 40, 36, 21);
    const auto s = ferx::describe(ferx::exec::seq, ferx::view(v), p);
    const auto q = ferx::describe(ferx::exec::par, ferx::view(v), p);
    BOOST_TEST(std::equal(s.begin(), s.end(), q.begin()));
    ferx::batch<std::uint8_t> clips(std::array<std::size_t, 4>{3, 9, 40, 36});
    for (std::size_t i = 0; i < 3; ++i) {
        const auto c = random_clip(9, 40, 36, unsigned(21 + i));
        std::copy(c.begin(), c.end(), clips.begin() + std::ptrdiff_t(i * c.size()));
    }
    const auto bs = ferx::describe(ferx::exec::seq, ferx::view(clips), p);
    const auto bp = ferx::describe(ferx::exec::par, ferx::view(clips), p);
    BOOST_TEST_REQUIRE(bs.shape()[0] == 3u);
    BOOST_TEST(std::equal(bs.begin(), bs.end(), bp.begin()));
    BOOST_TEST(std::equal(s.begin(), s.end(), bs.begin()));  // clip 0 is v
}

BOOST_AUTO_TEST_CASE(real_clip_rubberwhale,
                     *boost::unit_test::precondition(ferx_test::file_present{ferx_test::shared_dir() / "data/flow/middlebury/RubberWhale/frame07.png", "RubberWhale frames (../shared)"})) {
    std::vector<cv::Mat> frames;
    for (int i = 7; i <= 14; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "frame%02d.png", i);
        frames.push_back(ferx::read_image((ferx_test::shared_dir() / "data/flow/middlebury/RubberWhale" / name).string()));
    }
    const auto clip = ferx::to_volume<std::uint8_t>(frames);
    ferx::lbp_top_params<> p;
    p.grid = {{4, 4}, 2, 0.0, ferx::hist_norm::l1};
    const auto s = ferx::describe(ferx::exec::seq, ferx::view(clip), p);
    const auto q = ferx::describe(ferx::exec::par, ferx::view(clip), p);
    BOOST_TEST(std::equal(s.begin(), s.end(), q.begin()));
    // motion planes of a real clip are not those of a still one: the XT histograms differ from
    // the XT histograms of the first frame repeated
    auto still = clip;
    for (std::size_t t = 1; t < still.shape()[0]; ++t)
        std::copy(clip.begin(), clip.begin() + std::ptrdiff_t(clip.shape()[1] * clip.shape()[2]),
                  still.begin() + std::ptrdiff_t(t * clip.shape()[1] * clip.shape()[2]));
    const auto z = ferx::describe(ferx::exec::seq, ferx::view(still), p);
    double d_xt = 0, d_xy = 0;
    for (int b = 0; b < 59; ++b) {
        d_xy += std::fabs(s(std::size_t(b)) - z(std::size_t(b)));
        d_xt += std::fabs(s(std::size_t(59 + b)) - z(std::size_t(59 + b)));
    }
    BOOST_TEST_MESSAGE("RubberWhale block 0: L1 distance to the still clip, XY " << d_xy << ", XT " << d_xt);
    BOOST_TEST(d_xt > 0.05);
}

BOOST_AUTO_TEST_CASE(bad_input) {
    ferx::lbp_top_params<> p;
    p.rt = 2;
    const auto short_clip = random_clip(4, 20, 20, 1);
    try {
        ferx::describe(ferx::exec::seq, ferx::view(short_clip), p);
        BOOST_ERROR("no error for a clip shorter than 2 Rt + 1");
    } catch (const ferx::error& e) {
        BOOST_TEST(std::string(e.what()).find("at least 5") != std::string::npos, e.what());
    }
    p = {};
    p.grid.cells = {30, 30};
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, ferx::view(short_clip), p), ferx::error);
    p = {};
    p.grid.slices = 3;  // 4 frames, Rt = 1: 2 code frames
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, ferx::view(short_clip), p), ferx::error);
    p = {};
    p.rx = 0;
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, ferx::view(short_clip), p), ferx::error);
    ferx::lbp_top_params<ferx::lbp_none> pn;
    pn.p_xt = 20;
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, ferx::view(short_clip), pn), ferx::error);
    ferx::volume<float> fv(std::array<std::size_t, 3>{3, 8, 8});
    fv.fill(1.f);
    fv(1, 4, 4) = std::numeric_limits<float>::quiet_NaN();
    ferx::lbp_top_params<> pf;
    pf.grid.cells = {1, 1};
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, ferx::view(fv), pf), ferx::error);
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, ferx::volume_view<const std::uint8_t>{}, pf), ferx::error);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {
/// A copy of a clip with padded rows (3 more voxels) and frames (2 more rows): what a strided
/// device clip looks like; returns the frame and row pitch.
std::vector<std::uint8_t> lbp_top_padded_clip(const ferx::volume<std::uint8_t>& v, ferx::index_t& st, ferx::index_t& sy) {
    const auto T = ferx::index_t(v.shape(0)), H = ferx::index_t(v.shape(1)), W = ferx::index_t(v.shape(2));
    sy = W + 3;
    st = (H + 2) * sy;
    std::vector<std::uint8_t> pad(static_cast<std::size_t>(T * st), 0);
    for (ferx::index_t t = 0; t < T; ++t)
        for (ferx::index_t y = 0; y < H; ++y)
            for (ferx::index_t x = 0; x < W; ++x) pad[std::size_t(t * st + y * sy + x)] = v(std::size_t(t), std::size_t(y), std::size_t(x));
    return pad;
}

template <class Mapping>
void lbp_top_check_per_voxel(const ferx::volume<std::uint8_t>& v, const ferx::lbp_top_params<Mapping>& p, const std::string& what) {
    const auto ref = ferx::lbp_top_labels(ferx::exec::seq, ferx::view(v), p);
    const auto a = ferx::detail::lbp_top_cuda_args_for(p);
    ferx::index_t st = 0, sy = 0;
    const auto pad = lbp_top_padded_clip(v, st, sy);
    std::size_t bad = 0;
    for (std::size_t t = 0; t < ref[0].shape(0); ++t)
        for (std::size_t y = 0; y < ref[0].shape(1); ++y)
            for (std::size_t x = 0; x < ref[0].shape(2); ++x) {
                std::uint32_t codes[3];
                ferx::detail::lbp_top_codes_at(pad.data(), st, sy, ferx::index_t(t), ferx::index_t(y), ferx::index_t(x), a, codes);
                for (std::size_t k = 0; k < 3; ++k)
                    bad += ferx::detail::lbp_label_direct<Mapping>(codes[k], a.points[k]) != ref[k](t, y, x);
            }
    BOOST_TEST(bad == 0u, what << ": " << bad << " labels differ");
}
}  // namespace

BOOST_AUTO_TEST_SUITE(lbp_top_kernel_arithmetic)

// What the CUDA kernel evaluates per voxel (lbp_top_codes_at with compute_cuda's arguments, on a
// clip with padded rows and frames, mapped by lbp_label_direct) equals seq's label volumes.
BOOST_AUTO_TEST_CASE(per_voxel_function_reproduces_seq) {
    const auto v = random_clip(9, 17, 19, 501);
    lbp_top_check_per_voxel(v, ferx::lbp_top_params<ferx::lbp_u2>{}, "u2 (1,1,1; 8,8,8)");
    ferx::lbp_top_params<ferx::lbp_riu2> r;
    r.rx = 2;
    r.ry = 1.5;
    r.rt = 2;
    r.p_xy = 8;
    r.p_xt = 6;
    r.p_yt = 4;
    lbp_top_check_per_voxel(v, r, "riu2 (2,1.5,2; 8,6,4)");
    ferx::lbp_top_params<ferx::lbp_none> n;
    n.ry = 2;
    n.rt = 3;
    n.p_yt = 12;
    lbp_top_check_per_voxel(v, n, "none (1,2,3; 8,8,12)");
    ferx::lbp_top_params<ferx::lbp_u2> big;
    big.rx = big.ry = 3;
    big.p_xy = 24;
    big.p_yt = 16;
    lbp_top_check_per_voxel(v, big, "u2 (3,3,1; 24,8,16)");
}

BOOST_AUTO_TEST_SUITE_END()
