/// \file ferx/data/image_list.hpp
/// The two dataset containers of ferx::data and the steps between them.
///
/// `image_list`: a labelled list of image files (paths, labels 0..K-1, optional subject and
/// sequence groups), as the dataset readers return it; nothing is decoded yet.
/// `image_batch`: the decoded images, `xt::xtensor<std::uint8_t, 3>` of shape [n, rows, cols]
/// (8-bit grey), with the same labels, groups and paths.
/// `load` decodes a list into a batch; `for_each_image` decodes one image at a time, so a large
/// dataset (FER2013: 35,887 images) need not be held at once. `relabel` applies a label_map.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/opencv.hpp>
#include <ferx/core/samples.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/data/labels.hpp>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN

/// A labelled list of image files. Every per-sample vector has size() entries, except `groups`,
/// `sequences` and `frames`, which are empty where the dataset has none.
struct image_list {
    std::vector<std::string> paths;    ///< image files (root joined with the index's path)
    label_vector labels;               ///< class of each image, 0..K-1
    std::vector<int> groups;           ///< subject id of each image (CK+), for group_kfold; or empty
    std::vector<int> sequences;        ///< sequence id of each image (CK+); or empty
    std::vector<int> frames;           ///< frame number of each image in its sequence (CK+: index.csv's `frame`); or empty
    std::vector<std::string> classes;  ///< K class names, index = label
    std::vector<std::string> group_names;     ///< subject name of each group id (CK+: "S010")
    std::vector<std::string> sequence_names;  ///< name of each sequence id (CK+: "S010_004")

    std::size_t size() const { return paths.size(); }
    bool empty() const { return paths.empty(); }
};

/// Decoded 8-bit grey images with their labels: images [n, rows, cols].
struct image_batch {
    xt::xtensor<std::uint8_t, 3> images;  ///< [n, rows, cols], grey 0..255
    label_vector labels;
    std::vector<int> groups;
    std::vector<int> sequences;
    std::vector<int> frames;  ///< frame number of each image in its sequence; or empty
    std::vector<std::string> classes;
    std::vector<std::string> group_names;
    std::vector<std::string> sequence_names;
    std::vector<std::string> paths;  ///< source of each image (a file, or "fer2013.csv:<line>")

    std::size_t size() const { return labels.size(); }
    bool empty() const { return labels.empty(); }
};

/// How `load` and `for_each_image` treat image sizes.
struct load_options {
    int rows = 0;         ///< required image height; 0: that of the first image
    int cols = 0;         ///< required image width; 0: that of the first image
    bool resize = false;  ///< resize images of another size (cv::INTER_AREA) instead of failing
};

namespace detail {
/// Every label of `d` indexes one of its classes.
template <class D>
void check_labels(const D& d, const char* where) {
    for (std::size_t i = 0; i < d.labels.size(); ++i)
        require(d.labels[i] >= 0 && static_cast<std::size_t>(d.labels[i]) < d.classes.size(), where,
                "label " + std::to_string(d.labels[i]) + " of image " + std::to_string(i) + " is not a class index (" +
                    std::to_string(d.classes.size()) + " classes)");
}
}  // namespace detail

/// Number of images of each class: counts[k] for k < classes.size().
template <class D>
std::vector<std::size_t> class_counts(const D& d) {
    detail::check_labels(d, "ferx::class_counts");
    std::vector<std::size_t> counts(d.classes.size(), 0);
    for (int l : d.labels) ++counts[static_cast<std::size_t>(l)];
    return counts;
}

namespace detail {
inline void check_list(const image_list& list, const char* where) {
    require(list.labels.size() == list.paths.size(), where, "labels and paths differ in length");
    require(list.groups.empty() || list.groups.size() == list.paths.size(), where, "groups and paths differ in length");
    require(list.sequences.empty() || list.sequences.size() == list.paths.size(), where,
            "sequences and paths differ in length");
    require(list.frames.empty() || list.frames.size() == list.paths.size(), where, "frames and paths differ in length");
    check_labels(list, where);
}

/// Reads image i as grey and checks (or fixes) its size; `want` is updated from the first image.
inline cv::Mat read_sized(const std::string& path, const load_options& opt, cv::Size& want, const char* where) {
    cv::Mat m = cv::imread(path, cv::IMREAD_GRAYSCALE);
    if (m.empty()) throw error(where, "cannot read the image (missing, unreadable or not an image)", path);
    if (want.width == 0 || want.height == 0) {
        require(opt.rows >= 0 && opt.cols >= 0, where, "load_options rows and cols must not be negative");
        want = cv::Size(opt.cols > 0 ? opt.cols : m.cols, opt.rows > 0 ? opt.rows : m.rows);
    }
    if (m.size() != want) {
        if (!opt.resize)
            throw error(where, "the image is " + std::to_string(m.cols) + "x" + std::to_string(m.rows) +
                                   " (width x height), expected " + std::to_string(want.width) + "x" +
                                   std::to_string(want.height),
                        path);
        cv::Mat r;
        cv::resize(m, r, want, 0, 0, cv::INTER_AREA);
        m = r;
    }
    return m;
}

/// The samples kept (target label >= 0) and their new labels.
template <class D>
std::vector<std::size_t> relabelled(const D& d, const label_map& map, label_vector& labels) {
    check_labels(d, "ferx::relabel");
    std::vector<int> target(d.classes.size());
    for (std::size_t k = 0; k < d.classes.size(); ++k) target[k] = map(d.classes[k]);
    std::vector<std::size_t> keep;
    labels.clear();
    for (std::size_t i = 0; i < d.labels.size(); ++i) {
        const int t = target[static_cast<std::size_t>(d.labels[i])];
        if (t >= 0) {
            keep.push_back(i);
            labels.push_back(t);
        }
    }
    return keep;
}

template <class V>
V take_if_any(const V& v, const std::vector<std::size_t>& idx) {
    return v.empty() ? v : take(v, idx);
}
}  // namespace detail

