/// \file ferx/cuda/dispatch/farneback.cuh
/// The `exec::cuda` backend of Farneback dense optical flow: the device side of
/// ferx::cuda::farneback_estimator (detail::farneback_cuda_create, farneback_cuda_pair,
/// farneback_cuda_clip, farneback_cuda_bytes, declared in ferx/flow/farneback.hpp, which includes
/// this file at its end under nvcc).
///
/// Construction (needs a device: ferx::error otherwise) allocates, once, one float pool holding
/// the frame, the blur scratch, the resized level, the expansions of every level of two frames,
/// the flow and its previous level, the per-pixel matrices and their window sums, and uploads the
/// tables of the plan (taps, bilinear tables of every resampling), then synchronises once. A call
/// enqueues kernels (ferx/cuda/kernels/farneback.cuh) on the policy's stream and returns: no
/// allocation, no synchronisation. Per frame: the float plane, then per level the blur (level 0:
/// [1 2 1] / 4 unless smooth_first_level is false), the bilinear resampling and the polynomial
/// expansion into the frame's slot. Per pair and level, coarse to fine: the flow from the level
/// above (or zero, or the initial flow), then `iterations` times the matrices, the window sums and
/// the 2 x 2 solves. A clip's frames alternate between the two slots, so each frame is expanded
/// once and serves the pair before and the pair after it.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/view.hpp>
#include <ferx/cuda/kernels/farneback.cuh>
#include <ferx/cuda/memory.cuh>
#include <ferx/cuda/runtime.cuh>
#include <ferx/flow/detail/farneback_core.hpp>
#include <ferx/flow/field.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

FERX_NAMESPACE_BEGIN

namespace detail {
FERX_ARCH_NAMESPACE_BEGIN

/// The device side of a cuda::farneback_estimator.
struct farneback_device_state {
    static constexpr const char* where = "ferx::cuda::farneback_estimator";
    exec::cuda_policy policy;
    fb_cuda_plan plan;
    cuda::device_buffer<float> pool;    // every float plane below
    cuda::device_buffer<float> ftab;    // taps and bilinear weights
    cuda::device_buffer<int> itab;      // bilinear indices
    float *base = nullptr, *tmp = nullptr, *blurred = nullptr, *level = nullptr;
    float* expansion[2] = {nullptr, nullptr};  // per frame slot: every level, 5 floats per pixel
    float *flow = nullptr, *prev = nullptr, *m = nullptr, *sums = nullptr;
    std::vector<index_t> level_offset;  // level k's offset in a slot
    const float *g = nullptr, *xg = nullptr, *xxg = nullptr, *smooth0 = nullptr, *window = nullptr;
    std::vector<const float*> blur;     // level l's blur taps (l >= 1)
    using axes = std::pair<cuda::kernels::fb_axis_view, cuda::kernels::fb_axis_view>;  // columns, rows
    std::vector<axes> image_axes;       // frame -> level l (l >= 1)
    std::vector<axes> flow_axes;        // level k + 1 -> level k (k < top)
    axes init_axes{};                   // frame -> the top level (the initial flow)

    int top() const { return static_cast<int>(plan.sizes.size()) - 1; }
    std::size_t bytes() const noexcept { return pool.bytes() + ftab.bytes() + itab.bytes(); }

    static unsigned grid(index_t n) {
        const index_t blocks = (n + cuda::kernels::fb_threads - 1) / cuda::kernels::fb_threads;
        return static_cast<unsigned>(std::max<index_t>(1, std::min<index_t>(blocks, 8192)));
    }

    /// The polynomial expansion of img (h x w) into out (h x w x 5); tmp holds the column moments.
    void expand(const float* img, index_t h, index_t w, float* out) {
        namespace k = cuda::kernels;
        cudaStream_t s = policy.stream();
        const index_t r = plan.poly_n;
        k::fb_expand_v<<<grid(h * w), k::fb_threads, 0, s>>>(img, h, w, g, xg, xxg, r, tmp);
        cuda::check_launch(where);
        const k::fb_expand_coeffs c{plan.i1, plan.i2, plan.i5, plan.i30, plan.i33, plan.i34, plan.i40, plan.i43, plan.i44};
        k::fb_expand_h<<<grid(h * w), k::fb_threads, 0, s>>>(tmp, h, w, g, xg, xxg, r, c, out);
        cuda::check_launch(where);
    }

