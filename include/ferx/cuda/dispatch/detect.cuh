/// \file ferx/cuda/dispatch/detect.cuh
/// The `exec::cuda` backend of the cascade detector: batches of frames in device memory,
/// every window of every pyramid level evaluated on the device.
///
///     ferx::cuda::stream s;
///     auto frames = ferx::cuda::to_device(s.policy(), host_volume);          // N x H x W, uint8
///     auto found = ferx::detect_multiscale_batch(s.policy(), faces, frames.cview(), {});
///
/// Per chunk of frames (sized so that the level buffers fit `detect_cuda_options::memory_budget`)
/// and per level: the level images (kernels/detect.cuh: pyramid_resize), their integral images
/// (ferx::integral on the device), a code per window (cascade_windows), the skip rule per row and
/// the accepted windows (cascade_rows). The accepted windows are brought back, put in the
/// reference order (level, row, column) and grouped on the host, so the results equal those of
/// exec::seq (the arithmetic is the same, rounded step by step: see detail/cascade_eval.hpp).
/// Device buffers are allocated once per call and reused across levels and chunks.
#pragma once

#include <ferx/core/execution.hpp>
#include <ferx/core/view.hpp>
#include <ferx/cuda/kernels/detect.cuh>
#include <ferx/cuda/memory.cuh>
#include <ferx/cuda/runtime.cuh>
#include <ferx/detect/detect_multiscale.hpp>
#include <ferx/detect/integral.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <tuple>
#include <vector>

FERX_NAMESPACE_BEGIN

/// Options of the cuda detector.
struct detect_cuda_options {
    std::size_t memory_budget = std::size_t{1} << 30;  ///< bytes of level buffers per chunk of frames
};

namespace detail {

template <class T>
cuda::device_buffer<T> upload(const exec::cuda_policy& policy, const std::vector<T>& v) {
    cuda::device_buffer<T> d(v.size());
    if (!v.empty())
        cuda::check(cudaMemcpyAsync(d.data(), v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice, policy.stream()),
                    "ferx::detect_multiscale (cuda)", "cudaMemcpyAsync");
    return d;
}

/// The cascade's device arrays for one row stride (owned), and their view for the kernels.
struct device_cascade {
    cuda::device_buffer<cascade_stage> stages;
    cuda::device_buffer<haar_stump> haar_stumps;
    cuda::device_buffer<lbp_stump> lbp_stumps;
    cuda::device_buffer<cascade_tree> trees;
    cuda::device_buffer<cascade_node> nodes;
    cuda::device_buffer<float> leaves;
    cuda::device_buffer<std::uint32_t> subsets;
    cuda::device_buffer<haar_opt> haar_features;
    cuda::device_buffer<lbp_opt> lbp_features;
    cuda::kernels::device_cascade_view view{};

