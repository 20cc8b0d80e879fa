// The face tracker: on Megamind and on a synthetic video of a moving face, tracked boxes agree with
// per-frame detection, identities persist, lost faces are dropped and re-detected; seq == par;
// frame-size changes restart the tracks; bad parameters and frames give ferx::error.
#include <ferx/core/opencv.hpp>
#include <ferx/detect/face_crop.hpp>
#include <ferx/detect/face_tracker.hpp>

#include <boost/test/unit_test.hpp>

#include "ferx_test.hpp"

#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace tracker_test {

namespace fs = std::filesystem;

const fs::path megamind = "/usr/share/doc/opencv-doc/examples/data/Megamind.avi";
const std::string haar_default = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml";

ferx::detect_params bench_detect_params() {
    ferx::detect_params d;
    d.min_width = d.min_height = 30;
    return d;
}

const ferx::cascade& face_cascade() {
    static const ferx::cascade c = ferx::load_cascade(haar_default);
    return c;
}

/// Megamind.avi from frame 60 on, n frames, centre-cropped to 640x480, grey.
std::vector<cv::Mat> megamind_frames(int n) {
    cv::VideoCapture cap(megamind.string());
    BOOST_REQUIRE_MESSAGE(cap.isOpened(), "OpenCV cannot read " << megamind.string());
    std::vector<cv::Mat> out;
    cv::Mat f;
    for (int i = 0; cap.read(f) && static_cast<int>(out.size()) < n; ++i) {
        if (i < 60) continue;
        cv::Mat g;
        cv::cvtColor(f(cv::Rect((f.cols - 640) / 2, (f.rows - 480) / 2, 640, 480)), g, cv::COLOR_BGR2GRAY);
        out.push_back(g);
    }
    return out;
}

ferx::image_view<const std::uint8_t> v(const cv::Mat& m) { return ferx::view<std::uint8_t>(m); }

/// Best IoU of `box` with any of `dets`.
double best_iou(const ferx::rect& box, const std::vector<ferx::detection>& dets) {
    double b = 0;
    for (const auto& d : dets) b = std::max(b, ferx::iou(box, d.box));
    return b;
}

std::vector<ferx::face_track> found_tracks(const std::vector<ferx::face_track>& all) {
    std::vector<ferx::face_track> out;
    for (const auto& t : all)
        if (t.misses == 0) out.push_back(t);
    return out;
}

/// A video of one face photograph (the largest face of data/faces/face1.png with a margin, 112
/// pixels wide) moving over a flat grey 640x480 background: `moving` frames from (60, 80) at
/// (+5, +2) pixels per frame, `blank` frames without it, then `back` frames at (400, 250) still.
std::vector<cv::Mat> synthetic_video(int moving, int blank, int back) {
    cv::Mat photo = ferx::read_image((ferx_test::shared_dir() / "data/faces/face1.png").string());
    const auto faces = ferx::detect_multiscale(ferx::exec::seq, face_cascade(), v(photo), bench_detect_params());
    BOOST_REQUIRE_MESSAGE(!faces.empty(), "no face found in face1.png");
    const ferx::rect r = ferx::pad_box(ferx::largest_face(faces)->box, 0.3, photo.rows, photo.cols);
    cv::Mat patch;
    cv::resize(photo(cv::Rect(r.x, r.y, r.width, r.height)), patch, cv::Size(112, 112 * r.height / r.width), 0, 0,
               cv::INTER_AREA);
    std::vector<cv::Mat> out;
    const auto put = [&](int x, int y) {
        cv::Mat f(480, 640, CV_8U, cv::Scalar(128));
        if (x >= 0) patch.copyTo(f(cv::Rect(x, y, patch.cols, patch.rows)));
        out.push_back(f);
    };
    for (int i = 0; i < moving; ++i) put(60 + 5 * i, 80 + 2 * i);
    for (int i = 0; i < blank; ++i) put(-1, -1);
    for (int i = 0; i < back; ++i) put(400, 250);
    return out;
}

BOOST_AUTO_TEST_SUITE(face_tracker)

