/// \file ferx/features/lbp.hpp
/// Local binary patterns (Ojala, Pietikäinen & Mäenpää, PAMI 2002): circular LBP(P, R) with
/// bilinear interpolation, a label mapping chosen at compile time, and grid histograms.
///
/// Code of pixel (y, x): bit p (p = 0..P-1) is set when the sample at
/// (y - R sin(2 pi p / P), x + R cos(2 pi p / P)) is >= the centre pixel. Sample offsets are
/// rounded to 1/256 pixel and interpolated bilinearly with integer weights that sum to 65536, so
/// for 8- and 16-bit images the comparison is exact integer arithmetic (no ties decided by
/// rounding); float and double images are interpolated in double. The code image covers the
/// pixels whose samples all lie inside: (rows - 2m) x (cols - 2m), m = ceil(R).
///
/// Mappings (policies): `lbp_none` (2^P labels, P <= 16 for histograms), `lbp_u2` (uniform
/// patterns, at most 2 circular 0/1 transitions, get labels 0 .. P(P-1)+1 in increasing code order;
/// all others share label P(P-1)+2: P(P-1)+3 bins), `lbp_riu2` (rotation-invariant uniform: a
/// uniform pattern's label is its number of ones, others P+1: P+2 bins).
///
/// Descriptor (`describe`): the grid histograms of the mapped code image, cells row-major, each
/// cell `bins` floats (hist_norm::l1: each cell sums to 1). `lbp_multiscale_params` concatenates
/// the descriptors of several (P, R) in the order given.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/core/view.hpp>
#include <ferx/features/descriptor.hpp>
#include <ferx/features/detail/grid.hpp>
#include <ferx/features/detail/lbp_core.hpp>
#include <ferx/fwd.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

FERX_NAMESPACE_BEGIN

/// LBP parameters (the defaults: uniform LBP(8, 1) on a 6x6 grid, the CK+ baseline).
template <class Mapping>  // defaults to lbp_u2 (ferx/fwd.hpp)
struct lbp_params {
    using mapping_type = Mapping;
    int points = 8;       ///< P, samples on the circle, 1..32
    double radius = 1.0;  ///< R in pixels, > 0
    grid_spec grid{{6, 6}, 0.0, hist_norm::l1};
};

/// Several scales (P, R) described one after the other (each with its own grid).
template <class Mapping>  // defaults to lbp_u2 (ferx/fwd.hpp)
struct lbp_multiscale_params {
    std::vector<lbp_params<Mapping>> scales{{8, 1.0, {{6, 6}, 0.0, hist_norm::l1}},
                                            {16, 2.0, {{6, 6}, 0.0, hist_norm::l1}}};
};

