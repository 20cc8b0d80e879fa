/// \file ferx/features/detail/grid.hpp
/// Grid pooling shared by the code-histogram descriptors (LBP, LPQ, and later LBP-TOP/VLPQ):
/// a code image is cut into rows x cols cells (optionally overlapping) and each cell's codes are
/// counted into a histogram, which is then normalised.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/view.hpp>
#include <ferx/features/descriptor.hpp>
#include <ferx/core/rounding.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

FERX_NAMESPACE_BEGIN

/// Normalisation of each cell's histogram.
enum class hist_norm {
    none,  ///< raw counts
    l1     ///< counts / pixels of the cell: each cell sums to 1
};

/// How a code image is pooled: `cells` rows x cols of cells; neighbouring cells overlap by
/// `overlap` of a cell's size (0: a partition of the image; 0.5: half a cell).
struct grid_spec {
    patch_size cells{1, 1};
    double overlap = 0;
    hist_norm norm = hist_norm::l1;
};

namespace detail {

/// [begin, end) of cell i of n along an axis of `len` pixels: cells of size
/// len / (n - (n - 1) overlap), stepped by (1 - overlap) of it, rounded to whole pixels
/// (the last cell ends at len).
FERX_HOST_DEVICE inline void grid_bounds(index_t len, index_t n, double overlap, index_t i, index_t& begin,
                                         index_t& end) {
    // (each operation rounded on its own: CUDA computes the same bounds)
    const double size = static_cast<double>(len) / sub_rn(static_cast<double>(n), mul_rn(static_cast<double>(n - 1), overlap));
    const double step = mul_rn(size, 1.0 - overlap);
    const double start = mul_rn(static_cast<double>(i), step);
    begin = static_cast<index_t>(std::floor(add_rn(start, 0.5)));
    end = i + 1 == n ? len : static_cast<index_t>(std::floor(add_rn(add_rn(start, size), 0.5)));
    if (end > len) end = len;
}

/// Checks a grid against a code image of rows x cols; every cell must hold a pixel.
inline void grid_check(const grid_spec& g, index_t rows, index_t cols, const char* where) {
    if (g.cells.rows <= 0 || g.cells.cols <= 0)
        throw error(where, "the grid must have at least 1x1 cells, got " + std::to_string(g.cells.rows) + "x" +
                               std::to_string(g.cells.cols));
    if (!(g.overlap >= 0 && g.overlap < 1))
        throw error(where, "the grid overlap must be in [0, 1), got " + std::to_string(g.overlap));
    if (g.cells.rows > rows || g.cells.cols > cols)
        throw error(where, "a " + std::to_string(g.cells.rows) + "x" + std::to_string(g.cells.cols) +
                               " grid does not fit the " + std::to_string(rows) + "x" + std::to_string(cols) +
                               " code image (a cell would be empty)");
    for (index_t i = 0; i < g.cells.rows; ++i) {
        index_t b, e;
        grid_bounds(rows, g.cells.rows, g.overlap, i, b, e);
        if (e <= b) throw error(where, "the grid leaves an empty cell row; use fewer cells or less overlap");
    }
    for (index_t i = 0; i < g.cells.cols; ++i) {
        index_t b, e;
        grid_bounds(cols, g.cells.cols, g.overlap, i, b, e);
        if (e <= b) throw error(where, "the grid leaves an empty cell column; use fewer cells or less overlap");
    }
}

/// Histograms of `bins` bins of the codes of every cell (row-major cells), into out
/// (cells x bins floats). Codes must be < bins.
template <class C>
void grid_histograms(const image_view<const C>& codes, index_t bins, const grid_spec& g, float* out) {
    for (index_t cy = 0; cy < g.cells.rows; ++cy) {
        index_t y0, y1;
        grid_bounds(codes.rows(), g.cells.rows, g.overlap, cy, y0, y1);
        for (index_t cx = 0; cx < g.cells.cols; ++cx) {
            index_t x0, x1;
            grid_bounds(codes.cols(), g.cells.cols, g.overlap, cx, x0, x1);
            float* h = out + (cy * g.cells.cols + cx) * bins;
            std::fill(h, h + bins, 0.f);
            for (index_t y = y0; y < y1; ++y) {
                const C* row = codes.row(y);
                for (index_t x = x0; x < x1; ++x) h[row[x]] += 1.f;
            }
            if (g.norm == hist_norm::l1) {
                const float inv = 1.f / static_cast<float>((y1 - y0) * (x1 - x0));
                for (index_t b = 0; b < bins; ++b) h[b] *= inv;
            }
        }
    }
}

}  // namespace detail
FERX_NAMESPACE_END
