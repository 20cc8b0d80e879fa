/// \file ferx/detect/integral.hpp
/// Integral images (summed-area tables): the sum, the squared sum and the 45-degree tilted sum,
/// in the (H+1) x (W+1) layout of `cv::integral` (row 0 and column 0 are zero for sum and sqsum).
///
///     sum(Y, X)    = sum of src(y, x)   for y < Y, x < X
///     sqsum(Y, X)  = sum of src(y, x)^2 for y < Y, x < X
///     tilted(Y, X) = sum of src(y, x)   for y < Y, |x - X + 1| <= Y - y - 1
///
/// Box sums then cost four lookups (upright) or four lookups on `tilted` (rotated Haar features).
///
/// Types. Sources: uint8, uint16, int16, float, double. Sums: int32 (integer sources only),
/// int64 (integer sources only), float, double. Squared sums: float, double.
/// Integer sources are accumulated exactly in an integer type and rounded once to the output
/// type, so the CPU backends give bit-identical results (CUDA too, except float squared and tilted
/// sums: see docs/integral.md); floating-point sources are accumulated in double, and backends
/// may differ by rounding (within (H + W) ulps of the largest sum).
///
/// Overflow. An int32 sum is refused with ferx::error when rows * cols * max|pixel| could exceed
/// 2^31 - 1 (for 8-bit images: more than 8,421,504 pixels; 3840x2160 still fits). Use int64 or
/// double sums for larger images. The check is on the size, never on the content, so the same
/// call on the same size always behaves the same way.
///
/// Backends: `exec::seq` (reference), `exec::par` (bands of rows with exact carries, or frames of
/// a batch, in parallel), `exec::cuda` (device views; see ferx/cuda/dispatch/integral.cuh).
/// On the host, integer sources without a tilted output run the SIMD row kernels of
/// ferx/detect/detail/integral_simd.hpp (SSE2, or AVX2 where the CPU has it), in exact
/// arithmetic: their results are those of the scalar recurrences, bit for bit.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/core/view.hpp>
#include <ferx/detect/detail/integral_core.hpp>
#include <ferx/detect/detail/integral_simd.hpp>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

FERX_NAMESPACE_BEGIN

namespace detail {

template <class T, class S, class Q>
constexpr void check_integral_types() {
    static_assert(is_integral_source_type_v<T>,
                  "ferx::integral: the source pixel type must be uint8_t, uint16_t, int16_t, float "
                  "or double");
    static_assert(is_integral_sum_type_v<S>,
                  "ferx::integral: the sum type must be int32_t, int64_t, float or double");
    static_assert(is_integral_sqsum_type_v<Q>,
                  "ferx::integral: the squared-sum type must be float or double");
    static_assert(!std::is_integral<S>::value || is_integral_source_v<T>,
                  "ferx::integral: integer sums need an integer source; use a float or double sum "
                  "for floating-point images");
}

/// Default sum type, as cv::integral chooses it: int32 for 8-bit images, double otherwise.
template <class T>
using default_sum_t = std::conditional_t<std::is_same<T, std::uint8_t>::value, std::int32_t, double>;

/// Largest |pixel| of a source type, for the overflow check of integer sums.
template <class T>
constexpr double max_abs_pixel() {
    return std::is_integral<T>::value
               ? std::max(static_cast<double>(std::numeric_limits<T>::max()),
                          -static_cast<double>(std::numeric_limits<T>::min()))
               : 0.0;
}

/// Validates sizes and the overflow bound; shared by every backend (host and CUDA).
template <class T, class S, class Q, memory_space M>
void check_integral_args(const volume_view<const T, M>& src, const volume_view<S, M>& sum,
                         const volume_view<Q, M>& sqsum, const volume_view<S, M>& tilted,
                         const char* where) {
    if (src.data() == nullptr || src.size() == 0)
        throw error(where, "the source image is empty");
    const index_t n = src.shape(0), h = src.rows(), w = src.cols();
    const auto shape_text = [&](index_t a, index_t b, index_t c) {
        return std::to_string(a) + "x" + std::to_string(b) + "x" + std::to_string(c);
    };
    const auto check_out = [&](index_t on, index_t oh, index_t ow, const void* data,
                               const char* name) {
        if (data == nullptr) throw error(where, std::string("the ") + name + " output is empty");
        if (on != n || oh != h + 1 || ow != w + 1)
            throw error(where, std::string("the ") + name + " output must be " +
                                   shape_text(n, h + 1, w + 1) + " ((H+1)x(W+1) per image), got " +
                                   shape_text(on, oh, ow));
    };
    check_out(sum.shape(0), sum.rows(), sum.cols(), sum.data(), "sum");
    if (sqsum.data() != nullptr)
        check_out(sqsum.shape(0), sqsum.rows(), sqsum.cols(), sqsum.data(), "squared-sum");
    if (tilted.data() != nullptr)
        check_out(tilted.shape(0), tilted.rows(), tilted.cols(), tilted.data(), "tilted");
    require_packed_rows(src, where, "the source");
    require_packed_rows(sum, where, "the sum output");
    if (sqsum.data() != nullptr) require_packed_rows(sqsum, where, "the squared-sum output");
    if (tilted.data() != nullptr) require_packed_rows(tilted, where, "the tilted output");

    using acc = integral_acc_t<T, S>;
    if (std::is_integral<acc>::value) {
        const double bound = static_cast<double>(h) * static_cast<double>(w) * max_abs_pixel<T>();
        if (bound > static_cast<double>(std::numeric_limits<acc>::max()))
            throw error(where, "a " + std::to_string(h) + "x" + std::to_string(w) +
                                   " image can overflow an " +
                                   (sizeof(acc) == 4 ? "int32" : "int64") +
                                   " sum; use an int64 or double sum type");
    }
    if (sqsum.data() != nullptr && is_integral_source_v<T>) {
        const double m = max_abs_pixel<T>();
        if (static_cast<double>(h) * static_cast<double>(w) * m * m >
            static_cast<double>(std::numeric_limits<std::int64_t>::max()))
            throw error(where, "the image is too large for an exact squared sum");
    }
}

template <class T, std::size_t N, memory_space M>
volume_view<T, M> as_volume(const tensor_view<T, N, M>& v) {
    if constexpr (N == 3) {
        return v;
    } else {
        static_assert(N == 2, "ferx::integral takes images (2-D) or batches of frames (3-D)");
        return volume_view<T, M>(v.data(), {1, v.shape(0), v.shape(1)},
                                 {v.shape(0) * v.stride(0), v.stride(0), v.stride(1)});
    }
}

/// Running state of the integral recurrences at the top of a band of rows (see integral_band).
/// For a band starting at source row r0, with P_y(x) the prefix sum of row y over columns < x:
///   col[x]  = sum_{y < r0} P_y(x)                         (the sum image's row r0, exact)
///   colq[x] = the same for squared pixels
///   a[x]    = sum_{y < r0} P_y(min(x + r0 - 1 - y, W))    (anti-diagonal part of tilted)
///   b[x]    = sum_{y < r0} P_y(max(x - r0 + y, 0))        (diagonal part of tilted)
///   total   = sum of all pixels above r0
/// and tilted(r0, x) = a[x] - b[x].
template <class AS, class AQ>
struct integral_carry {
    std::vector<AS> col, a, b;
    std::vector<AQ> colq;
    AS total{};