namespace detail {

/// Label of a code under a mapping, computed from the definition. For u2, `uniform` lists the
/// uniform codes in increasing order (the label is the rank).
template <class Mapping>
std::uint32_t lbp_label(std::uint32_t code, int points, const std::vector<std::uint32_t>& uniform) {
    if constexpr (std::is_same<Mapping, lbp_none>::value) {
        (void)points;
        (void)uniform;
        return code;
    } else if constexpr (std::is_same<Mapping, lbp_riu2>::value) {
        (void)uniform;
        return lbp_transitions(code, points) <= 2 ? static_cast<std::uint32_t>(lbp_popcount(code))
                                                  : static_cast<std::uint32_t>(points + 1);
    } else {
        static_assert(std::is_same<Mapping, lbp_u2>::value, "ferx::lbp: the mapping must be lbp_none, lbp_u2 or lbp_riu2");
        if (lbp_transitions(code, points) > 2) return static_cast<std::uint32_t>(points * (points - 1) + 2);
        return static_cast<std::uint32_t>(std::lower_bound(uniform.begin(), uniform.end(), code) - uniform.begin());
    }
}

/// The uniform P-bit codes in increasing order: 0, all ones, and every run of k ones
/// (1 <= k < P) at every rotation.
inline std::vector<std::uint32_t> lbp_uniform_codes(int points) {
    std::vector<std::uint32_t> u;
    const std::uint64_t mask = (std::uint64_t{1} << points) - 1;
    u.push_back(0);
    u.push_back(static_cast<std::uint32_t>(mask));
    for (int k = 1; k < points; ++k) {
        const std::uint64_t run = (std::uint64_t{1} << k) - 1;
        for (int s = 0; s < points; ++s)
            u.push_back(static_cast<std::uint32_t>(((run << s) | (run >> (points - s))) & mask));
    }
    std::sort(u.begin(), u.end());
    return u;
}

/// The P sample taps of LBP(P, R) (offsets rounded to 1/256 pixel).
inline std::vector<lbp_tap> lbp_taps(int points, double radius) {
    std::vector<lbp_tap> taps(static_cast<std::size_t>(points));
    const double two_pi = 6.283185307179586476925;
    for (int p = 0; p < points; ++p) {
        const double a = two_pi * p / points;
        const long qy = std::lround(-radius * std::sin(a) * 256.0);
        const long qx = std::lround(radius * std::cos(a) * 256.0);
        const long fy = qy >= 0 ? qy / 256 : -((-qy + 255) / 256);  // floor(qy / 256)
        const long fx = qx >= 0 ? qx / 256 : -((-qx + 255) / 256);
        const std::int32_t ty = static_cast<std::int32_t>(qy - fy * 256), tx = static_cast<std::int32_t>(qx - fx * 256);
        lbp_tap& t = taps[static_cast<std::size_t>(p)];
        t.dy = fy;
        t.dx = fx;
        t.ny = ty != 0;
        t.nx = tx != 0;
        t.w[0] = (256 - tx) * (256 - ty);
        t.w[1] = tx * (256 - ty);
        t.w[2] = (256 - tx) * ty;
        t.w[3] = tx * ty;
    }
    return taps;
}

/// Margin m = ceil(R): the code image is (rows - 2m) x (cols - 2m).
inline index_t lbp_margin(double radius) { return static_cast<index_t>(std::ceil(radius - 1e-9)); }

template <class Mapping>
void lbp_check(const lbp_params<Mapping>& p, index_t rows, index_t cols, bool histograms, const char* where) {
    if (p.points < 1 || p.points > 32)
        throw error(where, "the number of points P must be in [1, 32], got " + std::to_string(p.points));
    if (!(p.radius > 0) || !std::isfinite(p.radius) || p.radius > 1e4)
        throw error(where, "the radius must be positive and finite, got " + std::to_string(p.radius));
    if (histograms && std::is_same<Mapping, lbp_none>::value && p.points > 16)
        throw error(where, "histograms without a mapping need P <= 16 (2^P bins), got P = " + std::to_string(p.points) +
                               "; use lbp_u2 or lbp_riu2");
    const index_t m = lbp_margin(p.radius);
    if (rows - 2 * m < 1 || cols - 2 * m < 1)
        throw error(where, "the image (" + std::to_string(rows) + "x" + std::to_string(cols) +
                               ") is too small for radius " + std::to_string(p.radius) + " (needs at least " +
                               std::to_string(2 * m + 1) + "x" + std::to_string(2 * m + 1) + ")");
}

/// Labels of all codes for P <= 16 (a table), or the uniform list for larger P.
template <class Mapping>
struct lbp_mapper {
    int points = 0;
    std::vector<std::uint32_t> uniform, table;
    void build(int p) {
        if (points == p && (!table.empty() || p > 16)) return;
        points = p;
        uniform = std::is_same<Mapping, lbp_u2>::value ? lbp_uniform_codes(p) : std::vector<std::uint32_t>{};
        table.clear();
        if (p <= 16 && !std::is_same<Mapping, lbp_none>::value) {
            table.resize(std::size_t{1} << p);
            for (std::uint32_t c = 0; c < table.size(); ++c) table[c] = lbp_label<Mapping>(c, p, uniform);
        }
    }
    std::uint32_t operator()(std::uint32_t code) const {
        if (std::is_same<Mapping, lbp_none>::value) return code;
        return points <= 16 ? table[code] : lbp_label<Mapping>(code, points, uniform);
    }
};

/// Raw P-bit codes of rows [r0, r1) of the code image into codes (code-image row-major).
template <class T>
void lbp_code_rows(const image_view<const T>& img, const std::vector<lbp_tap>& taps, index_t m, index_t r0,
                   index_t r1, std::uint32_t* codes) {
    const index_t w = img.cols() - 2 * m;
    const index_t stride = img.stride(0);
    // Exact: int32 for 8-bit pixels (sums < 2^24), int64 for 16-bit, double for floating point.
    using acc = std::conditional_t<std::is_same<T, std::uint8_t>::value, std::int32_t,
                                   std::conditional_t<std::is_integral<T>::value, std::int64_t, double>>;
    for (index_t y = r0; y < r1; ++y) {
        const T* c = img.row(y + m) + m;
        std::uint32_t* out = codes + y * w;
        std::fill(out, out + w, 0u);
        for (std::size_t p = 0; p < taps.size(); ++p) {
            const lbp_tap& t = taps[p];
            const T* q00 = c + t.dy * stride + t.dx;
            const T* q01 = q00 + t.nx;
            const T* q10 = q00 + t.ny * stride;
            const T* q11 = q10 + t.nx;
            const acc w0 = t.w[0], w1 = t.w[1], w2 = t.w[2], w3 = t.w[3];
            const std::uint32_t bit = std::uint32_t{1} << p;
            if (t.nx == 0 && t.ny == 0) {  // on a pixel (weight 65536): a plain comparison
                for (index_t x = 0; x < w; ++x) out[x] |= q00[x] >= c[x] ? bit : 0u;
                continue;
            }
            for (index_t x = 0; x < w; ++x) {
                const acc s = w0 * static_cast<acc>(q00[x]) + w1 * static_cast<acc>(q01[x]) +
                              w2 * static_cast<acc>(q10[x]) + w3 * static_cast<acc>(q11[x]);
                out[x] |= s >= static_cast<acc>(65536) * static_cast<acc>(c[x]) ? bit : 0u;
            }
        }
    }
}

template <class Mapping>
struct lbp_workspace {
    lbp_mapper<Mapping> mapper;
    std::vector<lbp_tap> taps;
    int taps_points = 0;
    double taps_radius = 0;
    std::vector<std::uint32_t> codes;
};

/// Mapped code image of one image into ws.codes; returns its rows and cols.
template <class Mapping, class T>
patch_size lbp_labels(const lbp_params<Mapping>& p, const image_view<const T>& img, lbp_workspace<Mapping>& ws) {
    const index_t m = lbp_margin(p.radius);
    const index_t h = img.rows() - 2 * m, w = img.cols() - 2 * m;
    if (ws.taps_points != p.points || ws.taps_radius != p.radius) {
        ws.taps = lbp_taps(p.points, p.radius);
        ws.taps_points = p.points;
        ws.taps_radius = p.radius;
    }
    ws.mapper.build(p.points);
    ws.codes.resize(static_cast<std::size_t>(h * w));
    lbp_code_rows(img, ws.taps, m, 0, h, ws.codes.data());
    if (!std::is_same<Mapping, lbp_none>::value)
        for (auto& c : ws.codes) c = ws.mapper(c);
    return {h, w};
}

}  // namespace detail

