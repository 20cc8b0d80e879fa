// Flow encodings: the Middlebury colour wheel at known directions, the TSN 8-bit layout (values,
// clamping, round trip) and the mmaction2 sample flow frames.
#include <ferx/core/opencv.hpp>
#include <ferx/flow/encode.hpp>

#include <boost/test/unit_test.hpp>

#include "flow_test.hpp"

#include <cmath>

BOOST_AUTO_TEST_SUITE(flow_encode)

BOOST_AUTO_TEST_CASE(colour_wheel_at_known_directions) {
    auto f = ferx::make_flow_field(1, 5);
    f(0, 0) = {0.f, 0.f};    // no motion: white
    f(0, 1) = {-2.f, 0.f};   // left, at max radius: wheel index 27 of 55, cyan-blue (0, 208, 255)
    f(0, 2) = {2.f, 0.f};    // right: atan2(-0, -2) = -pi, wheel index 0, red
    f(0, 3) = {-1.f, 0.f};   // left at half radius: halfway to white
    f(0, 4) = {-4.f, 0.f};   // beyond the radius: darkened to 75 %
    const auto c = ferx::flow_to_color(ferx::view(f), 2.0);
    auto px = [&](int x) { return std::array<int, 3>{c(0, x, 0), c(0, x, 1), c(0, x, 2)}; };
    BOOST_TEST((px(0) == std::array<int, 3>{255, 255, 255}));
    BOOST_TEST((px(1) == std::array<int, 3>{0, 208, 255}));
    BOOST_TEST((px(2) == std::array<int, 3>{255, 0, 0}));
    BOOST_TEST((px(3) == std::array<int, 3>{127, 231, 255}));
    BOOST_TEST((px(4) == std::array<int, 3>{0, 156, 191}));
    const auto bgr = ferx::flow_to_color(ferx::view(f), 2.0, true);
    BOOST_TEST(bgr(0, 1, 0) == 255);
    BOOST_TEST(bgr(0, 1, 2) == 0);
    // automatic radius: the longest vector (4) is the radius, so (-4, 0) is the full colour
    const auto a = ferx::flow_to_color(ferx::view(f));
    BOOST_TEST(a(0, 4, 1) == 208);
}

BOOST_AUTO_TEST_CASE(tsn_encoding_values_and_clamping) {
    auto f = ferx::make_flow_field(1, 4);
    f(0, 0) = {0.f, -20.f};
    f(0, 1) = {20.f, 35.f};
    f(0, 2) = {-100.f, 10.f};
    f(0, 3) = {1.f, -1.f};
    const auto t = ferx::tsn_encode(ferx::view(f));
    BOOST_TEST(int(t.x(0, 0)) == 128);  // 127.5 rounds to even
    BOOST_TEST(int(t.y(0, 0)) == 0);
    BOOST_TEST(int(t.x(0, 1)) == 255);
    BOOST_TEST(int(t.y(0, 1)) == 255);  // clamped
    BOOST_TEST(int(t.x(0, 2)) == 0);    // clamped
    BOOST_TEST(int(t.y(0, 2)) == 191);  // 255 * 30 / 40 = 191.25
    BOOST_TEST(int(t.x(0, 3)) == 134);  // 255 * 21 / 40 = 133.875
    BOOST_TEST(int(t.y(0, 3)) == 121);  // 255 * 19 / 40 = 121.125
}

BOOST_AUTO_TEST_CASE(tsn_round_trip_within_half_a_step) {
    const float bound = 15.f;
    const auto f = flow_test::random_field(30, 40, bound, 9);
    const auto t = ferx::tsn_encode(ferx::view(f), bound);
    const auto g = ferx::tsn_decode(ferx::view(t.x), ferx::view(t.y), bound);
    float worst = 0;
    for (std::size_t i = 0; i < f.size(); ++i)
        worst = std::max({worst, std::fabs(f.data()[i].u - g.data()[i].u), std::fabs(f.data()[i].v - g.data()[i].v)});
    BOOST_TEST(worst <= bound / 255.f + 1e-5f);
    BOOST_TEST(worst > 0.f);
}

BOOST_AUTO_TEST_CASE(decodes_the_mmaction2_flow_frames,
                     *boost::unit_test::precondition(ferx_test::file_present{ferx_test::shared_dir() / "data/video/mmaction2/imgs/x_00001.jpg", "mmaction2 x_00001.jpg (../shared)"})) {
    const auto dir = ferx_test::shared_dir() / "data/video/mmaction2/imgs";
    const auto x = ferx::to_image<std::uint8_t>(ferx::read_image((dir / "x_00001.jpg").string()));
    const auto y = ferx::to_image<std::uint8_t>(ferx::read_image((dir / "y_00001.jpg").string()));
    const auto f = ferx::tsn_decode(ferx::view(x), ferx::view(y));
    BOOST_TEST(f.shape()[0] == x.shape()[0]);
    // decoded values stay within the bound and re-encode to the same bytes
    const auto t = ferx::tsn_encode(ferx::view(f));
    std::size_t same = 0;
    for (std::size_t i = 0; i < x.size(); ++i) same += (t.x.data()[i] == x.data()[i]) && (t.y.data()[i] == y.data()[i]);
    BOOST_TEST(same == x.size());
}

BOOST_AUTO_TEST_CASE(bad_input) {
    const auto f = flow_test::random_field(2, 2, 1.f, 1);
    BOOST_CHECK_THROW(ferx::tsn_encode(ferx::view(f), 0.f), ferx::error);
    BOOST_CHECK_THROW(ferx::tsn_encode(ferx::const_flow_view<>{}), ferx::error);
    ferx::image<std::uint8_t> a(std::array<std::size_t, 2>{2, 2}), b(std::array<std::size_t, 2>{2, 3});
    BOOST_CHECK_THROW(ferx::tsn_decode(ferx::view(a), ferx::view(b)), ferx::error);
    BOOST_CHECK_THROW(ferx::flow_to_color(ferx::const_flow_view<>{}), ferx::error);
}

BOOST_AUTO_TEST_SUITE_END()
