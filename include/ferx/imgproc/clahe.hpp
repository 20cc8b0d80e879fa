/// \file ferx/imgproc/clahe.hpp
/// Contrast-limited adaptive histogram equalisation (Zuiderveld, 1994) of an 8-bit grey image,
/// defined as cv::CLAHE (cv::createCLAHE(clip_limit, {tiles_x, tiles_y})->apply) defines it:
///
/// - The image is cut into tiles_y x tiles_x tiles of (rows / tiles_y) x (cols / tiles_x) pixels;
///   when either side is not a multiple of its tile count, the histograms are taken over the
///   image extended by mirroring (reflect-101) at the bottom by tiles_y - rows % tiles_y rows and
///   at the right by tiles_x - cols % tiles_x columns (a whole tile on a side that was a
///   multiple), and the tile size is that of the extended image.
/// - Each tile's 256-bin histogram is clipped at max(1, floor(clip_limit * tile_pixels / 256))
///   (clip_limit <= 0: no clipping); the clipped excess is spread evenly over all bins, and its
///   remainder r one count each to bins 0, s, 2s, ... (s = max(256 / r, 1)) while r lasts.
/// - Each tile's table maps level v to round(255 / tile_pixels * cumulative(v)) (float).
/// - A pixel at (y, x) blends the tables of the four tiles around it bilinearly, with tile
///   coordinates ty = y / tile_rows - 0.5, tx = x / tile_cols - 0.5 (clamped at the borders),
///   in float, rounded to nearest.
///
///     ferx::clahe_params p;        // clip 40, 8x8 tiles: OpenCV's defaults
///     auto out = ferx::clahe(ferx::exec::par, ferx::view(img), p);
///
/// `par` splits the tile tables and then the rows over the pool (the same output as `seq`).
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/core/view.hpp>
#include <ferx/imgproc/equalize_hist.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN

/// Parameters of clahe (defaults: those of cv::createCLAHE).
struct clahe_params {
    double clip_limit = 40.0;  ///< histogram clip, relative to a flat histogram; <= 0: no clipping
    int tiles_x = 8;           ///< tile columns, 1..256 and at most the image width
    int tiles_y = 8;           ///< tile rows, 1..256 and at most the image height
};

namespace detail {

/// Index of row/column i of an axis of n pixels extended by mirroring (reflect-101) past n.
inline index_t reflect101_tail(index_t i, index_t n) { return i < n ? i : (n == 1 ? 0 : 2 * (n - 1) - i); }

/// The table of tile (ty, tx) into `lut` (256 entries).
inline void clahe_tile_lut(const image_view<const std::uint8_t>& src, index_t ty, index_t tx, index_t th, index_t tw,
                           int clip, std::uint8_t* lut) {
    std::array<int, 256> hist{};
    for (index_t y = ty * th; y < (ty + 1) * th; ++y) {
        const std::uint8_t* row = src.row(reflect101_tail(y, src.rows()));
        for (index_t x = tx * tw; x < (tx + 1) * tw; ++x) ++hist[row[reflect101_tail(x, src.cols())]];
    }
    if (clip > 0) {
        int excess = 0;
        for (int& h : hist)
            if (h > clip) {
                excess += h - clip;
                h = clip;
            }
        const int each = excess / 256;
        int rest = excess - each * 256;
        for (int& h : hist) h += each;
        if (rest > 0) {
            const int step = std::max(256 / rest, 1);
            for (int v = 0; v < 256 && rest > 0; v += step, --rest) ++hist[static_cast<std::size_t>(v)];
        }
    }
    const float scale = 255.f / static_cast<float>(th * tw);
    int sum = 0;
    for (int v = 0; v < 256; ++v) {
        sum += hist[static_cast<std::size_t>(v)];
        lut[v] = saturate_u8(static_cast<float>(sum) * scale);
    }
}

}  // namespace detail