/// Decodes each image of `list` in turn, as an 8-bit grey cv::Mat of one size, and calls
/// `f(i, image)` (i: index into the list). Nothing beyond one image is held in memory.
/// Throws ferx::error naming the file for an unreadable image or one of the wrong size.
template <class F>
void for_each_image(const image_list& list, F&& f, const load_options& opt = {}) {
    constexpr const char* where = "ferx::for_each_image";
    detail::check_list(list, where);
    cv::Size want(0, 0);
    for (std::size_t i = 0; i < list.size(); ++i) f(i, detail::read_sized(list.paths[i], opt, want, where));
}

/// Decodes all images of `list` into a batch [n, rows, cols] of 8-bit grey pixels.
/// Throws ferx::error naming the file for an unreadable image or one of the wrong size, and for
/// an empty list.
inline image_batch load(const image_list& list, const load_options& opt = {}) {
    constexpr const char* where = "ferx::load";
    detail::check_list(list, where);
    detail::require(!list.empty(), where, "the image list is empty");
    image_batch out;
    cv::Size want(0, 0);
    for (std::size_t i = 0; i < list.size(); ++i) {
        const cv::Mat m = detail::read_sized(list.paths[i], opt, want, where);
        if (i == 0)
            out.images = xt::xtensor<std::uint8_t, 3>(
                {list.size(), static_cast<std::size_t>(want.height), static_cast<std::size_t>(want.width)});
        cv::Mat dst = as_mat(view(out.images)[static_cast<index_t>(i)]);
        m.copyTo(dst);  // same size and type: writes into out.images
    }
    out.labels = list.labels;
    out.groups = list.groups;
    out.sequences = list.sequences;
    out.frames = list.frames;
    out.classes = list.classes;
    out.group_names = list.group_names;
    out.sequence_names = list.sequence_names;
    out.paths = list.paths;
    return out;
}

/// The samples `idx` of a list (labels, groups and classes kept).
inline image_list subset(const image_list& list, const std::vector<std::size_t>& idx) {
    image_list out = list;
    out.paths = take(list.paths, idx);
    out.labels = take(list.labels, idx);
    out.groups = detail::take_if_any(list.groups, idx);
    out.sequences = detail::take_if_any(list.sequences, idx);
    out.frames = detail::take_if_any(list.frames, idx);
    return out;
}

/// A random subset of `n` samples of `list` (all of it when n >= size()), drawn with `seed`
/// and kept in the list's order: e.g. a smaller FER2013 training set for a kernel SVM.
inline image_list random_subset(const image_list& list, std::size_t n, std::uint64_t seed = 7) {
    if (n >= list.size()) return list;
    std::vector<std::size_t> idx(list.size());
    for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    std::shuffle(idx.begin(), idx.end(), std::mt19937_64(seed));
    idx.resize(n);
    std::sort(idx.begin(), idx.end());
    return subset(list, idx);
}

/// `list` with its labels mapped by `map` (classes become map.classes); samples of dropped
/// classes are removed. ferx::error if a class of the list is not in the map.
inline image_list relabel(const image_list& list, const label_map& map) {
    label_vector labels;
    image_list out = subset(list, detail::relabelled(list, map, labels));
    out.labels = std::move(labels);
    out.classes = map.classes;
    return out;
}

/// `batch` with its labels mapped by `map`; images of dropped classes are removed.
inline image_batch relabel(const image_batch& batch, const label_map& map) {
    detail::require(batch.images.shape(0) == batch.labels.size(), "ferx::relabel",
                    std::to_string(batch.labels.size()) + " labels for " + std::to_string(batch.images.shape(0)) +
                        " images");
    label_vector labels;
    const auto keep = detail::relabelled(batch, map, labels);
    image_batch out;
    const std::size_t rows = batch.images.shape(1), cols = batch.images.shape(2), px = rows * cols;
    out.images = xt::xtensor<std::uint8_t, 3>({keep.size(), rows, cols});
    for (std::size_t r = 0; r < keep.size(); ++r)
        std::copy_n(batch.images.data() + keep[r] * px, px, out.images.data() + r * px);
    out.labels = std::move(labels);
    out.groups = detail::take_if_any(batch.groups, keep);
    out.sequences = detail::take_if_any(batch.sequences, keep);
    out.frames = detail::take_if_any(batch.frames, keep);
    out.classes = map.classes;
    out.group_names = batch.group_names;
    out.sequence_names = batch.sequence_names;
    out.paths = detail::take_if_any(batch.paths, keep);
    return out;
}

FERX_NAMESPACE_END
