/// \file ferx/flow/hof.hpp
/// Histograms of oriented optical flow (HOF; Laptev et al. CVPR 2008, Dalal et al. ECCV 2006):
/// the flow field's direction histogrammed over a grid of cells, each vector voting with its
/// magnitude, the motion counterpart of HOG for the classical dynamic-FER path:
///
///     ferx::flow_field f = ferx::tvl1(ferx::exec::seq, crop0, crop1);
///     ferx::hof_params p;                                   // 8 directions, 4x4 cells
///     auto h = ferx::describe(ferx::exec::seq, ferx::view(f), p);   // descriptor_length(p, rows, cols)
///
/// Definition. For a vector (u, v) of magnitude m = |(u, v)| and direction
/// theta = atan2(v, u) in [0, 2 pi) (or [0, pi) with `signed_directions = false`, opposite
/// directions merged), the position b = theta / (range / bins) - 0.5 splits m between the two
/// nearest bin centres (linear interpolation, wrapping round), as HOG does for gradients.
/// With `static_threshold` > 0, vectors with m < static_threshold vote 1 into one more bin,
/// "no motion" (Laptev's fifth HOF bin), instead of a direction. Cells are features/'s
/// `grid_spec` (rows x cols, overlap); with hist_norm::l1 each cell is divided by its total
/// vote (plus 1e-6), so it sums to 1 (or 0 with no motion), with hist_norm::none the raw votes.
/// Length: cells x (bins + (static_threshold > 0)). Input: flow fields (`flow_vector`); under
/// exec::par, batches of fields (`volume_view<const flow_vector>`) split over the pool.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/view.hpp>
#include <ferx/features/descriptor.hpp>
#include <ferx/features/detail/grid.hpp>
#include <ferx/flow/field.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

FERX_NAMESPACE_BEGIN

/// HOF parameters (see the file comment).
struct hof_params {
    int bins = 8;                    ///< direction bins, >= 2
    bool signed_directions = true;   ///< 0..360 degrees (false: 0..180, opposite directions merged)
    float static_threshold = 0.f;    ///< > 0: a "no motion" bin for magnitudes below it (pixels)
    grid_spec grid{{4, 4}, 0.0, hist_norm::l1};
};

template <>
struct descriptor_traits<hof_params> {
    static constexpr const char* name = "ferx::hof";
    template <class T>
    static constexpr bool accepts = std::is_same<T, flow_vector>::value;

    struct workspace {};

    static index_t length(const hof_params& p, index_t rows, index_t cols) {
        if (p.bins < 2 || p.bins > 360) throw error(name, "bins must be in [2, 360], got " + std::to_string(p.bins));
        if (!(p.static_threshold >= 0) || !std::isfinite(p.static_threshold))
            throw error(name, "static_threshold must be a finite number >= 0");
        detail::grid_check(p.grid, rows, cols, name);
        return p.grid.cells.rows * p.grid.cells.cols * (p.bins + (p.static_threshold > 0 ? 1 : 0));
    }

    template <class T>
    static void compute(const hof_params& p, const image_view<const T>& f, float* out, workspace&) {
        static_assert(std::is_same<T, flow_vector>::value, "ferx::hof describes flow fields (flow_vector)");
        const index_t nb = p.bins + (p.static_threshold > 0 ? 1 : 0);
        const float two_pi = 6.28318530717958647692f;
        const float range = p.signed_directions ? two_pi : two_pi / 2;
        const float per_bin = static_cast<float>(p.bins) / range;
        for (index_t cy = 0; cy < p.grid.cells.rows; ++cy) {
            index_t y0, y1;
            detail::grid_bounds(f.rows(), p.grid.cells.rows, p.grid.overlap, cy, y0, y1);
            for (index_t cx = 0; cx < p.grid.cells.cols; ++cx) {
                index_t x0, x1;
                detail::grid_bounds(f.cols(), p.grid.cells.cols, p.grid.overlap, cx, x0, x1);
                float* h = out + (cy * p.grid.cells.cols + cx) * nb;
                std::fill(h, h + nb, 0.f);
                for (index_t y = y0; y < y1; ++y)
                    for (index_t x = x0; x < x1; ++x) {
                        const flow_vector w = f(y, x);
                        if (!std::isfinite(w.u) || !std::isfinite(w.v))
                            throw error(name, "the flow has a non-finite vector at row " + std::to_string(y) +
                                                  ", column " + std::to_string(x));
                        const float m = std::sqrt(w.u * w.u + w.v * w.v);
                        if (p.static_threshold > 0 && m < p.static_threshold) {
                            h[p.bins] += 1.f;
                            continue;
                        }
                        if (m == 0.f) continue;
                        float theta = std::atan2(w.v, w.u);
                        if (theta < 0) theta += two_pi;
                        if (!p.signed_directions && theta >= range) theta -= range;
                        float b = theta * per_bin - 0.5f;
                        float fb = std::floor(b);
                        const float t = b - fb;
                        int b0 = static_cast<int>(fb), b1 = b0 + 1;
                        if (b0 < 0) b0 += p.bins;
                        if (b0 >= p.bins) b0 -= p.bins;
                        if (b1 >= p.bins) b1 -= p.bins;
                        h[b0] += m * (1.f - t);
                        h[b1] += m * t;
                    }
                if (p.grid.norm == hist_norm::l1) {
                    float s = 0.f;
                    for (index_t b = 0; b < nb; ++b) s += h[b];
                    const float inv = 1.f / (s + 1e-6f);
                    for (index_t b = 0; b < nb; ++b) h[b] *= inv;
                }
            }
        }
    }
};

FERX_NAMESPACE_END
