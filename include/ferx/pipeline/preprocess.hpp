/// \file ferx/pipeline/preprocess.hpp
/// From input images to the normalised face crops a descriptor sees, the first stage of every
/// classical FER pipeline (Viola-Jones crop -> histogram equalisation -> descriptor -> SVM):
///
///   1. face source: the input is already a face crop (`face_source::crop`: CK+48, FER2013), or
///      faces are detected with a cascade and the largest, the most confident, or every face is
///      taken;
///   2. optional eye-based alignment: when the eye cascade finds both eyes, the crop is rotated
///      so that they are level (ferx::crop_face);
///   3. crop with padding and resize to width x height (bilinear, cv::INTER_LINEAR_EXACT's
///      arithmetic; a crop already of that size is kept as it is);
///   4. histogram equalisation: none, global (ferx::equalize_hist, = cv::equalizeHist) or CLAHE
///      (ferx::clahe, = cv::CLAHE);
///   5. intensity normalisation (a separate float step, normalize_intensity): none, [0, 1], or
///      zero mean and unit variance per crop.
///
///     ferx::face_detector det = ferx::load_face_detector();          // OpenCV's Haar cascades
///     ferx::preprocess_params p;  p.source = ferx::face_source::all;  // every face
///     ferx::preprocessed faces = ferx::preprocess(ferx::exec::par, p, images, &det);
///     // faces.crops: [m, 48, 48] uint8; faces.faces[i]: source image, box, aligned or not
///
/// Under `par`, a batch of several images is split over the pool (one image per task, each
/// detected with `seq`); a single image is detected with `par`. Results equal `seq`'s.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/core/view.hpp>
#include <ferx/detect/cascade.hpp>
#include <ferx/detect/detect_multiscale.hpp>
#include <ferx/detect/face_crop.hpp>
#include <ferx/detect/rect.hpp>
#include <ferx/imgproc/clahe.hpp>
#include <ferx/imgproc/equalize_hist.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN

/// Where the faces of an input image come from.
enum class face_source {
    crop,            ///< the image is already a face crop (it is only resized)
    largest,         ///< detect; the largest face (none: the image gives no crop)
    most_confident,  ///< detect; the face with the most neighbours
    all              ///< detect; every face
};

/// Histogram equalisation of the crop.
enum class equalization {
    none,
    global,  ///< ferx::equalize_hist (cv::equalizeHist)
    clahe    ///< ferx::clahe with preprocess_params::clahe (cv::CLAHE)
};

/// Intensity normalisation of the crop (into float pixels).
enum class intensity_norm {
    none,         ///< 8-bit pixels 0..255 go to the descriptor as they are
    unit_range,   ///< x / 255, in [0, 1]
    standardize   ///< (x - mean) / standard deviation of the crop (a flat crop becomes 0)
};

/// Parameters of preprocess; the defaults fit CK+48 and FER2013 (48x48 grey crops).
struct preprocess_params {
    face_source source = face_source::crop;       ///< input crops, or detect faces
    bool align_eyes = false;                      ///< level the eyes when both are found (needs an eye cascade)
    double pad = 0.0;                             ///< margin around a detected box, ratio of its size (ferx::pad_box)
    int width = 48;                               ///< crop columns, 8..1024
    int height = 48;                              ///< crop rows, 8..1024
    equalization equalize = equalization::global;
    clahe_params clahe{2.0, 6, 6};                ///< used when equalize == clahe (8x8-pixel tiles on 48x48)
    intensity_norm normalize = intensity_norm::none;
    detect_params detect{1.1, 3, 30, 30, 0, 0, 0, 0.2};  ///< face detection (faces of 30x30 pixels and more)
};

/// The cascades a detecting preprocess needs: a face cascade, and an eye cascade for alignment.
struct face_detector {
    cascade face;
    std::optional<cascade> eyes;
};

/// The folder of OpenCV's Haar cascades on Debian (package opencv-data).
inline std::filesystem::path default_cascade_dir() { return "/usr/share/opencv4/haarcascades"; }

/// Loads a face cascade and, unless `eyes_path` is empty, an eye cascade (ferx::error naming the
/// file when one cannot be read). Defaults: OpenCV's frontal-face and eye Haar cascades.
inline face_detector load_face_detector(
    const std::string& face_path = (default_cascade_dir() / "haarcascade_frontalface_default.xml").string(),
    const std::string& eyes_path = (default_cascade_dir() / "haarcascade_eye.xml").string()) {
    face_detector d;
    d.face = load_cascade(face_path);
    if (!eyes_path.empty()) d.eyes = load_cascade(eyes_path);
    return d;
}

/// One face crop: the image it came from, its box in that image, whether the eyes were levelled.
struct face_box {
    std::size_t image = 0;  ///< index of the source image in the batch
    rect box;               ///< the detected box (the whole image for face_source::crop)
    int neighbors = 0;      ///< the detection's neighbour count (0 for crops)
    bool aligned = false;   ///< eyes found and levelled
};

