/// \file ferx/cuda/dispatch/tvl1.cuh
/// The `exec::cuda` backend of TV-L1 optical flow: the device side of ferx::cuda::tvl1_estimator
/// (detail::tvl1_device_create, tvl1_device_pair, tvl1_device_clip, tvl1_device_bytes, declared in
/// ferx/flow/tvl1.hpp, which includes this file at its end under nvcc).
///
/// Construction allocates everything for frames of one size: two pyramids (the pair's frames; a
/// clip's frames alternate between them, so each frame's pyramid is built once), the flow of
/// every level, the per-level planes (gradient, per-warp terms, dual variables, median scratch,
/// changes per pixel and per row) and the Gaussian taps (uploaded once, one synchronisation). A
/// call enqueues the same steps as tvl1_solver (ferx/flow/tvl1.hpp) on the policy's stream, one
/// kernel per loop of the host (kernels/tvl1.cuh), and returns without waiting; it allocates
/// nothing. The iterations of a warp are all enqueued: the ones after convergence return at once
/// on the device (see kernels/tvl1.cuh), so the host never waits for a convergence test.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/view.hpp>
#include <ferx/cuda/kernels/tvl1.cuh>
#include <ferx/cuda/memory.cuh>
#include <ferx/cuda/runtime.cuh>
#include <ferx/flow/detail/tvl1_core.hpp>
#include <ferx/flow/field.hpp>

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

FERX_NAMESPACE_BEGIN

namespace detail {
FERX_ARCH_NAMESPACE_BEGIN

/// The device side of a cuda::tvl1_estimator.
struct tvl1_device_state {
    static constexpr const char* where = "ferx::cuda::tvl1_estimator";
    exec::cuda_policy policy;
    tvl1_params params;
    index_t rows = 0, cols = 0;
    std::vector<std::pair<index_t, index_t>> sizes;  // level sizes, level 0 first
    std::vector<index_t> offset;                     // start of each level in a pyramid / flow buffer
    std::vector<float> taps;                         // the Gaussian of one pyramid step (host copy)
    bool gamma = false;
    cuda::device_buffer<float> d_taps, pyr[2], u1, u2, u3[2], tmp, blur, ix, iy, rc, ig, p11, p12, p21, p22, p31, p32, medp, err;
    cuda::device_buffer<float4> i1p;
    cuda::device_buffer<double> row_err;
    cuda::device_buffer<unsigned> count;
    cuda::device_buffer<int> stop;

    tvl1_device_state(const exec::cuda_policy& pol, index_t r, index_t c, const tvl1_params& p)
        : policy(pol), params(p), rows(r), cols(c) {
        cuda::require_device(where);
        sizes = tvl1_level_sizes(r, c, p);
        index_t total = 0;
        for (const auto& s : sizes) {
            offset.push_back(total);
            total += s.first * s.second;
        }
        taps = tvl1_gaussian_taps(p.scale_step);
        gamma = p.gamma > 0;
        const auto n = static_cast<std::size_t>(r * c);
        const auto all = static_cast<std::size_t>(total);
        d_taps = cuda::device_buffer<float>(taps.size());
        for (auto* b : {&pyr[0], &pyr[1], &u1, &u2}) *b = cuda::device_buffer<float>(all);
        for (auto* b : {&tmp, &blur, &ix, &iy, &rc, &ig, &p11, &p12, &p21, &p22, &medp, &err}) *b = cuda::device_buffer<float>(n);
        if (gamma)
            for (auto* b : {&u3[0], &u3[1], &p31, &p32}) *b = cuda::device_buffer<float>(n);
        i1p = cuda::device_buffer<float4>(n);
        row_err = cuda::device_buffer<double>(static_cast<std::size_t>(r));
        count = cuda::device_buffer<unsigned>(1);
        stop = cuda::device_buffer<int>(1);
        cudaStream_t s = policy.stream();
        cuda::check(cudaMemcpyAsync(d_taps.data(), taps.data(), taps.size() * sizeof(float), cudaMemcpyHostToDevice, s), where,
                    "cudaMemcpyAsync");
        cuda::check(cudaMemsetAsync(count.data(), 0, sizeof(unsigned), s), where, "cudaMemsetAsync");
        cuda::check(cudaStreamSynchronize(s), where, "cudaStreamSynchronize");
    }
    tvl1_device_state(const tvl1_device_state&) = delete;
    tvl1_device_state& operator=(const tvl1_device_state&) = delete;
    /// Waits for the work still enqueued on the buffers before they are freed.
    ~tvl1_device_state() { (void)cudaStreamSynchronize(policy.stream()); }

