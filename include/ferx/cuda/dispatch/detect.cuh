/// \file ferx/cuda/dispatch/detect.cuh
/// The `exec::cuda` backend of the cascade detector: the device side of ferx::cuda::cascade_detector
/// (detail::cascade_upload, cascade_scan, cascade_device_bytes, declared in
/// ferx/detect/detect_multiscale.hpp, which includes this file at its end under nvcc). Batches of frames in device memory, every window of every pyramid level evaluated on
/// the device.
///
/// Construction uploads the cascade (for the row stride of the largest level) and the resize
/// tables of every level, once. Per call, per chunk of frames (sized so that the level buffers fit
/// `detect_cuda_options::memory_budget`) and per level, enqueued on the policy's stream: the level
/// images (kernels/detect.cuh: pyramid_resize), their integral images (dispatch/integral.cuh), a
/// code per window (cascade_windows), the skip rule per row and the accepted windows of all
/// levels appended to one buffer (cascade_rows). Then, once per chunk, the count and the windows
/// come back (two synchronisations), are put in the reference order (frame, level, row, column),
/// and are grouped on the host by the public header, so the results equal those of exec::seq (the
/// arithmetic is the same, rounded step by step: see detail/cascade_eval.hpp). The level buffers
/// grow with the first batch that needs more and are reused after; the window buffer grows (and
/// the chunk is scanned again) only when a chunk accepts more windows than it holds.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/view.hpp>
#include <ferx/cuda/dispatch/integral.cuh>
#include <ferx/cuda/kernels/detect.cuh>
#include <ferx/cuda/memory.cuh>
#include <ferx/cuda/runtime.cuh>
#include <ferx/detect/detail/cascade_eval.hpp>
#include <ferx/detect/detail/detect_core.hpp>
#include <ferx/imgproc/pyramid_resize.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <tuple>
#include <utility>
#include <vector>

FERX_NAMESPACE_BEGIN

