#include <ferx/core/tensor.hpp>
#include <ferx/core/view.hpp>

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <type_traits>

BOOST_AUTO_TEST_SUITE(view)

BOOST_AUTO_TEST_CASE(view_of_xtensor_is_zero_copy_and_indexes_like_it) {
    ferx::image<std::int32_t> img({3, 4});
    for (std::size_t i = 0; i < img.size(); ++i) img.data()[i] = static_cast<std::int32_t>(i);
    auto v = ferx::view(img);
    static_assert(std::is_same<decltype(v), ferx::image_view<std::int32_t>>::value, "mutable view");
    BOOST_TEST(v.data() == img.data());
    BOOST_TEST(v.rows() == 3);
    BOOST_TEST(v.cols() == 4);
    BOOST_TEST(v.contiguous());
    for (std::size_t r = 0; r < 3; ++r)
        for (std::size_t c = 0; c < 4; ++c) BOOST_TEST(v(r, c) == img(r, c));
    v(2, 3) = -7;  // writes through
    BOOST_TEST(img(2, 3) == -7);
    BOOST_TEST(v.row(1)[2] == img(1, 2));

    const auto& cimg = img;
    auto cv = ferx::view(cimg);
    static_assert(std::is_same<decltype(cv), ferx::image_view<const std::int32_t>>::value,
                  "a const container gives a read-only view");
    ferx::image_view<const std::int32_t> converted = v;  // mutable -> const
    BOOST_TEST(converted.data() == cv.data());
}

BOOST_AUTO_TEST_CASE(volume_frames_and_batch_images_are_subviews) {
    ferx::volume<float> vol({5, 3, 2});
    for (std::size_t i = 0; i < vol.size(); ++i) vol.data()[i] = static_cast<float>(i);
    auto v = ferx::view(vol);
    BOOST_TEST(v.shape(0) == 5);
    auto frame = v[3];
    static_assert(decltype(frame)::rank == 2, "a frame of a volume is an image");
    BOOST_TEST(frame.rows() == 3);
    BOOST_TEST(frame.cols() == 2);
    BOOST_TEST(frame(2, 1) == vol(3, 2, 1));

    ferx::batch<std::uint8_t> b({2, 3, 4, 5});
    auto bv = ferx::view(b);
    BOOST_TEST(bv.size() == 2 * 3 * 4 * 5);
    BOOST_TEST(&bv[1][2](3, 4) == &b(1, 2, 3, 4));
}

BOOST_AUTO_TEST_CASE(strided_views_round_trip_through_xtensor) {
    ferx::image<int> img({4, 6});
    for (std::size_t i = 0; i < img.size(); ++i) img.data()[i] = static_cast<int>(i);
    // Every other column of rows 1..3: a strided view (column stride 2).
    ferx::image_view<int> sub(img.data() + 6, {3, 3}, {6, 2});
    BOOST_TEST(!sub.contiguous());
    BOOST_TEST(sub.extent() == 2 * 6 + 2 * 2 + 1);
    auto x = ferx::as_xtensor(sub);
    BOOST_TEST(x.shape()[0] == 3u);
    BOOST_TEST(x(2, 1) == img(3, 2));
    auto copy = ferx::to_tensor(sub);
    BOOST_TEST(copy(1, 2) == img(2, 4));
    BOOST_TEST(copy.data() != img.data());
}

BOOST_AUTO_TEST_CASE(empty_views) {
    ferx::image_view<float> none;
    BOOST_TEST(none.empty());
    ferx::image<float> zero({0, 5});
    BOOST_TEST(ferx::view(zero).empty());
    BOOST_TEST(ferx::view(zero).extent() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
