/// \file ferx/detect/group_rectangles.hpp
/// Grouping of raw detector windows into detections, with the semantics of cv::groupRectangles
/// (the grouping cv::CascadeClassifier::detectMultiScale applies):
///  1. two boxes are similar when each of their four edges differs by at most
///     eps * (min(w1, w2) + min(h1, h2)) / 2; similarity is closed transitively into classes;
///  2. each class becomes its mean box (sums of integer coordinates times 1/n in float, rounded
///     to nearest, ties to even), with n = the class size (its neighbours);
///  3. classes of n <= min_neighbors are dropped, and so is a class lying inside another kept class
///     (within eps of the outer box's size) when the outer class has more than max(3, n) members or
///     n < 3.
/// Classes come out in the order of their first member in the input. With min_neighbors <= 0 the
/// input is returned as it is, each box with one neighbour.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/detect/rect.hpp>

#include <cmath>
#include <cstdlib>
#include <numeric>
#include <vector>

FERX_NAMESPACE_BEGIN

namespace detail {

inline bool similar_rects(const rect& a, const rect& b, double eps) {
    const double delta = eps * (std::min(a.width, b.width) + std::min(a.height, b.height)) * 0.5;
    return std::abs(a.x - b.x) <= delta && std::abs(a.y - b.y) <= delta &&
           std::abs(a.x + a.width - b.x - b.width) <= delta && std::abs(a.y + a.height - b.y - b.height) <= delta;
}

/// Nearest integer of a float, ties to even (the rounding of cvRound(float)).
inline int round_even(float v) { return static_cast<int>(std::nearbyint(v)); }
inline int round_even(double v) { return static_cast<int>(std::nearbyint(v)); }

/// Class labels of the transitive closure of similar_rects (0 .. classes-1, in order of each
/// class's first member); returns the number of classes.
inline int partition_rects(const std::vector<rect>& boxes, double eps, std::vector<int>& labels) {
    const std::size_t n = boxes.size();
    std::vector<std::size_t> parent(n);
    std::iota(parent.begin(), parent.end(), std::size_t{0});
    const auto find = [&](std::size_t i) {
        while (parent[i] != i) i = parent[i] = parent[parent[i]];
        return i;
    };
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = i + 1; j < n; ++j)
            if (similar_rects(boxes[i], boxes[j], eps)) {
                const std::size_t a = find(i), b = find(j);
                if (a != b) parent[std::max(a, b)] = std::min(a, b);  // roots are first members
            }
    labels.assign(n, -1);
    std::vector<int> label_of_root(n, -1);
    int classes = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t r = find(i);
        if (label_of_root[r] < 0) label_of_root[r] = classes++;
        labels[i] = label_of_root[r];
    }
    return classes;
}

}  // namespace detail

/// Groups raw windows into detections (see the file notes). \param eps similarity tolerance
/// (OpenCV's detector uses 0.2). Throws ferx::error for a negative or non-finite eps.
inline std::vector<detection> group_rectangles(const std::vector<rect>& boxes, int min_neighbors, double eps = 0.2) {
    if (!(eps >= 0.0) || !std::isfinite(eps))
        throw error("ferx::group_rectangles", "eps must be a finite number >= 0, got " + std::to_string(eps));
    std::vector<detection> out;
    if (min_neighbors <= 0 || boxes.empty()) {
        for (const rect& b : boxes) out.push_back({b, 1});
        return out;
    }
    std::vector<int> labels;
    const int classes = detail::partition_rects(boxes, eps, labels);
    std::vector<long long> sx(classes, 0), sy(classes, 0), sw(classes, 0), sh(classes, 0);
    std::vector<int> count(classes, 0);
    for (std::size_t i = 0; i < boxes.size(); ++i) {
        const int c = labels[i];
        sx[c] += boxes[i].x;
        sy[c] += boxes[i].y;
        sw[c] += boxes[i].width;
        sh[c] += boxes[i].height;
        ++count[c];
    }
    std::vector<rect> mean(classes);
    for (int c = 0; c < classes; ++c) {
        const float s = 1.f / static_cast<float>(count[c]);
        // int sums times a float factor, in float, as the reference computes them
        mean[c] = rect{detail::round_even(static_cast<float>(static_cast<int>(sx[c])) * s),
                       detail::round_even(static_cast<float>(static_cast<int>(sy[c])) * s),
                       detail::round_even(static_cast<float>(static_cast<int>(sw[c])) * s),
                       detail::round_even(static_cast<float>(static_cast<int>(sh[c])) * s)};
    }
    for (int i = 0; i < classes; ++i) {
        const int n1 = count[i];
        if (n1 <= min_neighbors) continue;
        const rect& r1 = mean[i];
        bool nested = false;
        for (int j = 0; j < classes && !nested; ++j) {
            const int n2 = count[j];
            if (j == i || n2 <= min_neighbors) continue;
            const rect& r2 = mean[j];
            const int dx = detail::round_even(r2.width * eps), dy = detail::round_even(r2.height * eps);
            nested = r1.x >= r2.x - dx && r1.y >= r2.y - dy && r1.x + r1.width <= r2.x + r2.width + dx &&
                     r1.y + r1.height <= r2.y + r2.height + dy && (n2 > std::max(3, n1) || n1 < 3);
        }
        if (!nested) out.push_back({r1, n1});
    }
    return out;
}

FERX_NAMESPACE_END
