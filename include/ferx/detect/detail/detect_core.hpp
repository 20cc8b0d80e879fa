/// \file ferx/detect/detail/detect_core.hpp
/// What every backend of the cascade detector shares (ferx/detect/detect_multiscale.hpp on the
/// host, ferx/cuda/dispatch/detect.cuh on the device, which must not include the public header):
/// the parameters, their checks, the pyramid plan and the layout of the integral buffers.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/view.hpp>
#include <ferx/detect/cascade.hpp>
#include <ferx/detect/group_rectangles.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN

/// Parameters of detect_multiscale (defaults: those of cv::CascadeClassifier::detectMultiScale).
struct detect_params {
    double scale_factor = 1.1;  ///< pyramid ratio, > 1
    int min_neighbors = 3;      ///< a detection needs more raw windows than this; 0 keeps them all
    int min_width = 0, min_height = 0;  ///< smallest window reported, pixels (0: no bound)
    int max_width = 0, max_height = 0;  ///< largest window reported, pixels (0: the image size)
    int step = 0;               ///< window stride in level pixels; 0: 2 below scale 2, else 1
    double group_eps = 0.2;     ///< grouping tolerance (group_rectangles)
};

namespace detail {

inline constexpr const char* detect_where = "ferx::detect_multiscale";

/// One level of the pyramid.
struct pyramid_level {
    float scale = 1.f;        ///< image pixels per level pixel
    int width = 0, height = 0;  ///< the scaled image
    int scan_w = 0, scan_h = 0; ///< window positions x < scan_w, y < scan_h
    int step = 2;
    int box_w = 0, box_h = 0;   ///< the window in image pixels
};

inline void check_detect_args(const cascade& c, index_t rows, index_t cols, const detect_params& p) {
    if (rows <= 0 || cols <= 0) throw error(detect_where, "the image is empty");
    if (c.stages.empty() || c.window_width <= 0 || c.window_height <= 0)
        throw error(detect_where, "the cascade is empty (load it with ferx::load_cascade)");
    if (!(p.scale_factor > 1.0) || !std::isfinite(p.scale_factor))
        throw error(detect_where, "scale_factor must be a finite number > 1, got " + std::to_string(p.scale_factor));
    if (p.min_neighbors < 0) throw error(detect_where, "min_neighbors must be >= 0");
    if (p.min_width < 0 || p.min_height < 0 || p.max_width < 0 || p.max_height < 0)
        throw error(detect_where, "min and max sizes must be >= 0 (0: no bound)");
    if ((p.max_width > 0 && p.min_width > p.max_width) || (p.max_height > 0 && p.min_height > p.max_height))
        throw error(detect_where, "min size " + std::to_string(p.min_width) + "x" + std::to_string(p.min_height) +
                                      " exceeds max size " + std::to_string(p.max_width) + "x" +
                                      std::to_string(p.max_height));
    if (p.step < 0) throw error(detect_where, "step must be >= 0 (0: the default rule)");
    if (!(p.group_eps >= 0.0) || !std::isfinite(p.group_eps))
        throw error(detect_where, "group_eps must be a finite number >= 0");
}

/// The pyramid for an image of rows x cols (empty when the window does not fit).
inline std::vector<pyramid_level> plan_pyramid(const cascade& c, index_t rows, index_t cols, const detect_params& p) {
    check_detect_args(c, rows, cols, p);
    const int max_w = p.max_width > 0 ? p.max_width : static_cast<int>(cols);
    const int max_h = p.max_height > 0 ? p.max_height : static_cast<int>(rows);
    std::vector<pyramid_level> out;
    for (double f = 1.0;; f *= p.scale_factor) {
        const int ww = round_even(c.window_width * f), wh = round_even(c.window_height * f);
        if (ww > max_w || wh > max_h || ww > cols || wh > rows) break;
        if (ww < p.min_width || wh < p.min_height) continue;
        if (out.size() >= 4096)
            throw error(detect_where, "more than 4096 pyramid levels; use a larger scale_factor");
        pyramid_level l;
        l.scale = static_cast<float>(f);
        l.width = round_even(static_cast<float>(cols) / l.scale);
        l.height = round_even(static_cast<float>(rows) / l.scale);
        l.scan_w = std::max(0, l.width + 1 - c.window_width);
        l.scan_h = std::max(0, l.height + 1 - c.window_height);
        l.step = p.step > 0 ? p.step : (l.scale >= 2.f ? 1 : 2);
        l.box_w = round_even(static_cast<float>(c.window_width) * l.scale);
        l.box_h = round_even(static_cast<float>(c.window_height) * l.scale);
        if (l.width > 0 && l.height > 0) out.push_back(l);
    }
    return out;
}

/// Row stride and plane size of the integral buffers of a pyramid.
struct pyramid_layout {
    index_t stride = 0, plane = 0, max_w = 0, max_h = 0;
};

inline pyramid_layout layout_of(const std::vector<pyramid_level>& levels) {
    pyramid_layout L;
    for (const auto& l : levels) {
        L.max_w = std::max<index_t>(L.max_w, l.width);
        L.max_h = std::max<index_t>(L.max_h, l.height);
    }
    L.stride = L.max_w + 1;
    L.plane = (L.max_h + 1) * L.stride;
    return L;
}

}  // namespace detail

/// Groups raw windows and clips the detections to a rows x cols image.
inline std::vector<detection> group_and_clip(const std::vector<rect>& windows, index_t rows, index_t cols,
                                             const detect_params& params) {
    std::vector<detection> out;
    const rect frame{0, 0, static_cast<int>(cols), static_cast<int>(rows)};
    for (detection d : group_rectangles(windows, params.min_neighbors, params.group_eps)) {
        d.box = intersect(d.box, frame);
        if (d.box.area() > 0) out.push_back(d);
    }
    return out;
}

/// Options of the CUDA detector (ferx::cuda::cascade_detector).
struct detect_cuda_options {
    std::size_t memory_budget = std::size_t{1} << 30;  ///< bytes of level buffers per chunk of frames
};

FERX_NAMESPACE_END
