/// \file ferx/imgproc/pyramid_resize.hpp
/// The bilinear 8-bit downscale of the detector's image pyramid. Detections depend on every
/// pixel of every pyramid level, so for parity with OpenCV 4.6's cascade detector (which scales
/// the image with cv::resize, INTER_LINEAR_EXACT: measured, its plain INTER_LINEAR levels give
/// other windows) this reproduces that mode's arithmetic, which is exact and platform-independent:
///  - source position of destination index d: p = (d + 0.5) * (src / dst) - 0.5 in double; its
///    floor i and the weight of i + 1, round((p - i) * 256) (ties to even), 8 fractional bits;
///    the weight of i is 256 minus that;
///  - positions before the first pixel take the first pixel, positions at or past the last take
///    the last (in both axes);
///  - horizontal pass: h = w0 * s[i] + w1 * s[i+1] (8 fractional bits, exact);
///    vertical pass: (w0 * h[i] + w1 * h[i+1] + 2^15) >> 16; border rows: (h + 128) >> 8;
///  - an exact 2:1 reduction in both axes averages 2 x 2 blocks, (sum + 2) >> 2;
///  - equal sizes copy.
/// Tests compare it with cv::resize(..., INTER_LINEAR_EXACT) bit for bit.
#pragma once

#include <ferx/core/view.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

FERX_NAMESPACE_BEGIN

namespace detail {

/// Column/row tables of one (source size -> destination size) reduction.
struct resize_axis {
    std::vector<int> ofs;     ///< first source index per destination index
    std::vector<int> w1;      ///< weight of ofs + 1, in 1/256 (ofs's weight: 256 - w1)
    int first = 0, last = 0;  ///< indices below `first` copy source 0; from `last`, source n-1
};

inline resize_axis make_resize_axis(index_t src, index_t dst) {
    resize_axis a;
    a.ofs.assign(static_cast<std::size_t>(dst), 0);
    a.w1.assign(static_cast<std::size_t>(dst), 0);
    a.first = 0;
    a.last = static_cast<int>(dst);
    const double scale = 1.0 / (static_cast<double>(dst) / static_cast<double>(src));
    for (index_t d = 0; d < dst; ++d) {
        const double p = scale * (static_cast<double>(d) + 0.5) - 0.5;
        const double fl = std::floor(p);
        const auto k = static_cast<std::size_t>(d);
        if (fl >= 0 && src > 1) {
            const auto i = static_cast<index_t>(fl);
            if (i < src - 1) {
                a.ofs[k] = static_cast<int>(i);
                a.w1[k] = static_cast<int>(std::nearbyint((p - fl) * 256.0));
            } else {
                a.ofs[k] = static_cast<int>(src - 1);
                a.last = std::min(a.last, static_cast<int>(d));
            }
        } else {
            a.first = std::max(a.first, static_cast<int>(d) + 1);
        }
    }
    a.first = std::min(a.first, a.last);
    return a;
}

/// Horizontal pass of one source row into `out` (dst_w values with 8 fractional bits).
inline void resize_row_h(const std::uint8_t* s, const resize_axis& ax, int src_w, int* out) {
    const int n = static_cast<int>(ax.ofs.size());
    for (int d = 0; d < ax.first; ++d) out[d] = s[0] << 8;
    for (int d = ax.first; d < ax.last; ++d) {
        const int o = ax.ofs[static_cast<std::size_t>(d)], w1 = ax.w1[static_cast<std::size_t>(d)];
        out[d] = s[o] * (256 - w1) + s[o + 1] * w1;
    }
    for (int d = ax.last; d < n; ++d) out[d] = s[src_w - 1] << 8;
}

/// Scales `src` to `dst`'s size (8-bit grey), writing destination rows [y_begin, y_end) (all
/// rows by default; bands of rows give the same bytes, so threads can share a level).
/// `rows` is scratch (resized to 2 * dst.cols() ints).
inline void pyramid_resize(const image_view<const std::uint8_t>& src, const image_view<std::uint8_t>& dst,
                           std::vector<int>& rows, index_t y_begin = 0, index_t y_end = -1) {
    const index_t sw = src.cols(), sh = src.rows(), dw = dst.cols(), dh = dst.rows();
    if (y_end < 0 || y_end > dh) y_end = dh;
    if (sw == dw && sh == dh) {
        for (index_t y = y_begin; y < y_end; ++y) std::copy(src.row(y), src.row(y) + sw, dst.row(y));
        return;
    }
    if (sw == 2 * dw && sh == 2 * dh) {
        for (index_t y = y_begin; y < y_end; ++y) {
            const std::uint8_t* a = src.row(2 * y);
            const std::uint8_t* b = src.row(2 * y + 1);
            std::uint8_t* o = dst.row(y);
            for (index_t x = 0; x < dw; ++x)
                o[x] = static_cast<std::uint8_t>((a[2 * x] + a[2 * x + 1] + b[2 * x] + b[2 * x + 1] + 2) >> 2);
        }
        return;
    }
    const resize_axis ax = make_resize_axis(sw, dw), ay = make_resize_axis(sh, dh);
    rows.resize(static_cast<std::size_t>(2 * dw));
    int* r[2] = {rows.data(), rows.data() + dw};
    index_t have[2] = {-1, -1};  // source row held by each buffer
    const auto fill = [&](int slot, index_t sy) {
        resize_row_h(src.row(sy), ax, static_cast<int>(sw), r[slot]);
        have[slot] = sy;
    };
    const auto border_row = [&](index_t sy, std::uint8_t* out) {
        if (have[0] != sy) fill(0, sy);
        for (index_t x = 0; x < dw; ++x) out[x] = static_cast<std::uint8_t>(std::min((r[0][x] + 128) >> 8, 255));
    };
    for (index_t y = y_begin; y < y_end; ++y) {
        const auto k = static_cast<std::size_t>(y);
        if (y < ay.first) {
            border_row(0, dst.row(y));
            continue;
        }
        if (y >= ay.last) {
            border_row(sh - 1, dst.row(y));
            continue;
        }
        const index_t s0 = ay.ofs[k];
        if (have[0] != s0) {
            if (have[1] == s0) {  // rows advance monotonically: reuse the row filtered last
                std::swap(r[0], r[1]);
                std::swap(have[0], have[1]);
            } else {
                fill(0, s0);
            }
        }
        if (have[1] != s0 + 1) fill(1, s0 + 1);
        const int w1 = ay.w1[k], w0 = 256 - w1;
        std::uint8_t* out = dst.row(y);
        for (index_t x = 0; x < dw; ++x)
            out[x] = static_cast<std::uint8_t>(std::min((r[0][x] * w0 + r[1][x] * w1 + (1 << 15)) >> 16, 255));
    }
}

}  // namespace detail

FERX_NAMESPACE_END
