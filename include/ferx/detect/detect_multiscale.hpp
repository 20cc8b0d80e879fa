/// \file ferx/detect/detect_multiscale.hpp
/// Multi-scale sliding-window detection with a boosted cascade (Viola-Jones), the algorithm of
/// cv::CascadeClassifier::detectMultiScale, with the same results on the same input:
///
///     auto faces = ferx::load_cascade(".../haarcascade_frontalface_default.xml");
///     std::vector<ferx::detection> found =
///         ferx::detect_multiscale(ferx::exec::par, faces, ferx::view<std::uint8_t>(grey), {});
///
/// The scan. For factors f = 1, s, s^2, ... (s = scale_factor) while the window
/// (round(W0 f) x round(H0 f)) fits both the image and max size, skipping those below min size,
/// the image is scaled by 1/f to round(w / f) x round(h / f) (bilinear, 8-bit fixed point as in
/// OpenCV: ferx/imgproc/pyramid_resize.hpp), and the cascade's W0 x H0 window visits every position
/// (x, y) on a grid of `step` pixels (by default 2 below f = 2, else 1); after a window that the
/// first stage rejects, the next position of the row is skipped. Each accepted window gives the
/// box (round(x f), round(y f), round(W0 f), round(H0 f)); boxes are then grouped
/// (ferx/detect/group_rectangles.hpp, eps 0.2) and clipped to the image.
///
/// Backends: `seq` (reference) and `par` (with at least 4 levels per thread, the pyramid levels
/// are tasks on the pool, claimed largest first; with fewer, each level in turn is resized,
/// integrated and scanned by all threads in bands of rows; either way raw windows are
/// concatenated in level and row order, so par's results equal seq's, order included); `cuda` in
/// ferx/cuda/dispatch/detect.cuh.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/view.hpp>
#include <ferx/detect/cascade.hpp>
#include <ferx/detect/detail/cascade_eval.hpp>
#include <ferx/imgproc/pyramid_resize.hpp>
#include <ferx/detect/group_rectangles.hpp>
#include <ferx/detect/integral.hpp>
#include <ferx/detect/rect.hpp>

#include <cmath>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
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

/// Buffers of one level being scanned (sized for the largest level; one row stride for all).
struct level_scratch {
    std::vector<std::uint8_t> image;
    std::vector<std::int32_t> sums;  ///< sum plane, then the tilted plane if needed
    std::vector<double> sqsum;
    std::vector<int> rows;           ///< resize scratch
};

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

/// Views of a level's buffers in `s` (sized for the largest level of the layout).
struct level_views {
    image_view<std::uint8_t> image;
    image_view<std::int32_t> sum, tilted;
    image_view<double> sqsum;
};

inline level_views prepare_buffers(const cascade& c, bool sq, const pyramid_level& l, const pyramid_layout& L,
                                   level_scratch& s) {
    s.image.resize(static_cast<std::size_t>(L.max_w * L.max_h));
    s.sums.resize(static_cast<std::size_t>(L.plane * (c.has_tilted ? 2 : 1)));
    if (sq) s.sqsum.resize(static_cast<std::size_t>(L.plane));
    level_views v;
    v.image = image_view<std::uint8_t>(s.image.data(), {l.height, l.width}, {l.width, 1});
    v.sum = image_view<std::int32_t>(s.sums.data(), {l.height + 1, l.width + 1}, {L.stride, 1});
    if (sq) v.sqsum = image_view<double>(s.sqsum.data(), {l.height + 1, l.width + 1}, {L.stride, 1});
    if (c.has_tilted)
        v.tilted = image_view<std::int32_t>(s.sums.data() + L.plane, {l.height + 1, l.width + 1}, {L.stride, 1});
    return v;
}