    integral_carry(index_t w, bool sq, bool tilt)
        : col(static_cast<std::size_t>(w + 1), AS{}),
          a(tilt ? static_cast<std::size_t>(w + 1) : 0, AS{}),
          b(tilt ? static_cast<std::size_t>(w + 1) : 0, AS{}),
          colq(sq ? static_cast<std::size_t>(w + 1) : 0, AQ{}) {}
};

/// The fast path of integral_band for integer sources without a tilted output: the row
/// kernels of integral_simd.hpp, in the exact arithmetic they allow for this image size.
/// Returns false (doing nothing) where they do not apply; integral_band then runs the loops.
template <class T, class S, class Q, class AS, class AQ>
bool integral_band_fast(const image_view<const T>& src, const image_view<S>& sum,
                        const image_view<Q>& sqsum, index_t r0, index_t r1,
                        integral_carry<AS, AQ>& carry) {
    if constexpr (!is_integral_source_v<T>) {
        return false;
    } else {
        using mode = integral_mode;
        const index_t h = src.rows(), w = src.cols();
        const bool sq = sqsum.data() != nullptr;
        constexpr double i32_max = static_cast<double>(std::numeric_limits<std::int32_t>::max());
        constexpr double exact_f64 = 9007199254740992.0;  // 2^53: doubles hold integers exactly
        const double m = max_abs_pixel<T>();
        // Bounds on |row prefix| and on |any partial sum| of the image.
        const double row_bound = static_cast<double>(w) * m;
        const double bound = static_cast<double>(h) * row_bound;
        if (row_bound > i32_max) return false;
        if (sq && (!std::is_same<T, std::uint8_t>::value || row_bound * m > i32_max ||
                   bound * m > exact_f64))
            return false;
        mode sm = mode::prev;
        if constexpr (std::is_same<S, double>::value) {
            if (bound > exact_f64) return false;
        } else if constexpr (std::is_same<S, float>::value) {
            if (bound > exact_f64) return false;
            sm = bound <= i32_max ? mode::col_i32 : mode::col_f64;
        }
        const std::size_t n = static_cast<std::size_t>(w + 1);

        integral_rows_job<T, S, Q> job;
        job.src = src.row(r0);
        job.src_step = src.stride(0);
        job.rows = r1 - r0;
        job.cols = w;
        job.sum = sum.row(r0 + 1);
        job.sum_step = sum.stride(0);
        // The row above the band (prev mode) or the running column sums (col modes), converted
        // exactly from the carry.
        std::vector<S> prev_buf;
        std::vector<std::int32_t> col32;
        std::vector<double> col64, sq_buf;
        if (sm == mode::prev) {
            if (r0 == 0) {
                job.sum_prev = sum.row(0);
            } else if constexpr (std::is_same<S, AS>::value) {
                job.sum_prev = carry.col.data();
            } else {
                prev_buf.assign(carry.col.begin(), carry.col.end());
                job.sum_prev = prev_buf.data();
            }
        } else if (sm == mode::col_i32) {
            col32.assign(carry.col.begin(), carry.col.end());
            job.col32 = col32.data();
        } else {
            col64.assign(carry.col.begin(), carry.col.end());
            job.col64 = col64.data();
        }
        if (sq) {
            job.sq = sqsum.row(r0 + 1);
            job.sq_step = sqsum.stride(0);
            if constexpr (std::is_same<Q, double>::value) {
                if (r0 == 0) {
                    job.sq_prev = sqsum.row(0);
                } else {
                    sq_buf.assign(carry.colq.begin(), carry.colq.end());
                    job.sq_prev = sq_buf.data();
                }
            } else {
                sq_buf.assign(carry.colq.begin(), carry.colq.end());
                job.sqcol64 = sq_buf.data();
            }
        }

        constexpr mode qm = std::is_same<Q, double>::value ? mode::prev : mode::col_f64;
        if constexpr (std::is_same<S, float>::value) {
            if (sm == mode::col_i32)
                sq ? integral_rows<T, S, mode::col_i32, Q, qm>(job)
                   : integral_rows<T, S, mode::col_i32, Q, mode::none>(job);
            else
                sq ? integral_rows<T, S, mode::col_f64, Q, qm>(job)
                   : integral_rows<T, S, mode::col_f64, Q, mode::none>(job);
        } else {
            sq ? integral_rows<T, S, mode::prev, Q, qm>(job)
               : integral_rows<T, S, mode::prev, Q, mode::none>(job);
        }

        // Leave the carry at row r1 behind (exact conversions back to the accumulator types).
        if (sm == mode::prev) {
            const S* last = sum.row(r1);
            for (std::size_t x = 0; x < n; ++x) carry.col[x] = static_cast<AS>(last[x]);
        } else if (sm == mode::col_i32) {
            for (std::size_t x = 0; x < n; ++x) carry.col[x] = static_cast<AS>(col32[x]);
        } else {
            for (std::size_t x = 0; x < n; ++x) carry.col[x] = static_cast<AS>(col64[x]);
        }
        if (sq) {
            if constexpr (std::is_same<Q, double>::value) {
                const Q* last = sqsum.row(r1);
                for (std::size_t x = 0; x < n; ++x) carry.colq[x] = static_cast<AQ>(last[x]);
            } else {
                for (std::size_t x = 0; x < n; ++x) carry.colq[x] = static_cast<AQ>(sq_buf[x]);
            }
        }
        return true;
    }
}

/// One row of the tilted recurrences, from the row prefix `p` (W + 1 values, p[0] = 0):
///   a'(x) = a(x+1) + p(x)  (a(W+1) := total),  b'(x) = b(x-1) + p(x-1)  (b'(0) = 0),
///   tilted(x) = a'(x) - b'(x),  total' = total + p(W).
/// Written as plain array loops (new values into the scratch rows `a2`, `b2`, then swapped into
/// the carry) so that the compiler vectorises them.
template <class S, class AS, class AQ>
void integral_tilted_row(const AS* pp, S* t, integral_carry<AS, AQ>& carry, std::vector<AS>& a2,
                         std::vector<AS>& b2) {
    const std::size_t n = carry.a.size();
    const AS* a = carry.a.data();
    const AS* b = carry.b.data();
    AS* an = a2.data();
    AS* bn = b2.data();
    for (std::size_t x = 0; x + 1 < n; ++x) an[x] = a[x + 1] + pp[x];
    an[n - 1] = carry.total + pp[n - 1];
    bn[0] = AS{};
    for (std::size_t x = 1; x < n; ++x) bn[x] = b[x - 1] + pp[x - 1];
    for (std::size_t x = 0; x < n; ++x) t[x] = static_cast<S>(an[x] - bn[x]);
    carry.a.swap(a2);
    carry.b.swap(b2);
    carry.total += pp[n - 1];
}

/// Integer sums with a tilted output: the SIMD row kernels write the sum (and squared sum) in
/// chunks of rows still in cache, then each row's prefix is recovered exactly as the difference
/// of two sum rows, for integral_tilted_row. Returns false, having written nothing, where the row kernels do not apply.
template <class T, class S, class Q, class AS, class AQ>
bool integral_band_tilted_fast(const image_view<const T>& src, const image_view<S>& sum,
                               const image_view<Q>& sqsum, const image_view<S>& tilted,
                               index_t r0, index_t r1, integral_carry<AS, AQ>& carry) {
    if constexpr (!is_integral_source_v<T> || !std::is_integral<S>::value) {
        return false;
    } else {
        const index_t w = src.cols();
        const std::size_t n = static_cast<std::size_t>(w + 1);
        constexpr index_t chunk = 16;  // rows per kernel call: their sums stay in L1/L2
        std::vector<AS> above(carry.col);  // the exact sum row above the current row
        std::vector<AS> p(n), a2(n), b2(n);
        for (index_t c0 = r0; c0 < r1; c0 += chunk) {
            const index_t c1 = std::min(r1, c0 + chunk);
            // The kernels' checks depend on the image size and types only: a refusal can only
            // happen on the first chunk, before anything is written.
            if (!integral_band_fast(src, sum, sqsum, c0, c1, carry)) return false;
            for (index_t y = c0; y < c1; ++y) {
                const S* row = sum.row(y + 1);
                AS* pp = p.data();
                AS* up = above.data();
                for (std::size_t x = 0; x < n; ++x) {
                    const AS v = static_cast<AS>(row[x]);
                    pp[x] = v - up[x];
                    up[x] = v;
                }
                integral_tilted_row(pp, tilted.row(y + 1), carry, a2, b2);
            }
        }
        return true;
    }
}

/// Computes output rows r0+1 .. r1 (source rows r0 .. r1-1) of one image, given the carry at
/// row r0; leaves the carry at row r1 behind. Row r0 = 0 with a zero carry is the whole image.
/// Recurrences, per source row y with prefix P = P_y:
///   col[x] += P(x);  a'[x] = a[x+1] + P(x) (a[W+1] := total);  b'[x] = b[x-1] + P(x-1) (b[0] = 0)
/// Integer sources without a tilted output take integral_band_fast (SIMD row kernels). In the
/// loops below, an accumulator type equal to the output type reads col from the output row
/// above (the carry for the band's first row) instead of keeping a separate buffer.
template <class T, class S, class Q, class AS, class AQ>
void integral_band(const image_view<const T>& src, const image_view<S>& sum,
                   const image_view<Q>& sqsum, const image_view<S>& tilted, index_t r0, index_t r1,
                   integral_carry<AS, AQ>& carry) {
    const index_t w = src.cols();
    const bool tilt = tilted.data() != nullptr;
    if (r0 == 0) {  // the zero top row
        std::fill(sum.row(0), sum.row(0) + w + 1, S{});
        if (sqsum.data()) std::fill(sqsum.row(0), sqsum.row(0) + w + 1, Q{});
        if (tilt) std::fill(tilted.row(0), tilted.row(0) + w + 1, S{});
    }
    if (r1 <= r0) return;
    if (!tilt && integral_band_fast(src, sum, sqsum, r0, r1, carry)) return;
    if (tilt && integral_band_tilted_fast(src, sum, sqsum, tilted, r0, r1, carry)) return;
    constexpr bool sum_in_place = std::is_same<S, AS>::value;
    constexpr bool sq_in_place = std::is_same<Q, AQ>::value;
    // Tilted scratch: this row's prefix P, and integral_tilted_row's new a and b rows.
    std::vector<AS> prefix(tilt ? static_cast<std::size_t>(w + 1) : 0);
    std::vector<AS> a2(prefix.size()), b2(prefix.size());
    for (index_t y = r0; y < r1; ++y) {
        const T* in = src.row(y);
        S* out = sum.row(y + 1);
        // col[x] before this row: the carry, or the output row above when it holds AS values.
        const AS* col_in = carry.col.data();
        AS* col_out = carry.col.data();
        if constexpr (sum_in_place) {
            if (y > r0) col_in = sum.row(y);
            col_out = out;
        }
        out[0] = S{};
        AS s{};
        if (tilt) prefix[0] = AS{};
        if (sqsum.data()) {
            Q* outq = sqsum.row(y + 1);
            const AQ* colq_in = carry.colq.data();
            AQ* colq_out = carry.colq.data();
            if constexpr (sq_in_place) {
                if (y > r0) colq_in = sqsum.row(y);
                colq_out = outq;
            }
            outq[0] = Q{};
            AQ q{};
            for (index_t x = 0; x < w; ++x) {
                const AS v = static_cast<AS>(in[x]);
                s += v;
                q += static_cast<AQ>(in[x]) * static_cast<AQ>(in[x]);
                const AS c = col_in[x + 1] + s;
                const AQ cq = colq_in[x + 1] + q;
                col_out[x + 1] = c;
                colq_out[x + 1] = cq;
                out[x + 1] = static_cast<S>(c);
                outq[x + 1] = static_cast<Q>(cq);
                if (tilt) prefix[x + 1] = s;
            }
        } else {
            for (index_t x = 0; x < w; ++x) {
                s += static_cast<AS>(in[x]);
                const AS c = col_in[x + 1] + s;
                col_out[x + 1] = c;
                out[x + 1] = static_cast<S>(c);
                if (tilt) prefix[x + 1] = s;
            }
        }
        if (tilt) integral_tilted_row(prefix.data(), tilted.row(y + 1), carry, a2, b2);
    }
    // Leave the carry at row r1 behind where the loops kept it in the output.
    if constexpr (sum_in_place)
        std::copy(sum.row(r1) + 1, sum.row(r1) + w + 1, carry.col.begin() + 1);
    if constexpr (sq_in_place)
        if (sqsum.data())
            std::copy(sqsum.row(r1) + 1, sqsum.row(r1) + w + 1, carry.colq.begin() + 1);
}

/// The sum part of a band aggregate from the band's column sums (and column sums of squares,
/// or null): col[x] = sum of the band's row prefixes P_y(x) = prefix over columns < x of the
/// column sums; total = the band's sum.
template <class CS, class CQ, class AS, class AQ>
void integral_aggregate_columns(const CS* colsum, const CQ* colsq, index_t w,
                                integral_carry<AS, AQ>& agg) {
    AS run{};
    agg.col[0] = AS{};
    for (index_t x = 0; x < w; ++x) agg.col[x + 1] = run += static_cast<AS>(colsum[x]);
    agg.total = run;
    if (colsq) {
        AQ rq{};
        agg.colq[0] = AQ{};
        for (index_t x = 0; x < w; ++x) agg.colq[x + 1] = rq += static_cast<AQ>(colsq[x]);
    }
}

/// The aggregate pass of an integer band without tilted output, from int32 column sums
/// (integral_colsums: SIMD for 8-bit pixels). Returns false where int32 could overflow.
template <class T, class AS, class AQ>
bool integral_band_aggregate_fast(const image_view<const T>& src, index_t r0, index_t r1,
                                  bool sq, integral_carry<AS, AQ>& agg) {
    if constexpr (!is_integral_source_v<T>) {
        return false;
    } else {
        const index_t w = src.cols(), h = r1 - r0;
        constexpr double i32_max = static_cast<double>(std::numeric_limits<std::int32_t>::max());
        const double m = max_abs_pixel<T>();
        if (static_cast<double>(h) * m > i32_max) return false;
        if (sq && (!std::is_same<T, std::uint8_t>::value ||
                   static_cast<double>(h) * m * m > i32_max))
            return false;
        std::vector<std::int32_t> colsum(static_cast<std::size_t>(w), 0);
        std::vector<std::int32_t> colsq(sq ? static_cast<std::size_t>(w) : 0, 0);
        integral_colsums(src.row(r0), src.stride(0), h, w, colsum.data(),
                         sq ? colsq.data() : nullptr);
        integral_aggregate_columns(colsum.data(), sq ? colsq.data() : nullptr, w, agg);
        return true;
    }
}

/// Band aggregates for `par`: what a band of source rows [r0, r1) adds to the carry below it,
/// from column, anti-diagonal and diagonal sums of its pixels (no prefix scans, so cheap).
template <class T, class AS, class AQ>
void integral_band_aggregate(const image_view<const T>& src, index_t r0, index_t r1, bool sq,
                             bool tilt, integral_carry<AS, AQ>& agg) {
    if (!tilt && integral_band_aggregate_fast(src, r0, r1, sq, agg)) return;
    const index_t w = src.cols(), h = r1 - r0;
    std::vector<AS> colsum(static_cast<std::size_t>(w), AS{});
    std::vector<AQ> colsq(sq ? static_cast<std::size_t>(w) : 0, AQ{});
    // anti[t + x] and diag[x - t + h - 1]: sums over the band's pixels (row t of the band).
    std::vector<AS> anti(tilt ? static_cast<std::size_t>(w + h - 1) : 0, AS{});
    std::vector<AS> diag(tilt ? static_cast<std::size_t>(w + h - 1) : 0, AS{});
    for (index_t t = 0; t < h; ++t) {
        const T* in = src.row(r0 + t);
        for (index_t x = 0; x < w; ++x) colsum[x] += static_cast<AS>(in[x]);
        if (sq)
            for (index_t x = 0; x < w; ++x)
                colsq[x] += static_cast<AQ>(in[x]) * static_cast<AQ>(in[x]);
        if (tilt) {
            AS* an = anti.data() + t;
            AS* di = diag.data() + (h - 1 - t);
            for (index_t x = 0; x < w; ++x) {
                an[x] += static_cast<AS>(in[x]);
                di[x] += static_cast<AS>(in[x]);
            }
        }
    }
    integral_aggregate_columns(colsum.data(), sq ? colsq.data() : nullptr, w, agg);
    if (tilt) {
        // a_local[X] = sum of anti[d] for d <= X + h - 2;  b_local[X] = sum of diag[e'] for
        // x - t <= X - h - 1, i.e. e' = x - t + h - 1 <= X - 2.
        const index_t nd = w + h - 1;
        std::vector<AS> anti_prefix(static_cast<std::size_t>(nd + 1), AS{});
        std::vector<AS> diag_prefix(static_cast<std::size_t>(nd + 1), AS{});
        for (index_t d = 0; d < nd; ++d) {
            anti_prefix[d + 1] = anti_prefix[d] + anti[d];
            diag_prefix[d + 1] = diag_prefix[d] + diag[d];
        }
        for (index_t x = 0; x <= w; ++x) {
            agg.a[x] = anti_prefix[std::clamp<index_t>(x + h - 1, 0, nd)];
            agg.b[x] = diag_prefix[std::clamp<index_t>(x - 1, 0, nd)];
        }
    }
}

/// carry(band below) = shift(carry(band above)) + aggregate(band above), band height h.
template <class AS, class AQ>
void integral_carry_advance(integral_carry<AS, AQ>& carry, const integral_carry<AS, AQ>& agg,
                            index_t h) {
    const index_t w = static_cast<index_t>(carry.col.size()) - 1;
    for (index_t x = 0; x <= w; ++x) carry.col[x] += agg.col[x];
    for (std::size_t x = 0; x < carry.colq.size(); ++x) carry.colq[x] += agg.colq[x];
    if (!carry.a.empty()) {
        // a(X, r1) = a(X + h, r0) + a_local(X), where a(j, r0) = total(r0) for j >= W.
        for (index_t x = 0; x <= w; ++x)
            carry.a[x] = (x + h < w ? carry.a[x + h] : carry.total) + agg.a[x];
        // b(X, r1) = b(X - h, r0) + b_local(X), where b(j, r0) = 0 for j <= 0.
        for (index_t x = w; x >= 0; --x)
            carry.b[x] = (x - h > 0 ? carry.b[x - h] : AS{}) + agg.b[x];
    }
    carry.total += agg.total;
}

template <class T, class S, class Q>
void integral_frame_seq(const image_view<const T>& src, const image_view<S>& sum,
                        const image_view<Q>& sqsum, const image_view<S>& tilted) {
    using AS = integral_acc_t<T, S>;
    using AQ = integral_sq_acc_t<T, Q>;
    const bool tilt = tilted.data() != nullptr;
    integral_carry<AS, AQ> carry(src.cols(), sqsum.data() != nullptr, tilt);
    integral_band(src, sum, sqsum, tilted, 0, src.rows(), carry);
}

/// One image on `bands` threads, in one parallel loop: task 0 computes band 0 (its carry is
/// zero) while task k >= 1 computes the aggregate of band k - 1, waits for the aggregates of
/// the bands above that, adds them up into its carry (O(bands * W)) and computes band k.
/// Tasks are claimed in order, so every awaited aggregate is already being computed (also when
/// the loop runs serially). Band 0 is larger, by the aggregates' share of a band's cost and by
/// the workers' start-up lag, so that all tasks finish together. (Before: an aggregate pass,
/// then a band pass; 1080p u8 -> int32 on 2 threads went from 1.2-1.4 ms to 0.19 ms, of which
/// the kernels account for the most.)
template <class T, class S, class Q>
void integral_frame_par(thread_pool& pool, const image_view<const T>& src,
                        const image_view<S>& sum, const image_view<Q>& sqsum,
                        const image_view<S>& tilted) {
    using AS = integral_acc_t<T, S>;
    using AQ = integral_sq_acc_t<T, Q>;
    const index_t h = src.rows(), w = src.cols();
    const bool sq = sqsum.data() != nullptr, tilt = tilted.data() != nullptr;
    // Bands of at least 64 rows and 2^18 pixels (below that the loop's start-up costs more than
    // it saves); a band per thread (more bands would only add aggregate work).
    const index_t bands = std::max<index_t>(
        1, std::min<index_t>({static_cast<index_t>(pool.size()), h / 64, (h * w) >> 18}));
    if (bands == 1) return integral_frame_seq(src, sum, sqsum, tilted);
    // a: cost of aggregating a row relative to computing it (fitted to measurements on Zen 4
    // at 1080p and 4K: about 0.15 for 8-bit -> int32 sums, less with wider outputs, and about
    // 0.3 for the scalar aggregates of tilted sums and floating-point sources).
    const bool fast_agg = !tilt && is_integral_source_v<T>;
    const bool u8 = std::is_same<T, std::uint8_t>::value;
    const double band_cost = static_cast<double>(sizeof(S)) +
                             (std::is_same<S, float>::value ? 4.0 : 0.0) +
                             (sq ? static_cast<double>(sizeof(Q)) + 4.0 : 0.0);
    const double a = fast_agg ? ((u8 ? 0.6 : 1.2) + (sq ? 0.6 : 0.0)) / band_cost : 0.3;
    // lag: the rows band 0 gets done (by the calling thread, which starts it at once) while the
    // workers wake up and start their aggregates; tuned on Zen 4 (2 threads): about 100 rows
    // of 1920 int32 sums, i.e. 3 * 2^18 output bytes.
    const double lag = std::min(static_cast<double>(h) / 8.0,
                                786432.0 / (band_cost * static_cast<double>(w)));
    // Band 0 has h0 rows, the others (1 - a) * h0 - lag: all finish together.
    const double nb = static_cast<double>(bands - 1);
    const double h0 = (static_cast<double>(h) + nb * lag) / (1.0 + nb * (1.0 - a));
    std::vector<index_t> begin(static_cast<std::size_t>(bands + 1));
    for (index_t k = 0; k <= bands; ++k) {
        const double b = k == 0 ? 0.0 : h0 + static_cast<double>(k - 1) * ((1.0 - a) * h0 - lag);
        begin[k] = k == bands ? h : std::min<index_t>(h, static_cast<index_t>(b + 0.5));
    }
    for (index_t k = 1; k <= bands; ++k) begin[k] = std::max(begin[k], begin[k - 1] + 1);
    for (index_t k = bands - 1; k > 0; --k) begin[k] = std::min(begin[k], begin[k + 1] - 1);

    std::vector<integral_carry<AS, AQ>> aggs(static_cast<std::size_t>(bands - 1),
                                             integral_carry<AS, AQ>(w, sq, tilt));
    std::mutex mutex;
    std::condition_variable ready_cv;
    index_t ready = 0;  // aggregates 0 .. ready-1 are done (they finish in any order: count)
    std::vector<char> done(static_cast<std::size_t>(bands - 1), 0);
    bool failed = false;
    pool.run(static_cast<std::size_t>(bands), [&](std::size_t task) {
        const index_t k = static_cast<index_t>(task);
        if (k == 0) {
            integral_carry<AS, AQ> zero(w, sq, tilt);
            return integral_band(src, sum, sqsum, tilted, 0, begin[1], zero);
        }
        try {
            integral_band_aggregate(src, begin[k - 1], begin[k], sq, tilt, aggs[k - 1]);
        } catch (...) {
            {
                std::lock_guard<std::mutex> lock(mutex);
                failed = true;
            }
            ready_cv.notify_all();
            throw;
        }
        {
            std::lock_guard<std::mutex> lock(mutex);
            done[k - 1] = 1;
            while (ready < bands - 1 && done[ready]) ++ready;
        }
        ready_cv.notify_all();
        {
            std::unique_lock<std::mutex> lock(mutex);
            ready_cv.wait(lock, [&] { return failed || ready >= k; });
            if (failed) return;
        }
        integral_carry<AS, AQ> carry(w, sq, tilt);
        for (index_t i = 0; i < k; ++i)
            integral_carry_advance(carry, aggs[i], begin[i + 1] - begin[i]);
        integral_band(src, sum, sqsum, tilted, begin[k], begin[k + 1], carry);
    });
}

template <class Policy, class T, class S, class Q>
void integral_host(const Policy& policy, const volume_view<const T>& src,
                   const volume_view<S>& sum, const volume_view<Q>& sqsum,
                   const volume_view<S>& tilted) {
    const index_t frames = src.shape(0);
    const auto frame = [&](const auto& v, index_t i) {
        using V = std::decay_t<decltype(v)>;
        return v.data() ? v[i] : tensor_view<typename V::element_type, 2>{};
    };
    if constexpr (std::is_same<Policy, exec::parallel_policy>::value) {
        thread_pool& pool = policy.pool();
        if (frames >= static_cast<index_t>(pool.size())) {
            pool.parallel_for(0, frames, 1, [&](index_t lo, index_t hi) {
                for (index_t i = lo; i < hi; ++i)
                    integral_frame_seq(src[i], sum[i], frame(sqsum, i), frame(tilted, i));
            });
        } else {
            for (index_t i = 0; i < frames; ++i)
                integral_frame_par(pool, src[i], sum[i], frame(sqsum, i), frame(tilted, i));
        }
    } else {
        for (index_t i = 0; i < frames; ++i)
            integral_frame_seq(src[i], sum[i], frame(sqsum, i), frame(tilted, i));
    }
}

#if defined(__CUDACC__)
FERX_ARCH_NAMESPACE_BEGIN
/// Defined in ferx/cuda/dispatch/integral.cuh (included at the end of this header under nvcc).
/// Asynchronous: enqueues three passes on the policy's stream, allocates nothing.
template <class T, class S, class Q>
void integral_cuda(const exec::cuda_policy& policy, const device_volume_view<const T>& src,
                   const device_volume_view<S>& sum, const device_volume_view<Q>& sqsum,
                   const device_volume_view<S>& tilted);
FERX_ARCH_NAMESPACE_END
#endif

}  // namespace detail

