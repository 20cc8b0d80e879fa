// The common descriptor interface: every descriptor composes the same way (lengths from the
// parameters, 1-D per image, 2-D per batch, caller-provided outputs checked).
#include <ferx/features/fhog.hpp>
#include <ferx/features/hog.hpp>
#include <ferx/features/lbp.hpp>
#include <ferx/features/lpq.hpp>

#include <boost/test/unit_test.hpp>

#include "features_test.hpp"

#include <vector>

namespace {

/// What a classifier or pipeline relies on, for any descriptor parameters P.
template <class P>
void check_interface(const P& p, const std::string& what) {
    std::vector<cv::Mat> crops;
    for (std::uint32_t s = 0; s < 4; ++s) crops.push_back(ferx_test::random_mat<std::uint8_t>(48, 48, CV_8U, 90 + s));
    const auto batch = ferx::to_volume<std::uint8_t>(crops);
    const ferx::index_t len = ferx::descriptor_length(p, 48, 48);
    BOOST_TEST_REQUIRE(len > 0, what);
    const auto all = ferx::describe(ferx::exec::seq, batch, p);
    BOOST_TEST_REQUIRE(all.shape(0) == 4u, what);
    BOOST_TEST_REQUIRE(all.shape(1) == static_cast<std::size_t>(len), what);
    for (std::size_t i = 0; i < 4; ++i) {
        const auto one = ferx::describe(ferx::exec::seq, ferx::view<std::uint8_t>(crops[i]), p);
        BOOST_TEST_REQUIRE(one.size() == static_cast<std::size_t>(len), what);
        for (std::size_t j = 0; j < one.size(); ++j) BOOST_TEST_REQUIRE(one(j) == all(i, j), what);
    }
    // Caller-provided outputs of the wrong size are refused, never overrun.
    ferx::image<float> wrong(std::array<std::size_t, 2>{4, static_cast<std::size_t>(len - 1)});
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, ferx::volume_view<const std::uint8_t>(ferx::view(batch)), p, ferx::view(wrong)),
                      ferx::error);
    xt::xtensor<float, 1> short_out(std::array<std::size_t, 1>{static_cast<std::size_t>(len + 1)});
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, ferx::image_view<const std::uint8_t>(ferx::view(batch)[0]), p,
                                     ferx::view(short_out)),
                      ferx::error);
    // Float pixels describe like 8-bit ones.
    cv::Mat f;
    crops[0].convertTo(f, CV_32F);
    const auto ff = ferx::describe(ferx::exec::seq, ferx::view<float>(f), p);
    BOOST_TEST(features_test::max_abs_diff(ff, all, ff.size()) < 1e-5, what);
    // A descriptor of an image that is too small is an error, not a crash.
    ferx::image<std::uint8_t> tiny(std::array<std::size_t, 2>{2, 2});
    tiny.fill(1);
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, tiny, p), ferx::error);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(descriptor)

BOOST_AUTO_TEST_CASE(every_descriptor_composes_the_same_way) {
    check_interface(ferx::hog_params<>{}, "hog");
    check_interface(ferx::hog_params<ferx::hog_l1>{}, "hog L1");
    check_interface(ferx::fhog_params{}, "fhog");
    check_interface(ferx::lbp_params<ferx::lbp_u2>{}, "lbp u2");
    check_interface(ferx::lbp_params<ferx::lbp_riu2>{}, "lbp riu2");
    check_interface(ferx::lbp_params<ferx::lbp_none>{}, "lbp none");
    check_interface(ferx::lbp_multiscale_params<>{}, "lbp multi-scale");
    check_interface(ferx::lpq_params{}, "lpq");
}

BOOST_AUTO_TEST_CASE(lengths_follow_from_the_parameters) {
    BOOST_TEST(ferx::descriptor_length(ferx::hog_params<>{}, 128, 64) == 3780);  // OpenCV's people detector length
    BOOST_TEST(ferx::descriptor_length(ferx::hog_params<>{}, 48, 48) == 900);
    BOOST_TEST(ferx::descriptor_length(ferx::lbp_params<>{}, 48, 48) == 36 * 59);
    BOOST_TEST(ferx::descriptor_length(ferx::lbp_params<ferx::lbp_riu2>{}, 48, 48) == 36 * 10);
    BOOST_TEST(ferx::descriptor_length(ferx::lpq_params{}, 48, 48) == 36 * 256);
    BOOST_TEST(ferx::descriptor_length(ferx::fhog_params{}, 48, 48) == 16 * 31);
}

BOOST_AUTO_TEST_CASE(empty_and_strided_inputs) {
    ferx::volume<std::uint8_t> empty;
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, empty, ferx::lpq_params{}), ferx::error);
    // A column-strided view (every other column) is refused with a message, not misread.
    ferx::image<std::uint8_t> img(std::array<std::size_t, 2>{48, 96});
    img.fill(4);
    const ferx::image_view<const std::uint8_t> strided(img.data(), {48, 48}, {96, 2});
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, strided, ferx::hog_params<>{}), ferx::error);
    // A row-strided view (a crop of a larger image) is fine and equals the copied crop.
    const ferx::image_view<const std::uint8_t> crop(img.data() + 10, {48, 48}, {96, 1});
    ferx::image<std::uint8_t> copy = ferx::to_tensor(crop);
    BOOST_TEST(ferx::describe(ferx::exec::seq, crop, ferx::lbp_params<>{}) == ferx::describe(ferx::exec::seq, copy, ferx::lbp_params<>{}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(descriptor_workspace)

// A workspace kept across calls (a per-frame loop) gives the results of fresh calls, also when
// the parameters or the image size change between calls.
BOOST_AUTO_TEST_CASE(reused_workspace_equals_fresh_calls) {
    const cv::Mat a = ferx_test::random_mat<std::uint8_t>(48, 48, CV_8U, 300);
    const cv::Mat b = ferx_test::random_mat<std::uint8_t>(128, 64, CV_8U, 301);
    ferx::descriptor_workspace<ferx::hog_params<>> ws;
    ferx::hog_params<> p, q;
    q.bins = 12;
    for (const auto& [img, params] : std::vector<std::pair<cv::Mat, ferx::hog_params<>>>{{a, p}, {b, p}, {a, q}, {a, p}}) {
        const auto fresh = ferx::describe(ferx::exec::seq, ferx::view<std::uint8_t>(img), params);
        xt::xtensor<float, 1> out(std::array<std::size_t, 1>{fresh.size()});
        ferx::describe(ferx::exec::seq, ferx::image_view<const std::uint8_t>(ferx::view<std::uint8_t>(img)), params, ferx::view(out), ws);
        BOOST_TEST(out == fresh);
    }
    ferx::descriptor_workspace<ferx::lbp_params<>> lws;
    ferx::lbp_params<> l8, l16;
    l16.points = 16;
    l16.radius = 2;
    for (const auto& params : {l8, l16, l8}) {
        const auto fresh = ferx::describe(ferx::exec::seq, ferx::view<std::uint8_t>(a), params);
        xt::xtensor<float, 1> out(std::array<std::size_t, 1>{fresh.size()});
        ferx::describe(ferx::exec::seq, ferx::image_view<const std::uint8_t>(ferx::view<std::uint8_t>(a)), params, ferx::view(out), lws);
        BOOST_TEST(out == fresh);
    }
}

BOOST_AUTO_TEST_SUITE_END()
