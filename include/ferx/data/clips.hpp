/// \file ferx/data/clips.hpp
/// Clip datasets for dynamic FER: labelled clips (a list of frame files, or a video file),
/// read from CK+48's index or from video folders, with the frame selections the video methods use.
///
///     ferx::clip_list l = ferx::ckplus48_clips(root);              // 327 clips of 3 frames, by sequence
///     ferx::clip_list v = ferx::video_folder(root);                // root/<label>/*.mp4|avi or <clip>/*.png
///     ferx::clip_batch b = ferx::load_clips(l, ferx::frame_selection::all());   // [n, T, rows, cols]
///
/// Frame selections of a clip of n frames (indices into its frames, in order):
///  - `all()`: 0 .. n-1;
///  - `second_half()`: floor(n / 2) .. n-1 (the apex half of onset-to-apex sequences);
///  - `uniform(count)`: count indices round(i (n - 1) / (count - 1)), i = 0 .. count-1 (frames
///    repeat when count > n; count = 1 takes the middle frame, floor((n - 1) / 2));
///  - `tsn(k, seed)` / `tsn(k)`: TSN's sparse sampling, one frame per each of k equal segments
///    [floor(s n / k), floor((s + 1) n / k)): a uniformly random frame of each segment with a seed
///    (training), the segment's centre tick floor((s + 1/2) n / k) without one (testing); segments
///    shorter than a frame (n < k) reuse frames.
/// Every selected clip of a batch has the same number of frames: `all` and `second_half` need
/// clips of one length (CK+48: 3); `uniform` and `tsn` give `count` / `k` frames whatever n is.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/opencv.hpp>
#include <ferx/core/samples.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/data/ckplus.hpp>
#include <ferx/data/image_folder.hpp>
#include <ferx/data/image_list.hpp>

#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <opencv2/videoio/registry.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN

/// One clip: its frame files in order, or one video file (then `frames` is empty).
struct clip_source {
    std::vector<std::string> frames;
    std::string video;
    /// What an error about the clip names: the video, or the first frame's folder.
    std::string name() const {
        return !video.empty() ? video : frames.empty() ? std::string() : std::filesystem::path(frames[0]).parent_path().string();
    }
};

/// A labelled list of clips; per-clip vectors have size() entries (`groups` may be empty).
struct clip_list {
    std::vector<clip_source> clips;
    label_vector labels;                ///< class of each clip, 0..K-1
    std::vector<int> groups;            ///< subject id of each clip (CK+), for group_kfold; or empty
    std::vector<std::string> classes;   ///< K class names
    std::vector<std::string> group_names;
    std::vector<std::string> names;     ///< each clip's name (CK+: its sequence, "S010_004"; videos: the file stem)
    std::size_t size() const { return clips.size(); }
    bool empty() const { return clips.empty(); }
};

/// Decoded clips of one length: clips [n, T, rows, cols] (8-bit grey), with labels and groups.
struct clip_batch {
    xt::xtensor<std::uint8_t, 4> clips;
    label_vector labels;
    std::vector<int> groups;
    std::vector<std::string> classes, group_names, names;
    std::size_t size() const { return labels.size(); }
};

/// Which frames of a clip to take (see the file comment).
struct frame_selection {
    enum class kind { all, second_half, uniform, tsn };
    kind how = kind::all;
    int count = 0;                       ///< uniform: frames; tsn: segments
    std::optional<std::uint32_t> seed;   ///< tsn: random offsets (training) when set, centres when not
    static frame_selection all() { return {}; }
    static frame_selection second_half() { return {kind::second_half, 0, {}}; }
    static frame_selection uniform(int count) { return {kind::uniform, count, {}}; }
    static frame_selection tsn(int segments) { return {kind::tsn, segments, {}}; }
    static frame_selection tsn(int segments, std::uint32_t seed) { return {kind::tsn, segments, seed}; }
};

/// The selected frame indices of a clip of n frames. `rng` draws TSN's training offsets (one
/// generator for a whole dataset, seeded from the selection, so each clip gets its own offsets).
inline std::vector<index_t> select_frames(index_t n, const frame_selection& s, std::mt19937* rng = nullptr) {
    const char* where = "ferx::select_frames";
    if (n < 1) throw error(where, "the clip has no frames");
    std::vector<index_t> out;
    switch (s.how) {
        case frame_selection::kind::all:
            for (index_t i = 0; i < n; ++i) out.push_back(i);
            break;
        case frame_selection::kind::second_half:
            for (index_t i = n / 2; i < n; ++i) out.push_back(i);
            break;
        case frame_selection::kind::uniform:
            if (s.count < 1) throw error(where, "uniform resampling needs a count >= 1, got " + std::to_string(s.count));
            if (s.count == 1) {
                out.push_back((n - 1) / 2);
                break;
            }
            for (int i = 0; i < s.count; ++i)
                out.push_back(static_cast<index_t>(std::nearbyint(double(i) * double(n - 1) / double(s.count - 1))));
            break;
        case frame_selection::kind::tsn: {
            if (s.count < 1) throw error(where, "TSN sampling needs k >= 1 segments, got " + std::to_string(s.count));
            std::mt19937 local(s.seed.value_or(0));
            std::mt19937& g = rng ? *rng : local;
            for (int k = 0; k < s.count; ++k) {
                const index_t b = index_t(k) * n / s.count, e = std::max(b + 1, index_t(k + 1) * n / s.count);
                if (s.seed) {
                    std::uniform_int_distribution<index_t> d(b, std::min(e, n) - 1);
                    out.push_back(d(g));
                } else {
                    out.push_back(std::min<index_t>(n - 1, static_cast<index_t>(std::floor((double(k) + 0.5) * double(n) / s.count))));
                }
            }
            break;
        }
    }
    return out;
}