/// The mapped LBP code image of a host image: (rows - 2m) x (cols - 2m) labels, m = ceil(R).
template <class Mapping = lbp_u2, class Policy, class T>
image<std::uint32_t> lbp_image(const Policy& policy, const image_view<T>& img, int points, double radius) {
    static_assert(is_host_policy_v<Policy>, "ferx::lbp_image: host images need exec::seq or exec::par");
    using U = std::remove_const_t<T>;
    detail::check_descriptor_pixel<U>();
    constexpr const char* where = "ferx::lbp_image";
    const image_view<const U> src(img);
    detail::check_describe_input<void>(src, where);
    lbp_params<Mapping> p;
    p.points = points;
    p.radius = radius;
    detail::lbp_check(p, src.rows(), src.cols(), false, where);
    const index_t m = detail::lbp_margin(radius);
    const index_t h = src.rows() - 2 * m, w = src.cols() - 2 * m;
    image<std::uint32_t> out(std::array<std::size_t, 2>{static_cast<std::size_t>(h), static_cast<std::size_t>(w)});
    const auto taps = detail::lbp_taps(points, radius);
    detail::lbp_mapper<Mapping> mapper;
    mapper.build(points);
    detail::for_each_range(policy, h, 16, [&](index_t r0, index_t r1) {
        detail::lbp_code_rows(src, taps, m, r0, r1, out.data());
        if (!std::is_same<Mapping, lbp_none>::value)
            for (index_t i = r0 * w; i < r1 * w; ++i) out.data()[i] = mapper(out.data()[i]);
    });
    return out;
}

