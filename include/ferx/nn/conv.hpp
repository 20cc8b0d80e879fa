/// \file ferx/nn/conv.hpp
/// 2-D convolution (ONNX Conv) on NCHW float32: any kernel size, stride, dilation, asymmetric
/// padding, groups (so depthwise and pointwise), an optional bias, and an elementwise function
/// fused on the output (the session fuses a following Relu and folds BatchNormalization into
/// the weights).
///
/// CPU schedule: for each (image, group, block of output pixels) the receptive fields are
/// unrolled into a K x P column matrix (im2col, K = C/group * kh * kw) and multiplied by the
/// group's M/group x K weights with ferx::nn::gemm's kernel. Pointwise convolutions (1x1,
/// stride 1, no padding) multiply the input plane directly, and depthwise ones (one input and
/// one output channel per group) use a direct loop over a zero-bordered copy of the plane
/// (vectorised along output rows, 3x3 specialised): both skip im2col. `par` splits the
/// (image, group, pixel block) items over the pool; the result equals `seq` bit for bit.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/nn/activation.hpp>
#include <ferx/nn/gemm.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

FERX_NAMESPACE_BEGIN
namespace nn {

/// ONNX's auto_pad: explicit pads (NOTSET), output = ceil(input / stride) with the odd padding
/// at the end (SAME_UPPER) or the beginning (SAME_LOWER), or no padding (VALID).
enum class auto_pad { notset, same_upper, same_lower, valid };

/// Window parameters shared by Conv and the pools (2-D; pads are top, left, bottom, right as
/// ONNX orders them: begins then ends).
struct window_params {
    std::int64_t kernel_h = 1, kernel_w = 1;
    std::int64_t stride_h = 1, stride_w = 1;
    std::int64_t dilation_h = 1, dilation_w = 1;
    std::int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
    auto_pad padding = auto_pad::notset;
    bool ceil_mode = false;  ///< pools only: round the output size up
};

/// Output extent of one axis, and the resolved begin/end pads (auto_pad applied).
inline std::int64_t window_output(std::int64_t in, std::int64_t k, std::int64_t s, std::int64_t d, auto_pad mode,
                                  bool ceil_mode, std::int64_t& pad_begin, std::int64_t& pad_end) {
    const std::int64_t span = (k - 1) * d + 1;
    if (mode == auto_pad::valid) pad_begin = pad_end = 0;
    if (mode == auto_pad::same_upper || mode == auto_pad::same_lower) {
        const std::int64_t out = (in + s - 1) / s;
        const std::int64_t total = std::max<std::int64_t>(0, (out - 1) * s + span - in);
        pad_begin = mode == auto_pad::same_upper ? total / 2 : total - total / 2;
        pad_end = total - pad_begin;
        return out;
    }
    const std::int64_t room = in + pad_begin + pad_end - span;
    if (room < 0) return 0;
    std::int64_t out = (ceil_mode ? (room + s - 1) / s : room / s) + 1;
    // ceil_mode: the last window must start inside the input or the begin padding.
    if (ceil_mode && (out - 1) * s >= in + pad_begin) --out;
    return out;
}

/// Everything a convolution kernel needs, resolved: input N x C x H x W, weights
/// M x C/group x kh x kw, output N x M x OH x OW.
struct conv_geometry {
    std::int64_t n = 0, c = 0, h = 0, w = 0;
    std::int64_t m = 0, group = 1;
    window_params win;
    std::int64_t oh = 0, ow = 0;