    std::size_t bytes() const noexcept {
        std::size_t b = d_taps.bytes() + i1p.bytes() + row_err.bytes() + count.bytes() + stop.bytes();
        for (const auto* d : {&pyr[0], &pyr[1], &u1, &u2, &u3[0], &u3[1], &tmp, &blur, &ix, &iy, &rc, &ig, &p11, &p12, &p21,
                              &p22, &p31, &p32, &medp, &err})
            b += d->bytes();
        return b;
    }

    static dim3 grid2(index_t R, index_t C) {
        using namespace cuda::kernels;
        return dim3(static_cast<unsigned>((C + tvl1_bx - 1) / tvl1_bx), static_cast<unsigned>((R + tvl1_by - 1) / tvl1_by));
    }
    static dim3 block2() { return dim3(cuda::kernels::tvl1_bx, cuda::kernels::tvl1_by); }
    static unsigned grid1(index_t n) { return static_cast<unsigned>(std::max<index_t>(1, (n + 255) / 256)); }

    float* level(cuda::device_buffer<float>& b, std::size_t l) { return b.data() + offset[l]; }

    /// tvl1_downscale: Gaussian (rows, then columns) of src (level l - 1), bilinear to dst (level l).
    void downscale(const float* src, float* dst, std::size_t l) {
        namespace k = cuda::kernels;
        cudaStream_t s = policy.stream();
        const index_t R = sizes[l - 1].first, C = sizes[l - 1].second;
        const int rad = static_cast<int>(taps.size() / 2);
        k::tvl1_blur_rows<<<grid2(R, C), block2(), 0, s>>>(src, R, C, d_taps.data(), rad, tmp.data());
        cuda::check_launch(where);
        k::tvl1_blur_cols<<<grid2(R, C), block2(), 0, s>>>(tmp.data(), R, C, d_taps.data(), rad, blur.data());
        cuda::check_launch(where);
        k::tvl1_resize<<<grid2(sizes[l].first, sizes[l].second), block2(), 0, s>>>(blur.data(), R, C, dst, sizes[l].first,
                                                                                     sizes[l].second, 1.f);
        cuda::check_launch(where);
    }

    /// The pyramid of frame f into pyr[slot] (tvl1_build_pyramid).
    template <class T>
    void build_pyramid(const device_image_view<const T>& f, int slot) {
        const float scale = std::is_floating_point<T>::value ? 255.f : 1.f;
        cuda::kernels::tvl1_to_float<T><<<grid2(rows, cols), block2(), 0, policy.stream()>>>(f.data(), f.stride(0), rows, cols,
                                                                                              scale, level(pyr[slot], 0));
        cuda::check_launch(where);
        for (std::size_t l = 1; l < sizes.size(); ++l) downscale(level(pyr[slot], l - 1), level(pyr[slot], l), l);
    }