/// CK+48 as clips: the images of root/index.csv grouped by sequence (in order of first
/// appearance), frames ordered by the index's `frame` column (ferx::ckplus48's image_list::frames);
/// label and subject of the sequence (a sequence whose frames disagree on either, or list one
/// frame number twice, is an error naming index.csv).
inline clip_list ckplus48_clips(const std::filesystem::path& root) {
    const char* where = "ferx::ckplus48_clips";
    const image_list images = ckplus48(root);
    clip_list out;
    out.classes = images.classes;
    out.group_names = images.group_names;
    std::vector<std::vector<std::pair<int, std::string>>> frames(images.sequence_names.size());
    std::vector<int> label(images.sequence_names.size(), -1), group(images.sequence_names.size(), -1);
    std::vector<std::size_t> first;
    for (std::size_t i = 0; i < images.size(); ++i) {
        const auto s = static_cast<std::size_t>(images.sequences[i]);
        if (frames[s].empty()) first.push_back(s);
        if (label[s] >= 0 && (label[s] != images.labels[i] || group[s] != images.groups[i]))
            throw error(where, "sequence " + images.sequence_names[s] + " has frames of different labels or subjects",
                        (root / "index.csv").string());
        label[s] = images.labels[i];
        group[s] = images.groups[i];
        frames[s].emplace_back(images.frames[i], images.paths[i]);
    }
    for (std::size_t s : first) {
        std::stable_sort(frames[s].begin(), frames[s].end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        for (std::size_t k = 1; k < frames[s].size(); ++k)
            if (frames[s][k].first == frames[s][k - 1].first)
                throw error(where, "sequence " + images.sequence_names[s] + " lists frame " +
                                       std::to_string(frames[s][k].first) + " twice", (root / "index.csv").string());
        clip_source c;
        for (auto& f : frames[s]) c.frames.push_back(f.second);
        out.clips.push_back(std::move(c));
        out.labels.push_back(label[s]);
        out.groups.push_back(group[s]);
        out.names.push_back(images.sequence_names[s]);
    }
    return out;
}

namespace detail {
/// Opens a video file with OpenCV's FFmpeg backend where OpenCV has it (files are what it is for;
/// letting OpenCV fall through to GStreamer on a file FFmpeg cannot read leaks the plugins'
/// allocations), with any backend otherwise.
inline bool open_video(cv::VideoCapture& cap, const std::string& path) {
    if (cv::videoio_registry::hasBackend(cv::CAP_FFMPEG)) return cap.open(path, cv::CAP_FFMPEG);
    return cap.open(path);
}

inline bool is_video_file(const std::filesystem::path& p) {
    std::string ext = p.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return ext == ".mp4" || ext == ".avi" || ext == ".mkv" || ext == ".mov" || ext == ".webm";
}
}  // namespace detail

/// Clips in class folders: root/<label>/<clip>.mp4|avi|mkv|mov|webm (a video each) and
/// root/<label>/<clip>/*.png|jpg (a folder of frames each, sorted by name); classes are the
/// sub-folders of root in sorted order. Throws ferx::error naming the folder when root is
/// missing or has no class folder, or a class folder or a frame folder holds no clip or frame.
inline clip_list video_folder(const std::filesystem::path& root) {
    const char* where = "ferx::video_folder";
    detail::require_folder(root, where, "the video folder");
    clip_list out;
    std::vector<std::filesystem::path> class_dirs;
    for (const auto& e : std::filesystem::directory_iterator(root))
        if (e.is_directory()) class_dirs.push_back(e.path());
    std::sort(class_dirs.begin(), class_dirs.end());
    if (class_dirs.empty()) throw error(where, "the folder has no class sub-folder", root.string());
    for (std::size_t k = 0; k < class_dirs.size(); ++k) {
        out.classes.push_back(class_dirs[k].filename().string());
        std::vector<std::filesystem::path> entries;
        for (const auto& e : std::filesystem::directory_iterator(class_dirs[k]))
            if (e.is_directory() || (e.is_regular_file() && detail::is_video_file(e.path()))) entries.push_back(e.path());
        std::sort(entries.begin(), entries.end());
        if (entries.empty()) throw error(where, "the class folder holds no video and no frame folder", class_dirs[k].string());
        for (const auto& p : entries) {
            clip_source c;
            if (std::filesystem::is_directory(p)) {
                c.frames = detail::image_files(p, where);
                if (c.frames.empty()) throw error(where, "the frame folder holds no image", p.string());
            } else {
                c.video = p.string();
            }
            out.clips.push_back(std::move(c));
            out.labels.push_back(static_cast<int>(k));
            out.names.push_back(p.stem().string());
        }
    }
    return out;
}

/// Number of frames of a clip: its frame files, or the frames a cv::VideoCapture reads from
/// its video (decoded, since containers' frame counts are estimates).
inline index_t clip_length(const clip_source& c) {
    if (c.video.empty()) return static_cast<index_t>(c.frames.size());
    cv::VideoCapture cap;
    if (!detail::open_video(cap, c.video)) throw error("ferx::clip_length", "cannot open the video", c.video);
    index_t n = 0;
    while (cap.grab()) ++n;
    return n;
}

/// The selected frames of one clip as 8-bit grey [T, rows, cols]. Frames of another size than
/// the first are an error naming the file, unless `opt.resize` (cv::INTER_AREA to opt's size or
/// the first frame's). Throws ferx::error naming the file for unreadable frames or videos and
/// videos with no frame.
inline volume<std::uint8_t> load_clip(const clip_source& c, const frame_selection& sel = {}, const load_options& opt = {},
                                      std::mt19937* rng = nullptr) {
    const char* where = "ferx::load_clip";
    std::vector<cv::Mat> frames;
    std::vector<std::string> names;
    if (c.video.empty()) {
        for (const auto& f : c.frames) {
            frames.push_back(read_image(f));
            names.push_back(f);
        }
    } else {
        cv::VideoCapture cap;
        if (!detail::open_video(cap, c.video)) throw error(where, "cannot open the video", c.video);
        cv::Mat f, g;
        while (cap.read(f)) {
            if (f.channels() == 3) cv::cvtColor(f, g, cv::COLOR_BGR2GRAY);
            else if (f.channels() == 4) cv::cvtColor(f, g, cv::COLOR_BGRA2GRAY);
            else g = f;
            frames.push_back(g.clone());
            names.push_back(c.video + ":" + std::to_string(frames.size() - 1));
        }
    }
    if (frames.empty()) throw error(where, "the clip has no frame", c.name());
    const auto idx = select_frames(static_cast<index_t>(frames.size()), sel, rng);
    const int rows = opt.rows > 0 ? opt.rows : frames[0].rows, cols = opt.cols > 0 ? opt.cols : frames[0].cols;
    volume<std::uint8_t> out(std::array<std::size_t, 3>{idx.size(), std::size_t(rows), std::size_t(cols)});
    for (std::size_t i = 0; i < idx.size(); ++i) {
        cv::Mat f = frames[static_cast<std::size_t>(idx[i])];
        if (f.rows != rows || f.cols != cols) {
            if (!opt.resize)
                throw error(where, "frame " + std::to_string(idx[i]) + " is " + std::to_string(f.cols) + "x" +
                                       std::to_string(f.rows) + ", the clip's frames are " + std::to_string(cols) + "x" +
                                       std::to_string(rows), names[static_cast<std::size_t>(idx[i])]);
            cv::Mat r;
            cv::resize(f, r, cv::Size(cols, rows), 0, 0, cv::INTER_AREA);
            f = r;
        }
        for (int y = 0; y < rows; ++y) std::copy(f.ptr<std::uint8_t>(y), f.ptr<std::uint8_t>(y) + cols, &out(i, std::size_t(y), 0));
    }
    return out;
}

/// Every clip of a list, selected and decoded into one [n, T, rows, cols] batch. Clips must give
/// the same number of frames under the selection and the same frame size (or opt.resize).
inline clip_batch load_clips(const clip_list& l, const frame_selection& sel = {}, const load_options& opt = {}) {
    const char* where = "ferx::load_clips";
    if (l.empty()) throw error(where, "the clip list is empty");
    std::mt19937 rng(sel.seed.value_or(0));
    clip_batch b;
    b.labels = l.labels;
    b.groups = l.groups;
    b.classes = l.classes;
    b.group_names = l.group_names;
    b.names = l.names;
    load_options o = opt;
    for (std::size_t i = 0; i < l.size(); ++i) {
        const auto v = load_clip(l.clips[i], sel, o, &rng);
        if (i == 0) {
            o.rows = int(v.shape()[1]);
            o.cols = int(v.shape()[2]);
            b.clips = xt::xtensor<std::uint8_t, 4>(std::array<std::size_t, 4>{l.size(), v.shape()[0], v.shape()[1], v.shape()[2]});
        } else if (v.shape()[0] != b.clips.shape()[1]) {
            throw error(where, "clip " + std::to_string(i) + " gives " + std::to_string(v.shape()[0]) + " frames, clip 0 gave " +
                                   std::to_string(b.clips.shape()[1]) + " (use a uniform or TSN selection for clips of different lengths)",
                        l.clips[i].name());
        }
        std::copy(v.begin(), v.end(), b.clips.begin() + std::ptrdiff_t(i * v.size()));
    }
    return b;
}

FERX_NAMESPACE_END