    FERX_HOST_DEVICE std::int64_t c_per_group() const { return c / group; }
    FERX_HOST_DEVICE std::int64_t m_per_group() const { return m / group; }
    FERX_HOST_DEVICE std::int64_t k() const { return c_per_group() * win.kernel_h * win.kernel_w; }
    FERX_HOST_DEVICE bool depthwise() const { return c_per_group() == 1 && m_per_group() == 1; }
    FERX_HOST_DEVICE bool pointwise() const {
        return win.kernel_h == 1 && win.kernel_w == 1 && win.stride_h == 1 && win.stride_w == 1 && win.pad_top == 0 &&
               win.pad_left == 0 && win.pad_bottom == 0 && win.pad_right == 0;
    }
};

/// Resolves and checks a convolution of an N x C x H x W input by M x C/group x kh x kw weights.
/// Throws ferx::error (naming `where`) for inconsistent channels, groups, kernel or window.
inline conv_geometry make_conv_geometry(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w,
                                        std::int64_t m, std::int64_t cg, window_params win, std::int64_t group,
                                        const std::string& where) {
    auto fail = [&](const std::string& why) { throw error(where, why); };
    if (group < 1) fail("group must be >= 1");
    if (c % group != 0 || m % group != 0)
        fail("input channels " + std::to_string(c) + " and output channels " + std::to_string(m) +
             " must both be divisible by group " + std::to_string(group));
    if (cg != c / group)
        fail("weights have " + std::to_string(cg) + " input channels per group, the input gives " +
             std::to_string(c / group));
    if (win.kernel_h < 1 || win.kernel_w < 1 || win.stride_h < 1 || win.stride_w < 1 || win.dilation_h < 1 ||
        win.dilation_w < 1)
        fail("kernel, strides and dilations must be >= 1");
    if (win.pad_top < 0 || win.pad_left < 0 || win.pad_bottom < 0 || win.pad_right < 0) fail("pads must be >= 0");
    conv_geometry g;
    g.n = n, g.c = c, g.h = h, g.w = w, g.m = m, g.group = group;
    g.oh = window_output(h, win.kernel_h, win.stride_h, win.dilation_h, win.padding, false, win.pad_top, win.pad_bottom);
    g.ow = window_output(w, win.kernel_w, win.stride_w, win.dilation_w, win.padding, false, win.pad_left, win.pad_right);
    g.win = win;
    if (g.oh < 1 || g.ow < 1)
        fail("the kernel (dilated) is larger than the padded input " + std::to_string(h) + "x" + std::to_string(w));
    return g;
}

namespace detail {

/// How the CPU kernel splits a convolution: output pixels per block, and im2col floats per
/// thread.
struct conv_schedule {
    std::int64_t pixels_per_block = 0;
    std::int64_t blocks = 0;  ///< per (image, group)
    std::size_t scratch_per_thread = 0;
};

/// Floats of the zero-bordered copy of one input plane the stride-1 depthwise kernel works on
/// (0 when the convolution has no padding, or does not use that kernel).
inline std::size_t depthwise_padded_floats(const conv_geometry& g) {
    const window_params& w = g.win;
    if (!g.depthwise() || w.stride_w != 1) return 0;
    if (w.pad_top == 0 && w.pad_left == 0 && w.pad_bottom == 0 && w.pad_right == 0) return 0;
    return static_cast<std::size_t>((g.h + w.pad_top + w.pad_bottom) * (g.w + w.pad_left + w.pad_right));
}

inline conv_schedule schedule_conv(const conv_geometry& g, std::size_t threads) {
    conv_schedule s;
    const std::int64_t pixels = g.oh * g.ow;
    // Keep a block's column matrix within ~256 KiB (L2-resident while the GEMM streams it).
    std::int64_t block = std::max<std::int64_t>(gemm_nr, (65536 / std::max<std::int64_t>(1, g.k())) / gemm_nr * gemm_nr);
    // Enough blocks for every thread to have about two items.
    const std::int64_t items = g.n * g.group;
    if (threads > 1 && items < 2 * static_cast<std::int64_t>(threads)) {
        const std::int64_t want = (2 * static_cast<std::int64_t>(threads) + items - 1) / items;
        block = std::min(block, ((pixels + want - 1) / want + gemm_nr - 1) / gemm_nr * gemm_nr);
    }
    s.pixels_per_block = std::min(block, pixels);
    s.blocks = (pixels + s.pixels_per_block - 1) / s.pixels_per_block;
    if (g.depthwise())
        s.scratch_per_thread = depthwise_padded_floats(g);
    else
        s.scratch_per_thread = g.pointwise() ? 0 : static_cast<std::size_t>(g.k() * s.pixels_per_block);
    return s;
}

/// Runs body(slot, lo, hi) over [0, items) in at most `threads` contiguous ranges; `slot` is the
/// range's index (< threads), for per-thread scratch.
template <class Policy, class F>
void for_each_slot(const Policy& policy, std::int64_t items, F&& body) {
    const std::int64_t t = std::min<std::int64_t>(static_cast<std::int64_t>(ferx::detail::concurrency(policy)), items);
    if (t <= 1) {
        if (items > 0) body(std::int64_t{0}, std::int64_t{0}, items);
        return;
    }
    if constexpr (std::is_same<std::decay_t<Policy>, exec::parallel_policy>::value)
        policy.pool().run(static_cast<std::size_t>(t), [&](std::size_t s) {
            const std::int64_t slot = static_cast<std::int64_t>(s);
            body(slot, items * slot / t, items * (slot + 1) / t);
        });
}

// Column matrix of output pixels [p0, p1) of one image and group: col[kidx][p - p0].
inline void im2col(const conv_geometry& g, const float* x, std::int64_t p0, std::int64_t p1, float* col) {
    const window_params& w = g.win;
    const std::int64_t np = p1 - p0;
    std::int64_t row = 0;
    for (std::int64_t ci = 0; ci < g.c_per_group(); ++ci)
        for (std::int64_t ky = 0; ky < w.kernel_h; ++ky)
            for (std::int64_t kx = 0; kx < w.kernel_w; ++kx, ++row) {
                float* out = col + row * np;
                const float* plane = x + ci * g.h * g.w;
                std::int64_t oy = p0 / g.ow, ox = p0 % g.ow;
                for (std::int64_t p = 0; p < np;) {
                    // One output row segment: ox .. min(ow, ox + np - p).
                    const std::int64_t len = std::min(g.ow - ox, np - p);
                    const std::int64_t iy = oy * w.stride_h - w.pad_top + ky * w.dilation_h;
                    float* o = out + p;
                    if (iy < 0 || iy >= g.h) {
                        std::fill(o, o + len, 0.f);
                    } else {
                        const float* src = plane + iy * g.w;
                        const std::int64_t ix0 = ox * w.stride_w - w.pad_left + kx * w.dilation_w;
                        if (w.stride_w == 1) {  // a zero run, a copied run, a zero run
                            const std::int64_t lo = std::clamp<std::int64_t>(-ix0, 0, len);
                            const std::int64_t hi = std::clamp<std::int64_t>(g.w - ix0, lo, len);
                            std::fill(o, o + lo, 0.f);
                            std::copy(src + ix0 + lo, src + ix0 + hi, o + lo);
                            std::fill(o + hi, o + len, 0.f);
                        } else {  // strided: zeros, the taps inside [0, W), zeros
                            const std::int64_t sw = w.stride_w;
                            const std::int64_t lo = std::min(len, ix0 < 0 ? (-ix0 + sw - 1) / sw : std::int64_t{0});
                            const std::int64_t hi = std::max(lo, std::min(len, ix0 < g.w ? (g.w - 1 - ix0) / sw + 1 : std::int64_t{0}));
                            std::fill(o, o + lo, 0.f);
                            const float* sp = src + (ix0 + lo * sw);
                            for (std::int64_t t = lo; t < hi; ++t, sp += sw) o[t] = *sp;
                            std::fill(o + hi, o + len, 0.f);
                        }
                    }
                    p += len;
                    ox = 0;
                    ++oy;
                }
            }
}

// Stride-1 depthwise convolution rows over a zero-bordered plane: yr[ox] = sum over taps (ky,
// kx) in order of rows[ky][ox + kx * dw] * wt[ky * kw + kx], for ox in [0, ow), as one fused
// multiply-add chain from zero per output, then + bias, then max(0, .) when `relu`. KH, KW > 0 fix the kernel size at compile time (the
// weights then stay in registers); 0 reads it from kh, kw.
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
template <int KH, int KW>
__attribute__((target("avx512f"))) inline void depthwise_row_avx512(const float* const* rows, const float* wt,
                                                                     std::int64_t kh, std::int64_t kw,
                                                                     std::int64_t dw, std::int64_t ow, float* yr,
                                                                     float bias, bool relu) {
    const std::int64_t nh = KH > 0 ? KH : kh, nw = KW > 0 ? KW : kw;
    for (std::int64_t ox = 0; ox < ow; ox += 16) {
        const __mmask16 mask = static_cast<__mmask16>(ow - ox >= 16 ? 0xFFFF : (1u << (ow - ox)) - 1u);
        __m512 acc = _mm512_setzero_ps();
FERX_NN_UNROLL(4)
        for (std::int64_t ky = 0; ky < nh; ++ky)
FERX_NN_UNROLL(4)
            for (std::int64_t kx = 0; kx < nw; ++kx)
                acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, rows[ky] + ox + kx * dw),
                                      _mm512_set1_ps(wt[ky * nw + kx]), acc);
        acc = _mm512_add_ps(acc, _mm512_set1_ps(bias));
        if (relu) acc = _mm512_maskz_max_ps(0xFFFF, _mm512_setzero_ps(), acc);
        _mm512_mask_storeu_ps(yr + ox, mask, acc);
    }
}

