/// \file ferx/detect/face_crop.hpp
/// From detections to face crops, the step between the detector and a descriptor or a network:
///
///     auto faces = ferx::detect_multiscale(ferx::exec::par, face_cascade, img, {});
///     if (auto f = ferx::largest_face(faces)) {
///         auto eyes = ferx::locate_eyes(ferx::exec::seq, eye_cascade, img, f->box);
///         ferx::image<std::uint8_t> crop = ferx::crop_face(img, f->box, {0.2, 64, 64}, eyes ? &*eyes : nullptr);
///     }
///
/// Crops are bilinear (the 8-bit fixed-point interpolation of the detector's pyramid, so an
/// unrotated crop equals cv::resize(..., INTER_LINEAR_EXACT) of the padded box); with eyes, the
/// crop is rotated about the eyes' midpoint so that they are level (bilinear in float, borders
/// replicated).
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/core/view.hpp>
#include <ferx/detect/cascade.hpp>
#include <ferx/imgproc/pyramid_resize.hpp>
#include <ferx/detect/detect_multiscale.hpp>
#include <ferx/detect/rect.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

FERX_NAMESPACE_BEGIN

/// The detection of largest area (ties: more neighbours, then the first), or none.
inline std::optional<detection> largest_face(const std::vector<detection>& faces) {
    std::optional<detection> best;
    for (const detection& d : faces)
        if (!best || d.box.area() > best->box.area() ||
            (d.box.area() == best->box.area() && d.neighbors > best->neighbors))
            best = d;
    return best;
}

/// The detection with the most neighbours (ties: larger area, then the first), or none.
inline std::optional<detection> most_confident_face(const std::vector<detection>& faces) {
    std::optional<detection> best;
    for (const detection& d : faces)
        if (!best || d.neighbors > best->neighbors ||
            (d.neighbors == best->neighbors && d.box.area() > best->box.area()))
            best = d;
    return best;
}

/// `box` grown by `ratio` of its width (height) on the left and right (top and bottom), rounded
/// to whole pixels and clipped to a rows x cols image. Negative ratios shrink (down to -0.49);
/// ratios above 16 are refused.
inline rect pad_box(const rect& box, double ratio, index_t rows, index_t cols) {
    if (!std::isfinite(ratio) || ratio < -0.49 || ratio > 16.0)
        throw error("ferx::pad_box", "the pad ratio must be in [-0.49, 16], got " + std::to_string(ratio));
    const int dx = static_cast<int>(std::lround(box.width * ratio)), dy = static_cast<int>(std::lround(box.height * ratio));
    const rect grown{box.x - dx, box.y - dy, box.width + 2 * dx, box.height + 2 * dy};
    return intersect(grown, rect{0, 0, static_cast<int>(cols), static_cast<int>(rows)});
}

/// Eye centres in image pixels; `left` is the eye on the image's left.
struct eye_pair {
    float left_x = 0, left_y = 0, right_x = 0, right_y = 0;
};

/// Parameters of crop_face.
struct face_crop_params {
    double pad = 0.2;     ///< margin around the box, as a ratio of its size (pad_box)
    int width = 64;       ///< output columns
    int height = 64;      ///< output rows
};

namespace detail {
inline void check_face_image(const image_view<const std::uint8_t>& img, const char* where) {
    if (img.data() == nullptr || img.rows() <= 0 || img.cols() <= 0) throw error(where, "the image is empty");
    require_packed_rows(img, where, "the image");
}
}  // namespace detail

/// Finds the two eyes inside a face box with an eye cascade (e.g. haarcascade_eye.xml): eyes are
/// searched in the upper 60 % of the box, at least a tenth of the face's width wide; the best
/// detection (most neighbours) in each half of the face is taken. None when either is missing.
template <class Policy>
std::optional<eye_pair> locate_eyes(const Policy& policy, const cascade& eyes, const image_view<const std::uint8_t>& img,
                                    const rect& face) {
    constexpr const char* where = "ferx::locate_eyes";
    detail::check_face_image(img, where);
    const rect frame{0, 0, static_cast<int>(img.cols()), static_cast<int>(img.rows())};
    const rect band = intersect(rect{face.x, face.y, face.width, face.height * 6 / 10}, frame);
    if (band.area() <= 0) throw error(where, "the face box lies outside the image");
    const image_view<const std::uint8_t> roi(img.data() + band.y * img.stride(0) + band.x, {band.height, band.width},
                                             {img.stride(0), 1});
    detect_params p;
    p.min_neighbors = 2;
    p.min_width = p.min_height = std::max(eyes.window_width, face.width / 10);
    p.max_width = p.max_height = std::max(p.min_width, face.width / 2);
    const std::vector<detection> found = detect_multiscale(policy, eyes, roi, p);
    const float mid = static_cast<float>(band.width) * 0.5f;
    std::optional<detection> l, r;
    for (const detection& d : found) {
        const float cx = static_cast<float>(d.box.x) + static_cast<float>(d.box.width) * 0.5f;
        std::optional<detection>& side = cx < mid ? l : r;
        if (!side || d.neighbors > side->neighbors) side = d;
    }
    if (!l || !r) return std::nullopt;
    eye_pair e;
    e.left_x = static_cast<float>(band.x) + static_cast<float>(l->box.x) + static_cast<float>(l->box.width) * 0.5f;
    e.left_y = static_cast<float>(band.y) + static_cast<float>(l->box.y) + static_cast<float>(l->box.height) * 0.5f;
    e.right_x = static_cast<float>(band.x) + static_cast<float>(r->box.x) + static_cast<float>(r->box.width) * 0.5f;
    e.right_y = static_cast<float>(band.y) + static_cast<float>(r->box.y) + static_cast<float>(r->box.height) * 0.5f;
    return e;
}

