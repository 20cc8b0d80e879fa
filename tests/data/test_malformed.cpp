// Dataset readers on small datasets written to a temporary folder: the layouts read as intended,
// and every malformed input (missing folder or file, corrupt image, wrong size, bad CSV row)
// gives a ferx::error naming the file, and the line for CSV rows.
#include <ferx/data/ckplus.hpp>
#include <ferx/data/fer2013.hpp>
#include <ferx/data/image_folder.hpp>
#include <ferx/data/image_list.hpp>

#include <boost/test/unit_test.hpp>

#include <opencv2/imgcodecs.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

/// A fresh temporary folder, removed with its contents at the end of the test.
struct temp_dir {
    fs::path path;
    temp_dir() {
        static int counter = 0;
        path = fs::temp_directory_path() /
               ("ferx_data_test_" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + "_" +
                std::to_string(counter++));
        fs::create_directories(path);
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

void write_text(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

/// A grey image whose pixels are value + (r * cols + c) mod 256.
cv::Mat pattern(int rows, int cols, int value) {
    cv::Mat m(rows, cols, CV_8UC1);
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) m.at<unsigned char>(r, c) = static_cast<unsigned char>((value + r * cols + c) % 256);
    return m;
}

void write_image(const fs::path& p, const cv::Mat& m) {
    fs::create_directories(p.parent_path());
    BOOST_REQUIRE(cv::imwrite(p.string(), m));
}

/// Runs f, which must throw ferx::error whose message holds every one of `parts`.
void expect_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
    try {
        f();
    } catch (const ferx::error& e) {
        const std::string msg = e.what();
        for (const auto& p : parts) BOOST_TEST(msg.find(p) != std::string::npos, "'" << p << "' not in: " << msg);
        return;
    }
    BOOST_ERROR("no ferx::error was thrown");
}

std::string pixels_text(int count, int value) {
    std::string s;
    for (int i = 0; i < count; ++i) s += (i ? " " : "") + std::to_string((value + i) % 256);
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(data_malformed)

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

BOOST_AUTO_TEST_CASE(ckplus48_index_groups_and_errors) {
    temp_dir t;
    const auto& root = t.path;
    write_image(root / "anger" / "S1_1_1.png", pattern(48, 48, 1));
    write_image(root / "anger" / "S1_1_2.png", pattern(48, 48, 2));
    write_image(root / "happy" / "S2_3_1.png", pattern(48, 48, 3));
    write_image(root / "surprise" / "S1_2_1.png", pattern(48, 48, 4));
    const std::string header = "path,label,subject,sequence,frame\r\n";
    write_text(root / "index.csv", header +
                                       "anger/S1_1_1.png,anger,S1,S1_1,1\r\n"
                                       "anger/S1_1_2.png,anger,S1,S1_1,2\r\n"
                                       "happy/S2_3_1.png,happy,S2,S2_3,1\r\n"
                                       "surprise/S1_2_1.png,surprise,S1,S1_2,1\r\n");
    const auto ck = ferx::ckplus48(root);
    const std::vector<int> labels = {0, 0, 4, 6}, groups = {0, 0, 1, 0}, sequences = {0, 0, 1, 2};
    BOOST_TEST(ck.labels == labels, boost::test_tools::per_element());
    BOOST_TEST(ck.groups == groups, boost::test_tools::per_element());
    BOOST_TEST(ck.sequences == sequences, boost::test_tools::per_element());
    const std::vector<std::string> subjects = {"S1", "S2"}, seqs = {"S1_1", "S2_3", "S1_2"};
    BOOST_TEST(ck.group_names == subjects, boost::test_tools::per_element());
    BOOST_TEST(ck.sequence_names == seqs, boost::test_tools::per_element());

    const std::string index = (root / "index.csv").string();
    const auto with_row = [&](const std::string& row) {
        write_text(root / "index.csv", header + "anger/S1_1_1.png,anger,S1,S1_1,1\n" + row + "\n");
        return [&] { ferx::ckplus48(root); };
    };
    expect_error(with_row("anger/S1_1_2.png,anger,S1,S1_1"), {"line 3", "4 fields, expected 5", index});
    expect_error(with_row("anger/S1_1_2.png,anger,S1,S1_1,2,x"), {"line 3", "6 fields", index});
    expect_error(with_row("anger/S1_1_2.png,rage,S1,S1_1,2"), {"line 3", "unknown label 'rage'", index});
    expect_error(with_row("anger/S1_1_2.png,anger,S1,S1_1,two"), {"line 3", "not a number", index});
    expect_error(with_row("anger/missing.png,anger,S1,S1_1,2"), {"line 3", "'anger/missing.png' does not exist", index});
    write_text(root / "index.csv", "path;label\n");
    expect_error([&] { ferx::ckplus48(root); }, {"line 1", "header", index});
    write_text(root / "index.csv", header);
    expect_error([&] { ferx::ckplus48(root); }, {"no images", index});
    fs::remove(root / "index.csv");
    expect_error([&] { ferx::ckplus48(root); }, {"does not exist", index});
    expect_error([&] { ferx::ckplus48(root / "absent"); }, {"CK+48 folder does not exist", (root / "absent").string()});
}

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