    /// Separable blur of base (rows x cols) into blurred, taps of radius r.
    void blur_base(const float* taps, index_t r) {
        namespace k = cuda::kernels;
        cudaStream_t s = policy.stream();
        const index_t R = plan.rows, C = plan.cols;
        k::fb_vtaps<<<grid(R * C), k::fb_threads, 0, s>>>(base, tmp, R, C, taps, r);
        cuda::check_launch(where);
        k::fb_htaps<<<grid(R * C), k::fb_threads, 0, s>>>(tmp, blurred, R, C, 1, taps, r);
        cuda::check_launch(where);
    }

    /// A frame (rows x cols, rows `pitch` pixels apart) into slot `slot`: every level's expansion.
    template <class T>
    void prepare(const T* frame, index_t pitch, int slot) {
        namespace k = cuda::kernels;
        cudaStream_t s = policy.stream();
        const index_t R = plan.rows, C = plan.cols;
        const float mul = std::is_floating_point<T>::value ? 255.f : 1.f;
        k::fb_convert<T><<<grid(R * C), k::fb_threads, 0, s>>>(frame, pitch, R, C, mul, base);
        cuda::check_launch(where);
        float* out = expansion[slot];
        if (plan.smooth_first_level) {
            blur_base(smooth0, index_t(plan.smooth0.size() / 2));
            expand(blurred, R, C, out + level_offset[0]);
        } else {
            expand(base, R, C, out + level_offset[0]);
        }
        for (std::size_t l = 1; l < plan.sizes.size(); ++l) {
            const index_t h = plan.sizes[l].first, w = plan.sizes[l].second;
            blur_base(blur[l], index_t(plan.level_blur[l].size() / 2));
            k::fb_resize<<<grid(h * w), k::fb_threads, 0, s>>>(blurred, C, 1, level, h, w, image_axes[l].first,
                                                             image_axes[l].second, 1.f);
            cuda::check_launch(where);
            expand(level, h, w, out + level_offset[l]);
        }
    }

    /// The window sums of m (h x w x 5) into sums.
    void window_sums(index_t h, index_t w) {
        namespace k = cuda::kernels;
        cudaStream_t s = policy.stream();
        if (plan.gaussian_window) {
            const index_t r = index_t(plan.window.size() / 2);
            k::fb_vtaps<<<grid(h * w * 5), k::fb_threads, 0, s>>>(m, tmp, h, w * 5, window, r);
            cuda::check_launch(where);
            k::fb_htaps<<<grid(h * w * 5), k::fb_threads, 0, s>>>(tmp, sums, h, w, 5, window, r);
            cuda::check_launch(where);
        } else {
            const index_t r = plan.box_radius;
            k::fb_box_v<<<grid(w * 5), k::fb_threads, 0, s>>>(m, tmp, h, w * 5, r);
            cuda::check_launch(where);
            k::fb_box_h<<<grid(h * 5), k::fb_threads, 0, s>>>(tmp, sums, h, w, r);
            cuda::check_launch(where);
        }
    }

