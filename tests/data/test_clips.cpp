// Clip datasets: CK+48 as 327 clips (subject-disjoint folds), video folders of real videos and
// frame folders, the frame selections, and bad input.
#include <ferx/data/clips.hpp>
#include <ferx/learn/splits.hpp>

#include <boost/test/unit_test.hpp>

#include "data_test.hpp"

#include <opencv2/videoio.hpp>

#include <set>

namespace {
const fs::path mmaction2_dir() { return ferx_test::shared_dir() / "data/video/mmaction2"; }
}  // namespace

BOOST_AUTO_TEST_SUITE(clips)

BOOST_AUTO_TEST_CASE(frame_selections_by_hand) {
    using ferx::frame_selection;
    using v = std::vector<ferx::index_t>;
    BOOST_TEST(ferx::select_frames(4, frame_selection::all()) == (v{0, 1, 2, 3}));
    BOOST_TEST(ferx::select_frames(5, frame_selection::second_half()) == (v{2, 3, 4}));
    BOOST_TEST(ferx::select_frames(3, frame_selection::second_half()) == (v{1, 2}));
    BOOST_TEST(ferx::select_frames(10, frame_selection::uniform(4)) == (v{0, 3, 6, 9}));
    BOOST_TEST(ferx::select_frames(3, frame_selection::uniform(5)) == (v{0, 0, 1, 2, 2}));  // 0, .5, 1, 1.5, 2: ties to even
    BOOST_TEST(ferx::select_frames(7, frame_selection::uniform(1)) == (v{3}));
    // TSN test ticks: segment centres; 300 frames in 3 segments: 50, 150, 250
    BOOST_TEST(ferx::select_frames(300, frame_selection::tsn(3)) == (v{50, 150, 250}));
    BOOST_TEST(ferx::select_frames(2, frame_selection::tsn(3)) == (v{0, 1, 1}));
    // TSN training offsets: one frame inside each segment, reproducible with the seed
    const auto a = ferx::select_frames(300, frame_selection::tsn(3, 7));
    const auto b = ferx::select_frames(300, frame_selection::tsn(3, 7));
    BOOST_TEST(a == b);
    for (int k = 0; k < 3; ++k) {
        BOOST_TEST(a[std::size_t(k)] >= 100 * k);
        BOOST_TEST(a[std::size_t(k)] < 100 * (k + 1));
    }
    std::set<std::vector<ferx::index_t>> draws;
    std::mt19937 rng(1);
    for (int i = 0; i < 20; ++i) draws.insert(ferx::select_frames(300, frame_selection::tsn(3, 1), &rng));
    BOOST_TEST(draws.size() > 15u);  // offsets differ from clip to clip
    BOOST_CHECK_THROW(ferx::select_frames(0, frame_selection::all()), ferx::error);
    BOOST_CHECK_THROW(ferx::select_frames(5, frame_selection::uniform(0)), ferx::error);
    BOOST_CHECK_THROW(ferx::select_frames(5, frame_selection::tsn(0)), ferx::error);
}

BOOST_AUTO_TEST_CASE(ckplus48_as_clips, *boost::unit_test::precondition(ferx_test::shared_data_present{})) {
    const auto l = ferx::ckplus48_clips(ferx_test::shared_dir() / "data/ckplus48");
    BOOST_TEST(l.size() == 327u);
    BOOST_TEST(l.classes.size() == 7u);
    std::set<int> subjects(l.groups.begin(), l.groups.end());
    BOOST_TEST(subjects.size() == 118u);
    for (std::size_t i = 0; i < l.size(); ++i) {
        BOOST_TEST_REQUIRE(l.clips[i].frames.size() == 3u);
        // consecutive frame numbers, in order, of the clip's own sequence
        const auto stem = [&](int k) { return fs::path(l.clips[i].frames[std::size_t(k)]).stem().string(); };
        BOOST_TEST(stem(0) < stem(1));
        BOOST_TEST(stem(1) < stem(2));
        BOOST_TEST(stem(0).rfind(l.names[i], 0) == 0u);
    }
    const auto b = ferx::load_clips(l);
    BOOST_TEST(b.clips.shape()[0] == 327u);
    BOOST_TEST(b.clips.shape()[1] == 3u);
    BOOST_TEST(b.clips.shape()[2] == 48u);
    // the first clip's frames are its files, decoded as grey
    const cv::Mat f1 = ferx::read_image(l.clips[0].frames[1]);
    BOOST_TEST(int(b.clips(0, 1, 10, 20)) == int(f1.at<std::uint8_t>(10, 20)));
    // subject-independent folds over clips: no subject in two folds
    const auto folds = ferx::group_kfold(l.groups, 10);
    for (const auto& f : folds) {
        std::set<int> train, test;
        for (auto i : f.train) train.insert(l.groups[std::size_t(i)]);
        for (auto i : f.test) test.insert(l.groups[std::size_t(i)]);
        for (int s : test) BOOST_TEST(train.count(s) == 0u);
    }
}

