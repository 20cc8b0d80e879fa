// Cascade loader: every shipped OpenCV cascade loads, both formats; malformed, truncated and
// inconsistent files give ferx::error naming the file and element; a randomized-mutation fuzz
// run never crashes (ASan runs it too).
#include <ferx/detect/cascade.hpp>
#include <ferx/detect/detect_multiscale.hpp>

#include <boost/test/unit_test.hpp>

#include "ferx_test.hpp"

#include <opencv2/objdetect.hpp>

#include <clocale>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

const fs::path haar_dir = "/usr/share/opencv4/haarcascades";
const fs::path lbp_dir = "/usr/share/opencv4/lbpcascades";

std::vector<fs::path> shipped_cascades() {
    std::vector<fs::path> out;
    for (const fs::path& d : {haar_dir, lbp_dir}) {
        if (!fs::is_directory(d)) continue;
        for (const auto& e : fs::directory_iterator(d))
            if (e.path().extension() == ".xml") out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string read_all(const fs::path& p) { return ferx::detail::read_text_file(p.string(), "test"); }

/// Runs `f`, expecting ferx::error whose message contains every one of `parts`.
template <class F>
void expect_error(F&& f, const std::vector<std::string>& parts) {
    try {
        f();
        BOOST_ERROR("no ferx::error thrown (expected: " << parts.front() << ")");
    } catch (const ferx::error& e) {
        const std::string what = e.what();
        for (const auto& p : parts) BOOST_TEST(what.find(p) != std::string::npos, "'" << p << "' not in: " << what);
    }
}

const char* small_haar = R"(<?xml version="1.0"?>
<opencv_storage>
<cascade type_id="opencv-cascade-classifier"><stageType>BOOST</stageType>
  <featureType>HAAR</featureType>
  <height>4</height>
  <width>4</width>
  <stageParams><maxWeakCount>2</maxWeakCount></stageParams>
  <featureParams><maxCatCount>0</maxCatCount></featureParams>
  <stageNum>1</stageNum>
  <stages>
    <_>
      <maxWeakCount>2</maxWeakCount>
      <stageThreshold>-0.5</stageThreshold>
      <weakClassifiers>
        <_><internalNodes>0 -1 0 0.25</internalNodes><leafValues>-1. 1.</leafValues></_>
        <_><internalNodes>1 -1 1 0.5 0 -2 0 0.1</internalNodes><leafValues>0.1 0.2 0.3</leafValues></_>
      </weakClassifiers></_></stages>
  <features>
    <_><rects><_>0 0 4 4 -1.</_><_>0 0 2 4 2.</_></rects><tilted>0</tilted></_>
    <_><rects><_>2 0 2 2 -1.</_><_>2 0 1 1 4.</_></rects><tilted>1</tilted></_>
  </features></cascade>
</opencv_storage>
)";

std::string replaced(std::string s, const std::string& from, const std::string& to) {
    const auto p = s.find(from);
    BOOST_REQUIRE(p != std::string::npos);
    return s.replace(p, from.size(), to);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cascade_loader)

BOOST_AUTO_TEST_CASE(every_shipped_cascade_loads_and_agrees_with_opencv,
                     *boost::unit_test::precondition(ferx_test::opencv_cascades_present())) {
    const auto files = shipped_cascades();
    BOOST_TEST(files.size() >= 20u);
    for (const auto& f : files) {
        BOOST_TEST_CONTEXT(f.filename().string()) {
            const ferx::cascade c = ferx::load_cascade(f.string());
            cv::CascadeClassifier ref(f.string());
            BOOST_REQUIRE(!ref.empty());
            BOOST_TEST(c.window_width == ref.getOriginalWindowSize().width);
            BOOST_TEST(c.window_height == ref.getOriginalWindowSize().height);
            if (!ref.isOldFormatCascade())
                BOOST_TEST((c.feature_type == ferx::cascade_feature::haar) ==
                           (ref.getFeatureType() == 0 /* cv::FeatureEvaluator::HAAR */));
            BOOST_TEST(!c.stages.empty());
            BOOST_TEST(c.source == f.string());
            // Every stage's trees, every tree's nodes and leaves are in range (validated on load).
            int trees = 0;
            for (const auto& s : c.stages) trees += s.trees;
            BOOST_TEST(static_cast<std::size_t>(trees) == c.trees.size());
            BOOST_TEST(c.leaves.size() == c.nodes.size() + c.trees.size());
        }
    }
}

BOOST_AUTO_TEST_CASE(both_formats_and_feature_kinds, *boost::unit_test::precondition(ferx_test::opencv_cascades_present())) {
    const auto old = ferx::load_cascade((haar_dir / "haarcascade_licence_plate_rus_16stages.xml").string());
    BOOST_TEST(old.window_width == 64);
    BOOST_TEST(old.window_height == 16);
    BOOST_TEST(old.stages.size() == 16u);
    const auto lbp = ferx::load_cascade((lbp_dir / "lbpcascade_frontalface.xml").string());
    BOOST_TEST((lbp.feature_type == ferx::cascade_feature::lbp));
    BOOST_TEST(lbp.subsets.size() == lbp.nodes.size() * 8);
    const auto tree = ferx::load_cascade((haar_dir / "haarcascade_eye_tree_eyeglasses.xml").string());
    BOOST_TEST(tree.max_tree_nodes == 3);
    BOOST_TEST(tree.has_tilted);
    const auto stumps = ferx::load_cascade((haar_dir / "haarcascade_frontalface_alt.xml").string());
    BOOST_TEST(stumps.stump_based());
    BOOST_TEST(!stumps.has_tilted);
}

// Numbers are read independently of the C locale (a program may set one with a decimal comma).
BOOST_AUTO_TEST_CASE(numbers_ignore_the_c_locale) {
    const char* old = std::setlocale(LC_NUMERIC, nullptr);
    const std::string saved = old ? old : "C";
    const bool comma = std::setlocale(LC_NUMERIC, "de_DE.UTF-8") != nullptr || std::setlocale(LC_NUMERIC, "fr_FR.UTF-8") != nullptr;
    const auto c = ferx::parse_cascade(small_haar, "small.xml");
    std::setlocale(LC_NUMERIC, saved.c_str());
    BOOST_TEST(c.leaves[4] == 0.3f);
    BOOST_TEST(c.nodes[0].threshold == 0.25f);
    if (!comma) BOOST_TEST_MESSAGE("no decimal-comma locale installed; parsed under the C locale only");
}

BOOST_AUTO_TEST_CASE(small_model_fields) {
    const auto c = ferx::parse_cascade(small_haar, "small.xml");
    BOOST_TEST(c.window_width == 4);
    BOOST_TEST(c.trees.size() == 2u);
    BOOST_TEST(c.max_tree_nodes == 2);
    BOOST_TEST(c.has_tilted);
    BOOST_TEST(c.stages[0].threshold == -0.5f - 1e-5f);
    BOOST_TEST(c.nodes[1].left == 1);
    BOOST_TEST(c.nodes[2].right == -2);
    BOOST_TEST(c.leaves[4] == 0.3f);
}

BOOST_AUTO_TEST_CASE(bad_files_name_file_and_element) {
    expect_error([] { ferx::load_cascade("/nonexistent/cascade.xml"); }, {"cannot open", "/nonexistent/cascade.xml"});
    expect_error([] { ferx::parse_cascade("", "empty.xml"); }, {"empty.xml", "no root element"});
    expect_error([] { ferx::parse_cascade("<a><b></a>", "x.xml"); }, {"does not match"});
    // Truncated: the document ends inside an element.
    const std::string s = small_haar;
    expect_error([&] { ferx::parse_cascade(s.substr(0, s.find("</stages>")), "cut.xml"); }, {"cut.xml", "truncated"});
    expect_error([&] { ferx::parse_cascade(s.substr(0, s.size() / 2), "half.xml"); }, {"half.xml", "XML error"});
    // Unknown feature type.
    expect_error([&] { ferx::parse_cascade(replaced(s, "<featureType>HAAR", "<featureType>HOG"), "hog.xml"); },
                 {"hog.xml", "featureType", "unknown feature type 'HOG'"});
    // Feature index out of range.
    expect_error([&] { ferx::parse_cascade(replaced(s, "0 -1 0 0.25", "0 -1 7 0.25"), "f.xml"); },
                 {"f.xml", "weakClassifiers/_[0]/internalNodes", "outside"});
    // A rectangle outside the window.
    expect_error([&] { ferx::parse_cascade(replaced(s, "0 0 4 4 -1.", "1 0 4 4 -1."), "r.xml"); },
                 {"r.xml", "features/_[0]/rects/_[0]", "does not fit"});
    // A tilted rectangle outside the window (x - h < 0).
    expect_error([&] { ferx::parse_cascade(replaced(s, "2 0 2 2 -1.", "1 0 2 2 -1."), "t.xml"); }, {"does not fit"});
    // Leaf count not nodes + 1.
    expect_error([&] { ferx::parse_cascade(replaced(s, "0.1 0.2 0.3", "0.1 0.2"), "l.xml"); }, {"needs 3 leaves"});
    // A child link to itself (would loop forever).
    expect_error([&] { ferx::parse_cascade(replaced(s, "1 -1 1 0.5 0 -2 0 0.1", "1 -1 1 0.5 1 -2 0 0.1"), "c.xml"); },
                 {"links to node 1"});
    // Not a number.
    expect_error([&] { ferx::parse_cascade(replaced(s, "-0.5", "abc"), "n.xml"); }, {"stageThreshold", "not a finite number"});
    expect_error([&] { ferx::parse_cascade(replaced(s, "-0.5", "nan"), "n.xml"); }, {"not a finite number"});
    // Missing element.
    expect_error([&] { ferx::parse_cascade(replaced(s, "<stageThreshold>-0.5</stageThreshold>", ""), "m.xml"); },
                 {"missing element <stageThreshold>"});
    // stageNum disagrees.
    expect_error([&] { ferx::parse_cascade(replaced(s, "<stageNum>1", "<stageNum>2"), "sn.xml"); }, {"stageNum"});
    // LBP with the wrong category count.
    expect_error([&] { ferx::parse_cascade(replaced(s, "<featureType>HAAR", "<featureType>LBP"), "lbp.xml"); },
                 {"256 categories"});
    expect_error([] { ferx::parse_cascade("<opencv_storage><x type_id=\"svm\"/></opencv_storage>", "svm.xml"); },
                 {"unknown cascade type 'svm'"});
}

// Found by the fuzz_xml_pugixml harness's timings (tests/fuzz): every element's path was made by
// scanning its parent's earlier children, n^2 / 2 name comparisons for a parent of n children
// (tens of seconds for a few hundred thousand items, 8x pugixml's time on the shipped cascades);
// the items are now counted. The paths (and so the error messages) are unchanged.
BOOST_AUTO_TEST_CASE(many_sequence_items_parse_in_linear_time) {
    std::string doc = "<opencv_storage>\n<stages>";
    constexpr int n = 300000;
    for (int i = 0; i < n; ++i) doc += "<_/><x/>";
    doc += "<_>oops</_></stages></opencv_storage>";
    const auto root = ferx::detail::xml_parser("many.xml", "test").parse(doc);
    const auto& items = root->children.front()->children;
    BOOST_TEST_REQUIRE(items.size() == 2u * n + 1);
    BOOST_TEST(items[1]->path == "opencv_storage/stages/x");
    BOOST_TEST(items[2]->path == "opencv_storage/stages/_[1]");
    BOOST_TEST(items.back()->path == "opencv_storage/stages/_[300000]");
    BOOST_TEST(items.back()->line == 2);
    BOOST_TEST(items.back()->text == "oops");
}

// Parity with OpenCV's reader (cv::FileStorage), found by comparing it with ferx and pugixml on
// the fuzz corpus (docs/limits.md, "The XML reader"): a UTF-8 byte-order mark and character
// references are read as OpenCV reads them; an unknown entity is still refused, naming its line.
BOOST_AUTO_TEST_CASE(byte_order_mark_and_character_references) {
    const std::string s = small_haar;
    const ferx::cascade plain = ferx::parse_cascade(s, "plain.xml");
    const ferx::cascade bom = ferx::parse_cascade("\xEF\xBB\xBF" + s, "bom.xml");
    BOOST_TEST(bom.stages.size() == plain.stages.size());
    const ferx::cascade refs = ferx::parse_cascade(replaced(s, "<height>4</height>", "<height>&#52;</height>"), "ref.xml");
    BOOST_TEST(refs.window_height == 4);
    const ferx::cascade hex = ferx::parse_cascade(replaced(s, "<stageType>BOOST", "<stageType>&#x42;OOST"), "hex.xml");
    BOOST_TEST(hex.window_width == 4);
    const auto root = ferx::detail::xml_parser("u.xml", "test").parse("<a>&#233;&#x1F600;</a>");
    BOOST_TEST(root->text == "\xC3\xA9\xF0\x9F\x98\x80");
    expect_error([] { ferx::detail::xml_parser("r.xml", "test").parse("<a>\n\n&#xD800;</a>"); },
                 {"line 3", "bad character reference", "r.xml"});
    expect_error([] { ferx::detail::xml_parser("e.xml", "test").parse("<a>\n&nbsp;</a>"); },
                 {"line 2", "unknown entity", "e.xml"});
}

// Random mutations of real files (truncations, byte flips, deleted elements, duplicated spans):
// each parse either succeeds or throws ferx::error; never anything else, never a crash or hang.
BOOST_AUTO_TEST_CASE(fuzz_mutations_never_crash, *boost::unit_test::precondition(ferx_test::opencv_cascades_present())) {
    const std::vector<std::string> seeds = {read_all(lbp_dir / "lbpcascade_frontalface.xml"),
                                            read_all(haar_dir / "haarcascade_eye_tree_eyeglasses.xml"),
                                            read_all(haar_dir / "haarcascade_licence_plate_rus_16stages.xml"),
                                            std::string(small_haar)};
    std::mt19937 rng(20240607u);
    int loaded = 0, rejected = 0;
    constexpr int iterations = 600;
    for (int it = 0; it < iterations; ++it) {
        std::string doc = seeds[static_cast<std::size_t>(it) % seeds.size()];
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits && !doc.empty(); ++e) {
            const std::size_t pos = rng() % doc.size();
            switch (rng() % 5) {
                case 0: doc.resize(pos); break;                                            // truncate
                case 1: doc[pos] = static_cast<char>(rng() % 256); break;                  // flip a byte
                case 2: {                                                                  // delete an element
                    const std::size_t b = doc.find('<', pos);
                    const std::size_t m = b == std::string::npos ? b : doc.find('>', b);
                    const std::size_t close = m == std::string::npos ? m : doc.find('>', doc.find("</", m));
                    if (close != std::string::npos) doc.erase(b, close - b + 1);
                    break;
                }
                case 3: {                                                                  // change a digit
                    const std::size_t d = doc.find_first_of("0123456789", pos);
                    if (d != std::string::npos) doc[d] = static_cast<char>('0' + rng() % 10);
                    break;
                }
                default: doc.insert(pos, doc.substr(pos, std::min<std::size_t>(64, doc.size() - pos)));  // duplicate
            }
        }
        try {
            const ferx::cascade c = ferx::parse_cascade(doc, "fuzz.xml");
            ++loaded;
            BOOST_TEST_REQUIRE(!c.stages.empty());
            // A model that loads is safe to evaluate: scan a small image with it.
            std::vector<std::uint8_t> px(static_cast<std::size_t>(72 * 80));
            for (auto& v : px) v = static_cast<std::uint8_t>(rng() % 256);
            ferx::detect_params p;
            p.min_neighbors = 0;
            p.scale_factor = 1.5;
            (void)ferx::detect_candidates(ferx::exec::seq, c, ferx::image_view<const std::uint8_t>(px.data(), {72, 80}), p);
        } catch (const ferx::error& e) {
            ++rejected;
            BOOST_TEST_REQUIRE(std::string(e.what()).find("fuzz.xml") != std::string::npos);
        }
    }
    BOOST_TEST(loaded + rejected == iterations);
    BOOST_TEST(rejected > 0);
    BOOST_TEST_MESSAGE("fuzz: " << loaded << " mutants loaded, " << rejected << " rejected with ferx::error");
}

BOOST_AUTO_TEST_SUITE_END()
