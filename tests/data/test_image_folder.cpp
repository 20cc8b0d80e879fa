// Image-folder datasets (root/<class>/<image>): on small folders written to a temporary folder,
// their errors naming the folder; the real CK+48 folder read as one, and loaded.
#include <ferx/data/ckplus.hpp>
#include <ferx/data/image_folder.hpp>

#include "data_test.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace data_test;

BOOST_AUTO_TEST_SUITE(image_folder)

BOOST_AUTO_TEST_CASE(image_folder_reads_any_label_set) {
    temp_dir t;
    write_image(t.path / "zeta" / "b.png", pattern(8, 6, 1));
    write_image(t.path / "zeta" / "a.JPG", pattern(8, 6, 2));
    write_image(t.path / "alpha" / "c.jpeg", pattern(8, 6, 3));
    write_text(t.path / "alpha" / "notes.txt", "not an image");
    const auto sorted = ferx::image_folder(t.path);
    const std::vector<std::string> classes = {"alpha", "zeta"};
    BOOST_TEST(sorted.classes == classes, boost::test_tools::per_element());
    const std::vector<int> labels = {0, 1, 1};
    BOOST_TEST(sorted.labels == labels, boost::test_tools::per_element());
    BOOST_TEST(fs::path(sorted.paths[1]).filename() == "a.JPG");
    BOOST_TEST(sorted.groups.empty());

    const auto given = ferx::image_folder(t.path, {"zeta", "alpha"});
    const std::vector<int> given_labels = {0, 0, 1};
    BOOST_TEST(given.labels == given_labels, boost::test_tools::per_element());

    const auto b = ferx::load(sorted);
    BOOST_TEST(b.images.shape(0) == 3u);
    BOOST_TEST(b.images.shape(1) == 8u);
    BOOST_TEST(b.images.shape(2) == 6u);
    // The PNG is lossless: image 2 (zeta/b.png) holds the pattern exactly.
    const cv::Mat p = pattern(8, 6, 1);
    bool same = true;
    for (int r = 0; r < 8; ++r)
        for (int c = 0; c < 6; ++c) same = same && b.images(2, r, c) == p.at<unsigned char>(r, c);
    BOOST_TEST(same);

    std::vector<std::size_t> seen;
    ferx::for_each_image(sorted, [&](std::size_t i, const cv::Mat& m) {
        seen.push_back(i);
        BOOST_TEST(m.type() == CV_8UC1);
    });
    BOOST_TEST(seen.size() == 3u);
    BOOST_TEST(seen.back() == 2u);
}

BOOST_AUTO_TEST_CASE(image_folder_errors_name_the_folder) {
    temp_dir t;
    expect_error([&] { ferx::image_folder(t.path / "nowhere"); }, {"does not exist", (t.path / "nowhere").string()});
    expect_error([&] { ferx::image_folder(t.path); }, {"no class sub-folders", t.path.string()});
    write_image(t.path / "happy" / "a.png", pattern(4, 4, 0));
    expect_error([&] { ferx::image_folder(t.path, {"happy", "sad"}); }, {"'sad'", (t.path / "sad").string()});
    expect_error([&] { ferx::image_folder(t.path, {"happy", "happy"}); }, {"given twice"});
    write_image(t.path / "other" / "a.png", pattern(4, 4, 0));
    expect_error([&] { ferx::image_folder(t.path, {"happy"}); }, {"'other'"});
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(image_folder_real_data, *boost::unit_test::precondition(ferx_test::shared_data_present()))

BOOST_AUTO_TEST_CASE(ckplus48_as_image_folder_and_loaded) {
    const auto ck = ferx::ckplus48(ckplus_root());
    const auto folder = ferx::image_folder(ckplus_root());  // classes sorted: the CK+ order
    BOOST_TEST(folder.classes == ferx::ckplus_classes(), boost::test_tools::per_element());
    BOOST_TEST(ferx::class_counts(folder) == ferx::class_counts(ck), boost::test_tools::per_element());

    const auto t0 = std::chrono::steady_clock::now();
    const auto b = ferx::load(ck, {48, 48, false});
    BOOST_TEST_MESSAGE("CK+48: 981 images loaded in " << seconds_since(t0) << " s");
    BOOST_TEST(b.images.shape(0) == 981u);
    BOOST_TEST(b.images.shape(1) == 48u);
    BOOST_TEST(b.images.shape(2) == 48u);
    for (std::size_t i : {std::size_t{0}, std::size_t{500}, std::size_t{980}}) BOOST_TEST(same_as_imread(b, i));
    BOOST_TEST(b.groups == ck.groups, boost::test_tools::per_element());

    const auto six = ferx::relabel(b, ferx::basic6_map());
    BOOST_TEST(six.size() == 981u - 54u);
    const std::vector<std::size_t> six_counts = {135, 177, 75, 207, 84, 249};
    BOOST_TEST(ferx::class_counts(six) == six_counts, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
