// The FER2013 readers (folders with and without index.csv, fer2013.csv): small files written to
// a temporary folder, bad rows naming the file and line; the real FER2013: split counts equal
// those published in ../shared/README.md, loaded pixels equal cv::imread's.
#include <ferx/data/fer2013.hpp>

#include "data_test.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace data_test;

BOOST_AUTO_TEST_SUITE(fer2013)

BOOST_AUTO_TEST_CASE(fer2013_folder_with_and_without_index) {
    temp_dir t;
    const auto& root = t.path;
    write_image(root / "train" / "happy" / "Training_1.jpg", pattern(48, 48, 1));
    write_image(root / "train" / "angry" / "Training_2.jpg", pattern(48, 48, 2));
    write_image(root / "validation" / "neutral" / "PublicTest_3.jpg", pattern(48, 48, 3));
    write_image(root / "test" / "sad" / "PrivateTest_4.jpg", pattern(48, 48, 4));
    for (const char* split : {"train", "validation", "test"})
        for (const auto& c : ferx::fer2013_classes()) fs::create_directories(root / split / c);

    // No index.csv: the class folders of each split.
    const auto all = ferx::fer2013_folder(root);
    const std::vector<int> all_labels = {0, 3, 6, 4};
    BOOST_TEST(all.labels == all_labels, boost::test_tools::per_element());
    BOOST_TEST(ferx::fer2013_folder(root, ferx::fer2013_split::validation).labels == std::vector<int>{6},
               boost::test_tools::per_element());

    const std::string header = "path,label,label_id,usage\n";
    write_text(root / "index.csv", header +
                                       "train/happy/Training_1.jpg,happy,3,Training\n"
                                       "train/angry/Training_2.jpg,angry,0,Training\n"
                                       "validation/neutral/PublicTest_3.jpg,neutral,6,PublicTest\n"
                                       "test/sad/PrivateTest_4.jpg,sad,4,PrivateTest\n");
    const auto train = ferx::fer2013_folder(root, ferx::fer2013_split::train);
    BOOST_TEST(train.labels == (std::vector<int>{3, 0}), boost::test_tools::per_element());
    const auto test = ferx::fer2013_folder(root, ferx::fer2013_split::test);
    BOOST_TEST(test.size() == 1u);
    BOOST_TEST(fs::path(test.paths[0]).filename() == "PrivateTest_4.jpg");

    const std::string index = (root / "index.csv").string();
    const auto with_row = [&](const std::string& row) {
        write_text(root / "index.csv", header + "train/happy/Training_1.jpg,happy,3,Training\n" + row + "\n");
        return [&] { ferx::fer2013_folder(root); };
    };
    expect_error(with_row("train/angry/Training_2.jpg,angry,9,Training"), {"line 3", "label_id '9'", index});
    expect_error(with_row("train/angry/Training_2.jpg,happy,0,Training"), {"line 3", "disagrees", index});
    expect_error(with_row("train/angry/Training_2.jpg,angry,0,Practice"), {"line 3", "unknown usage", index});
    expect_error(with_row("train/angry/Training_2.jpg,angry,0"), {"line 3", "3 fields", index});
    expect_error(with_row("train/angry/gone.jpg,angry,0,Training"), {"line 3", "does not exist", index});

    fs::remove(root / "index.csv");
    fs::remove_all(root / "test");
    expect_error([&] { ferx::fer2013_folder(root, ferx::fer2013_split::test); },
                 {"does not exist", (root / "test").string()});
}