/// Computes integral images into caller-provided outputs (GIL style).
/// \param src    an image (H x W) or a batch of frames (N x H x W), host or device view
/// \param sum    (H+1) x (W+1) [x N] sum output (required)
/// \param sqsum  squared-sum output, or an empty view to skip it
/// \param tilted 45-degree tilted-sum output, or an empty view to skip it
/// Host views go with `exec::seq` / `exec::par`, device views with `exec::cuda` (in a .cu file).
/// With device views the call is asynchronous (enqueued on the policy's stream, no allocation, no
/// host synchronisation). `Arch` gives the exec::cuda instantiation one symbol per GPU
/// architecture list (see FERX_ARCH_NAMESPACE in ferx/core/config.hpp); never pass it.
template <class Policy, class T, class S, class Q = double, std::size_t N,
          memory_space M = memory_space::host, class Arch = detail::arch_tag>
void integral(const Policy& policy, const tensor_view<const T, N, M>& src,
              const tensor_view<S, N, M>& sum, const tensor_view<Q, N, M>& sqsum = {},
              const tensor_view<S, N, M>& tilted = {}) {
    static_assert(is_execution_policy_v<Policy>,
                  "ferx::integral: the first argument must be a ferx execution policy "
                  "(ferx::exec::seq, ferx::exec::par or ferx::exec::cuda)");
    detail::check_integral_types<T, S, Q>();
    static_assert(N == 2 || N == 3,
                  "ferx::integral takes an image (2-D view) or a batch of frames (3-D view)");
    constexpr const char* where = "ferx::integral";
    const auto src3 = detail::as_volume(src);
    const auto sum3 = detail::as_volume(sum);
    const auto sq3 = detail::as_volume(sqsum);
    const auto tilt3 = detail::as_volume(tilted);
    detail::check_integral_args(src3, sum3, sq3, tilt3, where);
    if constexpr (M == memory_space::host) {
        static_assert(is_host_policy_v<Policy>,
                      "ferx::integral: host views need exec::seq or exec::par; copy the data to "
                      "the device (ferx::cuda::to_device) to use exec::cuda");
        detail::integral_host(policy, src3, sum3, sq3, tilt3);
    } else {
        static_assert(is_cuda_policy_v<Policy>,
                      "ferx::integral: device views need the exec::cuda policy");
#if defined(__CUDACC__)
        detail::integral_cuda(policy, src3, sum3, sq3, tilt3);
#else
        static_assert(detail::always_false<Policy>,
                      "ferx::integral with exec::cuda must be compiled by nvcc: call it from a .cu "
                      "translation unit (CMake: a CUDA source linked to ferx::ferx)");
#endif
    }
}