namespace detail {
FERX_ARCH_NAMESPACE_BEGIN

template <class T>
cuda::device_buffer<T> upload(const exec::cuda_policy& policy, const std::vector<T>& v) {
    cuda::device_buffer<T> d(v.size());
    if (!v.empty())
        cuda::check(cudaMemcpyAsync(d.data(), v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice, policy.stream()),
                    "ferx::cuda::cascade_detector", "cudaMemcpyAsync");
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

    std::size_t bytes() const noexcept {
        return stages.bytes() + haar_stumps.bytes() + lbp_stumps.bytes() + trees.bytes() + nodes.bytes() + leaves.bytes() +
               subsets.bytes() + haar_features.bytes() + lbp_features.bytes();
    }

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

/// The device side of a cuda::cascade_detector.
struct cascade_device_state {
    static constexpr const char* where = "ferx::cuda::cascade_detector";
    exec::cuda_policy policy;
    bool haar = false, tilted = false;
    std::vector<ferx::detail::pyramid_level> levels;
    ferx::detail::pyramid_layout L;
    index_t planes = 1, image_px = 0, max_codes = 0, per_frame = 0, chunk_frames = 0;
    std::unique_ptr<ferx::detail::device_cascade> dc;
    std::vector<cuda::device_buffer<int>> tables;  // resize tables of every level (ofs, w1 for x, then y)
    std::vector<std::pair<cuda::kernels::resize_axis_view, cuda::kernels::resize_axis_view>> axis_views;
    index_t capacity_frames = 0;  // frames the level buffers below hold
    cuda::device_buffer<std::uint8_t> d_level;
    cuda::device_buffer<std::int32_t> d_sums;
    cuda::device_buffer<double> d_sq;
    cuda::device_buffer<std::int8_t> d_codes;
    cuda::device_buffer<unsigned> d_count;
    cuda::device_buffer<cuda::kernels::window_hit> d_hits;
    std::vector<cuda::kernels::window_hit> hits;  // host copy, reused

    /// Level buffers for `frames` frames (grows, never shrinks).
    void reserve(index_t frames) {
        if (frames <= capacity_frames) return;
        d_level = cuda::device_buffer<std::uint8_t>(static_cast<std::size_t>(frames * image_px));
        d_sums = cuda::device_buffer<std::int32_t>(static_cast<std::size_t>(frames * L.plane * planes));
        d_sq = cuda::device_buffer<double>(haar ? static_cast<std::size_t>(frames * L.plane) : 0);
        d_codes = cuda::device_buffer<std::int8_t>(static_cast<std::size_t>(frames * max_codes));
        capacity_frames = frames;
    }

    std::size_t bytes() const noexcept {
        std::size_t b = d_level.bytes() + d_sums.bytes() + d_sq.bytes() + d_codes.bytes() + d_count.bytes() + d_hits.bytes();
        for (const auto& t : tables) b += t.bytes();
        if (dc) b += dc->bytes();
        return b;
    }

    /// Enqueues every level of frames [f0, f0 + nf) of `src`; the accepted windows go to d_hits.
    void enqueue_chunk(const device_volume_view<const std::uint8_t>& src, index_t nf) {
        namespace k = cuda::kernels;
        cudaStream_t stream = policy.stream();
        const index_t rows = src.rows(), cols = src.cols();
        const unsigned capacity = static_cast<unsigned>(d_hits.size());
        cuda::check(cudaMemsetAsync(d_count.data(), 0, sizeof(unsigned), stream), where, "cudaMemsetAsync");
        for (std::size_t li = 0; li < levels.size(); ++li) {
            const ferx::detail::pyramid_level& l = levels[li];
            const device_volume_view<std::uint8_t> level(d_level.data(), {nf, l.height, l.width}, {image_px, l.width, 1});
            const k::resize_mode mode = (l.width == cols && l.height == rows) ? k::resize_mode::copy
                                        : (cols == 2 * l.width && rows == 2 * l.height) ? k::resize_mode::half
                                                                                      : k::resize_mode::bilinear;
            const unsigned resize_grid = ferx::detail::grid_for(nf * l.width * l.height, k::detect_threads);
            k::pyramid_resize<<<resize_grid, k::detect_threads, 0, stream>>>(src, level, axis_views[li].first,
                                                                            axis_views[li].second, mode);
            cuda::check_launch(where);
            const index_t sum_fs = L.plane * planes;
            const device_volume_view<std::int32_t> sum(d_sums.data(), {nf, l.height + 1, l.width + 1}, {sum_fs, L.stride, 1});
            const device_volume_view<double> sq =
                haar ? device_volume_view<double>(d_sq.data(), {nf, l.height + 1, l.width + 1}, {L.plane, L.stride, 1})
                     : device_volume_view<double>{};
            const device_volume_view<std::int32_t> tilt =
                tilted ? device_volume_view<std::int32_t>(d_sums.data() + L.plane, {nf, l.height + 1, l.width + 1},
                                                          {sum_fs, L.stride, 1})
                       : device_volume_view<std::int32_t>{};
            ferx::detail::integral_cuda(policy, device_volume_view<const std::uint8_t>(level), sum, sq, tilt);

            const int nx = (l.scan_w + l.step - 1) / l.step, ny = (l.scan_h + l.step - 1) / l.step;
            if (nx <= 0 || ny <= 0) continue;
            const index_t windows = nf * nx * ny;
            const unsigned window_grid = ferx::detail::grid_for(windows, k::detect_threads);
            if (haar)
                k::cascade_windows<true><<<window_grid, k::detect_threads, 0, stream>>>(
                    dc->view, d_sums.data(), sum_fs, d_sq.data(), L.plane, L.stride, static_cast<int>(nf), nx, ny, l.step,
                    d_codes.data());
            else
                k::cascade_windows<false><<<window_grid, k::detect_threads, 0, stream>>>(
                    dc->view, d_sums.data(), sum_fs, nullptr, 0, L.stride, static_cast<int>(nf), nx, ny, l.step,
                    d_codes.data());
            cuda::check_launch(where);
            const index_t row_count = nf * ny;
            k::cascade_rows<<<static_cast<unsigned>((row_count + 127) / 128), 128, 0, stream>>>(
                d_codes.data(), static_cast<int>(nf), nx, ny, l.step, static_cast<int>(li), d_hits.data(), capacity,
                d_count.data());
            cuda::check_launch(where);
        }
    }
};

inline std::shared_ptr<cascade_device_state> cascade_upload(const exec::cuda_policy& policy, const cascade& c, index_t rows,
                                                            index_t cols, const detect_params& params,
                                                            const detect_cuda_options& opt) {
    cuda::require_device(cascade_device_state::where);
    auto s = std::make_shared<cascade_device_state>();
    s->policy = policy;
    s->levels = plan_pyramid(c, rows, cols, params);  // checks the cascade and the parameters
    s->haar = c.feature_type == cascade_feature::haar;
    s->tilted = c.has_tilted;
    s->planes = c.has_tilted ? 2 : 1;
    if (s->levels.empty()) return s;
    s->L = layout_of(s->levels);
    s->image_px = s->L.max_w * s->L.max_h;
    for (const auto& l : s->levels)
        s->max_codes = std::max<index_t>(s->max_codes, ((l.scan_w + l.step - 1) / l.step) * ((l.scan_h + l.step - 1) / l.step));
    s->per_frame = s->image_px + s->L.plane * s->planes * 4 + (s->haar ? s->L.plane * 8 : 0) + s->max_codes;
    s->chunk_frames = std::max<index_t>(1, static_cast<index_t>(opt.memory_budget) / s->per_frame);
    s->dc = std::make_unique<device_cascade>(policy, c, s->L.stride, s->L.plane);
    for (const auto& l : s->levels) {
        const resize_axis ax = make_resize_axis(cols, l.width), ay = make_resize_axis(rows, l.height);
        s->tables.push_back(upload(policy, ax.ofs));
        s->tables.push_back(upload(policy, ax.w1));
        s->tables.push_back(upload(policy, ay.ofs));
        s->tables.push_back(upload(policy, ay.w1));
        const std::size_t t = s->tables.size();
        s->axis_views.emplace_back(
            cuda::kernels::resize_axis_view{s->tables[t - 4].data(), s->tables[t - 3].data(), ax.first, ax.last, static_cast<int>(cols)},
            cuda::kernels::resize_axis_view{s->tables[t - 2].data(), s->tables[t - 1].data(), ay.first, ay.last, static_cast<int>(rows)});
    }
    s->d_count = cuda::device_buffer<unsigned>(1);
    s->d_hits = cuda::device_buffer<cuda::kernels::window_hit>(std::size_t{1} << 16);
    s->reserve(1);
    cuda::synchronize(policy);  // the host tables above are freed on return
    return s;
}

inline std::size_t cascade_device_bytes(const cascade_device_state& s) noexcept { return s.bytes(); }

inline std::vector<std::vector<rect>> cascade_scan(cascade_device_state& s, const device_volume_view<const std::uint8_t>& frames) {
    constexpr const char* where = cascade_device_state::where;
    namespace k = cuda::kernels;
    const index_t n = frames.shape(0), rows = frames.rows(), cols = frames.cols();
    std::vector<std::vector<rect>> out(static_cast<std::size_t>(n));
    if (s.levels.empty()) return out;
    const index_t chunk = std::min(n, s.chunk_frames);
    s.reserve(chunk);
    cudaStream_t stream = s.policy.stream();
    s.hits.clear();
    for (index_t f0 = 0; f0 < n; f0 += chunk) {
        const index_t nf = std::min(chunk, n - f0);
        const device_volume_view<const std::uint8_t> src(frames.data() + f0 * frames.stride(0), {nf, rows, cols},
                                                         {frames.stride(0), frames.stride(1), 1});
        for (;;) {  // scan the chunk; grow the window buffer and scan again if it overflowed
            s.enqueue_chunk(src, nf);
            unsigned count = 0;
            cuda::check(cudaMemcpyAsync(&count, s.d_count.data(), sizeof(unsigned), cudaMemcpyDeviceToHost, stream), where,
                        "cudaMemcpyAsync");
            cuda::synchronize(s.policy);
            if (count > s.d_hits.size()) {
                s.d_hits = cuda::device_buffer<k::window_hit>(std::max<std::size_t>(count, 2 * s.d_hits.size()));
                continue;
            }
            const std::size_t at = s.hits.size();
            s.hits.resize(at + count);
            if (count > 0) {
                cuda::check(cudaMemcpyAsync(s.hits.data() + at, s.d_hits.data(), count * sizeof(k::window_hit),
                                            cudaMemcpyDeviceToHost, stream),
                            where, "cudaMemcpyAsync");
                cuda::synchronize(s.policy);
            }
            for (std::size_t i = at; i < s.hits.size(); ++i) s.hits[i].frame += static_cast<int>(f0);
            break;
        }
    }
    // The reference order: frame, level, row, column.
    std::sort(s.hits.begin(), s.hits.end(), [](const k::window_hit& a, const k::window_hit& b) {
        return std::tie(a.frame, a.level, a.y, a.x) < std::tie(b.frame, b.level, b.y, b.x);
    });
    for (const auto& h : s.hits) {
        const pyramid_level& l = s.levels[static_cast<std::size_t>(h.level)];
        out[static_cast<std::size_t>(h.frame)].push_back(
            rect{round_even(static_cast<float>(h.x) * l.scale), round_even(static_cast<float>(h.y) * l.scale), l.box_w, l.box_h});
    }
    return out;
}

FERX_ARCH_NAMESPACE_END
}  // namespace detail
FERX_NAMESPACE_END