    device_cascade(const exec::cuda_policy& policy, const cascade& c, index_t stride, index_t plane) {
        stages = upload(policy, c.stages);
        view.nstages = static_cast<int>(c.stages.size());
        view.stages = stages.data();
        view.stump_based = c.stump_based() ? 1 : 0;
        if (c.feature_type == cascade_feature::haar) {
            const haar_evaluator ev(c, stride, plane);
            if (c.stump_based()) {
                haar_stumps = upload(policy, ev.make_stumps(c));
            } else {
                haar_features = upload(policy, ev.features);
            }
            std::copy(ev.norm, ev.norm + 4, view.norm);
            view.norm_area = ev.norm_area;
        } else {
            const lbp_evaluator ev(c, stride, plane);
            if (c.stump_based())
                lbp_stumps = upload(policy, ev.make_stumps(c));
            else
                lbp_features = upload(policy, ev.features);
        }
        if (!c.stump_based()) {
            trees = upload(policy, c.trees);
            nodes = upload(policy, c.nodes);
            leaves = upload(policy, c.leaves);
            subsets = upload(policy, c.subsets);
        }
        view.haar_stumps = haar_stumps.data();
        view.lbp_stumps = lbp_stumps.data();
        view.trees = trees.data();
        view.nodes = nodes.data();
        view.leaves = leaves.data();
        view.subsets = subsets.data();
        view.haar_features = haar_features.data();
        view.lbp_features = lbp_features.data();
    }
};

inline unsigned grid_for(index_t work, int threads) {
    const index_t blocks = (work + threads - 1) / threads;
    return static_cast<unsigned>(std::max<index_t>(1, std::min<index_t>(blocks, 65535 * 8)));
}

/// Raw windows per frame, in the reference order, as boxes in frame pixels.
inline std::vector<std::vector<rect>> detect_candidates_cuda(const exec::cuda_policy& policy, const cascade& c,
                                                             const device_volume_view<const std::uint8_t>& frames,
                                                             const detect_params& params, const detect_cuda_options& opt) {
    namespace k = cuda::kernels;
    constexpr const char* where = "ferx::detect_multiscale (cuda)";
    cuda::require_device(where);
    if (frames.data() == nullptr || frames.size() == 0) throw error(where, "the batch of frames is empty");
    require_packed_rows(frames, where, "the frames");
    const index_t n = frames.shape(0), rows = frames.rows(), cols = frames.cols();
    const auto levels = plan_pyramid(c, rows, cols, params);
    std::vector<std::vector<rect>> out(static_cast<std::size_t>(n));
    if (levels.empty()) return out;
    const pyramid_layout L = layout_of(levels);
    const bool haar = c.feature_type == cascade_feature::haar;
    const index_t planes = c.has_tilted ? 2 : 1;
    const index_t image_px = L.max_w * L.max_h;
    index_t max_codes = 0;
    for (const auto& l : levels)
        max_codes = std::max<index_t>(max_codes, ((l.scan_w + l.step - 1) / l.step) * ((l.scan_h + l.step - 1) / l.step));
    const index_t per_frame = image_px + L.plane * planes * 4 + (haar ? L.plane * 8 : 0) + max_codes;
    const index_t chunk = std::max<index_t>(1, std::min<index_t>(n, static_cast<index_t>(opt.memory_budget) / per_frame));

    cudaStream_t stream = policy.stream();
    const device_cascade dc(policy, c, L.stride, L.plane);
    cuda::device_buffer<std::uint8_t> d_level(static_cast<std::size_t>(chunk * image_px));
    cuda::device_buffer<std::int32_t> d_sums(static_cast<std::size_t>(chunk * L.plane * planes));
    cuda::device_buffer<double> d_sq(haar ? static_cast<std::size_t>(chunk * L.plane) : 0);
    cuda::device_buffer<std::int8_t> d_codes(static_cast<std::size_t>(chunk * max_codes));
    cuda::device_buffer<unsigned> d_count(1);
    unsigned capacity = 1u << 16;
    auto d_hits = std::make_unique<cuda::device_buffer<k::window_hit>>(capacity);

    // Resize tables of every level, uploaded once.
    std::vector<resize_axis> axes_x, axes_y;
    std::vector<cuda::device_buffer<int>> tables;
    std::vector<std::pair<k::resize_axis_view, k::resize_axis_view>> axis_views;
    for (const auto& l : levels) {
        resize_axis ax = make_resize_axis(cols, l.width), ay = make_resize_axis(rows, l.height);
        tables.push_back(upload(policy, ax.ofs));
        tables.push_back(upload(policy, ax.w1));
        tables.push_back(upload(policy, ay.ofs));
        tables.push_back(upload(policy, ay.w1));
        const std::size_t t = tables.size();
        axis_views.emplace_back(k::resize_axis_view{tables[t - 4].data(), tables[t - 3].data(), ax.first, ax.last, static_cast<int>(cols)},
                                k::resize_axis_view{tables[t - 2].data(), tables[t - 1].data(), ay.first, ay.last, static_cast<int>(rows)});
    }

    std::vector<k::window_hit> hits;
    for (index_t f0 = 0; f0 < n; f0 += chunk) {
        const index_t nf = std::min(chunk, n - f0);
        const device_volume_view<const std::uint8_t> src(frames.data() + f0 * frames.stride(0), {nf, rows, cols},
                                                         {frames.stride(0), frames.stride(1), 1});
        for (std::size_t li = 0; li < levels.size(); ++li) {
            const pyramid_level& l = levels[li];
            const device_volume_view<std::uint8_t> level(d_level.data(), {nf, l.height, l.width}, {image_px, l.width, 1});
            const k::resize_mode mode = (l.width == cols && l.height == rows) ? k::resize_mode::copy
                                        : (cols == 2 * l.width && rows == 2 * l.height) ? k::resize_mode::half
                                                                                      : k::resize_mode::bilinear;
            k::pyramid_resize<<<grid_for(nf * l.width * l.height, k::detect_threads), k::detect_threads, 0, stream>>>(
                src, level, axis_views[li].first, axis_views[li].second, mode);
            cuda::check_launch(where);
            const index_t sum_fs = L.plane * planes;
            const device_volume_view<std::int32_t> sum(d_sums.data(), {nf, l.height + 1, l.width + 1}, {sum_fs, L.stride, 1});
            const device_volume_view<double> sq =
                haar ? device_volume_view<double>(d_sq.data(), {nf, l.height + 1, l.width + 1}, {L.plane, L.stride, 1})
                     : device_volume_view<double>{};
            const device_volume_view<std::int32_t> tilt =
                c.has_tilted ? device_volume_view<std::int32_t>(d_sums.data() + L.plane, {nf, l.height + 1, l.width + 1},
                                                                {sum_fs, L.stride, 1})
                             : device_volume_view<std::int32_t>{};
            integral(policy, device_volume_view<const std::uint8_t>(level), sum, sq, tilt);

            const int nx = (l.scan_w + l.step - 1) / l.step, ny = (l.scan_h + l.step - 1) / l.step;
            if (nx <= 0 || ny <= 0) continue;
            const index_t windows = nf * nx * ny;
            if (haar)
                k::cascade_windows<true><<<grid_for(windows, k::detect_threads), k::detect_threads, 0, stream>>>(
                    dc.view, d_sums.data(), sum_fs, d_sq.data(), L.plane, L.stride, static_cast<int>(nf), nx, ny, l.step,
                    d_codes.data());
            else
                k::cascade_windows<false><<<grid_for(windows, k::detect_threads), k::detect_threads, 0, stream>>>(
                    dc.view, d_sums.data(), sum_fs, nullptr, 0, L.stride, static_cast<int>(nf), nx, ny, l.step,
                    d_codes.data());
            cuda::check_launch(where);
            for (;;) {  // collect; grow the hit buffer and rerun the row pass if it overflowed
                cuda::check(cudaMemsetAsync(d_count.data(), 0, sizeof(unsigned), stream), where, "cudaMemsetAsync");
                const index_t row_count = nf * ny;
                k::cascade_rows<<<static_cast<unsigned>((row_count + 127) / 128), 128, 0, stream>>>(
                    d_codes.data(), static_cast<int>(nf), nx, ny, l.step, static_cast<int>(li), d_hits->data(), capacity,
                    d_count.data());
                cuda::check_launch(where);
                unsigned count = 0;
                cuda::check(cudaMemcpyAsync(&count, d_count.data(), sizeof(unsigned), cudaMemcpyDeviceToHost, stream), where,
                            "cudaMemcpyAsync");
                cuda::synchronize(policy);
                if (count > capacity) {
                    capacity = std::max(count, 2 * capacity);
                    d_hits = std::make_unique<cuda::device_buffer<k::window_hit>>(capacity);
                    continue;
                }
                const std::size_t at = hits.size();
                hits.resize(at + count);
                if (count > 0) {
                    cuda::check(cudaMemcpyAsync(hits.data() + at, d_hits->data(), count * sizeof(k::window_hit),
                                                cudaMemcpyDeviceToHost, stream),
                                where, "cudaMemcpyAsync");
                    cuda::synchronize(policy);
                }
                for (std::size_t i = at; i < hits.size(); ++i) hits[i].frame += static_cast<int>(f0);
                break;
            }
        }
    }
    // The reference order: frame, level, row, column.
    std::sort(hits.begin(), hits.end(), [](const k::window_hit& a, const k::window_hit& b) {
        return std::tie(a.frame, a.level, a.y, a.x) < std::tie(b.frame, b.level, b.y, b.x);
    });
    for (const auto& h : hits) {
        const pyramid_level& l = levels[static_cast<std::size_t>(h.level)];
        out[static_cast<std::size_t>(h.frame)].push_back(rect{round_even(static_cast<float>(h.x) * l.scale),
                                                              round_even(static_cast<float>(h.y) * l.scale), l.box_w, l.box_h});
    }
    return out;
}

}  // namespace detail

