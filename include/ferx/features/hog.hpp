/// \file ferx/features/hog.hpp
/// Histograms of oriented gradients (Dalal & Triggs, 2005), with the parameters and the output of
/// `cv::HOGDescriptor::compute` for one window: the image given is the detection window (a face
/// crop, a 64x128 person window), described by overlapping blocks of cells.
///
/// Per pixel: (optionally) gamma-compressed intensities sqrt(I); central differences
/// dx = I(y, x+1) - I(y, x-1), dy = I(y+1, x) - I(y-1, x) with mirrored borders (reflect-101);
/// magnitude |g| and orientation in [0, pi) (unsigned) or [0, 2 pi) (signed), split linearly
/// between the two nearest of `bins` bins centred at (b + 0.5) * pi / bins (or 2 pi / bins).
/// Per block: every pixel votes into the cells of the block around it with bilinear spatial
/// weights (cells centred at their centres; no vote outside the block) times a Gaussian window of
/// sigma `win_sigma` centred on the block; then the block histogram is normalised (the `Norm`
/// policy: L2-Hys, L2 or L1).
///
/// Output layout (as OpenCV's): blocks in column-major order (x outer, y inner), each block's
/// cells column-major, each cell `bins` floats. Length =
/// blocks_x * blocks_y * (block.cols / cell.cols) * (block.rows / cell.rows) * bins.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/view.hpp>
#include <ferx/features/descriptor.hpp>
#include <ferx/features/detail/hog_core.hpp>
#include <ferx/core/rounding.hpp>
#include <ferx/fwd.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#if (defined(__x86_64__) || defined(_M_X64)) && !defined(__CUDA_ARCH__)
#include <emmintrin.h>
#define FERX_HOG_X86 1
#endif

FERX_NAMESPACE_BEGIN

/// HOG parameters; the defaults are cv::HOGDescriptor's (the image is the window).
template <class Norm>  // defaults to hog_l2hys (ferx/fwd.hpp)
struct hog_params {
    using norm_type = Norm;
    patch_size block{16, 16};         ///< pixels; a whole number of cells
    patch_size block_stride{8, 8};    ///< pixels
    patch_size cell{8, 8};            ///< pixels
    int bins = 9;                     ///< orientation bins over [0, pi) (or [0, 2 pi) if signed)
    bool signed_gradient = false;     ///< orientations over 2 pi instead of pi
    double win_sigma = -1;            ///< Gaussian block weighting; <= 0: (block.rows + block.cols) / 8
    double l2hys_threshold = 0.2;     ///< clipping of L2-Hys (ignored by L2 and L1)
    bool gamma_correction = true;     ///< square-root intensities first (pixels must be >= 0)

    double sigma() const { return win_sigma > 0 ? win_sigma : static_cast<double>(block.rows + block.cols) / 8.0; }
};