    /// tvl1_solver::solve with pyr[s0] as I0 and pyr[s1] as I1; the flow goes to `out`, which
    /// is read first as the initial flow when `initial`.
    void solve(int s0, int s1, const flow_view<memory_space::device>& out, bool initial) {
        namespace k = cuda::kernels;
        cudaStream_t s = policy.stream();
        const std::size_t L = sizes.size();
        const index_t R0 = rows, C0 = cols;
        if (initial) {
            k::tvl1_load_flow<<<grid2(R0, C0), block2(), 0, s>>>(out.data(), out.stride(0), R0, C0, level(u1, 0), level(u2, 0));
            cuda::check_launch(where);
            for (std::size_t l = 1; l < L; ++l) {
                downscale(level(u1, l - 1), level(u1, l), l);
                downscale(level(u2, l - 1), level(u2, l), l);
                const index_t n = sizes[l].first * sizes[l].second;
                k::tvl1_scale<<<grid1(n), 256, 0, s>>>(level(u1, l), n,
                                                       float(double(sizes[l].second) / double(sizes[l - 1].second)));
                cuda::check_launch(where);
                k::tvl1_scale<<<grid1(n), 256, 0, s>>>(level(u2, l), n, float(double(sizes[l].first) / double(sizes[l - 1].first)));
                cuda::check_launch(where);
            }
        } else {
            const std::size_t n = static_cast<std::size_t>(sizes[L - 1].first * sizes[L - 1].second) * sizeof(float);
            cuda::check(cudaMemsetAsync(level(u1, L - 1), 0, n, s), where, "cudaMemsetAsync");
            cuda::check(cudaMemsetAsync(level(u2, L - 1), 0, n, s), where, "cudaMemsetAsync");
        }
        int u3cur = 0;
        if (gamma) {
            const std::size_t n = static_cast<std::size_t>(sizes[L - 1].first * sizes[L - 1].second) * sizeof(float);
            cuda::check(cudaMemsetAsync(u3[0].data(), 0, n, s), where, "cudaMemsetAsync");
        }
        for (std::size_t l = L; l-- > 0;) {
            one_scale(level(pyr[s0], l), level(pyr[s1], l), level(u1, l), level(u2, l), gamma ? u3[u3cur].data() : nullptr,
                      sizes[l].first, sizes[l].second);
            if (l == 0) break;
            const index_t R = sizes[l].first, C = sizes[l].second, Rn = sizes[l - 1].first, Cn = sizes[l - 1].second;
            k::tvl1_resize<<<grid2(Rn, Cn), block2(), 0, s>>>(level(u1, l), R, C, level(u1, l - 1), Rn, Cn,
                                                              float(double(Cn) / double(C)));
            cuda::check_launch(where);
            k::tvl1_resize<<<grid2(Rn, Cn), block2(), 0, s>>>(level(u2, l), R, C, level(u2, l - 1), Rn, Cn,
                                                              float(double(Rn) / double(R)));
            cuda::check_launch(where);
            if (gamma) {
                k::tvl1_resize<<<grid2(Rn, Cn), block2(), 0, s>>>(u3[u3cur].data(), R, C, u3[1 - u3cur].data(), Rn, Cn, 1.f);
                cuda::check_launch(where);
                u3cur = 1 - u3cur;
            }
        }
        k::tvl1_store_flow<<<grid2(R0, C0), block2(), 0, s>>>(level(u1, 0), level(u2, 0), R0, C0, out.data(), out.stride(0));
        cuda::check_launch(where);
    }

    // The median filter of one flow component (skipped once the warp converged before `it`).
    void median(float* u, index_t R, index_t C, int it) {
        namespace k = cuda::kernels;
        cudaStream_t s = policy.stream();
        const int kw = params.median_filtering;
        if (params.exact_median) {
            k::tvl1_median_exact<<<grid2(R, C), block2(), 0, s>>>(u, R, C, kw, medp.data(), stop.data(), it);
            cuda::check_launch(where);
            k::tvl1_copy<<<grid1(R * C), 256, 0, s>>>(medp.data(), R * C, u, stop.data(), it);
            cuda::check_launch(where);
        } else {
            k::tvl1_median_rows<<<grid2(R, C), block2(), 0, s>>>(u, R, C, kw, medp.data(), stop.data(), it);
            cuda::check_launch(where);
            k::tvl1_median_cols<<<grid2(R, C), block2(), 0, s>>>(medp.data(), R, C, kw, u, stop.data(), it);
            cuda::check_launch(where);
        }
    }

