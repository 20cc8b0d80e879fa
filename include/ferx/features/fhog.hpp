/// \file ferx/features/fhog.hpp
/// Felzenszwalb's HOG ("FHOG", Felzenszwalb, Girshick, McAllester & Ramanan, PAMI 2010): the
/// 31-dimensional cell features that deformable-part models, dlib and OpenFace use for faces.
///
/// Cells of `cell` x `cell` pixels; the image is covered by round(rows / cell) x
/// round(cols / cell) cells. Per pixel (x, y) of the covered area, excluding its outer ring:
/// central differences dx, dy (of the pixel clamped to the image's interior), magnitude
/// sqrt(dx^2 + dy^2), and the nearest of 18 signed orientations o * 20 degrees (the largest of
/// +-(cos(o pi / 9) dx + sin(o pi / 9) dy), o < 9; the negative side is o + 9). The magnitude is
/// split bilinearly between the 4 nearest cell centres. Each cell's energy is
/// sum_{o<9} (h[o] + h[o + 9])^2; each cell is normalised by the 4 blocks of 2x2 cells that contain
/// it, N_k = 1 / sqrt(energy of block k + 1e-4), k = 1..4.
///
/// Output per cell (31 floats), for the cells that have all 8 neighbours (the outer ring of cells
/// is dropped, as in the original code):
///   [0, 18)   contrast-sensitive: 0.5 * sum_k min(h[o] N_k, 0.2)
///   [18, 27)  contrast-insensitive: 0.5 * sum_k min((h[o] + h[o + 9]) N_k, 0.2)
///   [27, 31)  texture: 0.2357 * sum_{o<18} min(h[o] N_k, 0.2), one per k
/// with k in the order of the blocks whose top-left cell is (y+1, x+1), (y, x+1), (y+1, x), (y, x)
/// relative to the cell (y, x) of the interior grid. Cells are laid out row-major (y outer, x
/// inner): length = (cells_y - 2) * (cells_x - 2) * 31. Computed in double, returned as float.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/thread_pool.hpp>
#include <ferx/core/view.hpp>
#include <ferx/features/descriptor.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN

/// FHOG parameters.
struct fhog_params {
    index_t cell = 8;  ///< cell edge in pixels (the "sbin" of the original code)
};

