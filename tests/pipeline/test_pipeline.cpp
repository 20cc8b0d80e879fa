// The whole pipeline on CK+48 (a fixed subject-grouped split, floors set from measurement),
// save -> load -> identical predictions, frames with several faces, and bad input / bad files.
#include "pipeline_test.hpp"

#include <ferx/core/opencv.hpp>
#include <ferx/pipeline/pipeline.hpp>

#include <xtensor/xview.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <set>
#include <sstream>

namespace {

namespace fs = std::filesystem;

fs::path temp_file(const std::string& name) { return fs::temp_directory_path() / ("ferx_pipeline_test_" + name); }

std::string read_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_text(const fs::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
}

/// `text` with `from` replaced by `to` and the checksum recomputed: a well-formed file whose
/// content is wrong.
std::string edited_and_resealed(const std::string& text, const std::string& from, const std::string& to) {
    std::string body = text.substr(0, text.rfind("\nend ") + 1);
    const std::size_t at = body.find(from);
    BOOST_REQUIRE(at != std::string::npos);
    body.replace(at, from.size(), to);
    std::ostringstream o;
    o << body << "end " << std::hex << std::setw(16) << std::setfill('0') << ferx::detail::fnv1a(body) << '\n';
    return o.str();
}

void check_refused(const fs::path& file, const std::string& what) {
    try {
        ferx::load_pipeline(file.string());
        BOOST_ERROR("a " << what << " model file was accepted");
    } catch (const ferx::error& e) {
        BOOST_TEST(e.file() == file.string(), what);
        BOOST_TEST_MESSAGE(what << ": " << e.what());
    }
}

const ferx::pipeline_model& hog_rbf_model() {
    static const ferx::pipeline_model m = [] {
        const auto& s = pipeline_test::ckplus_fold0();
        return ferx::fit(ferx::exec::par, ferx::parse_spec("hog:std:rbf(C=10)"), s.train, s.y_train, s.classes);
    }();
    return m;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pipeline)

// Floors: measured on this split (fold 0 of group_kfold(subjects, 5): 783 train, 198 test
// crops: 84.8 %, 80.3 %, 85.4 %) minus about 4.5 points; see docs/pipeline.md.
BOOST_AUTO_TEST_CASE(ckplus48_subject_split_reaches_its_floor, *boost::unit_test::precondition(ferx_test::shared_data_present()) * boost::unit_test::label("heavy")) {
    const auto& s = pipeline_test::ckplus_fold0();
    BOOST_REQUIRE_EQUAL(s.train.shape(0) + s.test.shape(0), 981u);
    const struct {
        const char* spec;
        double floor;
    } cases[] = {{"hog:std:rbf(C=10)", 0.80}, {"lbp_u2:std:linear", 0.76}, {"hog+lbp_u2(grid=4):std:pca(k=100):rbf(C=10)", 0.81}};
    for (const auto& c : cases) {
        const auto m = c.spec == std::string("hog:std:rbf(C=10)")
                           ? hog_rbf_model()
                           : ferx::fit(ferx::exec::par, ferx::parse_spec(c.spec), s.train, s.y_train, s.classes);
        const auto p = ferx::predict(ferx::exec::par, m, s.test);
        const double acc = pipeline_test::accuracy(s.y_test, p.labels);
        BOOST_TEST_MESSAGE(c.spec << ": accuracy " << acc << " on " << s.test.shape(0) << " test crops");
        BOOST_TEST(acc >= c.floor, c.spec << ": accuracy " << acc << " below the floor " << c.floor);
        BOOST_TEST(p.scores.shape(0) == s.test.shape(0));
        BOOST_TEST(p.scores.shape(1) == 7u);
    }
}

BOOST_AUTO_TEST_CASE(save_load_gives_identical_predictions, *boost::unit_test::precondition(ferx_test::shared_data_present()) * boost::unit_test::label("heavy")) {
    const auto& s = pipeline_test::ckplus_fold0();
    for (const char* spec : {"hog:std:rbf(C=10)", "lbp_u2:none:linear(C=0.5)", "lbp_riu2(grid=4):none:chi2(C=3,prob=1)",
                             "hog:pre(eq=clahe,norm=unit):std:pca(k=40,whiten=1):poly(C=2,degree=2,strategy=ovr)"}) {
        const auto m = spec == std::string("hog:std:rbf(C=10)")
                           ? hog_rbf_model()
                           : ferx::fit(ferx::exec::par, ferx::parse_spec(spec), s.train, s.y_train, s.classes);
        const auto file = temp_file("roundtrip.ferx");
        ferx::save_pipeline(m, file.string());
        const auto back = ferx::load_pipeline(file.string());
        BOOST_TEST(ferx::format_spec(back.spec) == ferx::format_spec(m.spec));
        BOOST_TEST(back.classes == m.classes, boost::test_tools::per_element());
        const auto a = ferx::predict(ferx::exec::par, m, s.test);
        const auto b = ferx::predict(ferx::exec::seq, back, s.test);
        BOOST_TEST(a.labels == b.labels, spec);
        BOOST_TEST((a.scores == b.scores), spec);  // bit for bit (max_digits10 in the file, seq == par)
        // The labels are the SVM's votes; the scores' argmax (votes with a confidence, or Platt
        // probabilities) mostly agrees with them.
        std::size_t agree = 0;
        for (std::size_t i = 0; i < a.labels.size(); ++i) {
            const auto row = xt::row(a.scores, static_cast<std::ptrdiff_t>(i));
            agree += static_cast<int>(std::max_element(row.begin(), row.end()) - row.begin()) == a.labels[i];
        }
        BOOST_TEST(agree >= a.labels.size() * 85 / 100, spec << ": " << agree << " of " << a.labels.size());
        fs::remove(file);
    }
}

BOOST_AUTO_TEST_CASE(frames_with_several_faces, *boost::unit_test::precondition(ferx_test::shared_data_present()) * boost::unit_test::label("heavy")) {
    const auto det = ferx::load_face_detector();
    const cv::Mat g = ferx::read_image((ferx_test::shared_dir() / "data" / "faces" / "bbt1.jpg").string());
    const auto& m = hog_rbf_model();
    ferx::stage_times t;
    const auto faces = ferx::predict_faces(ferx::exec::par, m, det, ferx::view<std::uint8_t>(g), ferx::face_source::all, &t);
    ferx::preprocess_params p = m.spec.preprocess;
    p.source = ferx::face_source::all;
    const auto pre = ferx::preprocess(ferx::exec::seq, p, ferx::view<std::uint8_t>(g), &det);
    BOOST_REQUIRE_GE(faces.size(), 3u);
    BOOST_REQUIRE_EQUAL(faces.size(), pre.size());
    // pre.crops are already equalised: classify their descriptors (predict would equalise again).
    const auto crops = ferx::classify_features(ferx::exec::seq, m, ferx::describe_crops(ferx::exec::seq, m.spec, pre.crops));
    for (std::size_t i = 0; i < faces.size(); ++i) {
        BOOST_TEST((faces[i].face.box == pre.faces[i].box));
        BOOST_TEST(faces[i].label == crops.labels[i]);  // the same as classifying the preprocessed crops
        BOOST_REQUIRE_EQUAL(faces[i].scores.size(), 7u);
        for (std::size_t k = 0; k < 7; ++k) BOOST_TEST(faces[i].scores[k] == crops.scores(i, k));
    }
    BOOST_TEST(t.detect > 0);
    BOOST_TEST(t.describe > 0);
    BOOST_TEST(t.classify > 0);
    const auto largest = ferx::predict_faces(ferx::exec::seq, m, det, ferx::view<std::uint8_t>(g), ferx::face_source::largest);
    BOOST_TEST(largest.size() == 1u);
    const cv::Mat white = ferx::read_image((ferx_test::shared_dir() / "data" / "faces" / "white.png").string());
    BOOST_TEST(ferx::predict_faces(ferx::exec::par, m, det, ferx::view<std::uint8_t>(white)).empty());

    // Training on photographs of different sizes: the largest face of each; white.png (no face)
    // is left out, and the 7 posed photographs train a 7-class model that knows them again.
    std::vector<cv::Mat> photos;
    std::vector<ferx::image_view<const std::uint8_t>> views;
    const std::vector<std::string> names{"angry", "disgusted", "fearful", "happy", "neutral", "sad", "surprised"};
    for (const auto& n : names) photos.push_back(ferx::read_image((ferx_test::shared_dir() / "data" / "faces" / (n + ".jpg")).string()));
    photos.push_back(white);
    for (const auto& g : photos) views.push_back(ferx::view<std::uint8_t>(g));
    auto spec = ferx::parse_spec("hog:std:linear(C=10)");
    spec.preprocess.source = ferx::face_source::largest;
    const auto own = ferx::fit(ferx::exec::par, spec, views, {0, 1, 2, 3, 4, 5, 6, 0}, names, {nullptr, &det});
    for (std::size_t i = 0; i < names.size(); ++i) {
        const auto f = ferx::predict_faces(ferx::exec::seq, own, det, views[i], ferx::face_source::largest);
        BOOST_REQUIRE_EQUAL(f.size(), 1u);
        BOOST_TEST(f[0].label == static_cast<int>(i), names[i]);
    }
}

// predict_faces with a face tracker: the first frame is a full detection (the same faces, labels
// and scores as predict_faces with the detector), later frames classify the tracked boxes (the
// same as predicting their crops) under the same track ids.
BOOST_AUTO_TEST_CASE(tracked_frames, *boost::unit_test::precondition(ferx_test::shared_data_present()) * boost::unit_test::label("heavy")) {
    const auto det = ferx::load_face_detector();
    const cv::Mat g = ferx::read_image((ferx_test::shared_dir() / "data" / "faces" / "bbt1.jpg").string());
    const auto frame = ferx::view<std::uint8_t>(g);
    const auto& m = hog_rbf_model();
    ferx::tracker_params tp;
    tp.detect = m.spec.preprocess.detect;
    ferx::face_tracker tracker(tp);
    ferx::stage_times t;
    const auto first = ferx::predict_faces(ferx::exec::par, m, det, tracker, frame, &t);
    const auto plain = ferx::predict_faces(ferx::exec::seq, m, det, frame);
    BOOST_REQUIRE_GE(first.size(), 3u);
    BOOST_REQUIRE_EQUAL(first.size(), plain.size());
    std::set<int> ids;
    for (std::size_t i = 0; i < first.size(); ++i) {
        BOOST_TEST((first[i].face.box == plain[i].face.box));
        BOOST_TEST(first[i].label == plain[i].label);
        BOOST_TEST((first[i].scores == plain[i].scores));
        BOOST_TEST(plain[i].track == -1);
        ids.insert(first[i].track);
    }
    BOOST_TEST(ids.size() == first.size());
    BOOST_TEST(t.detect > 0);
    const auto& p = m.spec.preprocess;
    std::set<int> strong;  // faces of many neighbours: the local searches find them again
    for (const auto& f : first)
        if (f.face.neighbors >= 10) strong.insert(f.track);
    BOOST_REQUIRE_GE(strong.size(), 3u);
    for (int k = 1; k < 4; ++k) {  // the same picture again: tracked, not detected
        const auto faces = ferx::predict_faces(ferx::exec::seq, m, det, tracker, frame);
        std::set<int> seen;
        for (const auto& f : faces) seen.insert(f.track);
        for (int id : strong) BOOST_TEST(seen.count(id) == 1u, "track " << id << " in frame " << k);
        xt::xtensor<std::uint8_t, 3> crops({faces.size(), static_cast<std::size_t>(p.height), static_cast<std::size_t>(p.width)});
        for (std::size_t i = 0; i < faces.size(); ++i) {
            BOOST_TEST(ids.count(faces[i].track) == 1u);
            const auto c = ferx::crop_face(frame, faces[i].face.box, {p.pad, p.width, p.height});
            std::copy(c.begin(), c.end(), crops.begin() + static_cast<std::ptrdiff_t>(i * c.size()));
        }
        if (faces.empty()) continue;
        const auto ref = ferx::predict(ferx::exec::seq, m, crops);
        for (std::size_t i = 0; i < faces.size(); ++i) {
            BOOST_TEST(faces[i].label == ref.labels[i]);
            for (std::size_t j = 0; j < faces[i].scores.size(); ++j) BOOST_TEST(faces[i].scores[j] == ref.scores(i, j));
        }
    }
    BOOST_TEST(tracker.stats().full_detections == 1u);  // weak faces missed locally are kept max_misses frames
    BOOST_TEST(tracker.stats().local_searches >= 3 * strong.size());
    BOOST_CHECK_THROW(ferx::predict_faces(ferx::exec::seq, m, det, tracker, ferx::image_view<const std::uint8_t>()), ferx::error);
}

BOOST_AUTO_TEST_CASE(bad_training_and_prediction_input) {
    xt::xtensor<std::uint8_t, 3> imgs({6, 48, 48});
    for (std::size_t i = 0; i < imgs.size(); ++i) imgs.data()[i] = static_cast<std::uint8_t>((i * 7919) % 251);
    const std::vector<std::string> classes{"a", "b"};
    const ferx::label_vector y{0, 1, 0, 1, 0, 1};
    const auto spec = ferx::parse_spec("hog:std:linear");
    BOOST_CHECK_THROW(ferx::fit(ferx::exec::seq, spec, imgs, ferx::label_vector{0, 1}, classes), ferx::error);     // count
    BOOST_CHECK_THROW(ferx::fit(ferx::exec::seq, spec, imgs, ferx::label_vector{0, 1, 2, 0, 1, 0}, classes), ferx::error);  // range
    BOOST_CHECK_THROW(ferx::fit(ferx::exec::seq, spec, imgs, y, {"a", "b c"}), ferx::error);                        // name
    BOOST_CHECK_THROW(ferx::fit(ferx::exec::seq, spec, xt::xtensor<std::uint8_t, 3>({0, 48, 48}), {}, classes), ferx::error);
    auto all_faces = spec;
    all_faces.preprocess.source = ferx::face_source::all;
    BOOST_CHECK_THROW(ferx::fit(ferx::exec::seq, all_faces, imgs, y, classes), ferx::error);
    auto detect = spec;
    detect.preprocess.source = ferx::face_source::largest;
    BOOST_CHECK_THROW(ferx::fit(ferx::exec::seq, detect, imgs, y, classes), ferx::error);  // no detector given
    auto too_small = ferx::parse_spec("hog(block=64,cell=8):linear");
    BOOST_CHECK_THROW(ferx::fit(ferx::exec::seq, too_small, imgs, y, classes), ferx::error);  // 64-pixel blocks on 48x48
    auto chi2_std = ferx::parse_spec("hog:std:chi2");  // standardised features are negative
    BOOST_CHECK_THROW(ferx::fit(ferx::exec::seq, chi2_std, imgs, y, classes), ferx::error);

    const auto m = ferx::fit(ferx::exec::seq, spec, imgs, y, classes);
    BOOST_TEST(m.feature_dim == 900u);
    xt::xtensor<float, 2> f = ferx::describe_crops(ferx::exec::seq, m.spec, imgs);
    BOOST_TEST(ferx::classify_features(ferx::exec::seq, m, f).labels.size() == 6u);
    f(2, 5) = std::nanf("");
    BOOST_CHECK_THROW(ferx::classify_features(ferx::exec::seq, m, f), ferx::error);
    BOOST_CHECK_THROW(ferx::classify_features(ferx::exec::seq, m, xt::xtensor<float, 2>({2, 899}, 0.f)), ferx::error);
    BOOST_CHECK_THROW(ferx::predict(ferx::exec::seq, m, xt::xtensor<std::uint8_t, 3>({0, 48, 48})), ferx::error);
    // Crops of another size are resized to the model's crop size.
    const auto big = ferx::predict(ferx::exec::seq, m, xt::xtensor<std::uint8_t, 3>({2, 96, 80}, 100));
    BOOST_TEST(big.labels.size() == 2u);
    const auto det = ferx::face_detector{};
    BOOST_CHECK_THROW(ferx::predict_faces(ferx::exec::seq, m, det, ferx::image_view<const std::uint8_t>()), ferx::error);
    ferx::image<std::uint8_t> frame({64, 64}, 0);
    BOOST_CHECK_THROW(ferx::predict_faces(ferx::exec::seq, m, det, ferx::view(frame)), ferx::error);  // empty cascade
    BOOST_CHECK_THROW(ferx::predict_faces(ferx::exec::seq, m, det, ferx::view(frame), ferx::face_source::crop), ferx::error);
}

BOOST_AUTO_TEST_CASE(bad_model_files_are_refused_naming_the_file) {
    xt::xtensor<std::uint8_t, 3> imgs({8, 48, 48});
    for (std::size_t i = 0; i < imgs.size(); ++i) imgs.data()[i] = static_cast<std::uint8_t>((i * 7919) % 251);
    const auto m = ferx::fit(ferx::exec::seq, ferx::parse_spec("lbp_u2:std:rbf(C=10)"), imgs, {0, 1, 2, 0, 1, 2, 0, 1},
                             {"x", "y", "z"});
    const auto good = temp_file("good.ferx");
    ferx::save_pipeline(m, good.string());
    const std::string text = read_text(good);
    BOOST_REQUIRE(!text.empty());
    BOOST_TEST(ferx::load_pipeline(good.string()).feature_dim == m.feature_dim);

    check_refused(temp_file("missing.ferx"), "missing");
    const auto bad = temp_file("bad.ferx");
    write_text(bad, text.substr(0, text.size() / 2));
    check_refused(bad, "truncated");
    std::string flipped = text;
    flipped[flipped.size() / 3] = flipped[flipped.size() / 3] == '1' ? '2' : '1';
    write_text(bad, flipped);
    check_refused(bad, "corrupted (checksum)");
    write_text(bad, "not a model\n");
    check_refused(bad, "not a model");
    write_text(bad, edited_and_resealed(text, "feature_dim " + std::to_string(m.feature_dim), "feature_dim 17"));
    check_refused(bad, "mismatched feature dimension");
    write_text(bad, edited_and_resealed(text, "spec lbp_u2", "spec lbq_u2"));
    check_refused(bad, "unparseable spec");
    write_text(bad, edited_and_resealed(text, ":rbf(", ":poly("));
    check_refused(bad, "spec and SVM section of different kernels");
    write_text(bad, edited_and_resealed(text, "scaler standard", "scaler none"));
    check_refused(bad, "scaler section missing");
    write_text(bad, edited_and_resealed(text, "grid=6,", "grid=5,"));
    check_refused(bad, "descriptor length differs from the spec");
    write_text(bad, edited_and_resealed(text, "classes 3 x y z", "classes 1 x"));
    check_refused(bad, "too few classes");
    fs::remove(bad);
    fs::remove(good);
}

// The model shipped in models/ loads, and saving it again gives the file byte for byte: the
// format (and every section serialiser) is unchanged since that file was written.
BOOST_AUTO_TEST_CASE(shipped_model_loads_and_resaves_byte_for_byte) {
    const fs::path shipped = fs::path(__FILE__).parent_path().parent_path().parent_path() / "models" / "ckplus48_7class.ferx";
    BOOST_TEST_REQUIRE(fs::is_regular_file(shipped), shipped.string() << " is missing");
    const auto m = ferx::load_pipeline(shipped.string());
    BOOST_TEST(m.n_classes() == 7);
    const auto again = temp_file("shipped_resaved.ferx");
    ferx::save_pipeline(m, again.string());
    const std::string a = read_text(shipped), b = read_text(again);
    BOOST_TEST(a.size() == b.size());
    BOOST_TEST((a == b), "the re-saved model differs from " << shipped.string());
    fs::remove(again);
}

// Not a check of its own: writes the model the ferx-fer tests use (CTest fixture), when
// FERX_FER_TEST_MODEL names where to write it.
BOOST_AUTO_TEST_CASE(fer_model_fixture, *boost::unit_test::precondition(ferx_test::shared_data_present())) {
    const char* out = std::getenv("FERX_FER_TEST_MODEL");
    if (!out) {
        BOOST_TEST_MESSAGE("FERX_FER_TEST_MODEL not set: no fixture model written");
        return;
    }
    const auto list = ferx::ckplus48(ferx_test::shared_dir() / "data" / "ckplus48");
    const auto batch = ferx::load(list);
    const auto m = ferx::fit(ferx::exec::par, ferx::parse_spec("hog:std:rbf(C=10)"), batch.images, batch.labels, list.classes);
    ferx::save_pipeline(m, out);
    BOOST_TEST(ferx::load_pipeline(out).n_classes() == 7);
}

BOOST_AUTO_TEST_SUITE_END()