    // tvl1_solver::one_scale on the device.
    void one_scale(const float* I0, const float* I1, float* lu1, float* lu2, float* lu3, index_t R, index_t C) {
        namespace k = cuda::kernels;
        cudaStream_t s = policy.stream();
        const std::size_t plane = static_cast<std::size_t>(R * C) * sizeof(float);
        for (auto* b : {&p11, &p12, &p21, &p22}) cuda::check(cudaMemsetAsync(b->data(), 0, plane, s), where, "cudaMemsetAsync");
        if (gamma)
            for (auto* b : {&p31, &p32}) cuda::check(cudaMemsetAsync(b->data(), 0, plane, s), where, "cudaMemsetAsync");
        k::tvl1_gradient<<<grid2(R, C), block2(), 0, s>>>(I1, R, C, i1p.data());
        cuda::check_launch(where);
        k::tvl1_iter_view v{};
        v.u1 = lu1;
        v.u2 = lu2;
        v.u3 = lu3;
        v.ix = ix.data();
        v.iy = iy.data();
        v.rc = rc.data();
        v.ig = ig.data();
        v.p11 = p11.data();
        v.p12 = p12.data();
        v.p21 = p21.data();
        v.p22 = p22.data();
        v.p31 = gamma ? p31.data() : nullptr;
        v.p32 = gamma ? p32.data() : nullptr;
        v.err = err.data();
        v.row_err = row_err.data();
        v.count = count.data();
        v.stop = stop.data();
        v.R = R;
        v.C = C;
        v.lt = static_cast<float>(params.lambda * params.theta);
        v.th = static_cast<float>(params.theta);
        v.gm = static_cast<float>(params.gamma);
        v.taut = static_cast<float>(params.tau / params.theta);
        v.scaled_eps = params.epsilon * params.epsilon * double(R) * double(C);
        const float g = static_cast<float>(params.gamma);
        const float g2 = g * g;
        const int inner = params.inner_iterations;
        for (int w = 0; w < params.warps; ++w) {
            cuda::check(cudaMemsetAsync(stop.data(), 0x7f, sizeof(int), s), where, "cudaMemsetAsync");  // INT_MAX-ish: not converged
            k::tvl1_warp<<<grid2(R, C), block2(), 0, s>>>(I0, i1p.data(), lu1, lu2, R, C, g2, ix.data(), iy.data(), rc.data(),
                                                          ig.data());
            cuda::check_launch(where);
            for (int outer = 0; outer < params.outer_iterations; ++outer) {
                const int it0 = outer * inner;
                if (params.median_filtering > 1) {
                    median(lu1, R, C, it0);
                    median(lu2, R, C, it0);
                }
                for (int i = 0; i < inner; ++i) {
                    const int it = it0 + i;
                    if (gamma)
                        k::tvl1_update<true><<<static_cast<unsigned>(R), k::tvl1_row_threads, 0, s>>>(v, it);
                    else
                        k::tvl1_update<false><<<static_cast<unsigned>(R), k::tvl1_row_threads, 0, s>>>(v, it);
                    cuda::check_launch(where);
                    if (gamma)
                        k::tvl1_dual<true><<<grid2(R, C), block2(), 0, s>>>(v, it);
                    else
                        k::tvl1_dual<false><<<grid2(R, C), block2(), 0, s>>>(v, it);
                    cuda::check_launch(where);
                }
            }
        }
    }
};

inline std::shared_ptr<tvl1_device_state> tvl1_device_create(const exec::cuda_policy& policy, index_t rows, index_t cols,
                                                             const tvl1_params& params) {
    return std::make_shared<tvl1_device_state>(policy, rows, cols, params);
}

template <class T>
void tvl1_device_pair(tvl1_device_state& s, const device_image_view<const T>& i0, const device_image_view<const T>& i1,
                      const flow_view<memory_space::device>& out) {
    s.build_pyramid(i0, 0);
    s.build_pyramid(i1, 1);
    s.solve(0, 1, out, s.params.use_initial_flow);
}

template <class T>
void tvl1_device_clip(tvl1_device_state& s, const device_volume_view<const T>& clip,
                      const tensor_view<flow_vector, 3, memory_space::device>& out) {
    s.build_pyramid(clip[0], 0);
    for (index_t t = 1; t < clip.shape(0); ++t) {
        const int cur = static_cast<int>(t % 2);
        s.build_pyramid(clip[t], cur);
        s.solve(1 - cur, cur, out[t - 1], false);
    }
}

inline std::size_t tvl1_device_bytes(const tvl1_device_state& s) noexcept { return s.bytes(); }

FERX_ARCH_NAMESPACE_END
}  // namespace detail

FERX_NAMESPACE_END