template <int KH, int KW>
__attribute__((target("avx2,fma"))) inline void depthwise_row_avx2(const float* const* rows, const float* wt,
                                                                   std::int64_t kh, std::int64_t kw, std::int64_t dw,
                                                                   std::int64_t ow, float* yr, float bias, bool relu) {
    const std::int64_t nh = KH > 0 ? KH : kh, nw = KW > 0 ? KW : kw;
    std::int64_t ox = 0;
    for (; ox + 8 <= ow; ox += 8) {
        __m256 acc = _mm256_setzero_ps();
FERX_NN_UNROLL(4)
        for (std::int64_t ky = 0; ky < nh; ++ky)
FERX_NN_UNROLL(4)
            for (std::int64_t kx = 0; kx < nw; ++kx)
                acc = _mm256_fmadd_ps(_mm256_loadu_ps(rows[ky] + ox + kx * dw), _mm256_set1_ps(wt[ky * nw + kx]), acc);
        acc = _mm256_add_ps(acc, _mm256_set1_ps(bias));
        if (relu) acc = _mm256_max_ps(_mm256_setzero_ps(), acc);
        _mm256_storeu_ps(yr + ox, acc);
    }
    for (; ox < ow; ++ox) {
        float acc = 0.f;
        for (std::int64_t ky = 0; ky < nh; ++ky)
            for (std::int64_t kx = 0; kx < nw; ++kx) acc = std::fma(rows[ky][ox + kx * dw], wt[ky * nw + kx], acc);
        acc += bias;
        yr[ox] = relu && 0.f > acc ? 0.f : acc;
    }
}
#endif

