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
/// concatenated in level and row order, so par's results equal seq's, order included); `cuda`
/// (device batches, in .cu files): ferx::cuda::cascade_detector below, defined in
/// ferx/cuda/dispatch/detect.cuh.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/view.hpp>
#include <ferx/detect/cascade.hpp>
#include <ferx/detect/detail/cascade_eval.hpp>
#include <ferx/detect/detail/cascade_simd.hpp>
#include <ferx/detect/detail/detect_core.hpp>
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

namespace detail {

/// Buffers of one level being scanned (sized for the largest level; one row stride for all).
struct level_scratch {
    std::vector<std::uint8_t> image;
    std::vector<std::int32_t> sums;  ///< sum plane, then the tilted plane if needed
    std::vector<double> sqsum;
    std::vector<int> rows;           ///< resize scratch
};

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

/// One window row of a Haar stump cascade with the vector stages (ferx/detect/detail/
/// cascade_simd.hpp): 16 positions at a time through the first stages, the survivors on one by
/// one, then the scalar scan's skip rule over the results, so the accepted windows are scan_rows'.
inline void scan_row_haar_simd(const haar_evaluator& ev, const cascade& c, const std::vector<haar_stump>& stumps,
                               const pyramid_level& l, const int* prow, const double* qrow, int y,
                               std::vector<rect>& out) {
#if defined(FERX_CASCADE_AVX512)
    const int step = l.step;
    const int S = std::min<int>(cascade_simd_stages, static_cast<int>(c.stages.size()));
    std::size_t first_stump = 0;
    for (int si = 0; si < S; ++si) first_stump += static_cast<std::size_t>(c.stages[static_cast<std::size_t>(si)].trees);
    int res[16];
    alignas(64) float factor[16];
    bool skip = false;
    for (int x0 = 0; x0 < l.scan_w; x0 += 16 * step) {
        const int n = std::min(16, (l.scan_w - x0 + step - 1) / step);
        haar_first_stages_avx512(ev, c, stumps, prow, qrow, x0, step, n, S, res, factor);
        for (int k = 0; k < n; ++k) {
            if (skip) {
                skip = false;
                continue;
            }
            const int x = x0 + k * step;
            int r = res[k];
            if (r == 1 && S < static_cast<int>(c.stages.size()))
                r = run_stages_from(ev, c, stumps.data() + first_stump, S, prow + x, factor[k]);
            if (r > 0)
                out.push_back(rect{round_even(static_cast<float>(x) * l.scale), round_even(static_cast<float>(y) * l.scale),
                                   l.box_w, l.box_h});
            else if (r == 0)
                skip = true;  // rejected by the first stage: skip the next position
        }
    }
#else
    (void)ev, (void)c, (void)stumps, (void)l, (void)prow, (void)qrow, (void)y, (void)out;
#endif
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
        if constexpr (std::is_same<E, haar_evaluator>::value) {
            if (c.stump_based() && cascade_simd_active()) {
                scan_row_haar_simd(ev, c, stumps, l, prow, qrow, y, out);
                continue;
            }
        }
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
                  "ferx::detect_candidates on host images needs exec::seq or exec::par; for exec::cuda copy the "
                  "frames to the device and use ferx::cuda::cascade_detector from a .cu file");
    if (img.data() == nullptr) throw error(detail::detect_where, "the image is empty");
    detail::require_packed_rows(img, detail::detect_where, "the image");
    const auto levels = detail::plan_pyramid(c, img.rows(), img.cols(), params);
    if (c.feature_type == cascade_feature::haar)
        return detail::detect_candidates_with<detail::haar_evaluator>(policy, c, img, levels);
    return detail::detect_candidates_with<detail::lbp_evaluator>(policy, c, img, levels);
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

namespace detail {
FERX_ARCH_NAMESPACE_BEGIN
/// The device side of cuda::cascade_detector, and its three operations: defined in
/// ferx/cuda/dispatch/detect.cuh (included at the end of this header under nvcc).
struct cascade_device_state;
/// Uploads the cascade and the pyramid's resize tables for rows x cols frames, allocates level
/// buffers for one frame; synchronises once. Needs a device (ferx::error otherwise).
std::shared_ptr<cascade_device_state> cascade_upload(const exec::cuda_policy& policy, const cascade& c, index_t rows,
                                                     index_t cols, const detect_params& params,
                                                     const detect_cuda_options& opt);
/// Raw windows of each frame of a checked device batch; synchronises twice per chunk of frames.
std::vector<std::vector<rect>> cascade_scan(cascade_device_state& s, const device_volume_view<const std::uint8_t>& frames);
/// Device memory the state holds, bytes.
std::size_t cascade_device_bytes(const cascade_device_state& s) noexcept;
FERX_ARCH_NAMESPACE_END
}  // namespace detail

namespace cuda {
FERX_ARCH_NAMESPACE_BEGIN

/// A cascade resident on the device, for frames of one size and one set of parameters: the
/// model, the pyramid's resize tables and the level buffers are uploaded / allocated once, so a
/// per-frame call allocates nothing (except when a batch is larger than any before it, or the
/// accepted windows outgrow their buffer: both grow once and stay). Use it from .cu files; its
/// device side is ferx/cuda/dispatch/detect.cuh, included at the end of this header under nvcc.
///
///     ferx::cuda::stream s;
///     ferx::cuda::cascade_detector faces(s.policy(), model, 480, 640);          // once
///     for (...) found = faces.detect(d_frames.cview());                       // per batch
///
/// Every call that returns windows or detections synchronises the policy's stream (twice per
/// chunk of frames: the count of accepted windows, then the windows). Results equal
/// detect_candidates / detect_multiscale with exec::seq on each frame.
class cascade_detector {
public:
    /// Needs a device (ferx::error otherwise); checks the cascade and the parameters (ferx::error).
    cascade_detector(const exec::cuda_policy& policy, const cascade& c, index_t rows, index_t cols,
                     const detect_params& params = {}, const detect_cuda_options& opt = {})
        : s_(ferx::detail::cascade_upload(policy, c, rows, cols, params, opt)), rows_(rows), cols_(cols), params_(params) {}
    /// Move-only: the device buffers belong to one detector (and its stream).
    cascade_detector(cascade_detector&&) noexcept = default;
    cascade_detector& operator=(cascade_detector&&) noexcept = default;
    cascade_detector(const cascade_detector&) = delete;
    cascade_detector& operator=(const cascade_detector&) = delete;