/// Crops a face: the box padded by `params.pad` (clipped to the image), scaled to
/// params.height x params.width. With `eyes`, the image is first rotated about the eyes'
/// midpoint by the angle that levels them (the padded box keeps its size and centre).
/// Throws ferx::error for an empty image, an empty or outside box, or an output size outside
/// 1 to 16384 pixels a side.
inline image<std::uint8_t> crop_face(const image_view<const std::uint8_t>& img, const rect& box,
                                     const face_crop_params& params = {}, const eye_pair* eyes = nullptr) {
    constexpr const char* where = "ferx::crop_face";
    detail::check_face_image(img, where);
    if (params.width <= 0 || params.height <= 0 || params.width > 16384 || params.height > 16384)
        throw error(where, "the output size must be 1 to 16384 pixels a side, got " + std::to_string(params.width) + "x" +
                               std::to_string(params.height));
    const rect r = pad_box(box, params.pad, img.rows(), img.cols());
    if (box.width <= 0 || box.height <= 0 || r.area() <= 0)
        throw error(where, "the face box is empty or outside the image");
    image<std::uint8_t> out({static_cast<std::size_t>(params.height), static_cast<std::size_t>(params.width)});
    if (!eyes) {
        const image_view<const std::uint8_t> roi(img.data() + r.y * img.stride(0) + r.x, {r.height, r.width},
                                                 {img.stride(0), 1});
        std::vector<int> rows;
        detail::pyramid_resize(roi, view(out), rows);
        return out;
    }
    // Rotation about the eye midpoint (cx, cy) by -angle, composed with the box -> output scale:
    // output (u, v) samples the image at centre + R(angle) * ((u + 0.5) * sx - w/2 + ..., ...).
    const double cx = 0.5 * (eyes->left_x + eyes->right_x), cy = 0.5 * (eyes->left_y + eyes->right_y);
    const double angle = std::atan2(static_cast<double>(eyes->right_y) - eyes->left_y,
                                    static_cast<double>(eyes->right_x) - eyes->left_x);
    if (!std::isfinite(angle)) throw error(where, "the eye positions are not finite");
    const double ca = std::cos(angle), sa = std::sin(angle);
    const double sx = static_cast<double>(r.width) / params.width, sy = static_cast<double>(r.height) / params.height;
    const auto pix = [&](index_t y, index_t x) -> double {
        y = std::clamp<index_t>(y, 0, img.rows() - 1);
        x = std::clamp<index_t>(x, 0, img.cols() - 1);
        return img(y, x);
    };
    for (int v = 0; v < params.height; ++v)
        for (int u = 0; u < params.width; ++u) {
            // position in the unrotated padded box, relative to the eye midpoint
            const double bx = r.x + (u + 0.5) * sx - 0.5 - cx, by = r.y + (v + 0.5) * sy - 0.5 - cy;
            const double x = cx + ca * bx - sa * by, y = cy + sa * bx + ca * by;
            const double fx = std::floor(x), fy = std::floor(y);
            const auto ix = static_cast<index_t>(fx), iy = static_cast<index_t>(fy);
            const double ax = x - fx, ay = y - fy;
            const double val = (1 - ay) * ((1 - ax) * pix(iy, ix) + ax * pix(iy, ix + 1)) +
                               ay * ((1 - ax) * pix(iy + 1, ix) + ax * pix(iy + 1, ix + 1));
            out(static_cast<std::size_t>(v), static_cast<std::size_t>(u)) =
                static_cast<std::uint8_t>(std::clamp(std::lround(val), 0L, 255L));
        }
    return out;
}

FERX_NAMESPACE_END
