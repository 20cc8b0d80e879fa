// The readers on the real CK+48 and FER2013 in ../shared/data: counts per class, subjects and
// sequences equal those published in ../shared/README.md; loaded pixels equal cv::imread's.
#include <ferx/data/ckplus.hpp>
#include <ferx/data/fer2013.hpp>
#include <ferx/data/image_folder.hpp>
#include <ferx/data/image_list.hpp>
#include <ferx/learn/splits.hpp>

#include <ferx_test.hpp>

#include <boost/test/unit_test.hpp>

#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

fs::path ckplus_root() { return ferx_test::shared_dir() / "data" / "ckplus48"; }
fs::path fer_root() { return ferx_test::shared_dir() / "data" / "fer2013"; }

/// Image `i` of the batch equals cv::imread of its path.
bool same_as_imread(const ferx::image_batch& b, std::size_t i) {
    const cv::Mat m = cv::imread(b.paths[i], cv::IMREAD_GRAYSCALE);
    if (m.rows != static_cast<int>(b.images.shape(1)) || m.cols != static_cast<int>(b.images.shape(2))) return false;
    for (int r = 0; r < m.rows; ++r)
        for (int c = 0; c < m.cols; ++c)
            if (b.images(i, static_cast<std::size_t>(r), static_cast<std::size_t>(c)) != m.at<unsigned char>(r, c))
                return false;
    return true;
}

// ../shared/README.md: FER2013 totals in the order angry, disgust, fear, happy, neutral, sad,
// surprise, given here in the canonical label order (angry .. surprise, neutral).
const std::vector<std::size_t> fer_class_totals = {4953, 547, 5121, 8989, 6077, 4002, 6198};

std::vector<std::size_t> add(std::vector<std::size_t> a, const std::vector<std::size_t>& b) {
    for (std::size_t k = 0; k < a.size(); ++k) a[k] += b[k];
    return a;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(data_real, *boost::unit_test::precondition(ferx_test::shared_data_present()))

BOOST_AUTO_TEST_CASE(ckplus48_counts_subjects_sequences) {
    const auto ck = ferx::ckplus48(ckplus_root());
    BOOST_TEST(ck.size() == 981u);
    const std::vector<std::size_t> counts = {135, 54, 177, 75, 207, 84, 249};
    BOOST_TEST(ferx::class_counts(ck) == counts, boost::test_tools::per_element());
    BOOST_TEST(ck.group_names.size() == 118u);
    BOOST_TEST(ck.sequence_names.size() == 327u);
    // Each sequence: 3 frames, one subject, one label.
    std::map<int, std::set<int>> subject_of, label_of;
    std::map<int, int> frames;
    for (std::size_t i = 0; i < ck.size(); ++i) {
        subject_of[ck.sequences[i]].insert(ck.groups[i]);
        label_of[ck.sequences[i]].insert(ck.labels[i]);
        ++frames[ck.sequences[i]];
    }
    bool consistent = true;
    for (const auto& kv : frames)
        consistent = consistent && kv.second == 3 && subject_of[kv.first].size() == 1 && label_of[kv.first].size() == 1;
    BOOST_TEST(consistent);
    // The subject names read back from the paths (S010_004_00000017.png -> S010).
    bool names_match = true;
    for (std::size_t i = 0; i < ck.size(); ++i)
        names_match = names_match && fs::path(ck.paths[i]).filename().string().rfind(
                                         ck.group_names[static_cast<std::size_t>(ck.groups[i])] + "_", 0) == 0;
    BOOST_TEST(names_match);
    // The groups drive a subject-independent split.
    for (const auto& f : ferx::group_kfold(ck.groups, 10)) {
        std::set<int> train;
        for (std::size_t i : f.train) train.insert(ck.groups[i]);
        bool disjoint = true;
        for (std::size_t i : f.test) disjoint = disjoint && !train.count(ck.groups[i]);
        BOOST_TEST(disjoint);
    }
}

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