/// Preprocessed faces: the crops [m, height, width] (8-bit, equalised) and, for each, its source.
struct preprocessed {
    xt::xtensor<std::uint8_t, 3> crops;
    std::vector<face_box> faces;
    std::size_t size() const { return faces.size(); }
};

/// Checks the parameters (ferx::error naming the bad one).
inline void check_preprocess_params(const preprocess_params& p) {
    constexpr const char* where = "ferx::preprocess";
    if (p.width < 8 || p.width > 1024 || p.height < 8 || p.height > 1024)
        throw error(where, "the crop size must be 8..1024 pixels a side, got " + std::to_string(p.width) + "x" +
                               std::to_string(p.height));
    if (!std::isfinite(p.pad) || p.pad < -0.49 || p.pad > 16.0)
        throw error(where, "pad must be in [-0.49, 16], got " + std::to_string(p.pad));
    if (p.equalize == equalization::clahe &&
        (p.clahe.tiles_x < 1 || p.clahe.tiles_y < 1 || p.clahe.tiles_x > p.width || p.clahe.tiles_y > p.height ||
         !std::isfinite(p.clahe.clip_limit)))
        throw error(where, "the CLAHE tile grid must be 1 to the crop size a side and the clip limit finite");
}

namespace detail {

/// A packed copy of a view.
inline image<std::uint8_t> to_owning(const image_view<const std::uint8_t>& v) {
    image<std::uint8_t> out({static_cast<std::size_t>(v.rows()), static_cast<std::size_t>(v.cols())});
    for (index_t y = 0; y < v.rows(); ++y)
        for (index_t x = 0; x < v.cols(); ++x) out(static_cast<std::size_t>(y), static_cast<std::size_t>(x)) = v(y, x);
    return out;
}

/// Equalises a crop in place, as the parameters ask.
template <class Policy>
void equalize_crop(const Policy& policy, const preprocess_params& p, const image_view<std::uint8_t>& crop) {
    if (p.equalize == equalization::global) {
        equalize_hist(policy, image_view<const std::uint8_t>(crop), crop);
    } else if (p.equalize == equalization::clahe) {
        const image<std::uint8_t> tmp = to_owning(crop);
        clahe(policy, view(tmp), crop, p.clahe);
    }
}

/// The faces of one image and their crops (appended to `boxes` / `crops`).
template <class Policy>
void faces_of_image(const Policy& policy, const preprocess_params& p, const face_detector* det,
                    const image_view<const std::uint8_t>& img, std::size_t index, std::vector<face_box>& boxes,
                    std::vector<image<std::uint8_t>>& crops) {
    constexpr const char* where = "ferx::preprocess";
    if (img.data() == nullptr || img.rows() <= 0 || img.cols() <= 0)
        throw error(where, "image " + std::to_string(index) + " is empty");
    require_packed_rows(img, where, "the image");
    const face_crop_params geometry{p.pad, p.width, p.height};
    if (p.source == face_source::crop) {
        face_box f;
        f.image = index;
        f.box = rect{0, 0, static_cast<int>(img.cols()), static_cast<int>(img.rows())};
        image<std::uint8_t> c;
        if (img.rows() == p.height && img.cols() == p.width)
            c = to_owning(img);
        else
            c = crop_face(img, f.box, {0.0, p.width, p.height});
        equalize_crop(exec::seq, p, view(c));
        boxes.push_back(f);
        crops.push_back(std::move(c));
        return;
    }
    if (det == nullptr) throw error(where, "face detection was asked for (face_source is not crop) but no detector was given");
    if (p.align_eyes && !det->eyes) throw error(where, "eye alignment was asked for but the detector has no eye cascade");
    std::vector<detection> found = detect_multiscale(policy, det->face, img, p.detect);
    if (p.source == face_source::largest || p.source == face_source::most_confident) {
        const auto best = p.source == face_source::largest ? largest_face(found) : most_confident_face(found);
        found.assign(best ? 1 : 0, best ? *best : detection{});
    }
    for (const detection& d : found) {
        face_box f;
        f.image = index;
        f.box = d.box;
        f.neighbors = d.neighbors;
        std::optional<eye_pair> eyes;
        if (p.align_eyes) eyes = locate_eyes(exec::seq, *det->eyes, img, d.box);
        f.aligned = eyes.has_value();
        image<std::uint8_t> c = crop_face(img, d.box, geometry, eyes ? &*eyes : nullptr);
        equalize_crop(exec::seq, p, view(c));
        boxes.push_back(f);
        crops.push_back(std::move(c));
    }
}

inline preprocessed stack_crops(const preprocess_params& p, std::vector<face_box>&& boxes,
                                std::vector<image<std::uint8_t>>&& crops) {
    preprocessed out;
    out.faces = std::move(boxes);
    out.crops = xt::xtensor<std::uint8_t, 3>(
        {crops.size(), static_cast<std::size_t>(p.height), static_cast<std::size_t>(p.width)});
    const std::size_t px = static_cast<std::size_t>(p.height * p.width);
    for (std::size_t i = 0; i < crops.size(); ++i) std::copy(crops[i].begin(), crops[i].end(), out.crops.data() + i * px);
    return out;
}

}  // namespace detail

