/// \file ferx/flow/metrics.hpp
/// Accuracy of a flow field against ground truth, as the Middlebury, MPI-Sintel and KITTI
/// benchmarks measure it:
///  - endpoint error (EPE): mean over evaluated pixels of |w - w_true| (Euclidean, pixels);
///  - angular error (AE, Barron et al. 1994): mean angle in degrees between the space-time
///    vectors (u, v, 1) and (u_true, v_true, 1);
///  - the KITTI outlier rate Fl: the fraction of evaluated pixels whose EPE exceeds both 3 pixels
///    and 5 % of |w_true|.
/// Evaluated pixels: where the mask (if given) is non-zero and the true vector is known (finite,
/// and below the Middlebury "unknown" marker: |u|, |v| < 1e9). Sums are in double, in row-major
/// order, so the figures do not depend on the backend that computed the flow.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/view.hpp>
#include <ferx/flow/field.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

FERX_NAMESPACE_BEGIN

/// Error figures of one flow field (see the file comment); `count` pixels were evaluated.
struct flow_error {
    double epe = 0.0;       ///< mean endpoint error, pixels
    double angular = 0.0;   ///< mean angular error, degrees
    double outliers = 0.0;  ///< KITTI Fl: fraction of pixels with EPE > 3 px and > 5 % of |w_true|
    index_t count = 0;      ///< evaluated pixels
};

namespace detail {
inline bool known_flow(const flow_vector& w) {
    return std::isfinite(w.u) && std::isfinite(w.v) && std::fabs(w.u) < 1e9f && std::fabs(w.v) < 1e9f;
}
}  // namespace detail

/// Compares `estimate` with `truth` over the pixels where `mask` is non-zero (all pixels when the
/// mask is empty). Throws ferx::error when the sizes differ, the estimate has a non-finite vector
/// at an evaluated pixel, or no pixel is evaluated.
inline flow_error compare_flow(const const_flow_view<>& estimate, const const_flow_view<>& truth,
                               const image_view<const std::uint8_t>& mask = {}) {
    const char* where = "ferx::compare_flow";
    if (estimate.empty() || truth.empty()) throw error(where, "a flow is empty");
    if (estimate.rows() != truth.rows() || estimate.cols() != truth.cols())
        throw error(where, "the estimate is " + std::to_string(estimate.rows()) + "x" + std::to_string(estimate.cols()) +
                               ", the ground truth " + std::to_string(truth.rows()) + "x" + std::to_string(truth.cols()));
    if (!mask.empty() && (mask.rows() != truth.rows() || mask.cols() != truth.cols()))
        throw error(where, "the mask differs in size from the flow");
    constexpr double rad_to_deg = 57.295779513082320876798;
    double epe = 0, ang = 0;
    index_t n = 0, bad = 0;
    for (index_t y = 0; y < truth.rows(); ++y)
        for (index_t x = 0; x < truth.cols(); ++x) {
            if (!mask.empty() && mask(y, x) == 0) continue;
            const flow_vector t = truth(y, x);
            if (!detail::known_flow(t)) continue;
            const flow_vector e = estimate(y, x);
            if (!std::isfinite(e.u) || !std::isfinite(e.v))
                throw error(where, "the estimate has a non-finite vector at row " + std::to_string(y) + ", column " +
                                       std::to_string(x));
            const double du = double(e.u) - t.u, dv = double(e.v) - t.v;
            const double d = std::sqrt(du * du + dv * dv);
            epe += d;
            const double num = double(e.u) * t.u + double(e.v) * t.v + 1.0;
            const double den = std::sqrt((double(e.u) * e.u + double(e.v) * e.v + 1.0) * (double(t.u) * t.u + double(t.v) * t.v + 1.0));
            ang += std::acos(std::clamp(num / den, -1.0, 1.0)) * rad_to_deg;
            const double mag = std::sqrt(double(t.u) * t.u + double(t.v) * t.v);
            if (d > 3.0 && d > 0.05 * mag) ++bad;
            ++n;
        }
    if (n == 0) throw error(where, "no pixel to evaluate (the mask and the ground truth leave none)");
    return {epe / double(n), ang / double(n), double(bad) / double(n), n};
}

/// Mean endpoint error of `estimate` against `truth` over the masked pixels (compare_flow's epe).
inline double endpoint_error(const const_flow_view<>& estimate, const const_flow_view<>& truth,
                             const image_view<const std::uint8_t>& mask = {}) {
    return compare_flow(estimate, truth, mask).epe;
}

/// Mean endpoint distance between two estimates over every pixel (how far ferx is from a peer).
inline double mean_flow_difference(const const_flow_view<>& a, const const_flow_view<>& b) {
    return compare_flow(a, b).epe;
}

FERX_NAMESPACE_END
