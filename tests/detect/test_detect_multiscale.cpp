// The cascade detector against cv::CascadeClassifier::detectMultiScale on real images, par
// against seq, and bad input. (Its building blocks have their own files: the pyramid resize in
// tests/imgproc/test_pyramid_resize.cpp, rectangle grouping in test_group_rectangles.cpp.)
#include <ferx/core/opencv.hpp>
#include <ferx/detect/detect_multiscale.hpp>

#include <boost/test/unit_test.hpp>

#include "ferx_test.hpp"

#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>
#include <opencv2/videoio.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <tuple>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

const fs::path cascade_root = "/usr/share/opencv4";
const fs::path megamind = "/usr/share/doc/opencv-doc/examples/data/Megamind.avi";

/// The frontal-face cascades the parity tests cover.
const std::vector<std::string> face_cascades = {
    "haarcascades/haarcascade_frontalface_default.xml", "haarcascades/haarcascade_frontalface_alt.xml",
    "haarcascades/haarcascade_frontalface_alt2.xml",    "haarcascades/haarcascade_frontalface_alt_tree.xml",
    "lbpcascades/lbpcascade_frontalface.xml",           "lbpcascades/lbpcascade_frontalface_improved.xml"};

/// A detector pair: ferx's model and OpenCV's classifier of the same file.
struct cascade_pair {
    std::string name;
    ferx::cascade ours;
    std::unique_ptr<cv::CascadeClassifier> ref;
};

const std::vector<cascade_pair>& face_pairs() {
    static const std::vector<cascade_pair> pairs = [] {
        std::vector<cascade_pair> out;
        for (const auto& n : face_cascades) {
            const std::string path = (cascade_root / n).string();
            out.push_back({fs::path(n).stem().string(), ferx::load_cascade(path),
                           std::make_unique<cv::CascadeClassifier>(path)});
        }
        return out;
    }();
    return pairs;
}

/// Parity tally of one (cascade, image) comparison, and its sum over many.
struct parity {
    long images = 0, cv_boxes = 0, ferx_boxes = 0, matched = 0, exact = 0, exact_images = 0;
    void operator+=(const parity& o) {
        images += o.images;
        cv_boxes += o.cv_boxes;
        ferx_boxes += o.ferx_boxes;
        matched += o.matched;
        exact += o.exact;
        exact_images += o.exact_images;
    }
};

/// Detects with both, checks the criterion (every OpenCV box matched by a distinct ferx box with
/// IoU >= 0.9; no extra ferx boxes), and counts boxes equal in position, size and neighbours.
parity compare(const cascade_pair& cp, const cv::Mat& grey, const std::string& what) {
    std::vector<cv::Rect> ref;
    std::vector<int> ref_n;
    cp.ref->detectMultiScale(grey, ref, ref_n, 1.1, 3, 0, cv::Size(), cv::Size());
    const auto ours = ferx::detect_multiscale(ferx::exec::par, cp.ours, ferx::view<std::uint8_t>(grey), {});
    parity p;
    p.images = 1;
    p.cv_boxes = static_cast<long>(ref.size());
    p.ferx_boxes = static_cast<long>(ours.size());
    std::vector<bool> used(ours.size(), false);
    for (std::size_t i = 0; i < ref.size(); ++i) {
        const ferx::rect r{ref[i].x, ref[i].y, ref[i].width, ref[i].height};
        std::size_t best = ours.size();
        double best_iou = 0;
        for (std::size_t j = 0; j < ours.size(); ++j)
            if (!used[j] && ferx::iou(r, ours[j].box) > best_iou) {
                best_iou = ferx::iou(r, ours[j].box);
                best = j;
            }
        if (best < ours.size() && best_iou >= 0.9) {
            used[best] = true;
            ++p.matched;
            p.exact += ours[best].box == r && ours[best].neighbors == ref_n[i];
        } else {
            BOOST_ERROR(cp.name << " on " << what << ": OpenCV box " << ref[i] << " has no ferx match (best IoU "
                                << best_iou << ")");
        }
    }
    BOOST_TEST(ours.size() == ref.size(), cp.name << " on " << what << ": ferx " << ours.size() << " boxes, OpenCV "
                                                  << ref.size());
    p.exact_images = p.exact == p.cv_boxes && p.ferx_boxes == p.cv_boxes;
    return p;
}

void report(const std::string& set, const std::map<std::string, parity>& by_cascade) {
    for (const auto& [name, p] : by_cascade)
        BOOST_TEST_MESSAGE("parity " << set << " / " << name << ": " << p.images << " images, OpenCV " << p.cv_boxes
                                     << " boxes, ferx " << p.ferx_boxes << ", matched (IoU>=0.9) " << p.matched
                                     << ", identical (box and neighbours) " << p.exact << ", identical images "
                                     << p.exact_images);
}

