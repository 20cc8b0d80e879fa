// Flow fields: layout (two packed floats, OpenCV's CV_32FC2), views, the frame-pair checks.
#include <ferx/flow/field.hpp>

#include <boost/test/unit_test.hpp>

#include "flow_test.hpp"

#include <limits>

BOOST_AUTO_TEST_SUITE(flow_field)

BOOST_AUTO_TEST_CASE(fields_are_zeroed_and_interleaved) {
    auto f = ferx::make_flow_field(3, 4);
    for (const auto& w : f) BOOST_TEST((w == ferx::flow_vector{}));
    auto v = ferx::view(f);
    BOOST_TEST(v.rows() == 3);
    BOOST_TEST(v.cols() == 4);
    v(2, 1) = {1.5f, -2.f};
    const float* raw = reinterpret_cast<const float*>(f.data());
    BOOST_TEST(raw[2 * (2 * 4 + 1)] == 1.5f);
    BOOST_TEST(raw[2 * (2 * 4 + 1) + 1] == -2.f);
    ferx::const_flow_view<> c = v;
    BOOST_CHECK_NO_THROW(ferx::detail::check_flow_shape(c, 3, 4, "t", "the flow"));
    BOOST_CHECK_THROW(ferx::detail::check_flow_shape(c, 4, 3, "t", "the flow"), ferx::error);
    BOOST_CHECK_THROW(ferx::make_flow_field(-1, 2), ferx::error);
}

BOOST_AUTO_TEST_CASE(frame_pair_checks) {
    ferx::image<std::uint8_t> a(std::array<std::size_t, 2>{4, 5}), b(std::array<std::size_t, 2>{4, 6});
    a.fill(1);
    b.fill(1);
    using ferx::detail::check_frame_pair;
    BOOST_CHECK_NO_THROW(check_frame_pair<std::uint8_t>(ferx::view(a), ferx::view(a), "t"));
    BOOST_CHECK_THROW(check_frame_pair<std::uint8_t>(ferx::view(a), ferx::view(b), "t"), ferx::error);
    BOOST_CHECK_THROW(check_frame_pair<std::uint8_t>(ferx::view(a), ferx::image_view<const std::uint8_t>{}, "t"), ferx::error);
    ferx::image<float> fa(std::array<std::size_t, 2>{3, 3});
    fa.fill(0.5f);
    auto fb = fa;
    fb(1, 1) = std::numeric_limits<float>::quiet_NaN();
    BOOST_CHECK_NO_THROW(check_frame_pair<float>(ferx::view(fa), ferx::view(fa), "t"));
    BOOST_CHECK_THROW(check_frame_pair<float>(ferx::view(fa), ferx::view(fb), "t"), ferx::error);
}

BOOST_AUTO_TEST_SUITE_END()