// Portable version of the rows above (the same chain, with std::fma).
inline void depthwise_row_portable(const float* const* rows, const float* wt, std::int64_t kh, std::int64_t kw,
                                   std::int64_t dw, std::int64_t ow, float* yr, float bias, bool relu) {
    std::fill(yr, yr + ow, 0.f);
    for (std::int64_t ky = 0; ky < kh; ++ky)
        for (std::int64_t kx = 0; kx < kw; ++kx) {
            const float wv = wt[ky * kw + kx];
            const float* xk = rows[ky] + kx * dw;
            for (std::int64_t ox = 0; ox < ow; ++ox) yr[ox] = std::fma(xk[ox], wv, yr[ox]);
        }
    apply_unary(unary_op{relu ? unary_kind::relu : unary_kind::identity}, yr, yr, ow, 1.f, bias);
}

// One output row of a stride-1 depthwise plane (see depthwise_row_avx512).
inline void depthwise_row(const float* const* rows, const float* wt, std::int64_t kh, std::int64_t kw,
                          std::int64_t dw, std::int64_t ow, float* yr, float bias, bool relu) {
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
    const bool k33 = kh == 3 && kw == 3;
    if (gemm_has_avx512())
        return k33 ? depthwise_row_avx512<3, 3>(rows, wt, kh, kw, dw, ow, yr, bias, relu)
                   : depthwise_row_avx512<0, 0>(rows, wt, kh, kw, dw, ow, yr, bias, relu);
    if (gemm_has_avx2())
        return k33 ? depthwise_row_avx2<3, 3>(rows, wt, kh, kw, dw, ow, yr, bias, relu)
                   : depthwise_row_avx2<0, 0>(rows, wt, kh, kw, dw, ow, yr, bias, relu);
#endif
    depthwise_row_portable(rows, wt, kh, kw, dw, ow, yr, bias, relu);
}