void run_parity(const std::string& set, const std::vector<std::pair<std::string, cv::Mat>>& images) {
    std::map<std::string, parity> tally;
    for (const auto& cp : face_pairs())
        for (const auto& [what, img] : images) tally[cp.name] += compare(cp, img, what);
    report(set, tally);
}

cv::Mat upscaled(const fs::path& p) {
    cv::Mat g = ferx::read_image(p.string()), big;
    cv::resize(g, big, cv::Size(), 4.0, 4.0, cv::INTER_LINEAR);
    return big;
}

/// Every k-th path of a dataset's index.csv (first column), for a deterministic subset.
std::vector<fs::path> every_kth(const fs::path& root, std::size_t k) {
    std::ifstream in(root / "index.csv");
    std::vector<fs::path> out;
    std::string line;
    std::getline(in, line);  // header
    for (std::size_t i = 0; std::getline(in, line); ++i)
        if (i % k == 0) out.push_back(root / line.substr(0, line.find(',')));
    return out;
}


}  // namespace

BOOST_AUTO_TEST_SUITE(detect_multiscale)

// par gives seq's raw windows and detections exactly, order included: with 3 threads (levels as
// tasks) and with 16 (fewer than 4 levels a thread: every level scanned in bands of rows).
BOOST_AUTO_TEST_CASE(par_equals_seq, *boost::unit_test::precondition(ferx_test::opencv_cascades_present())) {
    ferx::thread_pool small(3), large(16);
    for (ferx::thread_pool* pool : {&small, &large})
        for (const char* n : {"haarcascades/haarcascade_frontalface_alt2.xml", "haarcascades/haarcascade_eye_tree_eyeglasses.xml",
                              "lbpcascades/lbpcascade_frontalface_improved.xml"}) {
            const auto c = ferx::load_cascade((cascade_root / n).string());
            for (std::uint32_t seed = 0; seed < 2; ++seed) {
                const cv::Mat img = ferx_test::random_grey(180 + 37 * static_cast<int>(seed), 240, seed, true);
                ferx::detect_params p;
                p.min_neighbors = 0;
                const auto v = ferx::view<std::uint8_t>(img);
                const auto a = ferx::detect_candidates(ferx::exec::seq, c, v, p);
                const auto b = ferx::detect_candidates(ferx::exec::par.on(*pool), c, v, p);
                BOOST_TEST_REQUIRE(a.size() == b.size(), n << " with " << pool->size() << " threads");
                for (std::size_t i = 0; i < a.size(); ++i) BOOST_TEST((a[i] == b[i]));
                const auto ga = ferx::detect_multiscale(ferx::exec::seq, c, v, {});
                const auto gb = ferx::detect_multiscale(ferx::exec::par.on(*pool), c, v, {});
                BOOST_TEST_REQUIRE(ga.size() == gb.size());
                for (std::size_t i = 0; i < ga.size(); ++i)
                    BOOST_TEST((ga[i].box == gb[i].box && ga[i].neighbors == gb[i].neighbors));
            }
        }
    // Batches: one result per frame, each equal to seq's.
    const auto c = ferx::load_cascade((cascade_root / "lbpcascades/lbpcascade_frontalface.xml").string());
    std::vector<cv::Mat> frames;
    std::vector<ferx::image_view<const std::uint8_t>> views;
    for (std::uint32_t i = 0; i < 5; ++i) frames.push_back(ferx_test::random_grey(100 + 10 * static_cast<int>(i), 130, 40 + i, true));
    for (const auto& f : frames) views.push_back(ferx::view<std::uint8_t>(f));
    const auto batch = ferx::detect_multiscale_batch(ferx::exec::par.on(small), c, views, {1.1, 0});
    BOOST_TEST_REQUIRE(batch.size() == frames.size());
    for (std::size_t i = 0; i < frames.size(); ++i) {
        const auto one = ferx::detect_multiscale(ferx::exec::seq, c, views[i], {1.1, 0});
        BOOST_TEST_REQUIRE(batch[i].size() == one.size());
        for (std::size_t j = 0; j < one.size(); ++j) BOOST_TEST((batch[i][j].box == one[j].box));
    }
}

