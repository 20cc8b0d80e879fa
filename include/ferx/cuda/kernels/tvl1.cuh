/// \file ferx/cuda/kernels/tvl1.cuh
/// CUDA kernels of TV-L1 optical flow (ferx/cuda/dispatch/tvl1.cuh enqueues them). Each is the
/// loop of ferx/flow/tvl1.hpp's tvl1_solver written per pixel (or per row), with every float and
/// double operation rounded on its own (ferx/core/rounding.hpp), so that each value is the bits
/// the host computes:
///   to_float, blur_rows, blur_cols, resize      the pyramid (and the flow's up / down sampling)
///   gradient, warp                              per level / per warp terms (bicubic at x + u)
///   median_rows, median_cols, median_exact      the median filter of u between outer iterations
///   update (one block per row), dual            one inner iteration
/// Convergence on the device: `update` also sums the change of its row in the host's order (8
/// float lanes, then double) and the last block to finish adds the rows in row order and, when
/// the total is <= epsilon^2 * pixels, writes the iteration's index to `*stop`. Every iteration
/// kernel of a warp is enqueued; each returns at once when `*stop` is below its iteration index,
/// which is what the host's loop does (no iteration after the one that converged), without a
/// device-to-host copy or synchronisation.
/// Kernels live in an unnamed namespace (one copy per translation unit and GPU architecture list).
#pragma once

#include <ferx/core/rounding.hpp>
#include <ferx/core/view.hpp>
#include <ferx/flow/detail/tvl1_core.hpp>
#include <ferx/flow/field.hpp>

#include <cfloat>
#include <cstdint>
#include <type_traits>