/// Mutable-source convenience: views of non-const pixels are accepted as read-only sources.
template <class Policy, class T, class S, class Q = double, std::size_t N,
          memory_space M = memory_space::host,
          class = std::enable_if_t<!std::is_const<T>::value>, class Arch = detail::arch_tag>
void integral(const Policy& policy, const tensor_view<T, N, M>& src,
              const tensor_view<S, N, M>& sum, const tensor_view<Q, N, M>& sqsum = {},
              const tensor_view<S, N, M>& tilted = {}) {
    integral(policy, tensor_view<const T, N, M>(src), sum, sqsum, tilted);
}

/// The three integral images of one image or batch, as owning host containers.
template <class S, class Q, std::size_t N>
struct integral_images {
    xt::xtensor<S, N> sum;
    xt::xtensor<Q, N> sqsum;   ///< empty unless requested
    xt::xtensor<S, N> tilted;  ///< empty unless requested
};

/// Which integral images to compute, beside the sum.
enum class integral_parts { sum = 1, sum_sqsum = 3, sum_tilted = 5, all = 7 };

namespace detail {
template <class S, std::size_t N, class V>
xt::xtensor<S, N> integral_output_like(const V& src) {
    typename xt::xtensor<S, N>::shape_type shape{};
    for (std::size_t i = 0; i < N; ++i) shape[i] = static_cast<std::size_t>(src.shape(i));
    shape[N - 1] += 1;
    shape[N - 2] += 1;
    return xt::xtensor<S, N>(shape);
}
}  // namespace detail