// The vector first stages (ferx/detect/detail/cascade_simd.hpp, where the CPU has AVX-512) give
// the scalar scan's raw windows exactly, order included: window strides 1 and 2 (the default
// rule's), 3 (gathers), real photographs and random images, stump cascades with and without a
// third rectangle. Without AVX-512 both runs are scalar and the test still holds.
BOOST_AUTO_TEST_CASE(vector_stages_equal_the_scalar_scan, *boost::unit_test::precondition(ferx_test::opencv_cascades_present())) {
    std::vector<std::pair<std::string, cv::Mat>> images;
    for (std::uint32_t seed = 0; seed < 2; ++seed)
        images.emplace_back("random " + std::to_string(seed), ferx_test::random_grey(171 + 29 * static_cast<int>(seed), 233, seed, true));
    if (std::filesystem::is_directory(ferx_test::shared_dir() / "data/faces")) {
        cv::Mat g;
        cv::resize(ferx::read_image((ferx_test::shared_dir() / "data/faces/bbt1.jpg").string()), g, cv::Size(), 0.5, 0.5, cv::INTER_AREA);
        images.emplace_back("bbt1 half size", g);
    }
    for (const char* n : {"haarcascades/haarcascade_frontalface_default.xml", "haarcascades/haarcascade_frontalface_alt2.xml",
                          "haarcascades/haarcascade_eye.xml"}) {
        const auto c = ferx::load_cascade((cascade_root / n).string());
        for (const auto& [name, img] : images)
            for (int step : {0, 1, 2, 3}) {
                ferx::detect_params p;
                p.min_neighbors = 0;
                p.step = step;
                const auto v = ferx::view<std::uint8_t>(img);
                ferx::detail::cascade_simd_allowed() = false;
                const auto scalar = ferx::detect_candidates(ferx::exec::seq, c, v, p);
                ferx::detail::cascade_simd_allowed() = true;
                const auto vec = ferx::detect_candidates(ferx::exec::seq, c, v, p);
                BOOST_TEST_REQUIRE(scalar.size() == vec.size(), n << " on " << name << ", step " << step);
                for (std::size_t i = 0; i < scalar.size(); ++i) BOOST_TEST((scalar[i] == vec[i]));
                BOOST_TEST_MESSAGE(n << " on " << name << ", step " << step << ": " << scalar.size() << " raw windows");
            }
    }
}

// Raw windows (min_neighbors 0: no grouping) equal OpenCV's as a multiset, with min/max sizes.
BOOST_AUTO_TEST_CASE(raw_windows_and_size_limits_match_opencv,
                     *boost::unit_test::precondition(ferx_test::opencv_cascades_present()) *
                         boost::unit_test::precondition(ferx_test::shared_data_present())) {
    cv::Mat img;
    cv::resize(ferx::read_image((ferx_test::shared_dir() / "data/faces/bbt1.jpg").string()), img, cv::Size(), 0.5, 0.5,
               cv::INTER_AREA);
    for (const char* n : {"haarcascades/haarcascade_frontalface_default.xml", "lbpcascades/lbpcascade_frontalface.xml"}) {
        const std::string path = (cascade_root / n).string();
        const auto c = ferx::load_cascade(path);
        cv::CascadeClassifier ref(path);
        for (const auto& [mn, mx] : std::vector<std::pair<int, int>>{{0, 0}, {30, 0}, {0, 60}, {28, 40}}) {
            std::vector<cv::Rect> r;
            ref.detectMultiScale(img, r, 1.1, 0, 0, cv::Size(mn, mn), cv::Size(mx, mx));
            ferx::detect_params p;
            p.min_neighbors = 0;
            p.min_width = p.min_height = mn;
            p.max_width = p.max_height = mx;
            const auto ours = ferx::detect_multiscale(ferx::exec::seq, c, ferx::view<std::uint8_t>(img), p);
            std::multiset<std::tuple<int, int, int, int>> a, b;
            for (const auto& x : r) a.emplace(x.x, x.y, x.width, x.height);
            for (const auto& d : ours) b.emplace(d.box.x, d.box.y, d.box.width, d.box.height);
            BOOST_TEST((a == b), n << " min " << mn << " max " << mx << ": OpenCV " << a.size() << " windows, ferx "
                                   << b.size());
            BOOST_TEST(!a.empty());
        }
    }
}

