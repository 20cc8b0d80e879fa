// cli_args.hpp: what the example programs share to read their command line and walk their
// inputs: an argument cursor (options with a value, numbers, whole counts, a usage error that
// tells where the options are described), the image-file test, and the video frame loop (frames
// read and timed, the annotated video opened on the first frame, the largest face of a frame),
// and the --faces choice (all, largest, confident) of the FER programs.
#pragma once

#include <ferx/pipeline/preprocess.hpp>

#include "annotated_video.hpp"

#include <opencv2/core.hpp>
#include <opencv2/videoio.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace ferx_examples {

/// Walks argv one argument at a time; an option's value is the argument after it.
///
///     ferx_examples::cli_args args(argc, argv, "see the comment at the top of fer_cnn.cpp");
///     while (args.next()) {
///         if (args.arg() == "--out") o.out = args.value();
///         else if (args.arg() == "--scale") o.scale = args.number();
///         else if (args.is_option()) args.fail("unknown option " + args.arg());
///         else o.inputs.push_back(args.arg());
///     }
class cli_args {
public:
    /// `hint`: where the options are described, appended to every usage error; `first`: the
    /// index of the first argument to read (after positional ones the program took itself).
    cli_args(int argc, char** argv, std::string hint, int first = 1)
        : argc_(argc), argv_(argv), hint_(std::move(hint)), i_(first - 1) {}

    /// Moves to the next argument; false when none is left.
    bool next() {
        if (i_ + 1 >= argc_) return false;
        arg_ = argv_[++i_];
        return true;
    }
    /// The current argument.
    const std::string& arg() const { return arg_; }
    /// Whether the current argument looks like an option ("-x", "--name"; "-1" is not one).
    bool is_option() const {
        return arg_.size() > 1 && arg_[0] == '-' && !std::all_of(arg_.begin() + 1, arg_.end(), [](unsigned char c) { return std::isdigit(c); });
    }
    /// The current option's value (the next argument, consumed).
    std::string value() {
        if (i_ + 1 >= argc_) fail("option " + arg_ + " needs a value");
        return argv_[++i_];
    }
    /// The current option's value as a number.
    double number() {
        const std::string v = value();
        char* end = nullptr;
        const double x = std::strtod(v.c_str(), &end);
        if (v.empty() || *end != '\0') fail(arg_ + " needs a number, got '" + v + "'");
        return x;
    }
    /// The current option's value as a whole number >= `least`.
    long whole(long least = 0) {
        const std::string v = value();
        char* end = nullptr;
        const long n = std::strtol(v.c_str(), &end, 10);
        if (v.empty() || *end != '\0' || n < least)
            fail(arg_ + " needs a whole number" + (least > 0 ? " >= " + std::to_string(least) : std::string()) + ", got '" + v + "'");
        return n;
    }
    /// The current option's value as a face source: all, largest or confident.
    ferx::face_source faces() {
        const std::string v = value();
        if (v == "all") return ferx::face_source::all;
        if (v == "largest") return ferx::face_source::largest;
        if (v == "confident") return ferx::face_source::most_confident;
        fail(arg_ + " must be all, largest or confident");
    }
    /// Throws std::invalid_argument: `why` and the hint.
    [[noreturn]] void fail(const std::string& why) const { throw std::invalid_argument(why + " (" + hint_ + ")"); }

private:
    int argc_;
    char** argv_;
    std::string hint_, arg_;
    int i_;
};

/// Whether `path` names an image file by its extension (case-insensitive).
inline bool is_image_file(const std::string& path) {
    std::string ext = std::filesystem::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (const char* e : {".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".ppm", ".tif", ".tiff", ".webp"})
        if (ext == e) return true;
    return false;
}

/// Seconds since `t0`.
inline double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// Reads the frames of `cap`, at most `max_frames` (< 0: all), adding the time spent reading to
/// `io`, and calls `on_frame(index, bgr)` for each. Returns the number of frames read.
template <class OnFrame>
long for_each_frame(cv::VideoCapture& cap, long max_frames, double& io, OnFrame&& on_frame) {
    cv::Mat bgr;
    long i = 0;
    for (; max_frames < 0 || i < max_frames; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        if (!cap.read(bgr) || bgr.empty()) break;
        io += seconds_since(t0);
        on_frame(i, bgr);
    }
    return i;
}

/// The face with the largest box (a `face_prediction`-like type: `.face.box.area()`), or
/// nullptr for none: a frame's result in a clip.
template <class Face>
const Face* largest_face(const std::vector<Face>& faces) {
    const auto big = std::max_element(faces.begin(), faces.end(),
                                      [](const Face& a, const Face& b) { return a.face.box.area() < b.face.box.area(); });
    return big == faces.end() ? nullptr : &*big;
}

}  // namespace ferx_examples