BOOST_AUTO_TEST_CASE(fer2013_csv_small_file) {
    temp_dir t;
    const auto file = t.path / "fer2013.csv";
    write_text(file, "emotion,pixels,Usage\n"
                     "3," + pixels_text(2304, 0) + ",Training\n"
                     "6," + pixels_text(2304, 100) + ",PublicTest\r\n"
                     "\n"
                     "0," + pixels_text(2304, 7) + ",PrivateTest\n");
    const auto all = ferx::read_fer2013_csv(file);
    BOOST_TEST(all.size() == 3u);
    BOOST_TEST(all.labels == (std::vector<int>{3, 6, 0}), boost::test_tools::per_element());
    BOOST_TEST(all.images(0, 0, 0) == 0);
    BOOST_TEST(all.images(0, 47, 47) == 2303 % 256);
    BOOST_TEST(all.images(1, 0, 1) == 101);
    BOOST_TEST(all.images(2, 1, 0) == (7 + 48) % 256);
    BOOST_TEST(all.paths[2] == file.string() + ":5");

    const auto val = ferx::read_fer2013_csv(file, ferx::fer2013_split::validation);
    BOOST_TEST(val.size() == 1u);
    BOOST_TEST(val.labels[0] == 6);
    BOOST_TEST(val.images(0, 0, 0) == 100);

    std::vector<std::size_t> lines;
    ferx::for_each_fer2013_csv(file, [&](const cv::Mat& img, int, ferx::fer2013_split, std::size_t line) {
        BOOST_TEST(img.rows == 48);
        lines.push_back(line);
    });
    BOOST_TEST(lines == (std::vector<std::size_t>{2, 3, 5}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(fer2013_csv_bad_rows_name_file_and_line) {
    temp_dir t;
    const auto file = t.path / "fer2013.csv";
    const std::string good = "3," + pixels_text(2304, 0) + ",Training\n";
    const auto with_row = [&](const std::string& row) {
        write_text(file, "emotion,pixels,Usage\n" + good + row + "\n");
        return [&] { ferx::read_fer2013_csv(file); };
    };
    expect_error(with_row("3," + pixels_text(2303, 0) + ",Training"), {"line 3", "2303 pixels", file.string()});
    expect_error(with_row("3," + pixels_text(2305, 0) + ",Training"), {"line 3", "2305 pixels", file.string()});
    expect_error(with_row("3,12 x4 " + pixels_text(2302, 0) + ",Training"), {"line 3", "pixel 1 is not", file.string()});
    expect_error(with_row("3,256 " + pixels_text(2303, 0) + ",Training"), {"line 3", "pixel 0 is 256", file.string()});
    expect_error(with_row("3,-1 " + pixels_text(2303, 0) + ",Training"), {"line 3", "pixel 0 is not", file.string()});
    expect_error(with_row("7," + pixels_text(2304, 0) + ",Training"), {"line 3", "emotion '7'", file.string()});
    expect_error(with_row("happy," + pixels_text(2304, 0) + ",Training"), {"line 3", "emotion 'happy'", file.string()});
    expect_error(with_row("3," + pixels_text(2304, 0) + ",Train"), {"line 3", "unknown Usage 'Train'", file.string()});
    expect_error(with_row("3," + pixels_text(2304, 0)), {"line 3", "2 fields, expected 3", file.string()});
    write_text(file, "emotion,pixels\n" + good);
    expect_error([&] { ferx::read_fer2013_csv(file); }, {"line 1", "emotion,pixels,Usage", file.string()});
    write_text(file, "");
    expect_error([&] { ferx::read_fer2013_csv(file); }, {"empty", file.string()});
    write_text(file, "emotion,pixels,Usage\n" + good);
    expect_error([&] { ferx::read_fer2013_csv(file, ferx::fer2013_split::test); }, {"no image", file.string()});
    expect_error([&] { ferx::read_fer2013_csv(t.path / "none.csv"); }, {"does not exist", "none.csv"});
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(fer2013_real_data, *boost::unit_test::precondition(ferx_test::shared_data_present()))

BOOST_AUTO_TEST_CASE(fer2013_split_counts_from_index_and_folders) {
    std::vector<std::size_t> total(7, 0), total_scan(7, 0);
    const std::map<ferx::fer2013_split, std::size_t> sizes = {
        {ferx::fer2013_split::train, 28709}, {ferx::fer2013_split::validation, 3589}, {ferx::fer2013_split::test, 3589}};
    for (const auto& kv : sizes) {
        const auto split = ferx::fer2013_folder(fer_root(), kv.first);
        BOOST_TEST(split.size() == kv.second);
        total = add(total, ferx::class_counts(split));
        // The same split by scanning its class folders (the layout without index.csv).
        const auto scanned =
            ferx::image_folder(fer_root() / ferx::detail::fer2013_folder_name(kv.first), ferx::fer2013_classes());
        BOOST_TEST(ferx::class_counts(scanned) == ferx::class_counts(split), boost::test_tools::per_element());
        total_scan = add(total_scan, ferx::class_counts(scanned));
    }
    BOOST_TEST(total == fer_class_totals, boost::test_tools::per_element());
    BOOST_TEST(total_scan == fer_class_totals, boost::test_tools::per_element());
    const auto all = ferx::fer2013_folder(fer_root());
    BOOST_TEST(all.size() == 35887u);
    BOOST_TEST(ferx::class_counts(ferx::relabel(all, ferx::valence3_map())) ==
                   (std::vector<std::size_t>{4953 + 547 + 5121 + 6077, 6198, 8989 + 4002}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(fer2013_test_split_loaded_and_as_csv) {
    const auto test = ferx::fer2013_folder(fer_root(), ferx::fer2013_split::test);
    auto t0 = std::chrono::steady_clock::now();
    const auto b = ferx::load(test, {48, 48, false});
    BOOST_TEST_MESSAGE("FER2013 test: 3589 images loaded in " << seconds_since(t0) << " s");
    BOOST_TEST(b.images.shape(0) == 3589u);
    for (std::size_t i : {std::size_t{0}, std::size_t{1800}, std::size_t{3588}}) BOOST_TEST(same_as_imread(b, i));

    // Write the split as the original fer2013.csv (with a Training row first) and read it back.
    const fs::path file = fs::temp_directory_path() /
                          ("ferx_data_fer2013_" + std::to_string(t0.time_since_epoch().count()) + ".csv");
    {
        std::ofstream out(file);
        out << "emotion,pixels,Usage\n";
        const auto row = [&](std::size_t i, const char* usage) {
            out << b.labels[i] << ',';
            for (std::size_t p = 0; p < 48 * 48; ++p) out << (p ? " " : "") << int(b.images.data()[i * 48 * 48 + p]);
            out << ',' << usage << '\n';
        };
        row(0, "Training");
        for (std::size_t i = 0; i < b.size(); ++i) row(i, "PrivateTest");
    }
    t0 = std::chrono::steady_clock::now();
    const auto csv = ferx::read_fer2013_csv(file, ferx::fer2013_split::test);
    BOOST_TEST_MESSAGE("FER2013 test as fer2013.csv: 3589 rows read in " << seconds_since(t0) << " s");
    fs::remove(file);
    BOOST_TEST(csv.labels == b.labels, boost::test_tools::per_element());
    BOOST_TEST(csv.images.shape() == b.images.shape(), boost::test_tools::per_element());
    BOOST_TEST(std::equal(csv.images.begin(), csv.images.end(), b.images.begin()));
    BOOST_TEST(csv.paths[0] == file.string() + ":3");
}

BOOST_AUTO_TEST_CASE(fer2013_all_images_load, *boost::unit_test::label("heavy")) {
    const auto all = ferx::fer2013_folder(fer_root());
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::size_t> counts(7, 0);
    std::size_t n = 0;
    ferx::for_each_image(
        all,
        [&](std::size_t i, const cv::Mat& m) {
            ++n;
            ++counts[static_cast<std::size_t>(all.labels[i])];
            (void)m;
        },
        {48, 48, false});
    BOOST_TEST_MESSAGE("FER2013: 35887 images decoded one by one in " << seconds_since(t0) << " s");
    BOOST_TEST(n == 35887u);
    BOOST_TEST(counts == fer_class_totals, boost::test_tools::per_element());
    const auto t1 = std::chrono::steady_clock::now();
    const auto b = ferx::load(all, {48, 48, false});
    BOOST_TEST_MESSAGE("FER2013: 35887 images loaded into one batch in " << seconds_since(t1) << " s");
    BOOST_TEST(b.images.shape(0) == 35887u);
    BOOST_TEST(same_as_imread(b, 35886));
}

BOOST_AUTO_TEST_SUITE_END()