BOOST_AUTO_TEST_CASE(bad_parameters_and_frames) {
    const auto bad = [](auto change) {
        ferx::tracker_params p;
        change(p);
        BOOST_CHECK_THROW(ferx::face_tracker{p}, ferx::error);
    };
    bad([](ferx::tracker_params& p) { p.detect_every = 0; });
    bad([](ferx::tracker_params& p) { p.match_iou = 0; });
    bad([](ferx::tracker_params& p) { p.match_iou = 1.5; });
    bad([](ferx::tracker_params& p) { p.match_iou = std::nan(""); });
    bad([](ferx::tracker_params& p) { p.search_pad = -0.1; });
    bad([](ferx::tracker_params& p) { p.search_scale = 1.0; });
    bad([](ferx::tracker_params& p) { p.search_step = -1; });
    bad([](ferx::tracker_params& p) { p.max_misses = -1; });
    bad([](ferx::tracker_params& p) { p.duplicate_iou = 0; });
    BOOST_CHECK_NO_THROW(ferx::face_tracker{});

    ferx::cascade c = ferx::load_cascade(haar_default);
    ferx::face_tracker t;
    BOOST_CHECK_THROW(t.update(ferx::exec::seq, c, ferx::image_view<const std::uint8_t>{}), ferx::error);
    std::vector<std::uint8_t> pixels(40 * 40, 0);
    const ferx::image_view<const std::uint8_t> strided(pixels.data(), {20, 20}, {40, 2});
    BOOST_CHECK_THROW(t.update(ferx::exec::seq, c, strided), ferx::error);
    BOOST_TEST(t.stats().frames == 0u);
    // A frame smaller than the window: no tracks, no error.
    const ferx::image_view<const std::uint8_t> tiny(pixels.data(), {10, 10});
    BOOST_TEST(t.update(ferx::exec::par, c, tiny).empty());
}

BOOST_AUTO_TEST_CASE(megamind_tracks_agree_with_per_frame_detection,
                     *boost::unit_test::label("heavy") * boost::unit_test::precondition(ferx_test::opencv_cascades_present()) *
                         boost::unit_test::precondition(ferx_test::file_present{megamind, "Megamind.avi (Debian package opencv-doc)"})) {
    const auto frames = megamind_frames(150);
    BOOST_REQUIRE(frames.size() == 150u);
    ferx::tracker_params p;
    p.detect = bench_detect_params();
    ferx::face_tracker seq(p), par(p);
    long tracked = 0, agree = 0, overlapping = 0, dets = 0, covered = 0;
    std::vector<int> track_frames;  // frames each id was found in
    for (const cv::Mat& f : frames) {
        const auto& ts = seq.update(ferx::exec::seq, face_cascade(), v(f));
        const auto& tp = par.update(ferx::exec::par, face_cascade(), v(f));
        BOOST_REQUIRE(ts.size() == tp.size());
        for (std::size_t i = 0; i < ts.size(); ++i) {
            BOOST_TEST(ts[i].id == tp[i].id);
            BOOST_TEST((ts[i].box == tp[i].box));
            BOOST_TEST(ts[i].misses == tp[i].misses);
        }
        const auto per_frame = ferx::detect_multiscale(ferx::exec::par, face_cascade(), v(f), p.detect);
        for (const auto& t : found_tracks(ts)) {
            ++tracked;
            if (static_cast<int>(track_frames.size()) <= t.id) track_frames.resize(t.id + 1, 0);
            ++track_frames[t.id];
            const double b = best_iou(t.box, per_frame);
            if (b > 0) ++overlapping;
            if (b >= 0.7) ++agree;
        }
        for (const auto& d : per_frame) {
            ++dets;
            double b = 0;
            for (const auto& t : found_tracks(ts)) b = std::max(b, ferx::iou(t.box, d.box));
            if (b >= 0.7) ++covered;
        }
    }
    const auto& s = seq.stats();
    BOOST_TEST_MESSAGE("Megamind 150 frames: " << tracked << " tracked boxes, " << agree << " within IoU 0.7 of a per-frame "
                       << "detection (" << overlapping << " overlap one); " << covered << " of " << dets
                       << " per-frame detections covered; " << s.full_detections << " full detections, "
                       << s.local_searches << " local searches, " << s.tracks_started << " tracks");
    BOOST_TEST(s.frames == frames.size());
    BOOST_TEST(s.local_searches > 0u);
    BOOST_TEST(s.full_detections >= frames.size() / p.detect_every);
    BOOST_TEST(s.full_detections < frames.size() / 2);  // most frames are tracked, not scanned whole
    BOOST_REQUIRE(tracked > 0);
    // Tracked boxes sit on per-frame detections: at least 90 % of those overlapping one (measured:
    // 189 of 205; the others are faces the full scan groups differently, at the cascade's margin).
    BOOST_TEST(agree >= overlapping * 90 / 100);
    BOOST_TEST(overlapping >= tracked * 95 / 100);
    // Most per-frame detections are covered by a track (the detector itself flickers).
    BOOST_TEST(covered >= dets * 80 / 100);
    // Identities persist: the longest track spans at least a third of the video.
    BOOST_TEST(*std::max_element(track_frames.begin(), track_frames.end()) >= 50);
}