    /// Raw windows of each frame of a device batch (N x rows x cols, 8-bit, packed rows), in the
    /// reference order, as boxes in frame pixels. Synchronises.
    std::vector<std::vector<rect>> candidates(const device_volume_view<const std::uint8_t>& frames) {
        constexpr const char* where = "ferx::cuda::cascade_detector";
        if (!s_) throw error(where, "the detector was moved from");
        if (frames.data() == nullptr || frames.size() == 0) throw error(where, "the batch of frames is empty");
        if (frames.rows() != rows_ || frames.cols() != cols_)
            throw error(where, "the detector was built for " + std::to_string(cols_) + "x" + std::to_string(rows_) +
                                   " frames, got " + std::to_string(frames.cols()) + "x" + std::to_string(frames.rows()));
        ferx::detail::require_packed_rows(frames, where, "the frames");
        return ferx::detail::cascade_scan(*s_, frames);
    }

    /// Detections of each frame of a device batch (raw windows grouped and clipped). Synchronises.
    std::vector<std::vector<detection>> detect(const device_volume_view<const std::uint8_t>& frames) {
        const auto raw = candidates(frames);
        std::vector<std::vector<detection>> out;
        out.reserve(raw.size());
        for (const auto& r : raw) out.push_back(group_and_clip(r, rows_, cols_, params_));
        return out;
    }
    /// Detections of one device image (rows x cols, 8-bit). Synchronises.
    std::vector<detection> detect(const device_image_view<const std::uint8_t>& img) {
        const device_volume_view<const std::uint8_t> one(img.data(), {1, img.rows(), img.cols()},
                                                         {img.rows() * img.stride(0), img.stride(0), img.stride(1)});
        return detect(one).front();
    }

    index_t rows() const noexcept { return rows_; }
    index_t cols() const noexcept { return cols_; }
    const detect_params& params() const noexcept { return params_; }
    /// Device memory held now (model, tables, level and window buffers), bytes.
    std::size_t device_bytes() const noexcept { return s_ ? ferx::detail::cascade_device_bytes(*s_) : 0; }

private:
    std::shared_ptr<ferx::detail::cascade_device_state> s_;  // device buffers (ferx/cuda/dispatch/detect.cuh)
    index_t rows_ = 0, cols_ = 0;
    detect_params params_;
};

FERX_ARCH_NAMESPACE_END
}  // namespace cuda

#if defined(__CUDACC__)
FERX_ARCH_NAMESPACE_BEGIN
/// One-shot conveniences: each builds a cuda::cascade_detector for the batch (uploads the model,
/// allocates the level buffers) and synchronises. In a per-frame loop keep a cascade_detector.
inline std::vector<std::vector<rect>> detect_candidates_batch(const exec::cuda_policy& policy, const cascade& c,
                                                              const device_volume_view<const std::uint8_t>& frames,
                                                              const detect_params& params = {},
                                                              const detect_cuda_options& opt = {}) {
    if (frames.data() == nullptr || frames.size() == 0) throw error(detail::detect_where, "the batch of frames is empty");
    return cuda::cascade_detector(policy, c, frames.rows(), frames.cols(), params, opt).candidates(frames);
}
/// Detections in each frame of a device batch (N x H x W, 8-bit), equal to
/// detect_multiscale(exec::seq, ...) on each frame (one-shot, see above).
inline std::vector<std::vector<detection>> detect_multiscale_batch(const exec::cuda_policy& policy, const cascade& c,
                                                                   const device_volume_view<const std::uint8_t>& frames,
                                                                   const detect_params& params = {},
                                                                   const detect_cuda_options& opt = {}) {
    if (frames.data() == nullptr || frames.size() == 0) throw error(detail::detect_where, "the batch of frames is empty");
    return cuda::cascade_detector(policy, c, frames.rows(), frames.cols(), params, opt).detect(frames);
}
/// Detections in one device image (H x W, 8-bit) (one-shot, see above).
inline std::vector<detection> detect_multiscale(const exec::cuda_policy& policy, const cascade& c,
                                                const device_image_view<const std::uint8_t>& img,
                                                const detect_params& params = {}, const detect_cuda_options& opt = {}) {
    if (img.data() == nullptr || img.size() == 0) throw error(detail::detect_where, "the image is empty");
    return cuda::cascade_detector(policy, c, img.rows(), img.cols(), params, opt).detect(img);
}
FERX_ARCH_NAMESPACE_END
#endif

FERX_NAMESPACE_END

#if defined(__CUDACC__)
#include <ferx/cuda/dispatch/detect.cuh>
#endif