// One depthwise plane with stride_w 1: the plane is copied with a zero border of the pads into
// `padded` (depthwise_padded_floats(g) floats; unused without pads), so every window lies
// inside it and each output row is one depthwise_row (with the bias, and Relu fused); other
// functions are applied after.
inline void depthwise_plane_stride1(const conv_geometry& g, const float* x, const float* wt, float bias,
                                    const unary_op& post, float* y, float* padded) {
    const window_params& w = g.win;
    const bool pads = w.pad_top || w.pad_left || w.pad_bottom || w.pad_right;
    std::int64_t pw = g.w;
    const float* src = x;
    if (pads) {
        pw = g.w + w.pad_left + w.pad_right;
        const std::int64_t ph = g.h + w.pad_top + w.pad_bottom;
        std::fill(padded, padded + w.pad_top * pw, 0.f);
        for (std::int64_t iy = 0; iy < g.h; ++iy) {
            float* row = padded + (iy + w.pad_top) * pw;
            std::fill(row, row + w.pad_left, 0.f);
            std::copy(x + iy * g.w, x + (iy + 1) * g.w, row + w.pad_left);
            std::fill(row + w.pad_left + g.w, row + pw, 0.f);
        }
        std::fill(padded + (g.h + w.pad_top) * pw, padded + ph * pw, 0.f);
        src = padded;
    }
    const float* rows[16];
    for (std::int64_t oy = 0; oy < g.oh; ++oy) {
        for (std::int64_t ky = 0; ky < w.kernel_h; ++ky) rows[ky] = src + (oy * w.stride_h + ky * w.dilation_h) * pw;
        float* yr = y + oy * g.ow;
        const bool relu = post.kind == unary_kind::relu;
        depthwise_row(rows, wt, w.kernel_h, w.kernel_w, w.dilation_w, g.ow, yr, bias, relu);
        if (!relu && post.kind != unary_kind::identity) detail::apply_unary(post, yr, yr, g.ow);
    }
}

// One depthwise plane, any stride: y = sum over the window of x * w (taps in ky, kx order),
// + bias, post; taps outside the input are skipped.
inline void depthwise_plane_general(const conv_geometry& g, const float* x, const float* wt, float bias,
                                    const unary_op& post, float* y) {
    const window_params& w = g.win;
    for (std::int64_t oy = 0; oy < g.oh; ++oy)
        for (std::int64_t ox = 0; ox < g.ow; ++ox) {
            float acc = 0.f;
            for (std::int64_t ky = 0; ky < w.kernel_h; ++ky) {
                const std::int64_t iy = oy * w.stride_h - w.pad_top + ky * w.dilation_h;
                if (iy < 0 || iy >= g.h) continue;
                for (std::int64_t kx = 0; kx < w.kernel_w; ++kx) {
                    const std::int64_t ix = ox * w.stride_w - w.pad_left + kx * w.dilation_w;
                    if (ix < 0 || ix >= g.w) continue;
                    acc = std::fma(x[iy * g.w + ix], wt[ky * w.kernel_w + kx], acc);
                }
            }
            y[oy * g.ow + ox] = post(acc + bias);
        }
}

}  // namespace detail

