/// \file ferx/features/detail/hog_core.hpp
/// The parts of HOG that run on the host and on CUDA devices alike: OpenCV's arctangent, the
/// per-pixel votes, the per-accumulator block sums and the block normalisation policies. Shared by
/// ferx/features/hog.hpp and the kernels of ferx/cuda/kernels/hog.cuh (which must not include the
/// public header: it includes the CUDA dispatch, which includes the kernels).
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/view.hpp>
#include <ferx/core/rounding.hpp>

#include <cmath>
#include <cstdint>

FERX_NAMESPACE_BEGIN

namespace detail {
/// Sum of squares of n floats, in order, each operation rounded on its own.
FERX_HOST_DEVICE inline float hog_sum_squares(const float* v, index_t n) {
    float s = 0.f;
    for (index_t i = 0; i < n; ++i) s = add_rn(s, mul_rn(v[i], v[i]));
    return s;
}
/// v *= scale, each product rounded on its own.
FERX_HOST_DEVICE inline void hog_scale(float* v, index_t n, float scale) {
    for (index_t i = 0; i < n; ++i) v[i] = mul_rn(v[i], scale);
}
}  // namespace detail

/// Block normalisations (compile-time policies). `v` is one block histogram of `n` floats.
/// L2-Hys: v / (||v||_2 + 0.1 n), clipped at `threshold`, then v / (||v||_2 + 1e-3) (OpenCV's
/// constants).
struct hog_l2hys {
    FERX_HOST_DEVICE static void apply(float* v, index_t n, float threshold) {
        using detail::add_rn;
        using detail::mul_rn;
        const float scale = 1.f / add_rn(std::sqrt(detail::hog_sum_squares(v, n)), mul_rn(0.1f, static_cast<float>(n)));
        for (index_t i = 0; i < n; ++i) {
            const float t = mul_rn(v[i], scale);
            v[i] = t < threshold ? t : threshold;
        }
        detail::hog_scale(v, n, 1.f / add_rn(std::sqrt(detail::hog_sum_squares(v, n)), 1e-3f));
    }
};
/// L2: v / sqrt(||v||_2^2 + eps^2), eps = 1e-3 (Dalal & Triggs).
struct hog_l2 {
    FERX_HOST_DEVICE static void apply(float* v, index_t n, float /*threshold*/) {
        detail::hog_scale(v, n, 1.f / std::sqrt(detail::add_rn(detail::hog_sum_squares(v, n), 1e-6f)));
    }
};
/// L1: v / (||v||_1 + eps), eps = 1e-3 (votes are non-negative).
struct hog_l1 {
    FERX_HOST_DEVICE static void apply(float* v, index_t n, float /*threshold*/) {
        float s = 0.f;
        for (index_t i = 0; i < n; ++i) s = detail::add_rn(s, v[i]);
        detail::hog_scale(v, n, 1.f / detail::add_rn(s, 1e-3f));
    }
};

