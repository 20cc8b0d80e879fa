// Image lists and batches: decoding rejects corrupt and wrongly sized images (naming the file),
// random subsets are seeded, ordered and unique.
#include <ferx/data/image_folder.hpp>
#include <ferx/data/image_list.hpp>

#include "data_test.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace data_test;

BOOST_AUTO_TEST_SUITE(image_list)

BOOST_AUTO_TEST_CASE(load_rejects_corrupt_and_wrongly_sized_images) {
    temp_dir t;
    write_image(t.path / "a" / "1.png", pattern(48, 48, 0));
    write_image(t.path / "a" / "2.png", pattern(40, 44, 0));
    const auto list = ferx::image_folder(t.path);
    expect_error([&] { ferx::load(list); }, {"44x40", "expected 48x48", "2.png"});
    expect_error([&] { ferx::load(list, {64, 64, false}); }, {"expected 64x64", "1.png"});
    const auto resized = ferx::load(list, {64, 64, true});
    BOOST_TEST(resized.images.shape(1) == 64u);
    BOOST_TEST(resized.images.shape(2) == 64u);

    write_text(t.path / "a" / "3.png", "\x89PNG\r\n\x1a\n truncated garbage");
    const auto corrupt = ferx::image_folder(t.path);
    expect_error([&] { ferx::load(corrupt, {48, 48, true}); }, {"cannot read the image", "3.png"});
    int calls = 0;
    expect_error([&] { ferx::for_each_image(corrupt, [&](std::size_t, const cv::Mat&) { ++calls; }, {48, 48, true}); },
                 {"3.png"});
    BOOST_TEST(calls == 2);  // the two good images came before the corrupt one

    ferx::image_list bad = list;
    bad.labels[0] = 5;
    expect_error([&] { ferx::load(bad); }, {"not a class index"});
    expect_error([&] { ferx::load(ferx::image_list{}); }, {"empty"});
}

BOOST_AUTO_TEST_CASE(random_subset_is_seeded_ordered_and_unique) {
    ferx::image_list list;
    list.classes = {"a", "b"};
    for (int i = 0; i < 50; ++i) {
        list.paths.push_back("img" + std::to_string(i) + ".png");
        list.labels.push_back(i % 2);
    }
    const auto a = ferx::random_subset(list, 20, 3), b = ferx::random_subset(list, 20, 3), c = ferx::random_subset(list, 20, 4);
    BOOST_TEST(a.size() == 20u);
    BOOST_TEST(a.paths == b.paths);  // same seed, same subset
    BOOST_TEST(a.paths != c.paths);  // another seed, another subset (50 choose 20 makes a tie unlikely)
    std::set<std::string> seen;
    std::size_t last = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const std::size_t k = std::stoul(a.paths[i].substr(3));
        BOOST_TEST(seen.insert(a.paths[i]).second);
        BOOST_TEST((i == 0 || k > last));  // the list's order is kept
        BOOST_TEST(a.labels[i] == static_cast<int>(k % 2));
        last = k;
    }
    BOOST_TEST(ferx::random_subset(list, 80).size() == 50u);
}

BOOST_AUTO_TEST_SUITE_END()
