/// \file ferx/detect/rect.hpp
/// Rectangles in image pixels and detections (a rectangle with its neighbour count).
#pragma once

#include <ferx/core/config.hpp>

#include <algorithm>

FERX_NAMESPACE_BEGIN

/// An axis-aligned box: columns [x, x + width), rows [y, y + height), in pixels.
struct rect {
    int x = 0, y = 0, width = 0, height = 0;

    constexpr long long area() const { return static_cast<long long>(width) * height; }
    friend constexpr bool operator==(const rect& a, const rect& b) {
        return a.x == b.x && a.y == b.y && a.width == b.width && a.height == b.height;
    }
    friend constexpr bool operator!=(const rect& a, const rect& b) { return !(a == b); }
};

/// The intersection of two boxes (an empty box, width or height 0, if they do not overlap).
constexpr rect intersect(const rect& a, const rect& b) {
    const int x0 = std::max(a.x, b.x), y0 = std::max(a.y, b.y);
    const int x1 = std::min(a.x + a.width, b.x + b.width), y1 = std::min(a.y + a.height, b.y + b.height);
    return x1 > x0 && y1 > y0 ? rect{x0, y0, x1 - x0, y1 - y0} : rect{x0, y0, 0, 0};
}

/// Intersection over union, in [0, 1] (0 when both boxes are empty).
inline double iou(const rect& a, const rect& b) {
    const double i = static_cast<double>(intersect(a, b).area());
    const double u = static_cast<double>(a.area()) + static_cast<double>(b.area()) - i;
    return u > 0 ? i / u : 0.0;
}

/// A detected object: its box and the number of raw windows grouped into it (its neighbours,
/// the confidence that cv::CascadeClassifier reports as numDetections).
struct detection {
    rect box;
    int neighbors = 0;
};

FERX_NAMESPACE_END