/// Raw windows of each frame of a device batch (N x H x W, 8-bit), equal to
/// detect_candidates(exec::seq, ...) on each frame.
inline std::vector<std::vector<rect>> detect_candidates_batch(const exec::cuda_policy& policy, const cascade& c,
                                                              const device_volume_view<const std::uint8_t>& frames,
                                                              const detect_params& params = {},
                                                              const detect_cuda_options& opt = {}) {
    return detail::detect_candidates_cuda(policy, c, frames, params, opt);
}

/// Detections in each frame of a device batch (N x H x W, 8-bit), equal to
/// detect_multiscale(exec::seq, ...) on each frame.
inline std::vector<std::vector<detection>> detect_multiscale_batch(const exec::cuda_policy& policy, const cascade& c,
                                                                   const device_volume_view<const std::uint8_t>& frames,
                                                                   const detect_params& params = {},
                                                                   const detect_cuda_options& opt = {}) {
    const auto raw = detail::detect_candidates_cuda(policy, c, frames, params, opt);
    std::vector<std::vector<detection>> out;
    out.reserve(raw.size());
    for (const auto& r : raw) out.push_back(group_and_clip(r, frames.rows(), frames.cols(), params));
    return out;
}

/// Detections in one device image (H x W, 8-bit).
inline std::vector<detection> detect_multiscale(const exec::cuda_policy& policy, const cascade& c,
                                                const device_image_view<const std::uint8_t>& img,
                                                const detect_params& params = {}, const detect_cuda_options& opt = {}) {
    const device_volume_view<const std::uint8_t> one(img.data(), {1, img.rows(), img.cols()},
                                                     {img.rows() * img.stride(0), img.stride(0), img.stride(1)});
    return detect_multiscale_batch(policy, c, one, params, opt).front();
}

FERX_NAMESPACE_END
