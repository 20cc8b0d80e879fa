/// \file ferx/flow/encode.hpp
/// Flow fields as 8-bit images:
///  - `flow_to_color`: the Middlebury colour coding (Baker et al., IJCV 2011): hue from the
///    direction on a 55-colour wheel (red, yellow, green, cyan, blue, magenta in segments of 15, 6,
///    4, 11, 13 and 6 colours, interpolated), saturation from the magnitude over `max_radius`
///    (white = no motion); vectors beyond max_radius are darkened to 75 %.
///  - `tsn_encode` / `tsn_decode`: the two-image layout TSN and mmaction2 store flow in
///    (x_%05d.jpg, y_%05d.jpg): each component clamped to [-bound, bound] and mapped to
///    round(255 (c + bound) / (2 bound)); decoding maps q back to q (2 bound) / 255 - bound, so
///    a round trip is exact to bound / 255 pixels within the bound.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/flow/field.hpp>
#include <ferx/flow/metrics.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>

FERX_NAMESPACE_BEGIN

namespace detail {
/// The 55 colours of the Middlebury wheel (RGB, 0-255), built from its segment lengths.
inline const std::array<std::array<float, 3>, 55>& flow_color_wheel() {
    static const auto wheel = [] {
        std::array<std::array<float, 3>, 55> w{};
        const int seg[6] = {15, 6, 4, 11, 13, 6};
        // Each segment ramps one channel up or down while the others stay at 0 or 255.
        int k = 0;
        for (int s = 0; s < 6; ++s)
            for (int i = 0; i < seg[s]; ++i, ++k) {
                const float up = 255.f * float(i) / float(seg[s]), down = 255.f - up;
                switch (s) {
                    case 0: w[k] = {255.f, up, 0.f}; break;    // red -> yellow
                    case 1: w[k] = {down, 255.f, 0.f}; break;  // yellow -> green
                    case 2: w[k] = {0.f, 255.f, up}; break;    // green -> cyan
                    case 3: w[k] = {0.f, down, 255.f}; break;  // cyan -> blue
                    case 4: w[k] = {up, 0.f, 255.f}; break;    // blue -> magenta
                    default: w[k] = {255.f, 0.f, down}; break; // magenta -> red
                }
            }
        return w;
    }();
    return wheel;
}
}  // namespace detail

/// The Middlebury colour image of a field: rows x cols x 3, RGB (BGR with `bgr`, for cv::imwrite).
/// `max_radius` <= 0 takes the largest known vector's length (unknown vectors, see
/// ferx/flow/metrics.hpp, are drawn black).
inline xt::xtensor<std::uint8_t, 3> flow_to_color(const const_flow_view<>& f, double max_radius = 0.0, bool bgr = false) {
    const char* where = "ferx::flow_to_color";
    if (f.empty()) throw error(where, "the flow is empty");
    if (!std::isfinite(max_radius)) throw error(where, "max_radius must be finite");
    if (max_radius <= 0) {
        for (index_t y = 0; y < f.rows(); ++y)
            for (index_t x = 0; x < f.cols(); ++x)
                if (detail::known_flow(f(y, x)))
                    max_radius = std::max(max_radius, std::hypot(double(f(y, x).u), double(f(y, x).v)));
        if (max_radius <= 0) max_radius = 1.0;  // no motion: all white
    }
    const auto& wheel = detail::flow_color_wheel();
    constexpr double pi = 3.14159265358979323846;
    xt::xtensor<std::uint8_t, 3> out(std::array<std::size_t, 3>{std::size_t(f.rows()), std::size_t(f.cols()), 3});
    for (index_t y = 0; y < f.rows(); ++y)
        for (index_t x = 0; x < f.cols(); ++x) {
            const flow_vector w = f(y, x);
            std::array<double, 3> rgb{0, 0, 0};
            if (detail::known_flow(w)) {
                const double u = w.u / max_radius, v = w.v / max_radius;
                const double r = std::sqrt(u * u + v * v);
                // Angle of (-u, -v) mapped to [0, 55): the wheel's convention puts +u at cyan-blue.
                const double a = std::atan2(-v, -u) / pi;
                const double fk = (a + 1.0) / 2.0 * 54.0;
                const int k0 = static_cast<int>(std::floor(fk)) % 55, k1 = (k0 + 1) % 55;
                const double t = fk - std::floor(fk);
                for (int c = 0; c < 3; ++c) {
                    double col = ((1 - t) * wheel[k0][c] + t * wheel[k1][c]) / 255.0;
                    col = r <= 1 ? 1 - r * (1 - col) : col * 0.75;
                    rgb[c] = std::floor(255.0 * col);
                }
            }
            for (int c = 0; c < 3; ++c)
                out(y, x, bgr ? 2 - c : c) = static_cast<std::uint8_t>(std::clamp(rgb[c], 0.0, 255.0));
        }
    return out;
}

/// The TSN / mmaction2 8-bit images of a field: x from u, y from v (see the file comment).
struct tsn_flow_images {
    image<std::uint8_t> x, y;
};

/// Encodes a field as the TSN pair of 8-bit images, clamping to ±bound (default 20 pixels).
inline tsn_flow_images tsn_encode(const const_flow_view<>& f, float bound = 20.f) {
    const char* where = "ferx::tsn_encode";
    if (f.empty()) throw error(where, "the flow is empty");
    if (!(bound > 0) || !std::isfinite(bound)) throw error(where, "the bound must be a positive number");
    detail::require_finite_flow(f, where, "the flow");
    const std::array<std::size_t, 2> sh{std::size_t(f.rows()), std::size_t(f.cols())};
    tsn_flow_images r{image<std::uint8_t>(sh), image<std::uint8_t>(sh)};
    const float s = 255.f / (2.f * bound);
    auto q = [&](float c) {
        return static_cast<std::uint8_t>(std::nearbyint((std::clamp(c, -bound, bound) + bound) * s));
    };
    for (index_t y = 0; y < f.rows(); ++y)
        for (index_t x = 0; x < f.cols(); ++x) {
            r.x(y, x) = q(f(y, x).u);
            r.y(y, x) = q(f(y, x).v);
        }
    return r;
}

/// Decodes a TSN pair of 8-bit images (same size) back into a field.
inline flow_field tsn_decode(const image_view<const std::uint8_t>& x, const image_view<const std::uint8_t>& y,
                             float bound = 20.f) {
    const char* where = "ferx::tsn_decode";
    if (x.empty() || y.empty()) throw error(where, "an image is empty");
    if (x.rows() != y.rows() || x.cols() != y.cols())
        throw error(where, "the x and y images differ in size");
    if (!(bound > 0) || !std::isfinite(bound)) throw error(where, "the bound must be a positive number");
    flow_field f = make_flow_field(x.rows(), x.cols());
    const float s = 2.f * bound / 255.f;
    for (index_t r = 0; r < x.rows(); ++r)
        for (index_t c = 0; c < x.cols(); ++c)
            f(r, c) = {float(x(r, c)) * s - bound, float(y(r, c)) * s - bound};
    return f;
}

FERX_NAMESPACE_END