BOOST_AUTO_TEST_CASE(bad_input, *boost::unit_test::precondition(ferx_test::opencv_cascades_present())) {
    const auto c = ferx::load_cascade((cascade_root / "lbpcascades/lbpcascade_frontalface.xml").string());
    const cv::Mat img = ferx_test::random_grey(60, 80, 1, true);
    const auto v = ferx::view<std::uint8_t>(img);
    const auto throws = [&](const ferx::detect_params& p, const std::string& part) {
        try {
            (void)ferx::detect_multiscale(ferx::exec::seq, c, v, p);
            BOOST_ERROR("no ferx::error (" << part << ")");
        } catch (const ferx::error& e) {
            BOOST_TEST(std::string(e.what()).find(part) != std::string::npos, e.what());
        }
    };
    // Empty image.
    BOOST_CHECK_THROW(ferx::detect_multiscale(ferx::exec::seq, c, ferx::image_view<const std::uint8_t>{}, {}), ferx::error);
    std::vector<std::uint8_t> none;
    BOOST_CHECK_THROW(ferx::detect_multiscale(ferx::exec::seq, c, ferx::image_view<const std::uint8_t>(none.data(), {0, 5}), {}),
                      ferx::error);
    // Empty cascade.
    BOOST_CHECK_THROW(ferx::detect_multiscale(ferx::exec::seq, ferx::cascade{}, v, {}), ferx::error);
    // An image smaller than the window: no detections (as OpenCV), not an error.
    const cv::Mat tiny = ferx_test::random_grey(20, 30, 2, false);
    BOOST_TEST(ferx::detect_multiscale(ferx::exec::seq, c, ferx::view<std::uint8_t>(tiny), {}).empty());
    BOOST_TEST(ferx::detect_multiscale(ferx::exec::par, c, ferx::view<std::uint8_t>(tiny), {}).empty());
    ferx::detect_params p;
    p.min_width = p.min_height = 50;
    p.max_width = p.max_height = 40;
    throws(p, "exceeds max size");
    p = {};
    p.scale_factor = 1.0;
    throws(p, "scale_factor");
    p.scale_factor = std::nan("");
    throws(p, "scale_factor");
    p = {};
    p.min_neighbors = -1;
    throws(p, "min_neighbors");
    p = {};
    p.step = -2;
    throws(p, "step");
    p = {};
    p.scale_factor = 1.000001;
    throws(p, "pyramid levels");
    // Columns not packed.
    BOOST_CHECK_THROW(ferx::detect_multiscale(ferx::exec::seq, c,
                                              ferx::image_view<const std::uint8_t>(img.ptr<std::uint8_t>(), {30, 40}, {80, 2}), {}),
                      ferx::error);
}

// Parity on a few real images of ../shared (fast; the full sets are the heavy cases below).
BOOST_AUTO_TEST_CASE(parity_faces_sample,
                     *boost::unit_test::precondition(ferx_test::opencv_cascades_present()) *
                         boost::unit_test::precondition(ferx_test::shared_data_present())) {
    std::vector<std::pair<std::string, cv::Mat>> images;
    for (const char* f : {"happy.jpg", "white.png"})
        images.emplace_back(f, ferx::read_image((ferx_test::shared_dir() / "data/faces" / f).string()));
    run_parity("faces sample", images);
}

BOOST_AUTO_TEST_CASE(parity_every_face_image,
                     *boost::unit_test::label("heavy") * boost::unit_test::precondition(ferx_test::opencv_cascades_present()) *
                         boost::unit_test::precondition(ferx_test::shared_data_present())) {
    std::vector<std::pair<std::string, cv::Mat>> images;
    for (const auto& f : ferx_test::image_files(ferx_test::shared_dir() / "data/faces"))
        images.emplace_back(f.filename().string(), ferx::read_image(f.string()));
    BOOST_TEST(images.size() >= 18u);
    run_parity("faces", images);
}

BOOST_AUTO_TEST_CASE(parity_megamind_every_10th_frame,
                     *boost::unit_test::label("heavy") * boost::unit_test::precondition(ferx_test::opencv_cascades_present()) *
                         boost::unit_test::precondition(ferx_test::file_present{megamind, "Megamind.avi (Debian package opencv-doc)"})) {
    // Present but unreadable (no video backend) is a failure, not a skip.
    cv::VideoCapture cap(megamind.string());
    BOOST_REQUIRE_MESSAGE(cap.isOpened(), "OpenCV cannot read " << megamind.string());
    std::vector<std::pair<std::string, cv::Mat>> frames;
    cv::Mat frame;
    for (int i = 0; cap.read(frame); ++i)
        if (i % 10 == 0) {
            cv::Mat grey;
            cv::cvtColor(frame, grey, cv::COLOR_BGR2GRAY);
            frames.emplace_back("frame " + std::to_string(i), grey);
        }
    BOOST_TEST(frames.size() >= 20u);
    run_parity("Megamind every 10th frame", frames);
}

BOOST_AUTO_TEST_CASE(parity_ckplus48_and_fer2013_upscaled_4x,
                     *boost::unit_test::label("heavy") * boost::unit_test::precondition(ferx_test::opencv_cascades_present()) *
                         boost::unit_test::precondition(ferx_test::shared_data_present())) {
    std::vector<std::pair<std::string, cv::Mat>> ck, fer;
    for (const auto& p : every_kth(ferx_test::shared_dir() / "data/ckplus48", 10)) ck.emplace_back(p.filename().string(), upscaled(p));
    for (const auto& p : every_kth(ferx_test::shared_dir() / "data/fer2013", 300)) fer.emplace_back(p.filename().string(), upscaled(p));
    BOOST_TEST(ck.size() >= 90u);
    BOOST_TEST(fer.size() >= 100u);
    run_parity("CK+48 every 10th, 4x", ck);
    run_parity("FER2013 every 300th, 4x", fer);
}

BOOST_AUTO_TEST_SUITE_END()