namespace detail {

/// atan2(y, x) in degrees, [0, 360), by the degree-7 odd polynomial approximation of atan on
/// [0, 1] that OpenCV's cartToPolar uses (largest error about 0.0095 degrees, measured over
/// [0, 1]). HOG must use it to reproduce cv::HOGDescriptor's votes to float rounding.
FERX_HOST_DEVICE inline float hog_atan2_degrees(float y, float x) {
    constexpr float k = 57.29577951308232f;  // 180 / pi
    constexpr float p1 = 0.9997878412794807f * k, p3 = -0.3258083974640975f * k;
    constexpr float p5 = 0.1555786518463281f * k, p7 = -0.04432655554792128f * k;
    constexpr float eps = static_cast<float>(2.220446049250313e-16);  // DBL_EPSILON as float
    const float ax = std::fabs(x), ay = std::fabs(y);
    const bool steep = ay > ax;
    const float c = steep ? ax / add_rn(ay, eps) : ay / add_rn(ax, eps);
    const float c2 = mul_rn(c, c);
    float a = mul_rn(add_rn(mul_rn(add_rn(mul_rn(add_rn(mul_rn(p7, c2), p5), c2), p3), c2), p1), c);
    a = steep ? sub_rn(90.f, a) : a;
    a = x < 0 ? sub_rn(180.f, a) : a;
    a = y < 0 ? sub_rn(360.f, a) : a;
    return a;
}

/// Index of x in [0, n) under reflect-101 borders, for x in [-1, n] (n >= 2), as HOG needs.
FERX_HOST_DEVICE inline index_t hog_reflect(index_t x, index_t n) {
    return x < 0 ? -x : (x >= n ? 2 * n - 2 - x : x);
}

/// The intensity HOG differentiates: sqrt(v) with gamma correction, v otherwise.
template <class T>
FERX_HOST_DEVICE inline float hog_intensity(T v, bool gamma) {
    const float f = static_cast<float>(v);
    return gamma ? std::sqrt(f) : f;
}

/// The votes of one pixel: magnitude split between bins b0 and b0 + 1 (mod bins), as OpenCV's
/// gradient pass computes them (angle from hog_atan2_degrees, in float). Branch-free, so the
/// row loop below vectorises.
FERX_HOST_DEVICE inline void hog_vote(float dx, float dy, float angle_scale, int bins, float& m0,
                                      float& m1, int& b0) {
    const float mag = std::sqrt(add_rn(mul_rn(dx, dx), mul_rn(dy, dy)));
    const float rad = mul_rn(hog_atan2_degrees(dy, dx), 0.017453292519943295f);  // degrees -> radians
    float a = sub_rn(mul_rn(rad, angle_scale), 0.5f);
    int h = static_cast<int>(a);                    // truncation ...
    h -= a < static_cast<float>(h) ? 1 : 0;         // ... made floor
    a = sub_rn(a, static_cast<float>(h));
    m0 = mul_rn(mag, sub_rn(1.f, a));
    m1 = mul_rn(mag, a);
    h += h < 0 ? bins : 0;
    h -= h >= bins ? bins : 0;
    b0 = h;
}

/// The votes of pixel (y, x) of an image (any view type V with rows(), cols() and operator()),
/// as hog_gradient_rows computes them (reflect-101 borders); shared by the CUDA kernel.
template <class V>
FERX_HOST_DEVICE inline void hog_pixel_vote(const V& img, index_t y, index_t x, bool gamma, float angle_scale,
                                            int bins, float& m0, float& m1, int& b0) {
    const index_t h = img.rows(), w = img.cols();
    const float dx = sub_rn(hog_intensity(img(y, hog_reflect(x + 1, w)), gamma),
                            hog_intensity(img(y, hog_reflect(x - 1, w)), gamma));
    const float dy = sub_rn(hog_intensity(img(hog_reflect(y + 1, h), x), gamma),
                            hog_intensity(img(hog_reflect(y - 1, h), x), gamma));
    hog_vote(dx, dy, angle_scale, bins, m0, m1, b0);
}

/// Accumulator (parity, bin, cell c) of hog_blocks4, summed in hog_blocks4's order: pixels of
/// the block row by row, columns of that parity left to right. m0, m1, b0 start at the block's
/// origin with row pitch `pitch`; w4 is the block's per-pixel cell weights. The CUDA kernel
/// computes each accumulator with this function, so its blocks are those of the CPU, bit for bit.
FERX_HOST_DEVICE inline float hog_block4_acc(int parity, int bin, int c, const float* m0, const float* m1,
                                             const std::int32_t* b0, index_t pitch, const float* w4, index_t bh,
                                             index_t bw) {
    float s = 0.f;
    for (index_t i = 0; i < bh; ++i)
        for (index_t j = parity; j < bw; j += 2) {
            const index_t q = i * pitch + j;
            const float wc = w4[4 * (i * bw + j) + c];
            if (b0[q] == bin) s = add_rn(s, mul_rn(m0[q], wc));
            else if (b0[q] + 1 == bin) s = add_rn(s, mul_rn(m1[q], wc));
        }
    return s;
}

/// Largest block (pixels) of the CUDA backend (its per-pixel cell weights live in shared memory).
inline constexpr int hog_cuda_max_block_pixels = 1024;
/// Largest Gaussian table of the CUDA backend: (bh / 2 + 1) (bw / 2 + 1) for bh bw <= 1024.
inline constexpr int hog_cuda_max_gauss = 514;

/// Index in the compact Gaussian table of block pixel (i, j): the Gaussian weight depends on
/// |2 i - bh| and |2 j - bw| only (which have the parities of bh and bw).
FERX_HOST_DEVICE inline int hog_gauss_index(index_t i, index_t j, index_t bh, index_t bw) {
    const index_t a = 2 * i - bh, b = 2 * j - bw;
    return static_cast<int>(((a < 0 ? -a : a) / 2) * (bw / 2 + 1) + (b < 0 ? -b : b) / 2);
}

/// The weights of block pixel (i, j) for the (up to 4) cells of a block of cells_y x cells_x
/// cells (cell (ix, iy) at slot ix cells_y + iy; absent cells get 0), from its Gaussian weight g:
/// trilinear interpolation between the centres of the cells around it, as cv::HOGDescriptor
/// weighs a vote. Host and device run this same arithmetic, each operation rounded on its own.
FERX_HOST_DEVICE inline void hog_cell_weights(index_t i, index_t j, index_t cell_rows, index_t cell_cols, index_t cells_y,
                                              index_t cells_x, float g, float* w4) {
    const float cy = sub_rn(div_rn(add_rn(static_cast<float>(i), 0.5f), static_cast<float>(cell_rows)), 0.5f);
    const float cx = sub_rn(div_rn(add_rn(static_cast<float>(j), 0.5f), static_cast<float>(cell_cols)), 0.5f);
    const index_t iy0 = static_cast<index_t>(std::floor(cy)), ix0 = static_cast<index_t>(std::floor(cx));
    const float fy = sub_rn(cy, static_cast<float>(iy0)), fx = sub_rn(cx, static_cast<float>(ix0));
    for (int c = 0; c < 4; ++c) w4[c] = 0.f;
    for (int dxc = 0; dxc < 2; ++dxc)
        for (int dyc = 0; dyc < 2; ++dyc) {
            const index_t ix = ix0 + dxc, iy = iy0 + dyc;
            if (ix < 0 || ix >= cells_x || iy < 0 || iy >= cells_y) continue;
            const float wx = dxc ? fx : sub_rn(1.f, fx), wy = dyc ? fy : sub_rn(1.f, fy);
            w4[ix * cells_y + iy] = mul_rn(g, mul_rn(wx, wy));
        }
}

/// HOG launch arguments of the CUDA backend (one launch covers crops [n0, n0 + gridDim.y)):
/// about 2 KB. The per-pixel cell weights (4 floats a pixel, 16 KB for 32 x 32 blocks) are not
/// among them: each thread block computes them into shared memory from the Gaussian table.
struct hog_cuda_args {
    float gauss[hog_cuda_max_gauss];  // hog_gauss_index -> Gaussian weight, computed on the host
    index_t blocks_y, block_len, bh, bw, sy, sx, n0, out_stride, cell_rows, cell_cols, cells_y, cells_x;
    int bins, cells;
    float angle_scale, threshold;
    bool gamma;
};

}  // namespace detail
FERX_NAMESPACE_END