namespace detail {

/// Everything of a hog_params that the per-pixel and per-block loops need, precomputed once.
struct hog_layout {
    index_t rows = 0, cols = 0;            // image (window)
    index_t cells_y = 0, cells_x = 0;      // cells per block
    index_t blocks_y = 0, blocks_x = 0;    // blocks per window
    index_t block_len = 0;                 // floats per block
    index_t length = 0;                    // floats per window
    int bins = 0;
    float angle_scale = 0;                 // bins per radian
};

template <class Norm>
hog_layout hog_check(const hog_params<Norm>& p, index_t rows, index_t cols) {
    constexpr const char* where = "ferx::hog";
    const auto text = [](patch_size s) { return std::to_string(s.rows) + "x" + std::to_string(s.cols); };
    if (p.bins <= 0 || p.bins > 255) throw error(where, "bins must be in [1, 255], got " + std::to_string(p.bins));
    if (p.cell.rows <= 0 || p.cell.cols <= 0) throw error(where, "the cell size must be positive, got " + text(p.cell));
    if (p.block.rows <= 0 || p.block.cols <= 0 || p.block.rows % p.cell.rows != 0 || p.block.cols % p.cell.cols != 0)
        throw error(where, "the block (" + text(p.block) + ") must be a positive whole number of cells (" + text(p.cell) + ")");
    if (p.block_stride.rows <= 0 || p.block_stride.cols <= 0)
        throw error(where, "the block stride must be positive, got " + text(p.block_stride));
    if (!(p.l2hys_threshold > 0) || !std::isfinite(p.l2hys_threshold) || !std::isfinite(p.win_sigma))
        throw error(where, "l2hys_threshold must be positive and win_sigma finite");
    if (rows < 2 || cols < 2)
        throw error(where, "the image (" + std::to_string(rows) + "x" + std::to_string(cols) +
                               ") needs at least 2 rows and 2 columns for gradients");
    if (rows < p.block.rows || cols < p.block.cols)
        throw error(where, "the image (" + std::to_string(rows) + "x" + std::to_string(cols) +
                               ") is smaller than a block (" + text(p.block) + ")");
    if ((rows - p.block.rows) % p.block_stride.rows != 0 || (cols - p.block.cols) % p.block_stride.cols != 0)
        throw error(where, "the image (" + std::to_string(rows) + "x" + std::to_string(cols) +
                               ") minus the block (" + text(p.block) +
                               ") must be a multiple of the block stride (" + text(p.block_stride) + ")");
    hog_layout l;
    l.rows = rows;
    l.cols = cols;
    l.cells_y = p.block.rows / p.cell.rows;
    l.cells_x = p.block.cols / p.cell.cols;
    l.blocks_y = (rows - p.block.rows) / p.block_stride.rows + 1;
    l.blocks_x = (cols - p.block.cols) / p.block_stride.cols + 1;
    l.bins = p.bins;
    l.block_len = l.cells_y * l.cells_x * p.bins;
    l.length = l.blocks_y * l.blocks_x * l.block_len;
    l.angle_scale = p.signed_gradient ? static_cast<float>(p.bins / (2.0 * 3.141592653589793))
                                      : static_cast<float>(p.bins / 3.141592653589793);
    return l;
}

/// Per-pixel votes of a whole image, and the per-block-pixel tables.
struct hog_workspace {
    std::vector<float> m0, m1;       // rows x cols: votes to bin b0 and b0 + 1
    std::vector<std::int32_t> b0;    // rows x cols: lower bin
    std::vector<float> dx, dy, lut, hist;
    // Block pixels sorted by how many cells they vote into (1, 2 or 4 for 2-cell-wide blocks):
    // pixel offset (y * cols + x within the block), cell offsets (in the padded histogram of
    // bins + 1 floats per cell), weights (Gaussian x bilinear).
    std::vector<std::int32_t> pix, cell_ofs;  // n_pixels; n_pixels x 4
    std::vector<float> cell_w;                // n_pixels x 4
    std::int32_t count[5] = {0, 0, 0, 0, 0};  // count[n]: pixels voting into n cells (n = 1..4)
    // Blocks of at most 4 cells: per block pixel (row-major), its weight for each cell (0 where
    // it does not vote), so one pixel's votes are two 4-wide multiply-adds.
    std::vector<float> w4;
    patch_size table_block{}, table_cell{};
    double table_sigma = 0;
    int table_bins = 0;
    index_t table_cols = 0;
    bool lut_gamma = false;
    bool tables_ready = false;
};

/// The Gaussian weight of block pixel (i, j): exp(-((i - bh/2)^2 + (j - bw/2)^2) scale), computed
/// on the host only (the device gets these values, never its own exp).
inline float hog_gauss(index_t i, index_t j, index_t bh, index_t bw, float scale) {
    const float hh = static_cast<float>(bh) * 0.5f, hw = static_cast<float>(bw) * 0.5f;
    const float di = static_cast<float>(i) - hh, dj = static_cast<float>(j) - hw;
    return std::exp(-(di * di + dj * dj) * scale);
}

/// The CUDA backend's launch arguments (blocks of at most 4 cells, checked by the caller).
template <class Norm>
hog_cuda_args hog_make_cuda_args(const hog_params<Norm>& p, const hog_layout& l, index_t out_stride) {
    hog_cuda_args a{};
    const float sigma = static_cast<float>(p.sigma());
    const float scale = 1.f / (sigma * sigma * 2.f);
    for (index_t i = 0; i < p.block.rows; ++i)
        for (index_t j = 0; j < p.block.cols; ++j)
            a.gauss[hog_gauss_index(i, j, p.block.rows, p.block.cols)] = hog_gauss(i, j, p.block.rows, p.block.cols, scale);
    a.blocks_y = l.blocks_y;
    a.block_len = l.block_len;
    a.bh = p.block.rows;
    a.bw = p.block.cols;
    a.sy = p.block_stride.rows;
    a.sx = p.block_stride.cols;
    a.out_stride = out_stride;
    a.cell_rows = p.cell.rows;
    a.cell_cols = p.cell.cols;
    a.cells_y = l.cells_y;
    a.cells_x = l.cells_x;
    a.bins = p.bins;
    a.cells = static_cast<int>(l.cells_x * l.cells_y);
    a.angle_scale = l.angle_scale;
    a.threshold = static_cast<float>(p.l2hys_threshold);
    a.gamma = p.gamma_correction;
    return a;
}

/// Fills the per-block-pixel tables: bilinear cell weights (cells centred at their centres, no
/// vote outside the block) times the Gaussian exp(-((i - bh/2)^2 + (j - bw/2)^2) / (2 sigma^2)).
template <class Norm>
void hog_block_tables(const hog_params<Norm>& p, const hog_layout& l, hog_workspace& ws) {
    if (ws.table_block == p.block && ws.table_cell == p.cell && ws.table_sigma == p.sigma() && ws.table_bins == p.bins &&
        ws.table_cols == l.cols && ws.tables_ready)
        return;
    const index_t bh = p.block.rows, bw = p.block.cols;
    const std::size_t npix = static_cast<std::size_t>(bh * bw);
    const float sigma = static_cast<float>(p.sigma());
    const float scale = 1.f / (sigma * sigma * 2.f);
    struct entry {
        std::int32_t pix, n, ofs[4];
        float w[4];
    };
    std::vector<entry> entries;
    entries.reserve(npix);
    // The Gaussian depends on (2 di)^2 + (2 dj)^2 (an integer) only: one exp per distinct value.
    std::vector<float> gauss(static_cast<std::size_t>(bh * bh + bw * bw + 1), -1.f);
    for (index_t i = 0; i < bh; ++i)
        for (index_t j = 0; j < bw; ++j) {
            const std::size_t key = static_cast<std::size_t>((2 * i - bh) * (2 * i - bh) + (2 * j - bw) * (2 * j - bw));
            if (gauss[key] < 0.f) gauss[key] = hog_gauss(i, j, bh, bw, scale);
            const float g = gauss[key];
            const float cy = (static_cast<float>(i) + 0.5f) / static_cast<float>(p.cell.rows) - 0.5f;
            const float cx = (static_cast<float>(j) + 0.5f) / static_cast<float>(p.cell.cols) - 0.5f;
            const index_t iy0 = static_cast<index_t>(std::floor(cy)), ix0 = static_cast<index_t>(std::floor(cx));
            const float fy = cy - static_cast<float>(iy0), fx = cx - static_cast<float>(ix0);
            entry e{static_cast<std::int32_t>(i * l.cols + j), 0, {0, 0, 0, 0}, {0, 0, 0, 0}};
            for (int dxc = 0; dxc < 2; ++dxc)
                for (int dyc = 0; dyc < 2; ++dyc) {
                    const index_t ix = ix0 + dxc, iy = iy0 + dyc;
                    if (ix < 0 || ix >= l.cells_x || iy < 0 || iy >= l.cells_y) continue;
                    const float wx = dxc ? fx : 1.f - fx, wy = dyc ? fy : 1.f - fy;
                    e.ofs[e.n] = static_cast<std::int32_t>((ix * l.cells_y + iy) * (p.bins + 1));
                    e.w[e.n] = g * (wx * wy);
                    ++e.n;
                }
            entries.push_back(e);
        }
    ws.w4.assign(npix * 4, 0.f);
    if (l.cells_x * l.cells_y <= 4)  // hog_cell_weights: the arithmetic of the entries above, shared with CUDA
        for (index_t i = 0; i < bh; ++i)
            for (index_t j = 0; j < bw; ++j) {
                const std::size_t key = static_cast<std::size_t>((2 * i - bh) * (2 * i - bh) + (2 * j - bw) * (2 * j - bw));
                hog_cell_weights(i, j, p.cell.rows, p.cell.cols, l.cells_y, l.cells_x, gauss[key],
                                 ws.w4.data() + 4 * (i * bw + j));
            }
    ws.table_block = p.block;
    ws.table_cell = p.cell;
    ws.table_sigma = p.sigma();
    ws.table_bins = p.bins;
    ws.table_cols = l.cols;
    ws.tables_ready = true;
    if (l.cells_x * l.cells_y <= 4) return;  // hog_blocks4 needs w4 only
    ws.pix.assign(npix, 0);
    ws.cell_ofs.assign(npix * 4, 0);
    ws.cell_w.assign(npix * 4, 0.f);
    std::stable_sort(entries.begin(), entries.end(), [](const entry& a, const entry& b) { return a.n < b.n; });
    for (auto& c : ws.count) c = 0;
    for (std::size_t k = 0; k < npix; ++k) {
        const entry& e = entries[k];
        ++ws.count[e.n];
        ws.pix[k] = e.pix;
        for (int c = 0; c < 4; ++c) {
            ws.cell_ofs[k * 4 + static_cast<std::size_t>(c)] = e.ofs[c];
            ws.cell_w[k * 4 + static_cast<std::size_t>(c)] = e.w[c];
        }
    }
}


/// The votes of a row of n pixels from its derivatives: SSE2 (4 pixels a step) on x86, the
/// scalar hog_vote elsewhere and for the tail. Both evaluate the same float operations in the same
/// order (no FMA), so they give the same bits.
inline void hog_votes_row(const float* dx, const float* dy, index_t n, float angle_scale, int bins, float* m0,
                          float* m1, std::int32_t* b0) {
    index_t x = 0;
#if defined(FERX_HOG_X86)
    constexpr float k = 57.29577951308232f;
    const __m128 p1 = _mm_set1_ps(0.9997878412794807f * k), p3 = _mm_set1_ps(-0.3258083974640975f * k);
    const __m128 p5 = _mm_set1_ps(0.1555786518463281f * k), p7 = _mm_set1_ps(-0.04432655554792128f * k);
    const __m128 eps = _mm_set1_ps(static_cast<float>(2.220446049250313e-16));
    const __m128 sign = _mm_set1_ps(-0.f), zero = _mm_setzero_ps(), one = _mm_set1_ps(1.f);
    const __m128 d90 = _mm_set1_ps(90.f), d180 = _mm_set1_ps(180.f), d360 = _mm_set1_ps(360.f);
    const __m128 to_rad = _mm_set1_ps(0.017453292519943295f), scale = _mm_set1_ps(angle_scale);
    const __m128 half = _mm_set1_ps(0.5f);
    const __m128i nb = _mm_set1_epi32(bins), nb1 = _mm_set1_epi32(bins - 1), izero = _mm_setzero_si128();
    const auto select = [](__m128 m, __m128 a, __m128 b) { return _mm_or_ps(_mm_and_ps(m, a), _mm_andnot_ps(m, b)); };
    for (; x + 4 <= n; x += 4) {
        const __m128 gx = _mm_loadu_ps(dx + x), gy = _mm_loadu_ps(dy + x);
        const __m128 mag = _mm_sqrt_ps(_mm_add_ps(_mm_mul_ps(gx, gx), _mm_mul_ps(gy, gy)));
        const __m128 ax = _mm_andnot_ps(sign, gx), ay = _mm_andnot_ps(sign, gy);
        const __m128 steep = _mm_cmpgt_ps(ay, ax);
        const __m128 c = _mm_div_ps(select(steep, ax, ay), _mm_add_ps(select(steep, ay, ax), eps));
        const __m128 c2 = _mm_mul_ps(c, c);
        __m128 a = _mm_add_ps(_mm_mul_ps(p7, c2), p5);
        a = _mm_add_ps(_mm_mul_ps(a, c2), p3);
        a = _mm_add_ps(_mm_mul_ps(a, c2), p1);
        a = _mm_mul_ps(a, c);
        a = select(steep, _mm_sub_ps(d90, a), a);
        a = select(_mm_cmplt_ps(gx, zero), _mm_sub_ps(d180, a), a);
        a = select(_mm_cmplt_ps(gy, zero), _mm_sub_ps(d360, a), a);
        a = _mm_sub_ps(_mm_mul_ps(_mm_mul_ps(a, to_rad), scale), half);
        __m128i h = _mm_cvttps_epi32(a);
        h = _mm_add_epi32(h, _mm_castps_si128(_mm_cmplt_ps(a, _mm_cvtepi32_ps(h))));  // floor: -1 where truncated up
        a = _mm_sub_ps(a, _mm_cvtepi32_ps(h));
        _mm_storeu_ps(m0 + x, _mm_mul_ps(mag, _mm_sub_ps(one, a)));
        _mm_storeu_ps(m1 + x, _mm_mul_ps(mag, a));
        h = _mm_add_epi32(h, _mm_and_si128(_mm_cmplt_epi32(h, izero), nb));  // h < 0: + bins
        h = _mm_sub_epi32(h, _mm_and_si128(_mm_cmpgt_epi32(h, nb1), nb));  // h >= bins: - bins
        _mm_storeu_si128(reinterpret_cast<__m128i*>(b0 + x), h);
    }
#endif
    for (; x < n; ++x) {
        int b;
        hog_vote(dx[x], dy[x], angle_scale, bins, m0[x], m1[x], b);
        b0[x] = b;
    }
}

/// Gradient votes of image rows [r0, r1) into ws.m0 / m1 / b0 (which hold the whole image).
template <class T>
void hog_gradient_rows(const image_view<const T>& img, const hog_layout& l, bool gamma, index_t r0, index_t r1,
                       hog_workspace& ws, std::vector<float>& dxb, std::vector<float>& dyb) {
    const index_t w = l.cols, h = l.rows;
    dxb.resize(static_cast<std::size_t>(w));
    dyb.resize(static_cast<std::size_t>(w));
    if (gamma && !std::is_same<T, std::uint8_t>::value)
        for (index_t y = r0; y < r1; ++y) {
            const T* row = img.row(y);
            for (index_t x = 0; x < w; ++x)
                if (!(static_cast<float>(row[x]) >= 0.f))
                    throw error("ferx::hog", "gamma correction needs non-negative pixels; pixel (" +
                                                 std::to_string(y) + ", " + std::to_string(x) + ") is negative");
        }
    const float* lut = ws.lut.data();
    const auto I = [&](const T* row, index_t x) -> float {
        if constexpr (std::is_same<T, std::uint8_t>::value) return lut[row[x]];
        else return hog_intensity(row[x], gamma);
    };
    float* dx = dxb.data();
    float* dy = dyb.data();
    for (index_t y = r0; y < r1; ++y) {
        const T* row = img.row(y);
        const T* up = img.row(hog_reflect(y - 1, h));
        const T* down = img.row(hog_reflect(y + 1, h));
        dx[0] = I(row, 1) - I(row, hog_reflect(-1, w));
        for (index_t x = 1; x + 1 < w; ++x) dx[x] = I(row, x + 1) - I(row, x - 1);
        dx[w - 1] = I(row, hog_reflect(w, w)) - I(row, w - 2);
        for (index_t x = 0; x < w; ++x) dy[x] = I(down, x) - I(up, x);
        const std::size_t o = static_cast<std::size_t>(y * w);
        hog_votes_row(dx, dy, w, l.angle_scale, l.bins, ws.m0.data() + o, ws.m1.data() + o, ws.b0.data() + o);
    }
}

template <class T>
void hog_prepare(const hog_layout& l, bool gamma, hog_workspace& ws) {
    const std::size_t n = static_cast<std::size_t>(l.rows * l.cols);
    if (ws.m0.size() < n) {
        ws.m0.resize(n);
        ws.m1.resize(n);
        ws.b0.resize(n);
    }
    ws.hist.resize(static_cast<std::size_t>(std::max<index_t>(l.cells_x * l.cells_y, 8) * (l.bins + 1)));
    if (std::is_same<T, std::uint8_t>::value && (ws.lut.size() != 256 || ws.lut_gamma != gamma)) {
        ws.lut.resize(256);
        for (int i = 0; i < 256; ++i) ws.lut[static_cast<std::size_t>(i)] = hog_intensity(static_cast<std::uint8_t>(i), gamma);
        ws.lut_gamma = gamma;
    }
}

/// hog_blocks for blocks of at most 4 cells (the usual 2x2): the histogram is laid out bin-major
/// (4 cells per bin, contiguous), so a pixel's votes are two 4-wide multiply-adds; even and odd
/// columns accumulate separately (shorter store-to-load chains). `hist` holds 8 (bins + 1) floats.
template <class Norm>
void hog_blocks4(const hog_params<Norm>& p, const hog_layout& l, const hog_workspace& ws, index_t k0, index_t k1,
                 float* out, float* hist) {
    const index_t cells = l.cells_x * l.cells_y;
    const int bins = l.bins;
    const index_t bh = p.block.rows, bw = p.block.cols, w = l.cols;
    const std::size_t half = static_cast<std::size_t>(4 * (bins + 1));
    float* acc0 = hist;
    float* acc1 = hist + half;
    const float thr = static_cast<float>(p.l2hys_threshold);
    for (index_t k = k0; k < k1; ++k) {
        const index_t bx = k / l.blocks_y, by = k % l.blocks_y;
        std::fill(hist, hist + 2 * half, 0.f);
        const index_t origin = by * p.block_stride.rows * w + bx * p.block_stride.cols;
        for (index_t i = 0; i < bh; ++i) {
            const float* m0 = ws.m0.data() + origin + i * w;
            const float* m1 = ws.m1.data() + origin + i * w;
            const std::int32_t* b0 = ws.b0.data() + origin + i * w;
            const float* wr = ws.w4.data() + 4 * i * bw;
            index_t j = 0;
#if defined(FERX_HOG_X86)
            for (; j + 2 <= bw; j += 2) {
                const __m128 wa = _mm_loadu_ps(wr + 4 * j), wb = _mm_loadu_ps(wr + 4 * j + 4);
                float* ha = acc0 + 4 * b0[j];
                float* hb = acc1 + 4 * b0[j + 1];
                _mm_storeu_ps(ha, _mm_add_ps(_mm_loadu_ps(ha), _mm_mul_ps(_mm_set1_ps(m0[j]), wa)));
                _mm_storeu_ps(ha + 4, _mm_add_ps(_mm_loadu_ps(ha + 4), _mm_mul_ps(_mm_set1_ps(m1[j]), wa)));
                _mm_storeu_ps(hb, _mm_add_ps(_mm_loadu_ps(hb), _mm_mul_ps(_mm_set1_ps(m0[j + 1]), wb)));
                _mm_storeu_ps(hb + 4, _mm_add_ps(_mm_loadu_ps(hb + 4), _mm_mul_ps(_mm_set1_ps(m1[j + 1]), wb)));
            }
#endif
            for (; j < bw; ++j) {
                float* h = (j & 1 ? acc1 : acc0) + 4 * b0[j];
                for (int c = 0; c < 4; ++c) {
                    h[c] += m0[j] * wr[4 * j + c];
                    h[4 + c] += m1[j] * wr[4 * j + c];
                }
            }
        }
        float* o = out + k * l.block_len;
        for (index_t c = 0; c < cells; ++c) {
            float* oc = o + c * bins;
            oc[0] = (acc0[c] + acc1[c]) + (acc0[4 * bins + c] + acc1[4 * bins + c]);
            for (int b = 1; b < bins; ++b) oc[b] = acc0[4 * b + c] + acc1[4 * b + c];
        }
        Norm::apply(o, l.block_len, thr);
    }
}

/// Blocks [k0, k1) (column-major block index) of the window into out. `hist` is scratch of
/// cells x (bins + 1) floats: the vote to bin b0 + 1 lands at b0 + 1 even for b0 = bins - 1, and
/// that extra bin is folded into bin 0 afterwards (no modulo in the loop).
template <class Norm>
void hog_blocks(const hog_params<Norm>& p, const hog_layout& l, const hog_workspace& ws, index_t k0, index_t k1,
                float* out, float* hist) {
    const index_t cells = l.cells_x * l.cells_y;
    const int bins = l.bins;
    const index_t padded = cells * (bins + 1);
    const float thr = static_cast<float>(p.l2hys_threshold);
    const std::int32_t c1 = ws.count[1], c2 = c1 + ws.count[2], c3 = c2 + ws.count[3], c4 = c3 + ws.count[4];
    const std::int32_t* pix = ws.pix.data();
    const std::int32_t* ofs = ws.cell_ofs.data();
    const float* cw = ws.cell_w.data();
    if (cells <= 4) return hog_blocks4(p, l, ws, k0, k1, out, hist);
    for (index_t k = k0; k < k1; ++k) {
        const index_t bx = k / l.blocks_y, by = k % l.blocks_y;
        std::fill(hist, hist + padded, 0.f);
        const index_t origin = by * p.block_stride.rows * l.cols + bx * p.block_stride.cols;
        const float* m0 = ws.m0.data() + origin;
        const float* m1 = ws.m1.data() + origin;
        const std::int32_t* b0 = ws.b0.data() + origin;
        // Pixels sorted by the number of cells they vote into: a fixed count per loop.
        const auto vote = [&](auto cells_per_pixel, std::int32_t q0, std::int32_t q1) {
            constexpr int n = decltype(cells_per_pixel)::value;
            for (std::int32_t q = q0; q < q1; ++q) {
                const std::int32_t px = pix[q], b = b0[px];
                const float a0 = m0[px], a1 = m1[px];
                for (int c = 0; c < n; ++c) {
                    float* h = hist + ofs[4 * q + c] + b;
                    h[0] += a0 * cw[4 * q + c];
                    h[1] += a1 * cw[4 * q + c];
                }
            }
        };
        vote(std::integral_constant<int, 1>{}, 0, c1);
        vote(std::integral_constant<int, 2>{}, c1, c2);
        vote(std::integral_constant<int, 3>{}, c2, c3);
        vote(std::integral_constant<int, 4>{}, c3, c4);
        float* o = out + k * l.block_len;
        for (index_t c = 0; c < cells; ++c) {
            const float* hc = hist + c * (bins + 1);
            float* oc = o + c * bins;
            oc[0] = hc[0] + hc[bins];
            for (int b = 1; b < bins; ++b) oc[b] = hc[b];
        }
        Norm::apply(o, l.block_len, thr);
    }
}

#if defined(__CUDACC__)
FERX_ARCH_NAMESPACE_BEGIN
/// Enqueues the HOG kernel over the batch (defined in ferx/cuda/dispatch/hog.cuh).
template <class Norm>
void hog_cuda(const exec::cuda_policy& policy, const device_volume_view<const std::uint8_t>& batch, hog_cuda_args a,
              index_t nblocks, float* d_out);
FERX_ARCH_NAMESPACE_END
#endif

}  // namespace detail