/// Scans window rows [j0, j1) (row j at level y = j * step) of a prepared level; appends the
/// accepted boxes (image pixels) to `out`, row by row.
template <class E>
void scan_rows(const E& ev, const cascade& c, const std::vector<typename E::stump>& stumps, const pyramid_level& l,
               const pyramid_layout& L, const level_scratch& s, int j0, int j1, std::vector<rect>& out) {
    const int step = l.step;
    for (int y = j0 * step; y < j1 * step && y < l.scan_h; y += step) {
        const int* prow = s.sums.data() + y * L.stride;
        const double* qrow = E::needs_sqsum ? s.sqsum.data() + y * L.stride : nullptr;
        for (int x = 0; x < l.scan_w; x += step) {
            const int r = run_stages(ev, c, stumps, prow + x, qrow ? qrow + x : nullptr);
            if (r > 0)
                out.push_back(rect{round_even(static_cast<float>(x) * l.scale), round_even(static_cast<float>(y) * l.scale),
                                   l.box_w, l.box_h});
            else if (r == 0)
                x += step;  // rejected by the first stage: skip the next position
        }
    }
}

inline int window_rows(const pyramid_level& l) { return (l.scan_h + l.step - 1) / l.step; }

/// Scales the image to the level, computes its integral images, scans every window; appends the
/// accepted boxes (image pixels) to `out`. One thread.
template <class E>
void scan_level(const E& ev, const cascade& c, const std::vector<typename E::stump>& stumps,
                const image_view<const std::uint8_t>& img, const pyramid_level& l, const pyramid_layout& L,
                level_scratch& s, std::vector<rect>& out) {
    const level_views v = prepare_buffers(c, E::needs_sqsum, l, L, s);
    pyramid_resize(img, v.image, s.rows);
    integral(exec::seq, image_view<const std::uint8_t>(v.image), v.sum, v.sqsum, v.tilted);
    scan_rows(ev, c, stumps, l, L, s, 0, window_rows(l), out);
}

/// The same on all threads of `pool`: bands of level rows are resized in parallel, the integral
/// images computed by ferx::integral(par), and bands of window rows scanned in parallel (claimed
/// dynamically, concatenated in row order, so the output is scan_level's).
template <class E>
void scan_level_par(thread_pool& pool, const E& ev, const cascade& c, const std::vector<typename E::stump>& stumps,
                    const image_view<const std::uint8_t>& img, const pyramid_level& l, const pyramid_layout& L,
                    level_scratch& s, std::vector<rect>& out) {
    const level_views v = prepare_buffers(c, E::needs_sqsum, l, L, s);
    const index_t bands = static_cast<index_t>(pool.size());
    pool.run(static_cast<std::size_t>(bands), [&](std::size_t b) {
        std::vector<int> rows;
        const index_t h = l.height, bi = static_cast<index_t>(b);
        pyramid_resize(img, v.image, rows, h * bi / bands, h * (bi + 1) / bands);
    });
    integral(exec::par.on(pool), image_view<const std::uint8_t>(v.image), v.sum, v.sqsum, v.tilted);
    const int nrows = window_rows(l);
    const int chunks = std::max(1, std::min(nrows, 4 * static_cast<int>(pool.size())));
    std::vector<std::vector<rect>> parts(static_cast<std::size_t>(chunks));
    pool.run(static_cast<std::size_t>(chunks), [&](std::size_t k) {
        const int ki = static_cast<int>(k);
        scan_rows(ev, c, stumps, l, L, s, nrows * ki / chunks, nrows * (ki + 1) / chunks, parts[k]);
    });
    for (auto& p : parts) out.insert(out.end(), p.begin(), p.end());
}