/// CLAHE of `src` into `dst` (same rows x cols, 8-bit; not in place). Throws ferx::error for an
/// empty image, a size mismatch, or tile counts outside 1..256 or larger than the image.
template <class Policy>
void clahe(const Policy& policy, const image_view<const std::uint8_t>& src, const image_view<std::uint8_t>& dst,
           const clahe_params& params = {}) {
    static_assert(is_host_policy_v<Policy>, "ferx::clahe runs on the host: exec::seq or exec::par");
    constexpr const char* where = "ferx::clahe";
    detail::check_lut_pair(src, dst, where);
    if (params.tiles_x < 1 || params.tiles_y < 1 || params.tiles_x > 256 || params.tiles_y > 256 ||
        params.tiles_x > src.cols() || params.tiles_y > src.rows())
        throw error(where, "the tile grid (" + std::to_string(params.tiles_x) + "x" + std::to_string(params.tiles_y) +
                               ") must be 1..256 a side and fit the " + std::to_string(src.cols()) + "x" +
                               std::to_string(src.rows()) + " image");
    if (!std::isfinite(params.clip_limit)) throw error(where, "the clip limit must be finite");
    if (src.data() == dst.data()) throw error(where, "in-place CLAHE is not supported (src and dst overlap)");
    const index_t tx_n = params.tiles_x, ty_n = params.tiles_y;
    const index_t rows = src.rows(), cols = src.cols();
    // Tiles of the image extended at the bottom and right when a side is not a multiple of its
    // tile count; as OpenCV does, both sides are then extended, by tiles - (side % tiles), which
    // is a whole extra tile row (column) on a side that was a multiple.
    const bool extend = rows % ty_n != 0 || cols % tx_n != 0;
    const index_t ext_r = extend ? rows + ty_n - rows % ty_n : rows;
    const index_t ext_c = extend ? cols + tx_n - cols % tx_n : cols;
    const index_t th = ext_r / ty_n, tw = ext_c / tx_n;
    if ((ext_r > rows && rows - 1 < ext_r - rows) || (ext_c > cols && cols - 1 < ext_c - cols))
        throw error(where, "the image is too small to mirror up to a multiple of the tile grid");
    const int clip = params.clip_limit > 0
                         ? std::max(1, static_cast<int>(params.clip_limit * static_cast<double>(th * tw) / 256.0))
                         : 0;
    std::vector<std::uint8_t> luts(static_cast<std::size_t>(tx_n * ty_n * 256));
    detail::for_each_range(policy, tx_n * ty_n, 1, [&](index_t lo, index_t hi) {
        for (index_t t = lo; t < hi; ++t)
            detail::clahe_tile_lut(src, t / tx_n, t % tx_n, th, tw, clip, luts.data() + t * 256);
    });
    // Per column: left/right tile tables and weights.
    std::vector<index_t> left(static_cast<std::size_t>(cols)), right(static_cast<std::size_t>(cols));
    std::vector<float> wx(static_cast<std::size_t>(cols));
    const float inv_tw = 1.0f / static_cast<float>(tw), inv_th = 1.0f / static_cast<float>(th);
    for (index_t x = 0; x < cols; ++x) {
        const float f = static_cast<float>(x) * inv_tw - 0.5f;
        const index_t t0 = static_cast<index_t>(std::floor(f));
        wx[static_cast<std::size_t>(x)] = f - static_cast<float>(t0);
        left[static_cast<std::size_t>(x)] = std::max<index_t>(t0, 0) * 256;
        right[static_cast<std::size_t>(x)] = std::min<index_t>(t0 + 1, tx_n - 1) * 256;
    }
    detail::for_each_range(policy, rows, 16, [&](index_t lo, index_t hi) {
        for (index_t y = lo; y < hi; ++y) {
            const float f = static_cast<float>(y) * inv_th - 0.5f;
            const index_t t0 = static_cast<index_t>(std::floor(f));
            const float wy = f - static_cast<float>(t0), wy1 = 1.0f - wy;
            const std::uint8_t* top = luts.data() + std::max<index_t>(t0, 0) * tx_n * 256;
            const std::uint8_t* bottom = luts.data() + std::min<index_t>(t0 + 1, ty_n - 1) * tx_n * 256;
            const std::uint8_t* s = src.row(y);
            std::uint8_t* d = dst.row(y);
            for (index_t x = 0; x < cols; ++x) {
                const std::size_t xi = static_cast<std::size_t>(x);
                const index_t a = left[xi] + s[x], b = right[xi] + s[x];
                const float w = wx[xi], w1 = 1.0f - w;
                const float v = (static_cast<float>(top[a]) * w1 + static_cast<float>(top[b]) * w) * wy1 +
                                (static_cast<float>(bottom[a]) * w1 + static_cast<float>(bottom[b]) * w) * wy;
                d[x] = detail::saturate_u8(v);
            }
        }
    });
}

/// The CLAHE copy of an image.
template <class Policy>
image<std::uint8_t> clahe(const Policy& policy, const image_view<const std::uint8_t>& src,
                          const clahe_params& params = {}) {
    image<std::uint8_t> out({static_cast<std::size_t>(src.rows() > 0 ? src.rows() : 0),
                             static_cast<std::size_t>(src.cols() > 0 ? src.cols() : 0)});
    clahe(policy, src, view(out), params);
    return out;
}

FERX_NAMESPACE_END