BOOST_AUTO_TEST_CASE(synthetic_moving_face_lost_and_found,
                     *boost::unit_test::precondition(ferx_test::opencv_cascades_present()) *
                         boost::unit_test::precondition(ferx_test::shared_data_present())) {
    const int moving = 40, blank = 8, back = 12;
    const auto frames = synthetic_video(moving, blank, back);
    ferx::tracker_params p;
    p.detect = bench_detect_params();
    ferx::face_tracker tracker(p);
    std::set<int> first_ids, second_ids;
    int first_found = 0, blank_left = 0, back_at = -1;
    for (int i = 0; i < static_cast<int>(frames.size()); ++i) {
        const auto found = found_tracks(tracker.update(ferx::exec::seq, face_cascade(), v(frames[i])));
        const auto per_frame = ferx::detect_multiscale(ferx::exec::seq, face_cascade(), v(frames[i]), p.detect);
        if (i < moving) {
            BOOST_TEST_INFO("moving frame " << i);
            BOOST_TEST(per_frame.size() == 1u);  // the video is a fair test: the detector sees the face
            first_found += found.size() == 1u ? 1 : 0;
            for (const auto& t : found) {
                first_ids.insert(t.id);
                BOOST_TEST(best_iou(t.box, per_frame) >= 0.7);
            }
        } else if (i < moving + blank) {
            BOOST_TEST(per_frame.empty());
            if (!tracker.tracks().empty()) blank_left = i - moving + 1;
        } else {
            for (const auto& t : found) {
                second_ids.insert(t.id);
                BOOST_TEST(best_iou(t.box, per_frame) >= 0.7);
                if (back_at < 0) back_at = i - moving - blank;
            }
        }
    }
    BOOST_TEST(first_found == moving);             // found in every frame while it moves
    BOOST_TEST(first_ids.size() == 1u);            // one identity throughout
    BOOST_TEST(blank_left <= p.max_misses);        // dropped after max_misses missed frames
    BOOST_TEST(back_at >= 0);
    BOOST_TEST(back_at < p.detect_every);          // re-detected at the next full detection
    BOOST_TEST(second_ids.size() == 1u);
    BOOST_TEST((first_ids != second_ids));         // ids are never reused
    BOOST_TEST(tracker.stats().full_detections < frames.size() / 2);
}

BOOST_AUTO_TEST_CASE(frame_size_change_restarts_the_tracks,
                     *boost::unit_test::precondition(ferx_test::opencv_cascades_present()) *
                         boost::unit_test::precondition(ferx_test::shared_data_present())) {
    const auto frames = synthetic_video(6, 0, 0);
    ferx::tracker_params p;
    p.detect = bench_detect_params();
    ferx::face_tracker tracker(p);
    for (const auto& f : frames) tracker.update(ferx::exec::seq, face_cascade(), v(f));
    BOOST_REQUIRE(found_tracks(tracker.tracks()).size() == 1u);
    const int old_id = tracker.tracks()[0].id;
    const std::size_t full_before = tracker.stats().full_detections;
    cv::Mat half;
    cv::resize(frames.back(), half, cv::Size(320, 240), 0, 0, cv::INTER_AREA);
    const auto found = found_tracks(tracker.update(ferx::exec::seq, face_cascade(), v(half)));
    BOOST_TEST(tracker.stats().full_detections == full_before + 1);  // a new size is scanned whole
    BOOST_REQUIRE(found.size() == 1u);
    BOOST_TEST(found[0].id != old_id);
    BOOST_TEST(found[0].age == 0);
    BOOST_TEST(found[0].box.x + found[0].box.width <= 320);
    tracker.reset();
    BOOST_TEST(tracker.tracks().empty());
    tracker.update(ferx::exec::seq, face_cascade(), v(half));
    BOOST_TEST(tracker.stats().full_detections == full_before + 2);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace tracker_test
