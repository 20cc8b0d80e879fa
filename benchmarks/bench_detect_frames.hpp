/// Frames of the detection benchmarks (shared by bench_detect.cpp and bench_detect_cuda.cu):
/// 640x480 and 1920x1080 frames tiled from the photographs of ../shared/data/faces, and 64
/// frames of Debian's Megamind.avi. A case is empty (with the reason) where its data is absent.
#pragma once

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#ifndef FERX_KIT
#include <opencv2/videoio.hpp>
#endif

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace ferx_bench {

namespace fs = std::filesystem;

/// The folder of OpenCV's data files (cascade XML files), ending in '/': $FERX_OPENCV_DATA_DIR
/// (the GPU kit's run.sh sets it to the kit's copy), else Debian's /usr/share/opencv4/.
inline std::string opencv_data_dir() {
    const char* env = std::getenv("FERX_OPENCV_DATA_DIR");
    return env ? std::string(env) + "/" : std::string("/usr/share/opencv4/");
}

/// The folder of opencv-doc's sample data (Megamind.avi): $FERX_OPENCV_SAMPLES_DIR, else
/// Debian's /usr/share/doc/opencv-doc/examples/data.
inline std::string opencv_samples_dir() {
    const char* env = std::getenv("FERX_OPENCV_SAMPLES_DIR");
    return env ? std::string(env) : std::string("/usr/share/doc/opencv-doc/examples/data");
}

/// A frame of rows x cols tiled from the photographs of ../shared/data/faces (each scaled to a
/// cell of a grid, in file order); empty when the folder is absent.
inline cv::Mat tiled_faces(int rows, int cols, int grid_cols, int grid_rows) {
    std::vector<fs::path> files;
    const fs::path dir = fs::path(FERX_BENCH_SHARED_DIR) / "data/faces";
    if (!fs::is_directory(dir)) return {};
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ".jpg") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    if (files.empty()) return {};
    cv::Mat frame(rows, cols, CV_8U, cv::Scalar(128));
    const int cw = cols / grid_cols, ch = rows / grid_rows;
    for (int i = 0; i < grid_cols * grid_rows; ++i) {
        cv::Mat g = cv::imread(files[static_cast<std::size_t>(i) % files.size()].string(), cv::IMREAD_GRAYSCALE);
        cv::Mat cell = frame(cv::Rect((i % grid_cols) * cw, (i / grid_cols) * ch, cw, ch));
        cv::resize(g, cell, cell.size(), 0, 0, cv::INTER_AREA);
    }
    return frame;
}

/// n consecutive grey frames of Megamind.avi (from frame 60); empty when unreadable.
inline std::vector<cv::Mat> video_frames(int n) {
#ifdef FERX_KIT
    // The GPU kit links no videoio: its build decoded these frames (grey, as below) into
    // Megamind.avi.frames/<frame>.pgm, which cv::imread (the kit's PGM reader) reads.
    std::vector<cv::Mat> out;
    for (int i = 60; i < 60 + n; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "/Megamind.avi.frames/%04d.pgm", i);
        cv::Mat g = cv::imread(opencv_samples_dir() + name, cv::IMREAD_GRAYSCALE);
        if (g.empty()) return {};
        out.push_back(g);
    }
    return out;
#else
    cv::VideoCapture cap(opencv_samples_dir() + "/Megamind.avi");
    std::vector<cv::Mat> out;
    cv::Mat f;
    for (int i = 0; cap.isOpened() && cap.read(f) && static_cast<int>(out.size()) < n; ++i)
        if (i >= 60) {
            cv::Mat g;
            cv::cvtColor(f, g, cv::COLOR_BGR2GRAY);
            out.push_back(g);
        }
    return static_cast<int>(out.size()) == n ? out : std::vector<cv::Mat>{};
#endif
}

struct detect_case {
    std::string name;
    std::vector<cv::Mat> frames;  ///< one frame, or a batch
    std::string missing;          ///< why it is empty
};

inline const std::vector<detect_case>& detect_cases() {
    static const std::vector<detect_case> cases = [] {
        std::vector<detect_case> out;
        const cv::Mat vga = tiled_faces(480, 640, 2, 2), hd = tiled_faces(1080, 1920, 4, 3);
        out.push_back({"640x480", vga.empty() ? std::vector<cv::Mat>{} : std::vector<cv::Mat>{vga},
                       "../shared/data/faces not found"});
        out.push_back({"1920x1080", hd.empty() ? std::vector<cv::Mat>{} : std::vector<cv::Mat>{hd},
                       "../shared/data/faces not found"});
        out.push_back({"batch64_video", video_frames(64), "Megamind.avi (opencv-doc) not readable"});
        return out;
    }();
    return cases;
}

}  // namespace ferx_bench