#if defined(__CUDACC__)
namespace detail {
FERX_ARCH_NAMESPACE_BEGIN
/// Enqueues the LBP kernel over the batch (defined in ferx/cuda/dispatch/lbp.cuh).
template <class Mapping>
void lbp_cuda(const exec::cuda_policy& policy, const device_volume_view<const std::uint8_t>& batch, lbp_cuda_args a,
              float* d_out);
FERX_ARCH_NAMESPACE_END
}  // namespace detail
#endif

template <class Mapping>
struct descriptor_traits<lbp_params<Mapping>> {
    static constexpr const char* name = "ferx::lbp";
    using workspace = detail::lbp_workspace<Mapping>;
#if defined(__CUDACC__)
    /// The `exec::cuda` backend (called by ferx::describe after its checks): one thread block per
    /// (grid cell, crop) with a shared-memory histogram, histograms of at most 8192 bins
    /// (lbp_none: P <= 13); enqueued on the policy's stream, no allocation, no synchronisation.
    /// The launch is ferx/cuda/dispatch/lbp.cuh.
    static void compute_cuda(const exec::cuda_policy& policy, const device_volume_view<const std::uint8_t>& batch,
                             const lbp_params<Mapping>& p, const tensor_view<float, 2, memory_space::device>& out,
                             detail::arch_tag) {
        constexpr const char* where = "ferx::lbp (cuda)";
        length(p, batch.rows(), batch.cols());  // checks
        const index_t bins = Mapping::bins(p.points);
        if (bins > 8192) throw error(where, "the CUDA backend takes histograms of at most 8192 bins, got " + std::to_string(bins));
        detail::lbp_cuda_args a{};
        const auto taps = detail::lbp_taps(p.points, p.radius);
        std::copy(taps.begin(), taps.end(), a.taps);
        a.grid = p.grid;
        a.margin = detail::lbp_margin(p.radius);
        a.code_rows = batch.rows() - 2 * a.margin;
        a.code_cols = batch.cols() - 2 * a.margin;
        a.bins = bins;
        a.out_stride = out.stride(0);
        a.points = p.points;
        a.table = p.points <= 12 && !std::is_same<Mapping, lbp_none>::value;
        detail::lbp_cuda<Mapping>(policy, batch, a, out.data());
    }
#endif
    static index_t length(const lbp_params<Mapping>& p, index_t rows, index_t cols) {
        detail::lbp_check(p, rows, cols, true, name);
        const index_t m = detail::lbp_margin(p.radius);
        detail::grid_check(p.grid, rows - 2 * m, cols - 2 * m, name);
        return p.grid.cells.rows * p.grid.cells.cols * Mapping::bins(p.points);
    }
    template <class T>
    static void compute(const lbp_params<Mapping>& p, const image_view<const T>& img, float* out, workspace& ws) {
        const patch_size s = detail::lbp_labels(p, img, ws);
        const image_view<const std::uint32_t> codes(ws.codes.data(), {s.rows, s.cols});
        detail::grid_histograms(codes, Mapping::bins(p.points), p.grid, out);
    }
    /// One large image on several threads: bands of code rows in parallel, then the histograms.
    template <class T>
    static void compute_par(thread_pool& pool, const lbp_params<Mapping>& p, const image_view<const T>& img,
                            float* out, workspace& ws) {
        const index_t m = detail::lbp_margin(p.radius);
        const index_t h = img.rows() - 2 * m, w = img.cols() - 2 * m;
        if (pool.size() == 1 || h * w < 65536) return compute(p, img, out, ws);  // below ~256x256 codes: seq
        ws.taps = detail::lbp_taps(p.points, p.radius);
        ws.taps_points = p.points;
        ws.taps_radius = p.radius;
        ws.mapper.build(p.points);
        ws.codes.resize(static_cast<std::size_t>(h * w));
        pool.parallel_for(0, h, 16, [&](index_t r0, index_t r1) {
            detail::lbp_code_rows(img, ws.taps, m, r0, r1, ws.codes.data());
            if (!std::is_same<Mapping, lbp_none>::value)
                for (index_t i = r0 * w; i < r1 * w; ++i) ws.codes[static_cast<std::size_t>(i)] = ws.mapper(ws.codes[static_cast<std::size_t>(i)]);
        });
        detail::grid_histograms(image_view<const std::uint32_t>(ws.codes.data(), {h, w}), Mapping::bins(p.points), p.grid,
                                out);
    }
};

