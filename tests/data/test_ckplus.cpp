// The CK+48 reader: a small index written to a temporary folder (groups, sequences, every
// malformed row naming the file and line); the real CK+48: counts per class, subjects and
// sequences equal those published in ../shared/README.md.
#include <ferx/data/ckplus.hpp>
#include <ferx/learn/splits.hpp>

#include "data_test.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace data_test;

BOOST_AUTO_TEST_SUITE(ckplus)

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
    const std::vector<int> frames = {1, 2, 1, 1};  // the index's frame column, carried
    BOOST_TEST(ck.frames == frames, boost::test_tools::per_element());
    const auto kept = ferx::subset(ck, {1, 3});
    BOOST_TEST(kept.frames == (std::vector<int>{2, 1}), boost::test_tools::per_element());
    BOOST_TEST(ferx::load(ck).frames == frames, boost::test_tools::per_element());
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

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(ckplus_real_data, *boost::unit_test::precondition(ferx_test::shared_data_present()))

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

BOOST_AUTO_TEST_SUITE_END()