    /// The flow from the frame in slot a to the frame in slot b into out (rows x cols, rows
    /// `out_pitch` vectors apart); init: out holds the initial flow.
    void solve(int a, int b, float* out, index_t out_pitch, bool init) {
        namespace k = cuda::kernels;
        cudaStream_t s = policy.stream();
        const int T = top();
        for (int lk = T; lk >= 0; --lk) {
            const index_t h = plan.sizes[std::size_t(lk)].first, w = plan.sizes[std::size_t(lk)].second;
            if (lk == T) {
                if (init) {
                    const float mul = static_cast<float>(std::pow(plan.pyr_scale, lk));
                    k::fb_resize<<<grid(h * w * 2), k::fb_threads, 0, s>>>(out, 2 * out_pitch, 2, flow, h, w,
                                                                         init_axes.first, init_axes.second, mul);
                    cuda::check_launch(where);
                } else {
                    cuda::check(cudaMemsetAsync(flow, 0, static_cast<std::size_t>(h * w * 2) * sizeof(float), s), where,
                                "cudaMemsetAsync");
                }
            } else {
                const index_t wp = plan.sizes[std::size_t(lk + 1)].second;
                const float mul = static_cast<float>(1.0 / plan.pyr_scale);
                k::fb_resize<<<grid(h * w * 2), k::fb_threads, 0, s>>>(flow, 2 * wp, 2, prev, h, w,
                                                                     flow_axes[std::size_t(lk)].first,
                                                                     flow_axes[std::size_t(lk)].second, mul);
                cuda::check_launch(where);
                std::swap(flow, prev);
            }
            const float* r0 = expansion[a] + level_offset[std::size_t(lk)];
            const float* r1 = expansion[b] + level_offset[std::size_t(lk)];
            k::fb_matrices<<<grid(h * w), k::fb_threads, 0, s>>>(r0, r1, flow, h, w, m);
            cuda::check_launch(where);
            for (int it = 0; it < plan.iterations; ++it) {
                window_sums(h, w);
                k::fb_solve<<<grid(h * w), k::fb_threads, 0, s>>>(sums, flow, h * w, plan.box_scale);
                cuda::check_launch(where);
                if (it + 1 < plan.iterations) {
                    k::fb_matrices<<<grid(h * w), k::fb_threads, 0, s>>>(r0, r1, flow, h, w, m);
                    cuda::check_launch(where);
                }
            }
        }
        k::fb_store<<<grid(plan.rows * plan.cols), k::fb_threads, 0, s>>>(flow, plan.rows, plan.cols, out, out_pitch);
        cuda::check_launch(where);
    }
};

/// Builds the device state of a checked plan: allocates and uploads once, synchronises once.
inline std::shared_ptr<farneback_device_state> farneback_cuda_create(const exec::cuda_policy& policy, const fb_cuda_plan& plan) {
    constexpr const char* where = farneback_device_state::where;
    cuda::require_device(where);
    auto st = std::make_shared<farneback_device_state>();
    st->policy = policy;
    st->plan = plan;
    const index_t R = plan.rows, C = plan.cols, px = R * C;
    const std::size_t L = plan.sizes.size();

    // The float pool: base, tmp (5), blurred, level, two expansion slots, flow, prev (2 each), m, sums (5 each).
    st->level_offset.resize(L);
    index_t slot = 0;
    for (std::size_t l = 0; l < L; ++l) {
        st->level_offset[l] = slot;
        slot += plan.sizes[l].first * plan.sizes[l].second * 5;
    }
    const index_t pool_n = px * (1 + 5 + 1 + 1) + 2 * slot + px * (2 + 2 + 5 + 5);
    st->pool = cuda::device_buffer<float>(static_cast<std::size_t>(pool_n));
    float* p = st->pool.data();
    const auto take = [&](index_t n) {
        float* q = p;
        p += n;
        return q;
    };
    st->base = take(px);
    st->tmp = take(5 * px);
    st->blurred = take(px);
    st->level = take(px);
    st->expansion[0] = take(slot);
    st->expansion[1] = take(slot);
    st->flow = take(2 * px);
    st->prev = take(2 * px);
    st->m = take(5 * px);
    st->sums = take(5 * px);

    // The tables: floats (taps, weights) and ints (indices), offsets recorded, then one upload each.
    std::vector<float> ft;
    std::vector<int> it;
    const auto put = [&](const std::vector<float>& v) {
        const std::size_t at = ft.size();
        ft.insert(ft.end(), v.begin(), v.end());
        return at;
    };
    struct axis_at {
        std::size_t i, w;
    };
    const auto put_axis = [&](index_t src, index_t dst) {
        const fb_axis_table t = fb_resize_axis(src, dst);
        axis_at a{it.size(), ft.size()};
        it.insert(it.end(), t.i0.begin(), t.i0.end());
        it.insert(it.end(), t.i1.begin(), t.i1.end());
        ft.insert(ft.end(), t.w.begin(), t.w.end());
        return a;
    };
    const std::size_t g_at = put(plan.g), xg_at = put(plan.xg), xxg_at = put(plan.xxg);
    const std::size_t s0_at = put(plan.smooth0.empty() ? std::vector<float>{1.f} : plan.smooth0);
    const std::size_t win_at = put(plan.window.empty() ? std::vector<float>{1.f} : plan.window);
    std::vector<std::size_t> blur_at(L, 0);
    for (std::size_t l = 1; l < L; ++l) blur_at[l] = put(plan.level_blur[l]);
    std::vector<std::pair<axis_at, axis_at>> img_at(L), flow_at(L);
    for (std::size_t l = 1; l < L; ++l) img_at[l] = {put_axis(C, plan.sizes[l].second), put_axis(R, plan.sizes[l].first)};
    for (std::size_t l = 0; l + 1 < L; ++l)
        flow_at[l] = {put_axis(plan.sizes[l + 1].second, plan.sizes[l].second),
                      put_axis(plan.sizes[l + 1].first, plan.sizes[l].first)};
    const std::pair<axis_at, axis_at> init_at{put_axis(C, plan.sizes[L - 1].second), put_axis(R, plan.sizes[L - 1].first)};

    st->ftab = cuda::device_buffer<float>(ft.size());
    st->itab = cuda::device_buffer<int>(it.size());
    cudaStream_t s = policy.stream();
    cuda::check(cudaMemcpyAsync(st->ftab.data(), ft.data(), ft.size() * sizeof(float), cudaMemcpyHostToDevice, s), where,
                "cudaMemcpyAsync");
    if (!it.empty())
        cuda::check(cudaMemcpyAsync(st->itab.data(), it.data(), it.size() * sizeof(int), cudaMemcpyHostToDevice, s), where,
                    "cudaMemcpyAsync");
    const float* F = st->ftab.data();
    const int* I = st->itab.data();
    st->g = F + g_at;
    st->xg = F + xg_at;
    st->xxg = F + xxg_at;
    st->smooth0 = F + s0_at;
    st->window = F + win_at;
    st->blur.assign(L, nullptr);
    for (std::size_t l = 1; l < L; ++l) st->blur[l] = F + blur_at[l];
    const auto axis_view = [&](const axis_at& a, index_t n) {
        return cuda::kernels::fb_axis_view{I + a.i, I + a.i + n, F + a.w};
    };
    st->image_axes.resize(L);
    st->flow_axes.resize(L);
    for (std::size_t l = 1; l < L; ++l)
        st->image_axes[l] = {axis_view(img_at[l].first, plan.sizes[l].second), axis_view(img_at[l].second, plan.sizes[l].first)};
    for (std::size_t l = 0; l + 1 < L; ++l)
        st->flow_axes[l] = {axis_view(flow_at[l].first, plan.sizes[l].second), axis_view(flow_at[l].second, plan.sizes[l].first)};
    st->init_axes = {axis_view(init_at.first, plan.sizes[L - 1].second), axis_view(init_at.second, plan.sizes[L - 1].first)};
    cuda::synchronize(policy);  // the host tables above are freed on return
    return st;
}

inline std::size_t farneback_cuda_bytes(const farneback_device_state& s) noexcept { return s.bytes(); }

/// One checked pair: i0, i1 rows x cols (packed rows), flow rows x cols (read first when init).
template <class T>
void farneback_cuda_pair(farneback_device_state& s, const device_image_view<const T>& i0,
                         const device_image_view<const T>& i1, const flow_view<memory_space::device>& flow, bool init) {
    s.prepare(i0.data(), i0.stride(0), 0);
    s.prepare(i1.data(), i1.stride(0), 1);
    s.solve(0, 1, reinterpret_cast<float*>(flow.data()), flow.stride(0), init);
}

/// A checked clip of N + 1 frames into out (N x rows x cols): each frame expanded once.
template <class T>
void farneback_cuda_clip(farneback_device_state& s, const device_volume_view<const T>& clip,
                         const tensor_view<flow_vector, 3, memory_space::device>& out) {
    const index_t n = clip.shape(0);
    for (index_t t = 0; t < n; ++t) {
        const int slot = static_cast<int>(t % 2);
        s.prepare(clip.data() + t * clip.stride(0), clip.stride(1), slot);
        if (t > 0)
            s.solve(1 - slot, slot, reinterpret_cast<float*>(out.data() + (t - 1) * out.stride(0)), out.stride(1), false);
    }
}

FERX_ARCH_NAMESPACE_END
}  // namespace detail

FERX_NAMESPACE_END
