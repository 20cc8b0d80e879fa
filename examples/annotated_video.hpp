// The annotated copy of a video that the example programs write (ferx-fer, fer_cnn,
// optical_flow): never half-written under its name.
#pragma once

#include <ferx/core/error.hpp>

#include <opencv2/core.hpp>
#include <opencv2/videoio.hpp>

#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

namespace ferx_examples {

/// The annotated copy of a video: an MJPG file opened on the first frame written, at the
/// source's frame rate (25 where it reports none). `open_error(path)` is called (and must throw)
/// where the file cannot be written. Frames go to `.<name>.partial.avi` beside the target,
/// renamed to the target by `finish()` (never a half-written file under the target's name; an
/// unfinished one is removed).
class annotated_video {
public:
    annotated_video(std::filesystem::path path, double fps)
        : path_(std::move(path)),
          partial_(path_.parent_path() / ("." + path_.stem().string() + ".partial" + path_.extension().string())),
          fps_(fps > 0 ? fps : 25.0) {}
    annotated_video(const annotated_video&) = delete;
    annotated_video& operator=(const annotated_video&) = delete;
    ~annotated_video() {
        if (writer_.isOpened()) {
            writer_.release();
            std::error_code ec;
            std::filesystem::remove(partial_, ec);
        }
    }

    /// Closes the video and moves it to its name (nothing where no frame was written).
    void finish() {
        if (!writer_.isOpened()) return;
        writer_.release();
        std::error_code ec;
        std::filesystem::rename(partial_, path_, ec);
        if (ec) throw ferx::error("annotated_video", "cannot move the finished video to its name (" + ec.message() + ")", path_.string());
    }

    /// Writes one frame; returns true when this call opened the file.
    template <class OnOpenError>
    bool write(const cv::Mat& bgr, OnOpenError&& open_error) {
        const bool opening = !writer_.isOpened();
        if (opening) {
            writer_.open(partial_.string(), cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), fps_, bgr.size());
            if (!writer_.isOpened()) open_error(path_.string());
        }
        writer_.write(bgr);
        return opening;
    }
    const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_, partial_;
    double fps_;
    cv::VideoWriter writer_;
};

}  // namespace ferx_examples