template <class E, class Policy>
std::vector<rect> detect_candidates_with(const Policy& policy, const cascade& c,
                                         const image_view<const std::uint8_t>& img,
                                         const std::vector<pyramid_level>& levels) {
    std::vector<rect> out;
    if (levels.empty()) return out;
    const pyramid_layout L = layout_of(levels);
    const E ev(c, L.stride, L.plane);
    const std::vector<typename E::stump> stumps =
        c.stump_based() ? ev.make_stumps(c) : std::vector<typename E::stump>{};
    if constexpr (std::is_same<Policy, exec::parallel_policy>::value) {
        thread_pool& pool = policy.pool();
        if (levels.size() < 4 * pool.size()) {
            // Few levels for many threads: every thread works on each level in turn.
            level_scratch s;
            for (const auto& l : levels) scan_level_par(pool, ev, c, stumps, img, l, L, s, out);
            return out;
        }
        // Many levels: each level is a task (largest first), scanned by one thread.
        std::vector<std::vector<rect>> per_level(levels.size());
        std::vector<std::unique_ptr<level_scratch>> free_list;
        std::mutex m;
        pool.run(levels.size(), [&](std::size_t i) {
            std::unique_ptr<level_scratch> s;
            {
                std::lock_guard<std::mutex> lock(m);
                if (!free_list.empty()) {
                    s = std::move(free_list.back());
                    free_list.pop_back();
                }
            }
            if (!s) s = std::make_unique<level_scratch>();
            scan_level(ev, c, stumps, img, levels[i], L, *s, per_level[i]);
            std::lock_guard<std::mutex> lock(m);
            free_list.push_back(std::move(s));
        });
        for (auto& v : per_level) out.insert(out.end(), v.begin(), v.end());
    } else {
        level_scratch s;
        for (const auto& l : levels) scan_level(ev, c, stumps, img, l, L, s, out);
    }
    return out;
}

}  // namespace detail

/// The raw windows the cascade accepts (before grouping), in pyramid-level order, then row-major:
/// boxes in image pixels. Throws ferx::error for an empty image or cascade, or bad parameters;
/// an image smaller than the window gives no windows.
template <class Policy>
std::vector<rect> detect_candidates(const Policy& policy, const cascade& c, const image_view<const std::uint8_t>& img,
                                    const detect_params& params = {}) {
    static_assert(is_host_policy_v<Policy>,
                  "ferx::detect_candidates on host images needs exec::seq or exec::par; for exec::cuda include "
                  "ferx/cuda/dispatch/detect.cuh from a .cu file");
    if (img.data() == nullptr) throw error(detail::detect_where, "the image is empty");
    detail::require_packed_rows(img, detail::detect_where, "the image");
    const auto levels = detail::plan_pyramid(c, img.rows(), img.cols(), params);
    if (c.feature_type == cascade_feature::haar)
        return detail::detect_candidates_with<detail::haar_evaluator>(policy, c, img, levels);
    return detail::detect_candidates_with<detail::lbp_evaluator>(policy, c, img, levels);
}

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

/// Detects objects in an 8-bit grey image: raw windows (detect_candidates), grouped and clipped.
/// Each detection carries its neighbour count.
template <class Policy>
std::vector<detection> detect_multiscale(const Policy& policy, const cascade& c,
                                         const image_view<const std::uint8_t>& img, const detect_params& params = {}) {
    return group_and_clip(detect_candidates(policy, c, img, params), img.rows(), img.cols(), params);
}

/// Detects in a batch of frames (of any sizes): one result per frame, each equal to
/// detect_multiscale on that frame. Under `par` the frames are the tasks (each scanned by one
/// thread), which keeps every core busy on video; under `seq` they are scanned in order.
template <class Policy>
std::vector<std::vector<detection>> detect_multiscale_batch(const Policy& policy, const cascade& c,
                                                            const std::vector<image_view<const std::uint8_t>>& frames,
                                                            const detect_params& params = {}) {
    static_assert(is_host_policy_v<Policy>, "ferx::detect_multiscale_batch needs exec::seq or exec::par");
    std::vector<std::vector<detection>> out(frames.size());
    if constexpr (std::is_same<Policy, exec::parallel_policy>::value) {
        policy.pool().run(frames.size(),
                          [&](std::size_t i) { out[i] = detect_multiscale(exec::seq, c, frames[i], params); });
    } else {
        for (std::size_t i = 0; i < frames.size(); ++i) out[i] = detect_multiscale(policy, c, frames[i], params);
    }
    return out;
}

/// Mutable-view convenience.
template <class Policy>
std::vector<detection> detect_multiscale(const Policy& policy, const cascade& c, const image_view<std::uint8_t>& img,
                                         const detect_params& params = {}) {
    return detect_multiscale(policy, c, image_view<const std::uint8_t>(img), params);
}

FERX_NAMESPACE_END