/// Floats of scratch `conv2d` needs under `policy` (0 for pointwise convolutions and unpadded
/// depthwise ones).
template <class Policy>
std::size_t conv2d_scratch_floats(const Policy& policy, const conv_geometry& g) {
    const std::size_t threads = ferx::detail::concurrency(policy);
    return detail::schedule_conv(g, threads).scratch_per_thread * threads;
}

/// y = post(conv(x, w) + bias): x N x C x H x W, w M x C/group x kh x kw, bias M floats or null,
/// y N x M x OH x OW (all contiguous); `scratch` holds conv2d_scratch_floats(policy, g) floats.
template <class Policy>
void conv2d(const Policy& policy, const conv_geometry& g, const float* x, const float* w, const float* bias, float* y,
            float* scratch, const unary_op& post = {}) {
    static_assert(is_host_policy_v<Policy>, "ferx::nn::conv2d: exec::seq, exec::par, or exec::cuda in a .cu file");
    const std::int64_t plane_in = g.h * g.w, pixels = g.oh * g.ow;
    if (g.depthwise()) {
        const std::int64_t taps = g.win.kernel_h * g.win.kernel_w;
        const std::size_t per_slot = detail::depthwise_padded_floats(g);
        const bool stride1 = g.win.stride_w == 1 && g.win.kernel_h <= 16;
        detail::for_each_slot(policy, g.n * g.c, [&](std::int64_t slot, std::int64_t lo, std::int64_t hi) {
            float* padded = scratch + static_cast<std::size_t>(slot) * per_slot;
            for (std::int64_t p = lo; p < hi; ++p) {
                const std::int64_t ch = p % g.c;
                const float b = bias ? bias[ch] : 0.f;
                if (stride1)
                    detail::depthwise_plane_stride1(g, x + p * plane_in, w + ch * taps, b, post, y + p * pixels, padded);
                else
                    detail::depthwise_plane_general(g, x + p * plane_in, w + ch * taps, b, post, y + p * pixels);
            }
        });
        return;
    }
    // Bias and Relu are applied by the GEMM kernel as it stores; other functions afterwards.
    const bool fused = post.kind == unary_kind::identity || post.kind == unary_kind::relu;
    const detail::conv_schedule s = detail::schedule_conv(g, ferx::detail::concurrency(policy));
    const std::int64_t cg = g.c_per_group(), mg = g.m_per_group(), k = g.k();
    const std::int64_t items = g.n * g.group * s.blocks;
    detail::for_each_slot(policy, items, [&](std::int64_t slot, std::int64_t lo, std::int64_t hi) {
        float* col = scratch + static_cast<std::size_t>(slot) * s.scratch_per_thread;
        for (std::int64_t it = lo; it < hi; ++it) {
            const std::int64_t blk = it % s.blocks, ng = it / s.blocks;
            const std::int64_t img = ng / g.group, grp = ng % g.group;
            const std::int64_t p0 = blk * s.pixels_per_block, p1 = std::min(pixels, p0 + s.pixels_per_block);
            const float* xg = x + (img * g.c + grp * cg) * plane_in;
            float* yg = y + (img * g.m + grp * mg) * pixels;
            const float* b = col;
            std::int64_t ldb = p1 - p0;
            if (g.pointwise()) {
                b = xg + p0;
                ldb = plane_in;
            } else {
                detail::im2col(g, xg, p0, p1, col);
            }
            detail::gemm_kernel(mg, p1 - p0, k, w + grp * mg * k, k, b, ldb, yg + p0, pixels,
                                {bias ? bias + grp * mg : nullptr, post.kind == unary_kind::relu});
            if (!fused)
                for (std::int64_t o = 0; o < mg; ++o)
                    detail::apply_unary(post, yg + o * pixels + p0, yg + o * pixels + p0, p1 - p0);
        }
    });
}


}  // namespace nn
FERX_NAMESPACE_END
