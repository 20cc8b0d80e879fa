// Writers of ferx/learn/evaluation_report.hpp: the CSV parses back to the matrix, the PNG is
// read by cv::imread with the expected layout and colours, the markdown holds the figures; write
// failures and wrong class-name counts raise ferx::error.
#include <ferx/learn/evaluation_report.hpp>

#include <boost/test/unit_test.hpp>

#include "ferx_test.hpp"

#include <opencv2/imgcodecs.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

namespace fs = std::filesystem;

std::vector<std::string> cells(const std::string& line) {
    std::vector<std::string> out;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, ',');) out.push_back(c);
    return out;
}

// truth 0 0 0 0 1 1 2 2 2 ; predicted 0 0 0 1 1 1 2 2 0
ferx::confusion_matrix sample_matrix() {
    return ferx::confusion_matrix({0, 0, 0, 0, 1, 1, 2, 2, 2}, {0, 0, 0, 1, 1, 1, 2, 2, 0}, 3);
}
const std::vector<std::string> sample_names{"anger", "happy", "surprise"};

}  // namespace

BOOST_AUTO_TEST_SUITE(evaluation_report)

BOOST_AUTO_TEST_CASE(csv_parses_back) {
    ferx_test::temp_dir tmp("ferx_evaluate_report");
    const auto cm = sample_matrix();
    const auto file = (tmp.path / "cm.csv").string();
    ferx::write_confusion_csv(file, cm, sample_names);
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    BOOST_TEST(line == "true,anger,happy,surprise,precision,recall,f1,support");
    for (std::size_t t = 0; t < 3; ++t) {
        BOOST_REQUIRE(std::getline(in, line));
        const auto c = cells(line);
        BOOST_REQUIRE(c.size() == 8u);
        BOOST_TEST(c[0] == sample_names[t]);
        for (std::size_t p = 0; p < 3; ++p) BOOST_TEST(std::stoll(c[1 + p]) == cm.counts()(t, p));
        BOOST_TEST(std::stod(c[4]) == cm.precision(t), boost::test_tools::tolerance(1e-5));
        BOOST_TEST(std::stod(c[5]) == cm.recall(t), boost::test_tools::tolerance(1e-5));
        BOOST_TEST(std::stod(c[6]) == cm.f1(t), boost::test_tools::tolerance(1e-5));
        BOOST_TEST(std::stoll(c[7]) == cm.support(t));
    }
    BOOST_TEST(!std::getline(in, line));
}

BOOST_AUTO_TEST_CASE(png_reads_back) {
    ferx_test::temp_dir tmp("ferx_evaluate_report");
    const auto cm = sample_matrix();
    const auto file = (tmp.path / "cm.png").string();
    ferx::write_confusion_png(file, cm, sample_names);
    const cv::Mat png = cv::imread(file, cv::IMREAD_COLOR);
    BOOST_REQUIRE(!png.empty());
    const cv::Mat drawn = ferx::draw_confusion_matrix(cm, sample_names);
    BOOST_TEST(png.size() == drawn.size());
    BOOST_TEST(cv::norm(png, drawn, cv::NORM_INF) == 0.0);  // PNG is lossless
    // Colour follows the row share: a cell's corner pixel (no text there) is darker where the
    // share is larger. Row 1 (happy): 0 %, 100 %, 0 %.
    const int k = 3, cell = 72;  // the default cell size
    const int left = drawn.cols - 20 - k * cell, top = 60;
    const auto corner = [&](int t, int p) { return drawn.at<cv::Vec3b>(top + t * cell + 3, left + p * cell + 3); };
    BOOST_TEST(corner(1, 1)[2] < 40);    // 100 %: dark blue, little red
    BOOST_TEST(corner(1, 0)[2] == 255);  // 0 %: white
    BOOST_TEST(corner(0, 0)[2] < corner(0, 1)[2]);  // 75 % darker than 25 %
    // names need the right count
    BOOST_CHECK_THROW(ferx::draw_confusion_matrix(cm, {"a", "b"}), ferx::error);
    BOOST_CHECK_THROW(ferx::write_confusion_png((tmp.path / "no" / "such" / "dir.png").string(), cm, sample_names),
                      ferx::error);
}

BOOST_AUTO_TEST_CASE(markdown_holds_the_figures) {
    ferx::evaluation e;
    e.classes = sample_names;
    ferx::fold_result a, b;
    a.cm = ferx::confusion_matrix({0, 1, 2}, {0, 1, 2}, 3);     // 100 %
    b.cm = ferx::confusion_matrix({0, 1, 2, 2}, {0, 0, 2, 1}, 3);  // 50 %
    a.time.fit = 1.5;
    b.time.fit = 0.5;
    e.folds = {a, b};
    e.pooled = ferx::confusion_matrix(3);
    e.pooled.add(a.cm);
    e.pooled.add(b.cm);
    e.time.fit = 2.0;
    const auto md = ferx::markdown_report(e, "title here", {{"dataset", "toy"}});
    BOOST_TEST(md.find("# title here") == 0u);
    BOOST_TEST(md.find("- dataset: toy") != std::string::npos);
    BOOST_TEST(md.find("| accuracy | 75.00") != std::string::npos);  // fold mean of 100 and 50
    BOOST_TEST(md.find("| 71.43 |") != std::string::npos);           // pooled 5 / 7
    BOOST_TEST(md.find("| surprise |") != std::string::npos);
    BOOST_TEST(md.find("fit 2.000") != std::string::npos);
    ferx_test::temp_dir tmp("ferx_evaluate_report");
    ferx::write_text((tmp.path / "r.md").string(), md);
    std::ifstream in(tmp.path / "r.md");
    std::stringstream back;
    back << in.rdbuf();
    BOOST_TEST(back.str() == md);
    BOOST_CHECK_THROW(ferx::write_text((tmp.path / "missing" / "r.md").string(), md), ferx::error);
}

BOOST_AUTO_TEST_SUITE_END()