template <class Mapping>
struct descriptor_traits<lbp_multiscale_params<Mapping>> {
    static constexpr const char* name = "ferx::lbp (multi-scale)";
    using workspace = std::vector<detail::lbp_workspace<Mapping>>;  // one per scale
#if defined(__CUDACC__)
    /// One launch per scale into consecutive column ranges of `out` (asynchronous, no allocation).
    static void compute_cuda(const exec::cuda_policy& policy, const device_volume_view<const std::uint8_t>& batch,
                             const lbp_multiscale_params<Mapping>& p, const tensor_view<float, 2, memory_space::device>& out,
                             detail::arch_tag tag) {
        index_t col = 0;
        for (const auto& s : p.scales) {
            const index_t len = descriptor_traits<lbp_params<Mapping>>::length(s, batch.rows(), batch.cols());
            const tensor_view<float, 2, memory_space::device> part(out.data() + col, {out.shape(0), len}, {out.stride(0), 1});
            descriptor_traits<lbp_params<Mapping>>::compute_cuda(policy, batch, s, part, tag);
            col += len;
        }
    }
#endif
    static index_t length(const lbp_multiscale_params<Mapping>& p, index_t rows, index_t cols) {
        if (p.scales.empty()) throw error(name, "no scales given");
        index_t n = 0;
        for (const auto& s : p.scales) n += descriptor_traits<lbp_params<Mapping>>::length(s, rows, cols);
        return n;
    }
    template <class T>
    static void compute(const lbp_multiscale_params<Mapping>& p, const image_view<const T>& img, float* out,
                        workspace& ws) {
        ws.resize(p.scales.size());
        for (std::size_t i = 0; i < p.scales.size(); ++i) {
            const auto& s = p.scales[i];
            descriptor_traits<lbp_params<Mapping>>::compute(s, img, out, ws[i]);
            out += s.grid.cells.rows * s.grid.cells.cols * Mapping::bins(s.points);
        }
    }
};

FERX_NAMESPACE_END

#if defined(__CUDACC__)
#include <ferx/cuda/dispatch/lbp.cuh>
#endif