// Frames are ordered by index.csv's frame column, not by their file names.
BOOST_AUTO_TEST_CASE(ckplus48_clips_follow_the_index_frame_column) {
    ferx_test::temp_dir dir("ferx_clips_ck");
    for (const char* f : {"a.png", "b.png", "c.png", "d.png"}) data_test::write_image(dir.path / "happy" / f, data_test::pattern(8, 8, f[0]));
    data_test::write_text(dir.path / "index.csv",
                          "path,label,subject,sequence,frame\n"
                          "happy/a.png,happy,S1,S1_1,30\n"
                          "happy/b.png,happy,S1,S1_1,10\n"
                          "happy/c.png,happy,S1,S1_1,20\n"
                          "happy/d.png,happy,S2,S2_1,5\n");
    const auto l = ferx::ckplus48_clips(dir.path);
    BOOST_TEST_REQUIRE(l.size() == 2u);
    const auto name = [&](std::size_t c, std::size_t k) { return fs::path(l.clips[c].frames[k]).filename().string(); };
    BOOST_TEST(name(0, 0) == "b.png");
    BOOST_TEST(name(0, 1) == "c.png");
    BOOST_TEST(name(0, 2) == "a.png");
    BOOST_TEST(l.names[1] == "S2_1");
    BOOST_TEST((l.groups == std::vector<int>{0, 1}));
    // one frame number listed twice: an error naming the index
    data_test::write_text(dir.path / "index.csv",
                          "path,label,subject,sequence,frame\nhappy/a.png,happy,S1,S1_1,3\nhappy/b.png,happy,S1,S1_1,3\n");
    try {
        ferx::ckplus48_clips(dir.path);
        BOOST_ERROR("no error for a frame listed twice");
    } catch (const ferx::error& e) {
        BOOST_TEST(e.file() == (dir.path / "index.csv").string());
    }
}

BOOST_AUTO_TEST_CASE(video_folder_of_videos_and_frames,
                     *boost::unit_test::precondition(ferx_test::file_present{mmaction2_dir() / "test.mp4", "mmaction2 test.mp4 (../shared)"})) {
    ferx_test::temp_dir dir("ferx_clips");
    fs::create_directories(dir.path / "a");
    fs::create_directories(dir.path / "b/frames");
    fs::create_symlink(mmaction2_dir() / "test.mp4", dir.path / "a/one.mp4");
    fs::create_symlink(mmaction2_dir() / "test.avi", dir.path / "a/two.avi");
    for (int i = 1; i <= 10; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "img_%05d.jpg", i);
        fs::create_symlink(mmaction2_dir() / "imgs" / name, dir.path / "b/frames" / name);
    }
    const auto l = ferx::video_folder(dir.path);
    BOOST_TEST_REQUIRE(l.size() == 3u);
    BOOST_TEST((l.classes == std::vector<std::string>{"a", "b"}));
    BOOST_TEST((l.labels == ferx::label_vector{0, 0, 1}));
    BOOST_TEST(l.clips[2].frames.size() == 10u);
    // frame counts equal VideoCapture's
    for (int i = 0; i < 2; ++i) {
        cv::VideoCapture cap(l.clips[std::size_t(i)].video);
        cv::Mat f;
        ferx::index_t n = 0;
        while (cap.read(f)) ++n;
        BOOST_TEST(ferx::clip_length(l.clips[std::size_t(i)]) == n);
        BOOST_TEST_MESSAGE(l.names[std::size_t(i)] << ": " << n << " frames");
    }
    BOOST_TEST(ferx::clip_length(l.clips[0]) == 300);
    // clips of different lengths load with a uniform or TSN selection, at one size
    ferx::load_options o;
    o.rows = 64;
    o.cols = 80;
    o.resize = true;
    const auto b = ferx::load_clips(l, ferx::frame_selection::tsn(5), o);
    BOOST_TEST(b.clips.shape()[0] == 3u);
    BOOST_TEST(b.clips.shape()[1] == 5u);
    BOOST_TEST(b.clips.shape()[2] == 64u);
    BOOST_CHECK_THROW(ferx::load_clips(l, ferx::frame_selection::all(), o), ferx::error);  // 300 vs 164 frames
}

BOOST_AUTO_TEST_CASE(bad_input) {
    ferx_test::temp_dir dir("ferx_clips_bad");
    BOOST_CHECK_THROW(ferx::video_folder(dir.path / "missing"), ferx::error);
    BOOST_CHECK_THROW(ferx::video_folder(dir.path), ferx::error);  // no class folder
    fs::create_directories(dir.path / "empty_class");
    try {
        ferx::video_folder(dir.path);
        BOOST_ERROR("no error for an empty class folder");
    } catch (const ferx::error& e) {
        BOOST_TEST(e.file() == (dir.path / "empty_class").string());
    }
    fs::create_directories(dir.path / "empty_class/clip");
    BOOST_CHECK_THROW(ferx::video_folder(dir.path), ferx::error);  // a frame folder with no image
    // an unreadable video and frames of different sizes name the file
    data_test::write_text(dir.path / "bad.mp4", "not a video");
    ferx::clip_source v;
    v.video = (dir.path / "bad.mp4").string();
    try {
        ferx::load_clip(v);
        BOOST_ERROR("no error for an unreadable video");
    } catch (const ferx::error& e) {
        BOOST_TEST(e.file() == v.video);
    }
    cv::imwrite((dir.path / "f0.png").string(), cv::Mat(10, 12, CV_8UC1, cv::Scalar(1)));
    cv::imwrite((dir.path / "f1.png").string(), cv::Mat(11, 12, CV_8UC1, cv::Scalar(1)));
    ferx::clip_source c;
    c.frames = {(dir.path / "f0.png").string(), (dir.path / "f1.png").string()};
    try {
        ferx::load_clip(c);
        BOOST_ERROR("no error for frames of different sizes");
    } catch (const ferx::error& e) {
        BOOST_TEST(e.file() == c.frames[1]);
    }
    BOOST_CHECK_THROW(ferx::load_clips(ferx::clip_list{}), ferx::error);
}

BOOST_AUTO_TEST_SUITE_END()