namespace detail {

struct fhog_layout {
    index_t cells_y = 0, cells_x = 0;  // cells covering the image
    index_t out_y = 0, out_x = 0;      // cells described (interior)
    index_t length = 0;
};

inline fhog_layout fhog_check(const fhog_params& p, index_t rows, index_t cols) {
    constexpr const char* where = "ferx::fhog";
    if (p.cell <= 0) throw error(where, "the cell size must be positive, got " + std::to_string(p.cell));
    fhog_layout l;
    l.cells_y = static_cast<index_t>(std::lround(static_cast<double>(rows) / static_cast<double>(p.cell)));
    l.cells_x = static_cast<index_t>(std::lround(static_cast<double>(cols) / static_cast<double>(p.cell)));
    if (l.cells_y < 3 || l.cells_x < 3 || rows < 3 || cols < 3)
        throw error(where, "the image (" + std::to_string(rows) + "x" + std::to_string(cols) +
                               ") must span at least 3x3 cells of " + std::to_string(p.cell) + " pixels");
    l.out_y = l.cells_y - 2;
    l.out_x = l.cells_x - 2;
    l.length = l.out_y * l.out_x * 31;
    return l;
}

struct fhog_workspace {
    std::vector<double> hist, energy;  // cells x 18, cells
};

// Histograms of cell rows [c0, c1) (cells x 18, zeroed by the caller) and their energies: every
// pixel row that touches those cells is visited, and only their cells are added to, so each
// cell receives its contributions in the same order whatever the split (par equals seq).
template <class T>
void fhog_hist_rows(const fhog_params& p, const image_view<const T>& img, const fhog_layout& l, double* hist,
                    double* energy, index_t c0, index_t c1) {
    const index_t s = p.cell, rows = img.rows(), cols = img.cols();
    const index_t cy = l.cells_y, cx = l.cells_x;
    double uu[9], vv[9];
    for (int o = 0; o < 9; ++o) {
        uu[o] = std::cos(o * 3.14159265358979323846 / 9.0);
        vv[o] = std::sin(o * 3.14159265358979323846 / 9.0);
    }
    const auto I = [&](index_t y, index_t x) { return static_cast<double>(img(y, x)); };
    const index_t vis_y = cy * s, vis_x = cx * s;
    // Pixel rows whose cells (iyp, iyp + 1) can meet [c0, c1): a superset, filtered per add.
    const index_t y_lo = std::max<index_t>(1, (c0 - 1) * s), y_hi = std::min<index_t>(vis_y - 1, (c1 + 1) * s);
    for (index_t y = y_lo; y < y_hi; ++y) {
        const index_t sy = std::min(y, rows - 2);
        const double yp = (static_cast<double>(y) + 0.5) / static_cast<double>(s) - 0.5;
        const index_t iyp = static_cast<index_t>(std::floor(yp));
        if (iyp + 1 < c0 || iyp >= c1) continue;
        const double vy0 = yp - static_cast<double>(iyp), vy1 = 1.0 - vy0;
        for (index_t x = 1; x < vis_x - 1; ++x) {
            const index_t sx = std::min(x, cols - 2);
            const double dy = I(sy + 1, sx) - I(sy - 1, sx);
            const double dx = I(sy, sx + 1) - I(sy, sx - 1);
            double best = 0;
            int best_o = 0;
            for (int o = 0; o < 9; ++o) {
                const double dot = uu[o] * dx + vv[o] * dy;
                if (dot > best) {
                    best = dot;
                    best_o = o;
                } else if (-dot > best) {
                    best = -dot;
                    best_o = o + 9;
                }
            }
            const double v = std::sqrt(dx * dx + dy * dy);
            const double xp = (static_cast<double>(x) + 0.5) / static_cast<double>(s) - 0.5;
            const index_t ixp = static_cast<index_t>(std::floor(xp));
            const double vx0 = xp - static_cast<double>(ixp), vx1 = 1.0 - vx0;
            const auto add = [&](index_t cyi, index_t cxi, double wgt) {
                if (cyi >= c0 && cyi < c1 && cxi >= 0 && cxi < cx) hist[(cyi * cx + cxi) * 18 + best_o] += wgt * v;
            };
            add(iyp, ixp, vy1 * vx1);
            add(iyp, ixp + 1, vy1 * vx0);
            add(iyp + 1, ixp, vy0 * vx1);
            add(iyp + 1, ixp + 1, vy0 * vx0);
        }
    }
    for (index_t c = c0 * cx; c < c1 * cx; ++c) {
        const double* h = hist + c * 18;
        double e = 0;
        for (int o = 0; o < 9; ++o) e += (h[o] + h[o + 9]) * (h[o] + h[o + 9]);
        energy[c] = e;
    }
}

// The 31 features of output cell rows [y0, y1) from the histograms and energies.
inline void fhog_output_rows(const fhog_layout& l, const double* hist, const double* energy, float* out, index_t y0,
                             index_t y1) {
    const index_t cx = l.cells_x;
    const auto block = [&](index_t by, index_t bx) {  // 2x2 cells with top-left (by, bx)
        return 1.0 / std::sqrt(energy[by * cx + bx] + energy[by * cx + bx + 1] + energy[(by + 1) * cx + bx] +
                               energy[(by + 1) * cx + bx + 1] + 1e-4);
    };
    for (index_t y = y0; y < y1; ++y)
        for (index_t x = 0; x < l.out_x; ++x) {
            const double n[4] = {block(y + 1, x + 1), block(y, x + 1), block(y + 1, x), block(y, x)};
            const double* h = hist + ((y + 1) * cx + (x + 1)) * 18;
            float* o = out + (y * l.out_x + x) * 31;
            double t[4] = {0, 0, 0, 0};
            for (int b = 0; b < 18; ++b) {
                double sum = 0;
                for (int k = 0; k < 4; ++k) {
                    const double hk = std::min(h[b] * n[k], 0.2);
                    sum += hk;
                    t[k] += hk;
                }
                o[b] = static_cast<float>(0.5 * sum);
            }
            for (int b = 0; b < 9; ++b) {
                double sum = 0;
                for (int k = 0; k < 4; ++k) sum += std::min((h[b] + h[b + 9]) * n[k], 0.2);
                o[18 + b] = static_cast<float>(0.5 * sum);
            }
            for (int k = 0; k < 4; ++k) o[27 + k] = static_cast<float>(0.2357 * t[k]);
        }
}

template <class T>
void fhog_compute(const fhog_params& p, const image_view<const T>& img, float* out, fhog_workspace& ws) {
    const fhog_layout l = fhog_check(p, img.rows(), img.cols());
    ws.hist.assign(static_cast<std::size_t>(l.cells_y * l.cells_x * 18), 0.0);
    ws.energy.assign(static_cast<std::size_t>(l.cells_y * l.cells_x), 0.0);
    fhog_hist_rows(p, img, l, ws.hist.data(), ws.energy.data(), 0, l.cells_y);
    fhog_output_rows(l, ws.hist.data(), ws.energy.data(), out, 0, l.out_y);
}

/// The same on a pool: bands of cell rows for the histograms (each band also visits the pixel
/// rows of its edge cells; see fhog_hist_rows), then bands of output rows. Equal to
/// fhog_compute bit for bit; images of fewer than 2^16 pixels run it directly.
template <class T>
void fhog_compute_par(thread_pool& pool, const fhog_params& p, const image_view<const T>& img, float* out,
                      fhog_workspace& ws) {
    if (pool.size() == 1 || img.rows() * img.cols() < 65536) return fhog_compute(p, img, out, ws);
    const fhog_layout l = fhog_check(p, img.rows(), img.cols());
    ws.hist.assign(static_cast<std::size_t>(l.cells_y * l.cells_x * 18), 0.0);
    ws.energy.assign(static_cast<std::size_t>(l.cells_y * l.cells_x), 0.0);
    pool.parallel_for(0, l.cells_y, 4, [&](index_t c0, index_t c1) {
        fhog_hist_rows(p, img, l, ws.hist.data(), ws.energy.data(), c0, c1);
    });
    pool.parallel_for(0, l.out_y, 4, [&](index_t y0, index_t y1) {
        fhog_output_rows(l, ws.hist.data(), ws.energy.data(), out, y0, y1);
    });
}

}  // namespace detail

template <>
struct descriptor_traits<fhog_params> {
    static constexpr const char* name = "ferx::fhog";
    using workspace = detail::fhog_workspace;
    static index_t length(const fhog_params& p, index_t rows, index_t cols) {
        return detail::fhog_check(p, rows, cols).length;
    }
    template <class T>
    static void compute(const fhog_params& p, const image_view<const T>& img, float* out, workspace& ws) {
        detail::fhog_compute(p, img, out, ws);
    }
    /// One large image on a pool (see detail::fhog_compute_par): equal to compute.
    template <class T>
    static void compute_par(thread_pool& pool, const fhog_params& p, const image_view<const T>& img, float* out,
                            workspace& ws) {
        detail::fhog_compute_par(pool, p, img, out, ws);
    }
};

FERX_NAMESPACE_END