template <class Norm>
struct descriptor_traits<hog_params<Norm>> {
    static constexpr const char* name = "ferx::hog";
    using workspace = detail::hog_workspace;
    static index_t length(const hog_params<Norm>& p, index_t rows, index_t cols) {
        return detail::hog_check(p, rows, cols).length;
    }
    template <class T>
    static void compute(const hog_params<Norm>& p, const image_view<const T>& img, float* out, workspace& ws) {
        const detail::hog_layout l = detail::hog_check(p, img.rows(), img.cols());
        detail::hog_prepare<T>(l, p.gamma_correction, ws);
        detail::hog_block_tables(p, l, ws);
        detail::hog_gradient_rows(img, l, p.gamma_correction, 0, l.rows, ws, ws.dx, ws.dy);
        detail::hog_blocks(p, l, ws, 0, l.blocks_x * l.blocks_y, out, ws.hist.data());
    }
#if defined(__CUDACC__)
    /// The `exec::cuda` backend (called by ferx::describe after its checks): one thread block per
    /// (HOG block, crop), blocks of at most 4 cells and 1024 pixels; enqueued on the policy's
    /// stream, no allocation, no synchronisation. The launch is ferx/cuda/dispatch/hog.cuh.
    static void compute_cuda(const exec::cuda_policy& policy, const device_volume_view<const std::uint8_t>& batch,
                             const hog_params<Norm>& p, const tensor_view<float, 2, memory_space::device>& out,
                             detail::arch_tag) {
        constexpr const char* where = "ferx::hog (cuda)";
        const detail::hog_layout l = detail::hog_check(p, batch.rows(), batch.cols());
        if (l.cells_x * l.cells_y > 4)
            throw error(where, "the CUDA backend takes blocks of at most 4 cells (e.g. 2x2), got " +
                                   std::to_string(l.cells_y) + "x" + std::to_string(l.cells_x));
        if (p.block.rows * p.block.cols > detail::hog_cuda_max_block_pixels)
            throw error(where, "the CUDA backend takes blocks of at most " +
                                   std::to_string(detail::hog_cuda_max_block_pixels) + " pixels");
        detail::hog_cuda<Norm>(policy, batch, detail::hog_make_cuda_args(p, l, out.stride(0)), l.blocks_x * l.blocks_y,
                               out.data());
    }
#endif
    /// One large window on several threads: gradient rows, then blocks, split over the pool.
    template <class T>
    static void compute_par(thread_pool& pool, const hog_params<Norm>& p, const image_view<const T>& img, float* out,
                            workspace& ws) {
        const detail::hog_layout l = detail::hog_check(p, img.rows(), img.cols());
        const index_t nblocks = l.blocks_x * l.blocks_y;
        // Below ~64 blocks (a 64x128 window has 105) the fork-join costs more than it saves.
        if (pool.size() == 1 || nblocks < 64) return compute(p, img, out, ws);
        detail::hog_prepare<T>(l, p.gamma_correction, ws);
        detail::hog_block_tables(p, l, ws);
        pool.parallel_for(0, l.rows, 16, [&](index_t r0, index_t r1) {
            std::vector<float> dx, dy;
            detail::hog_gradient_rows(img, l, p.gamma_correction, r0, r1, ws, dx, dy);
        });
        pool.parallel_for(0, nblocks, 8, [&](index_t k0, index_t k1) {
            std::vector<float> hist(ws.hist.size());
            detail::hog_blocks(p, l, ws, k0, k1, out, hist.data());
        });
    }
};

FERX_NAMESPACE_END

#if defined(__CUDACC__)
#include <ferx/cuda/dispatch/hog.cuh>
#endif
