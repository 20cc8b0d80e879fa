/// \file ferx/imgproc/equalize_hist.hpp
/// Global histogram equalisation of an 8-bit grey image, the definition of cv::equalizeHist
/// (equal output on the same input): with h the histogram, N the pixel count and m the lowest
/// level present, level v > m maps to round(255 / (N - h[m]) * sum_{m < u <= v} h[u]) (float
/// arithmetic, ties to even), level m maps to 0; an image of one level keeps that level.
///
///     ferx::image<std::uint8_t> eq(img.shape());
///     ferx::equalize_hist(ferx::exec::seq, ferx::view(img), ferx::view(eq));
///
/// `par` builds the histogram on one thread and maps the rows on the pool (the same output).
/// In-place use (src and dst the same view) is allowed.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/core/view.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <string>

FERX_NAMESPACE_BEGIN

namespace detail {

/// Checks an 8-bit src/dst pair: neither empty, same shape, packed rows.
inline void check_lut_pair(const image_view<const std::uint8_t>& src, const image_view<std::uint8_t>& dst,
                           const char* where) {
    if (src.data() == nullptr || src.rows() <= 0 || src.cols() <= 0) throw error(where, "the image is empty");
    if (dst.data() == nullptr || dst.rows() != src.rows() || dst.cols() != src.cols())
        throw error(where, "the output must be " + std::to_string(src.rows()) + "x" + std::to_string(src.cols()) +
                               ", got " + std::to_string(dst.rows()) + "x" + std::to_string(dst.cols()));
    require_packed_rows(src, where, "the image");
    require_packed_rows(dst, where, "the output");
}

/// Round to nearest, ties to even, saturated to 0..255 (cv::saturate_cast<uchar>(float)).
inline std::uint8_t saturate_u8(float v) {
    const long r = std::lrint(v);  // default rounding mode: to nearest, ties to even
    return static_cast<std::uint8_t>(r < 0 ? 0 : r > 255 ? 255 : r);
}

/// The equalisation table of a 256-bin histogram of `total` pixels.
inline std::array<std::uint8_t, 256> equalize_lut(const std::array<std::int64_t, 256>& hist, std::int64_t total) {
    std::array<std::uint8_t, 256> lut{};
    int m = 0;
    while (m < 255 && hist[static_cast<std::size_t>(m)] == 0) ++m;
    if (hist[static_cast<std::size_t>(m)] == total) {
        lut.fill(static_cast<std::uint8_t>(m));  // one level: the image is kept as it is
        return lut;
    }
    const float scale = 255.f / static_cast<float>(total - hist[static_cast<std::size_t>(m)]);
    std::int64_t sum = 0;
    for (int v = m + 1; v < 256; ++v) {
        sum += hist[static_cast<std::size_t>(v)];
        lut[static_cast<std::size_t>(v)] = saturate_u8(static_cast<float>(sum) * scale);
    }
    return lut;
}

/// dst(y, x) = lut[src(y, x)], rows split by the policy.
template <class Policy>
void apply_lut(const Policy& policy, const image_view<const std::uint8_t>& src, const image_view<std::uint8_t>& dst,
               const std::array<std::uint8_t, 256>& lut) {
    for_each_range(policy, src.rows(), 64, [&](index_t lo, index_t hi) {
        for (index_t y = lo; y < hi; ++y) {
            const std::uint8_t* s = src.row(y);
            std::uint8_t* d = dst.row(y);
            for (index_t x = 0; x < src.cols(); ++x) d[x] = lut[s[x]];
        }
    });
}

}  // namespace detail

/// Equalises the histogram of `src` into `dst` (same rows x cols, 8-bit). Throws ferx::error
/// for an empty image, a size mismatch or unpacked rows.
template <class Policy>
void equalize_hist(const Policy& policy, const image_view<const std::uint8_t>& src, const image_view<std::uint8_t>& dst) {
    static_assert(is_host_policy_v<Policy>, "ferx::equalize_hist runs on the host: exec::seq or exec::par");
    detail::check_lut_pair(src, dst, "ferx::equalize_hist");
    std::array<std::int64_t, 256> hist{};
    for (index_t y = 0; y < src.rows(); ++y) {
        const std::uint8_t* s = src.row(y);
        for (index_t x = 0; x < src.cols(); ++x) ++hist[s[x]];
    }
    detail::apply_lut(policy, src, dst, detail::equalize_lut(hist, src.rows() * src.cols()));
}

/// The equalised copy of an image.
template <class Policy>
image<std::uint8_t> equalize_hist(const Policy& policy, const image_view<const std::uint8_t>& src) {
    image<std::uint8_t> out({static_cast<std::size_t>(src.rows() > 0 ? src.rows() : 0),
                             static_cast<std::size_t>(src.cols() > 0 ? src.cols() : 0)});
    equalize_hist(policy, src, view(out));
    return out;
}

FERX_NAMESPACE_END