/// Preprocesses images of any sizes (8-bit grey): their face crops, in image order (and, within
/// an image, in the detector's order). `det` may be null for face_source::crop. Throws
/// ferx::error for bad parameters, an empty image, or detection asked for without a detector.
template <class Policy>
preprocessed preprocess(const Policy& policy, const preprocess_params& params,
                        const std::vector<image_view<const std::uint8_t>>& images, const face_detector* det = nullptr) {
    static_assert(is_host_policy_v<Policy>, "ferx::preprocess runs on the host: exec::seq or exec::par");
    check_preprocess_params(params);
    std::vector<std::vector<face_box>> boxes(images.size());
    std::vector<std::vector<image<std::uint8_t>>> crops(images.size());
    if (images.size() == 1) {
        detail::faces_of_image(policy, params, det, images[0], 0, boxes[0], crops[0]);
    } else {
        detail::for_each_range(policy, static_cast<std::ptrdiff_t>(images.size()), 1, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
            for (std::ptrdiff_t i = lo; i < hi; ++i) {
                const std::size_t k = static_cast<std::size_t>(i);
                detail::faces_of_image(exec::seq, params, det, images[k], k, boxes[k], crops[k]);
            }
        });
    }
    std::vector<face_box> all_boxes;
    std::vector<image<std::uint8_t>> all_crops;
    for (std::size_t i = 0; i < images.size(); ++i) {
        all_boxes.insert(all_boxes.end(), boxes[i].begin(), boxes[i].end());
        for (auto& c : crops[i]) all_crops.push_back(std::move(c));
    }
    return detail::stack_crops(params, std::move(all_boxes), std::move(all_crops));
}

/// Preprocesses one image.
template <class Policy>
preprocessed preprocess(const Policy& policy, const preprocess_params& params, const image_view<const std::uint8_t>& img,
                        const face_detector* det = nullptr) {
    return preprocess(policy, params, std::vector<image_view<const std::uint8_t>>{img}, det);
}

/// Preprocesses a batch of crops [n, rows, cols] (face_source::crop: one crop per image, resized
/// to the crop size if needed, then equalised); for other face sources every image is searched.
template <class Policy>
preprocessed preprocess(const Policy& policy, const preprocess_params& params, const volume_view<const std::uint8_t>& batch,
                        const face_detector* det = nullptr) {
    if (batch.data() == nullptr || batch.size() == 0) throw error("ferx::preprocess", "the batch is empty");
    std::vector<image_view<const std::uint8_t>> images;
    images.reserve(static_cast<std::size_t>(batch.shape(0)));
    for (index_t i = 0; i < batch.shape(0); ++i) images.push_back(batch[i]);
    if (params.source == face_source::crop && images.size() == 1) return preprocess(exec::seq, params, images, det);
    return preprocess(policy, params, images, det);
}

/// The crops [m, rows, cols] as float pixels, normalised as `norm` says (per crop).
template <class Policy>
xt::xtensor<float, 3> normalize_intensity(const Policy& policy, const xt::xtensor<std::uint8_t, 3>& crops,
                                          intensity_norm norm) {
    static_assert(is_host_policy_v<Policy>, "ferx::normalize_intensity runs on the host: exec::seq or exec::par");
    xt::xtensor<float, 3> out(crops.shape());
    const std::size_t n = crops.shape(0), px = crops.shape(1) * crops.shape(2);
    detail::for_each_range(policy, static_cast<std::ptrdiff_t>(n), 16, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
        for (std::ptrdiff_t i = lo; i < hi; ++i) {
            const std::uint8_t* s = crops.data() + static_cast<std::size_t>(i) * px;
            float* d = out.data() + static_cast<std::size_t>(i) * px;
            double offset = 0.0, factor = 1.0;
            if (norm == intensity_norm::unit_range) {
                factor = 1.0 / 255.0;
            } else if (norm == intensity_norm::standardize) {
                double sum = 0, sq = 0;
                for (std::size_t k = 0; k < px; ++k) sum += s[k];
                offset = sum / static_cast<double>(px);
                for (std::size_t k = 0; k < px; ++k) sq += (s[k] - offset) * (s[k] - offset);
                const double sd = std::sqrt(sq / static_cast<double>(px));
                factor = sd > 0 ? 1.0 / sd : 0.0;
            }
            for (std::size_t k = 0; k < px; ++k) d[k] = static_cast<float>((s[k] - offset) * factor);
        }
    });
    return out;
}

FERX_NAMESPACE_END