/// The sum image of a host image or batch, returned as an owning container:
///     auto ii = ferx::integral(ferx::exec::par, ferx::view(img));            // int32 for uint8
///     auto iid = ferx::integral<double>(ferx::exec::seq, ferx::view(img));
template <class S = void, class Policy, class T, std::size_t N>
auto integral(const Policy& policy, const tensor_view<T, N>& src) {
    using sum_t = std::conditional_t<std::is_void<S>::value,
                                     detail::default_sum_t<std::remove_const_t<T>>, S>;
    auto sum = detail::integral_output_like<sum_t, N>(src);
    integral(policy, tensor_view<const T, N>(src), view(sum));
    return sum;
}

/// The same, straight from an xtensor container: `ferx::integral(ferx::exec::seq, img)`.
template <class S = void, class Policy, class T, std::size_t N, xt::layout_type L>
auto integral(const Policy& policy, const xt::xtensor<T, N, L>& src) {
    return integral<S>(policy, view(src));
}

/// Several integral images at once (one pass over the source).
template <class S = void, class Q = double, class Policy, class T, std::size_t N>
auto integrals(const Policy& policy, const tensor_view<T, N>& src,
               integral_parts parts = integral_parts::all) {
    using sum_t = std::conditional_t<std::is_void<S>::value,
                                     detail::default_sum_t<std::remove_const_t<T>>, S>;
    integral_images<sum_t, Q, N> out;
    out.sum = detail::integral_output_like<sum_t, N>(src);
    const int p = static_cast<int>(parts);
    if (p & 2) out.sqsum = detail::integral_output_like<Q, N>(src);
    if (p & 4) out.tilted = detail::integral_output_like<sum_t, N>(src);
    integral(policy, tensor_view<const T, N>(src), view(out.sum),
             (p & 2) ? view(out.sqsum) : tensor_view<Q, N>{},
             (p & 4) ? view(out.tilted) : tensor_view<sum_t, N>{});
    return out;
}

/// Sum of the box [y0, y1) x [x0, x1) from a sum (or squared-sum) integral image.
template <class S>
FERX_HOST_DEVICE constexpr S box_sum(const tensor_view<const S, 2>& ii, index_t y0, index_t x0,
                                     index_t y1, index_t x1) {
    return ii(y1, x1) - ii(y0, x1) - ii(y1, x0) + ii(y0, x0);
}

FERX_NAMESPACE_END

#if defined(__CUDACC__)
#include <ferx/cuda/dispatch/integral.cuh>
#endif