FERX_NAMESPACE_BEGIN
namespace cuda {
namespace kernels {
FERX_ARCH_NAMESPACE_BEGIN

/// Threads per block of the per-pixel kernels (a 2-D block of 32 x 8) and of `update` (per row).
constexpr int tvl1_bx = 32, tvl1_by = 8, tvl1_row_threads = 256;

namespace {

using ferx::detail::add_rn;
using ferx::detail::div_rn;
using ferx::detail::mul_rn;
using ferx::detail::sub_rn;

__device__ inline index_t tvl1_clampi(index_t v, index_t lo, index_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

/// std::max(a, b) and std::min(a, b) as the host writes them (b < a ? ... : a), for doubles and floats.
template <class F>
__device__ inline F std_max(F a, F b) { return (a < b) ? b : a; }
template <class F>
__device__ inline F std_min(F a, F b) { return (b < a) ? b : a; }

/// The frame as float 0..255 (floats in [0, 1] scaled by 255).
template <class T>
__global__ void tvl1_to_float(const T* src, index_t src_stride, index_t R, index_t C, float scale, float* dst) {
    const index_t x = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    const index_t y = static_cast<index_t>(blockIdx.y) * blockDim.y + threadIdx.y;
    if (x >= C || y >= R) return;
    dst[y * C + x] = mul_rn(scale, static_cast<float>(src[y * src_stride + x]));
}

/// Gaussian along the rows (replicated border): acc = sum_i k[i] * s[x + i], i = -rad..rad in order.
__global__ void tvl1_blur_rows(const float* src, index_t R, index_t C, const float* k, int rad, float* dst) {
    const index_t x = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    const index_t y = static_cast<index_t>(blockIdx.y) * blockDim.y + threadIdx.y;
    if (x >= C || y >= R) return;
    const float* s = src + y * C;
    float acc = 0;
    for (int i = -rad; i <= rad; ++i) acc = add_rn(acc, mul_rn(k[i + rad], s[tvl1_clampi(x + i, 0, C - 1)]));
    dst[y * C + x] = acc;
}

/// Gaussian down the columns (replicated border), the same order.
__global__ void tvl1_blur_cols(const float* src, index_t R, index_t C, const float* k, int rad, float* dst) {
    const index_t x = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    const index_t y = static_cast<index_t>(blockIdx.y) * blockDim.y + threadIdx.y;
    if (x >= C || y >= R) return;
    float d = 0;
    for (int i = -rad; i <= rad; ++i) d = add_rn(d, mul_rn(k[i + rad], src[tvl1_clampi(y + i, 0, R - 1) * C + x]));
    dst[y * C + x] = d;
}

/// One axis of the bilinear resampling: the source index pair and the weight of position `i`
/// of `n` samples over `src` source samples (the host's double arithmetic, pixel centres aligned).
__device__ inline void tvl1_axis(index_t i, index_t n, index_t src, index_t& i0, index_t& i1, float& f) {
    const double s = div_rn(double(src), double(n));
    double p = sub_rn(mul_rn(add_rn(double(i), 0.5), s), 0.5);
    p = std_min(std_max(p, 0.0), double(src - 1));
    const index_t k = static_cast<index_t>(p) < src - 1 ? static_cast<index_t>(p) : src - 1;
    i0 = k;
    i1 = k + 1 < src - 1 ? k + 1 : src - 1;
    f = static_cast<float>(sub_rn(p, double(k)));
}

/// Bilinear resampling of src (sR x sC) to dst (R x C), scaled by `mul` (tvl1_resize).
__global__ void tvl1_resize(const float* src, index_t sR, index_t sC, float* dst, index_t R, index_t C, float mul) {
    const index_t x = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    const index_t y = static_cast<index_t>(blockIdx.y) * blockDim.y + threadIdx.y;
    if (x >= C || y >= R) return;
    index_t x0, x1, y0, y1;
    float fx, fy;
    tvl1_axis(x, C, sC, x0, x1, fx);
    tvl1_axis(y, R, sR, y0, y1, fy);
    const float* a = src + y0 * sC;
    const float* b = src + y1 * sC;
    const float t = add_rn(a[x0], mul_rn(fx, sub_rn(a[x1], a[x0])));
    const float u = add_rn(b[x0], mul_rn(fx, sub_rn(b[x1], b[x0])));
    dst[y * C + x] = mul_rn(mul, add_rn(t, mul_rn(fy, sub_rn(u, t))));
}

/// p *= s (the initial flow's levels).
__global__ void tvl1_scale(float* p, index_t n, float s) {
    const index_t i = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < n) p[i] = mul_rn(p[i], s);
}

/// (I1, I1x, I1y, 0) per pixel: central differences, replicated border.
__global__ void tvl1_gradient(const float* I1, index_t R, index_t C, float4* out) {
    const index_t x = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    const index_t y = static_cast<index_t>(blockIdx.y) * blockDim.y + threadIdx.y;
    if (x >= C || y >= R) return;
    const float* s = I1 + y * C;
    const float* up = I1 + (y > 0 ? y - 1 : 0) * C;
    const float* dn = I1 + (y + 1 < R ? y + 1 : R - 1) * C;
    float4 d;
    d.x = s[x];
    d.y = mul_rn(0.5f, sub_rn(s[x + 1 < C ? x + 1 : C - 1], s[x > 0 ? x - 1 : 0]));
    d.z = mul_rn(0.5f, sub_rn(dn[x], up[x]));
    d.w = 0.f;
    out[y * C + x] = d;
}

/// The per-warp terms: I1 and its gradient sampled bicubically (clamped) at x + u; rc = I1w -
/// grad I1w . u - I0, ig = 1 / (|grad I1w|^2 + gamma^2) (1e30 where that is under FLT_EPSILON).
__global__ void tvl1_warp(const float* I0, const float4* i1p, const float* u1, const float* u2, index_t R, index_t C,
                          float g2, float* ix, float* iy, float* rc, float* ig) {
    const index_t x = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    const index_t y = static_cast<index_t>(blockIdx.y) * blockDim.y + threadIdx.y;
    if (x >= C || y >= R) return;
    const index_t i = y * C + x;
    const float a = u1[i], b = u2[i];
    float px = add_rn(float(x), a), py = add_rn(float(y), b);
    px = std_min(std_max(px, 0.f), float(C - 1));
    py = std_min(std_max(py, 0.f), float(R - 1));
    const index_t xi = static_cast<index_t>(px) < C - 1 ? static_cast<index_t>(px) : C - 1;
    const index_t yi = static_cast<index_t>(py) < R - 1 ? static_cast<index_t>(py) : R - 1;
    float wx[4], wy[4];
    ferx::detail::tvl1_cubic_weights(sub_rn(px, float(xi)), wx);
    ferx::detail::tvl1_cubic_weights(sub_rn(py, float(yi)), wy);
    index_t cx[4];
    for (int k = 0; k < 4; ++k) cx[k] = tvl1_clampi(xi - 1 + k, 0, C - 1);
    float sw = 0, sx = 0, sy = 0;
    for (int j = 0; j < 4; ++j) {
        const float4* row = i1p + tvl1_clampi(yi - 1 + j, 0, R - 1) * C;
        float rw = 0, rx = 0, ry = 0;
        for (int k = 0; k < 4; ++k) {
            const float4 t = row[cx[k]];
            rw = add_rn(rw, mul_rn(wx[k], t.x));
            rx = add_rn(rx, mul_rn(wx[k], t.y));
            ry = add_rn(ry, mul_rn(wx[k], t.z));
        }
        sw = add_rn(sw, mul_rn(wy[j], rw));
        sx = add_rn(sx, mul_rn(wy[j], rx));
        sy = add_rn(sy, mul_rn(wy[j], ry));
    }
    ix[i] = sx;
    iy[i] = sy;
    rc[i] = sub_rn(sub_rn(sub_rn(sw, mul_rn(sx, a)), mul_rn(sy, b)), I0[i]);
    const float gr = add_rn(add_rn(mul_rn(sx, sx), mul_rn(sy, sy)), g2);
    ig[i] = gr > FLT_EPSILON ? div_rn(1.f, gr) : 1e30f;
}

/// The separable median's row pass u -> m (k = 3 or 5, replicated border); skipped once the warp
/// has converged before iteration `it`.
__global__ void tvl1_median_rows(const float* u, index_t R, index_t C, int k, float* m, const int* stop, int it) {
    if (*stop < it) return;
    const index_t x = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    const index_t y = static_cast<index_t>(blockIdx.y) * blockDim.y + threadIdx.y;
    if (x >= C || y >= R) return;
    const float* s = u + y * C;
    auto at = [&](index_t i) { return s[tvl1_clampi(x + i, 0, C - 1)]; };
    m[y * C + x] = k == 5 ? ferx::detail::tvl1_med5(at(-2), at(-1), at(0), at(1), at(2))
                          : ferx::detail::tvl1_med3(at(-1), at(0), at(1));
}

/// The column pass m -> u.
__global__ void tvl1_median_cols(const float* m, index_t R, index_t C, int k, float* u, const int* stop, int it) {
    if (*stop < it) return;
    const index_t x = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    const index_t y = static_cast<index_t>(blockIdx.y) * blockDim.y + threadIdx.y;
    if (x >= C || y >= R) return;
    auto at = [&](index_t i) { return m[tvl1_clampi(y + i, 0, R - 1) * C + x]; };
    u[y * C + x] = k == 5 ? ferx::detail::tvl1_med5(at(-2), at(-1), at(0), at(1), at(2))
                          : ferx::detail::tvl1_med3(at(-1), at(0), at(1));
}

/// The exact k x k median u -> m (window rows y - r .. y + r, each x - r .. x + r, replicated).
__global__ void tvl1_median_exact(const float* u, index_t R, index_t C, int k, float* m, const int* stop, int it) {
    if (*stop < it) return;
    const index_t x = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    const index_t y = static_cast<index_t>(blockIdx.y) * blockDim.y + threadIdx.y;
    if (x >= C || y >= R) return;
    const int r = k / 2;
    float w[25];
    int n = 0;
    for (int j = 0; j < k; ++j) {
        const float* row = u + tvl1_clampi(y + j - r, 0, R - 1) * C;
        for (int i = -r; i <= r; ++i) w[n++] = row[tvl1_clampi(x + i, 0, C - 1)];
    }
    m[y * C + x] = k == 5 ? ferx::detail::tvl1_forgetful_median<25>(w) : ferx::detail::tvl1_forgetful_median<9>(w);
}

/// dst = src (n floats), skipped once converged (the exact median's result back into u).
__global__ void tvl1_copy(const float* src, index_t n, float* dst, const int* stop, int it) {
    if (*stop < it) return;
    const index_t i = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < n) dst[i] = src[i];
}

/// The planes of one inner iteration (device pointers, each R x C packed; the *3 ones only with
/// the illumination term).
struct tvl1_iter_view {
    float *u1, *u2, *u3;
    const float *ix, *iy, *rc, *ig;
    float *p11, *p12, *p21, *p22, *p31, *p32;
    float* err;        ///< the change per pixel
    double* row_err;   ///< the change per row
    unsigned* count;   ///< blocks of `update` done (the last one resets it)
    int* stop;         ///< the iteration the warp converged at (INT_MAX: not yet)
    index_t R, C;
    float lt, th, gm, taut;
    double scaled_eps;
};

/// Thresholding and flow update of row blockIdx.x (tvl1_solver::update_row), its change summed as
/// row_sum does (8 float lanes over the full groups of 8, added in double, then the tail), and,
/// in the last block to finish, the total over rows (in row order) tested against epsilon.
template <bool G>
__global__ void __launch_bounds__(tvl1_row_threads) tvl1_update(tvl1_iter_view v, int it) {
    if (*v.stop < it) return;
    const index_t y = blockIdx.x, C = v.C;
    float* u1 = v.u1 + y * C;
    float* u2 = v.u2 + y * C;
    float* u3 = G ? v.u3 + y * C : nullptr;
    const float* ix = v.ix + y * C;
    const float* iy = v.iy + y * C;
    const float* rc = v.rc + y * C;
    const float* ig = v.ig + y * C;
    const float* p11 = v.p11 + y * C;
    const float* p12 = v.p12 + y * C;
    const float* p21 = v.p21 + y * C;
    const float* p22 = v.p22 + y * C;
    const float* p31 = G ? v.p31 + y * C : nullptr;
    const float* p32 = G ? v.p32 + y * C : nullptr;
    const float* q12 = y > 0 ? p12 - C : nullptr;
    const float* q22 = y > 0 ? p22 - C : nullptr;
    const float* q32 = G && y > 0 ? p32 - C : nullptr;
    float* e = v.err + y * C;
    for (index_t x = threadIdx.x; x < C; x += blockDim.x) {
        const float l11 = x > 0 ? p11[x - 1] : 0.f, l21 = x > 0 ? p21[x - 1] : 0.f;
        const float l31 = G && x > 0 ? p31[x - 1] : 0.f;
        const float a12 = y > 0 ? q12[x] : 0.f, a22 = y > 0 ? q22[x] : 0.f;
        const float a32 = G && y > 0 ? q32[x] : 0.f;
        const float o1 = u1[x], o2 = u2[x];
        const float o3 = G ? u3[x] : 0.f;
        float rho = add_rn(add_rn(rc[x], mul_rn(ix[x], o1)), mul_rn(iy[x], o2));
        if (G) rho = add_rn(rho, mul_rn(v.gm, o3));
        const float fi = ferx::detail::tvl1_min(ferx::detail::tvl1_max(mul_rn(-rho, ig[x]), -v.lt), v.lt);
        const float d1 = sub_rn(add_rn(sub_rn(p11[x], l11), p12[x]), a12);
        const float d2 = sub_rn(add_rn(sub_rn(p21[x], l21), p22[x]), a22);
        const float n1 = add_rn(add_rn(o1, mul_rn(fi, ix[x])), mul_rn(v.th, d1));
        const float n2 = add_rn(add_rn(o2, mul_rn(fi, iy[x])), mul_rn(v.th, d2));
        u1[x] = n1;
        u2[x] = n2;
        const float e1 = sub_rn(n1, o1), e2 = sub_rn(n2, o2);
        float ev = add_rn(mul_rn(e1, e1), mul_rn(e2, e2));
        if (G) {
            const float d3 = sub_rn(add_rn(sub_rn(p31[x], l31), p32[x]), a32);
            const float n3 = add_rn(add_rn(o3, mul_rn(fi, v.gm)), mul_rn(v.th, d3));
            u3[x] = n3;
            const float e3 = sub_rn(n3, o3);
            ev = add_rn(ev, mul_rn(e3, e3));
        }
        e[x] = ev;
    }
    __syncthreads();  // the row's changes, written to global memory, are visible to the block
    __shared__ float lanes[8];
    __shared__ bool last;
    const index_t full = C / 8 * 8;
    if (threadIdx.x < 8) {
        float acc = 0;
        for (index_t x = threadIdx.x; x < full; x += 8) acc = add_rn(acc, e[x]);
        lanes[threadIdx.x] = acc;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        double s = 0;
        for (int k = 0; k < 8; ++k) s = add_rn(s, static_cast<double>(lanes[k]));
        for (index_t x = full; x < C; ++x) s = add_rn(s, static_cast<double>(e[x]));
        v.row_err[y] = s;
        __threadfence();  // the row's sum is visible to every block before the count says so
        last = atomicAdd(v.count, 1u) == gridDim.x - 1;
    }
    __syncthreads();
    if (last && threadIdx.x == 0) {
        __threadfence();
        double s = 0;
        for (index_t r = 0; r < v.R; ++r) s = add_rn(s, __ldcg(v.row_err + r));
        if (!(s > v.scaled_eps)) *v.stop = it;
        *v.count = 0u;
    }
}

/// The dual update of one pixel of one component (tvl1_solver::dual_one): forward differences of
/// the updated flow, zero past the last row (`un` null) and column.
__device__ inline void tvl1_dual_one(index_t x, index_t C, float taut, const float* u, const float* un, float* pa, float* pb) {
    if (x + 1 < C) {
        const float gx = sub_rn(u[x + 1], u[x]);
        const float gy = un ? sub_rn(un[x], u[x]) : 0.f;
        const float r = div_rn(1.f, add_rn(1.f, mul_rn(taut, __fsqrt_rn(add_rn(mul_rn(gx, gx), mul_rn(gy, gy))))));
        pa[x] = mul_rn(add_rn(pa[x], mul_rn(taut, gx)), r);
        pb[x] = mul_rn(add_rn(pb[x], mul_rn(taut, gy)), r);
    } else {
        const float gy = un ? sub_rn(un[x], u[x]) : 0.f;
        const float r = div_rn(1.f, add_rn(1.f, mul_rn(taut, __fsqrt_rn(mul_rn(gy, gy)))));
        pa[x] = mul_rn(pa[x], r);
        pb[x] = mul_rn(add_rn(pb[x], mul_rn(taut, gy)), r);
    }
}

/// The dual update of every pixel from the flow of this iteration (tvl1_solver::dual_row).
template <bool G>
__global__ void tvl1_dual(tvl1_iter_view v, int it) {
    if (*v.stop < it) return;
    const index_t x = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    const index_t y = static_cast<index_t>(blockIdx.y) * blockDim.y + threadIdx.y;
    if (x >= v.C || y >= v.R) return;
    const index_t C = v.C, o = y * C;
    const bool lastrow = y + 1 >= v.R;
    tvl1_dual_one(x, C, v.taut, v.u1 + o, lastrow ? nullptr : v.u1 + o + C, v.p11 + o, v.p12 + o);
    tvl1_dual_one(x, C, v.taut, v.u2 + o, lastrow ? nullptr : v.u2 + o + C, v.p21 + o, v.p22 + o);
    if (G) tvl1_dual_one(x, C, v.taut, v.u3 + o, lastrow ? nullptr : v.u3 + o + C, v.p31 + o, v.p32 + o);
}

/// The field out (R x C, row stride `stride` vectors) from u1, u2.
__global__ void tvl1_store_flow(const float* u1, const float* u2, index_t R, index_t C, flow_vector* out, index_t stride) {
    const index_t x = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    const index_t y = static_cast<index_t>(blockIdx.y) * blockDim.y + threadIdx.y;
    if (x >= C || y >= R) return;
    out[y * stride + x] = flow_vector{u1[y * C + x], u2[y * C + x]};
}

/// u1, u2 from the field (the initial flow).
__global__ void tvl1_load_flow(const flow_vector* in, index_t stride, index_t R, index_t C, float* u1, float* u2) {
    const index_t x = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    const index_t y = static_cast<index_t>(blockIdx.y) * blockDim.y + threadIdx.y;
    if (x >= C || y >= R) return;
    const flow_vector f = in[y * stride + x];
    u1[y * C + x] = f.u;
    u2[y * C + x] = f.v;
}

}  // namespace
FERX_ARCH_NAMESPACE_END
}  // namespace kernels
}  // namespace cuda
FERX_NAMESPACE_END
