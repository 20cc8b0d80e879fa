/// \file ferx/detect/detail/integral_simd.hpp
/// Row kernels of the host integral images (ferx/detect/integral.hpp) for integer sources:
/// an exact int32 prefix sum of each row, added to the row above (or to a running column
/// buffer) and stored in the output type. SSE2 kernels (the x86-64 baseline), AVX2 kernels
/// (GCC/Clang `target("avx2")` functions, chosen at run time) and an AVX-512 (F, BW, VL) kernel for the
/// commonest case, 8-bit pixels to int32 sums (others use AVX2 on such CPUs), with a portable
/// scalar version of the same arithmetic elsewhere. Every kernel does exact integer (or exact double, below
/// 2^53) arithmetic, so all of them give the same bits as the reference loops.
/// Define FERX_INTEGRAL_NO_SIMD (in every translation unit alike) to keep the portable kernels.
#pragma once

#include <ferx/core/config.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#if !defined(FERX_INTEGRAL_NO_SIMD) && \
    (defined(__x86_64__) || defined(_M_X64) || (defined(__i386__) && defined(__SSE2__)))
#define FERX_INTEGRAL_SSE2 1
#include <emmintrin.h>
#if defined(__GNUC__) || defined(__clang__)
#define FERX_INTEGRAL_AVX2 1
#include <immintrin.h>
#define FERX_INTEGRAL_TARGET_AVX2 __attribute__((target("avx2")))
#if defined(__x86_64__)
#define FERX_INTEGRAL_AVX512 1
#define FERX_INTEGRAL_TARGET_AVX512 __attribute__((target("avx2,avx512f,avx512bw,avx512vl")))
#endif
#endif
#endif

FERX_NAMESPACE_BEGIN

namespace detail {

/// How a fast-path output row is formed from the exact int32 row prefix P(x):
enum class integral_mode : int {
    none,     ///< not computed
    prev,     ///< out[x] = row_above[x] + P(x) in the output type (int32, int64, or double < 2^53)
    col_i32,  ///< col[x] += P(x) in int32, out[x] = float(col[x])
    col_f64,  ///< col[x] += P(x) in double (exact below 2^53), out[x] = S(col[x])
};

/// One band of rows for the row kernels. `sum` / `sq` point at the band's first output row
/// (source row r0 -> output row r0 + 1); `*_prev` at the row above it (prev mode); `col*` are
/// the running column buffers (col modes), W + 1 entries. Steps are in elements.
template <class T, class S, class Q>
struct integral_rows_job {
    const T* src = nullptr;
    std::ptrdiff_t src_step = 0, rows = 0, cols = 0;
    S* sum = nullptr;
    std::ptrdiff_t sum_step = 0;
    const S* sum_prev = nullptr;
    std::int32_t* col32 = nullptr;
    double* col64 = nullptr;
    Q* sq = nullptr;
    std::ptrdiff_t sq_step = 0;
    const Q* sq_prev = nullptr;
    double* sqcol64 = nullptr;
};

/// Row r of a job: its source, output, row-above and squared-sum pointers.
template <class T, class S, class Q>
struct integral_row_ptrs {
    const T* in;
    S* out;
    const S* prev;
    Q* outq;
    const Q* prevq;
};

/// Points at row r of a job and writes the zero first column of its outputs (the squared sum
/// too when QM is not `none`). Every kernel starts its rows here.
template <integral_mode QM, class T, class S, class Q>
integral_row_ptrs<T, S, Q> integral_begin_row(const integral_rows_job<T, S, Q>& j,
                                              std::ptrdiff_t r) {
    integral_row_ptrs<T, S, Q> p{j.src + r * j.src_step, j.sum + r * j.sum_step, nullptr,
                                 nullptr, nullptr};
    p.prev = r == 0 ? j.sum_prev : p.out - j.sum_step;
    p.out[0] = S{};
    if constexpr (QM != integral_mode::none) {
        p.outq = j.sq + r * j.sq_step;
        p.prevq = r == 0 ? j.sq_prev : p.outq - j.sq_step;
        p.outq[0] = Q{};
    }
    return p;
}

/// Instruction sets of the row kernels, in increasing order.
enum class integral_isa : int { scalar = 0, sse2 = 1, avx2 = 2, avx512 = 3 };

/// The best instruction set this CPU and compiler support (detected once).
inline integral_isa integral_isa_supported() {
    static const integral_isa best = [] {
#if defined(FERX_INTEGRAL_AVX2)
        __builtin_cpu_init();
#if defined(FERX_INTEGRAL_AVX512)
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512vl"))
            return integral_isa::avx512;
#endif
        if (__builtin_cpu_supports("avx2")) return integral_isa::avx2;
#endif
#if defined(FERX_INTEGRAL_SSE2)
        return integral_isa::sse2;
#else
        return integral_isa::scalar;
#endif
    }();
    return best;
}

/// Upper limit on the instruction set used (tests set it to compare the kernels); -1, the
/// default, chooses: AVX-512 on Intel CPUs, at most AVX2 elsewhere. The AVX-512 kernel is
/// measured faster on Intel (Sapphire Rapids); on AMD Zen 4, which runs 512-bit operations as
/// two 256-bit halves, the AVX2 kernel was measured ahead of cv::integral and the AVX-512 one
/// has not been measured, so Zen keeps AVX2 until it is.
inline std::atomic<int>& integral_isa_limit() {
    static std::atomic<int> limit{-1};
    return limit;
}

inline integral_isa integral_isa_active() {
    const int best = static_cast<int>(integral_isa_supported());
    int limit = integral_isa_limit().load(std::memory_order_relaxed);
    if (limit < 0) {
        static const int automatic = [] {
#if defined(FERX_INTEGRAL_AVX512)
            if (__builtin_cpu_is("intel")) return static_cast<int>(integral_isa::avx512);
#endif
            return static_cast<int>(integral_isa::avx2);
        }();
        limit = automatic;
    }
    return static_cast<integral_isa>(best < limit ? best : limit);
}

/// Stores one output element from the exact row prefix s (shared by every kernel's tail).
template <integral_mode M, class S>
inline void integral_put1(std::int32_t s, S* out, const S* prev, std::int32_t* col32,
                          double* col64, std::ptrdiff_t i) {
    if constexpr (M == integral_mode::prev) {
        out[i] = static_cast<S>(prev[i] + static_cast<S>(s));
    } else if constexpr (M == integral_mode::col_i32) {
        col32[i] += s;
        out[i] = static_cast<S>(col32[i]);
    } else {
        static_assert(M == integral_mode::col_f64, "integral_put1: no output");
        col64[i] += static_cast<double>(s);
        out[i] = static_cast<S>(col64[i]);
    }
}

/// Scalar kernel of one row from column x on, given the row prefixes s, q before x.
/// The whole row for the scalar instruction set; the last W mod 8 pixels for the others.
template <class T, class S, integral_mode SM, class Q, integral_mode QM>
inline void integral_row_tail(const T* in, std::ptrdiff_t x, std::ptrdiff_t w, std::int32_t s,
                              std::int32_t q, S* out, const S* prev, Q* outq, const Q* prevq,
                              const integral_rows_job<T, S, Q>& j) {
    for (; x < w; ++x) {
        const std::int32_t v = static_cast<std::int32_t>(in[x]);
        s += v;
        integral_put1<SM>(s, out, prev, j.col32, j.col64, x + 1);
        if constexpr (QM != integral_mode::none) {
            q += v * v;
            integral_put1<QM>(q, outq, prevq, static_cast<std::int32_t*>(nullptr), j.sqcol64,
                              x + 1);
        }
    }
}

/// Portable kernel: the scalar recurrences of every row of the job.
template <class T, class S, integral_mode SM, class Q, integral_mode QM>
void integral_rows_scalar(const integral_rows_job<T, S, Q>& j) {
    for (std::ptrdiff_t r = 0; r < j.rows; ++r) {
        const auto [in, out, prev, outq, prevq] = integral_begin_row<QM>(j, r);
        integral_row_tail<T, S, SM, Q, QM>(in, 0, j.cols, 0, 0, out, prev, outq, prevq, j);
    }
}

/// Column sums of rows [r0, r1) (at most 257 rows) added to int32 colsum[x0 .. x1), and the
/// sums of squares to colsq when SQ (8-bit pixels only): the portable remainder of the strips.
template <class T, bool SQ>
inline void integral_colsums_rest(const T* src, std::ptrdiff_t step, std::ptrdiff_t r0,
                                  std::ptrdiff_t r1, std::ptrdiff_t x0, std::ptrdiff_t x1,
                                  std::int32_t* colsum, std::int32_t* colsq) {
    for (std::ptrdiff_t r = r0; r < r1; ++r) {
        const T* in = src + r * step;
        for (std::ptrdiff_t x = x0; x < x1; ++x) {
            const std::int32_t v = static_cast<std::int32_t>(in[x]);
            colsum[x] += v;
            if constexpr (SQ) colsq[x] += v * v;
        }
    }
}

#if defined(FERX_INTEGRAL_SSE2)
// ---------------------------------------------------------------------------------------------
// SSE2: 8 pixels per step as two vectors of 4 int32 lanes.

/// Pixels x .. x+7 widened to int32 (lo: x .. x+3, hi: x+4 .. x+7).
template <class T>
inline void integral_load8_sse2(const T* p, __m128i& lo, __m128i& hi) {
    const __m128i z = _mm_setzero_si128();
    if constexpr (std::is_same<T, std::uint8_t>::value) {
        const __m128i b =
            _mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)), z);
        lo = _mm_unpacklo_epi16(b, z);
        hi = _mm_unpackhi_epi16(b, z);
    } else if constexpr (std::is_same<T, std::uint16_t>::value) {
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        lo = _mm_unpacklo_epi16(b, z);
        hi = _mm_unpackhi_epi16(b, z);
    } else {
        static_assert(std::is_same<T, std::int16_t>::value, "integral kernels: integer sources");
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        lo = _mm_srai_epi32(_mm_unpacklo_epi16(b, b), 16);  // sign extension
        hi = _mm_srai_epi32(_mm_unpackhi_epi16(b, b), 16);
    }
}

/// In-register inclusive prefix sum of 4 int32 lanes (two shift-add steps).
inline __m128i integral_prefix4_sse2(__m128i v) {
    v = _mm_add_epi32(v, _mm_slli_si128(v, 4));
    return _mm_add_epi32(v, _mm_slli_si128(v, 8));
}

/// Output elements i .. i+3 from prefix lanes p (see integral_put1).
template <integral_mode M, class S>
inline void integral_put4_sse2(__m128i p, S* out, const S* prev, std::int32_t* col32,
                               double* col64, std::ptrdiff_t i) {
    if constexpr (M == integral_mode::prev) {
        if constexpr (std::is_same<S, std::int32_t>::value) {
            const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(prev + i));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm_add_epi32(a, p));
        } else if constexpr (std::is_same<S, std::int64_t>::value) {
            const __m128i sign = _mm_srai_epi32(p, 31);
            const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(prev + i));
            const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(prev + i + 2));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                             _mm_add_epi64(a, _mm_unpacklo_epi32(p, sign)));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i + 2),
                             _mm_add_epi64(b, _mm_unpackhi_epi32(p, sign)));
        } else {
            static_assert(std::is_same<S, double>::value, "integral prev mode: int or double");
            _mm_storeu_pd(out + i, _mm_add_pd(_mm_loadu_pd(prev + i), _mm_cvtepi32_pd(p)));
            _mm_storeu_pd(out + i + 2, _mm_add_pd(_mm_loadu_pd(prev + i + 2),
                                                  _mm_cvtepi32_pd(_mm_srli_si128(p, 8))));
        }
    } else if constexpr (M == integral_mode::col_i32) {
        static_assert(std::is_same<S, float>::value, "integral col_i32 mode: float output");
        const __m128i c =
            _mm_add_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(col32 + i)), p);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(col32 + i), c);
        _mm_storeu_ps(out + i, _mm_cvtepi32_ps(c));
    } else {
        static_assert(M == integral_mode::col_f64, "integral_put4_sse2: no output");
        const __m128d a = _mm_add_pd(_mm_loadu_pd(col64 + i), _mm_cvtepi32_pd(p));
        const __m128d b =
            _mm_add_pd(_mm_loadu_pd(col64 + i + 2), _mm_cvtepi32_pd(_mm_srli_si128(p, 8)));
        _mm_storeu_pd(col64 + i, a);
        _mm_storeu_pd(col64 + i + 2, b);
        if constexpr (std::is_same<S, float>::value) {
            _mm_storeu_ps(out + i, _mm_movelh_ps(_mm_cvtpd_ps(a), _mm_cvtpd_ps(b)));
        } else {
            _mm_storeu_pd(out + i, a);
            _mm_storeu_pd(out + i + 2, b);
        }
    }
}

/// Prefix sums of 8-bit pixels x .. x+15 in 16-bit words (in-register, three shift-add steps
/// per 8 words; sums of 8 pixels fit), widened to int32: a = x .. x+3, b = x+4 .. x+7 (prefix
/// from x), c = x+8 .. x+11, d = x+12 .. x+15 (prefix from x+8).
inline void integral_prefix16_u8_sse2(const std::uint8_t* p, __m128i& a, __m128i& b, __m128i& c,
                                      __m128i& d) {
    const __m128i z = _mm_setzero_si128();
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m128i l = _mm_unpacklo_epi8(v, z), h = _mm_unpackhi_epi8(v, z);
    l = _mm_add_epi16(l, _mm_slli_si128(l, 2));
    h = _mm_add_epi16(h, _mm_slli_si128(h, 2));
    l = _mm_add_epi16(l, _mm_slli_si128(l, 4));
    h = _mm_add_epi16(h, _mm_slli_si128(h, 4));
    l = _mm_add_epi16(l, _mm_slli_si128(l, 8));
    h = _mm_add_epi16(h, _mm_slli_si128(h, 8));
    a = _mm_unpacklo_epi16(l, z);
    b = _mm_unpackhi_epi16(l, z);
    c = _mm_unpacklo_epi16(h, z);
    d = _mm_unpackhi_epi16(h, z);
}

/// SSE2 kernel: each row's prefix 4 int32 lanes at a time (16-bit lanes for 8-bit sums) plus a
/// broadcast carry, then the put. Measured (u8 -> int32, 1920x1080, Zen 4, one thread):
/// 0.38 ms, against 0.9 ms for integral_rows_scalar and 1.2-1.6 ms for the former loop.
template <class T, class S, integral_mode SM, class Q, integral_mode QM>
void integral_rows_sse2(const integral_rows_job<T, S, Q>& j) {
    const std::ptrdiff_t w = j.cols;
    for (std::ptrdiff_t r = 0; r < j.rows; ++r) {
        const auto [in, out, prev, outq, prevq] = integral_begin_row<QM>(j, r);
        __m128i carry = _mm_setzero_si128(), carryq = _mm_setzero_si128();
        std::ptrdiff_t x = 0;
        if constexpr (std::is_same<T, std::uint8_t>::value && QM == integral_mode::none) {
            for (; x + 16 <= w; x += 16) {  // 16-bit prefixes: fewer shuffles per pixel
                __m128i a, b, c, d;
                integral_prefix16_u8_sse2(in + x, a, b, c, d);
                const __m128i t0 = _mm_shuffle_epi32(b, 0xFF), t1 = _mm_shuffle_epi32(d, 0xFF);
                a = _mm_add_epi32(a, carry);
                b = _mm_add_epi32(b, carry);
                carry = _mm_add_epi32(carry, t0);
                c = _mm_add_epi32(c, carry);
                d = _mm_add_epi32(d, carry);
                carry = _mm_add_epi32(carry, t1);
                integral_put4_sse2<SM>(a, out, prev, j.col32, j.col64, x + 1);
                integral_put4_sse2<SM>(b, out, prev, j.col32, j.col64, x + 5);
                integral_put4_sse2<SM>(c, out, prev, j.col32, j.col64, x + 9);
                integral_put4_sse2<SM>(d, out, prev, j.col32, j.col64, x + 13);
            }
        }
        for (; x + 8 <= w; x += 8) {
            __m128i lo, hi;
            integral_load8_sse2(in + x, lo, hi);
            __m128i plo = integral_prefix4_sse2(lo), phi = integral_prefix4_sse2(hi);
            const __m128i tlo = _mm_shuffle_epi32(plo, 0xFF), thi = _mm_shuffle_epi32(phi, 0xFF);
            plo = _mm_add_epi32(plo, carry);
            phi = _mm_add_epi32(phi, _mm_add_epi32(carry, tlo));
            carry = _mm_add_epi32(carry, _mm_add_epi32(tlo, thi));
            integral_put4_sse2<SM>(plo, out, prev, j.col32, j.col64, x + 1);
            integral_put4_sse2<SM>(phi, out, prev, j.col32, j.col64, x + 5);
            if constexpr (QM != integral_mode::none) {
                // Squares of 8-bit pixels: lanes hold v < 2^8, so madd(v, v) = v * v.
                __m128i qlo = integral_prefix4_sse2(_mm_madd_epi16(lo, lo));
                __m128i qhi = integral_prefix4_sse2(_mm_madd_epi16(hi, hi));
                const __m128i ulo = _mm_shuffle_epi32(qlo, 0xFF);
                const __m128i uhi = _mm_shuffle_epi32(qhi, 0xFF);
                qlo = _mm_add_epi32(qlo, carryq);
                qhi = _mm_add_epi32(qhi, _mm_add_epi32(carryq, ulo));
                carryq = _mm_add_epi32(carryq, _mm_add_epi32(ulo, uhi));
                integral_put4_sse2<QM>(qlo, outq, prevq, static_cast<std::int32_t*>(nullptr),
                                       j.sqcol64, x + 1);
                integral_put4_sse2<QM>(qhi, outq, prevq, static_cast<std::int32_t*>(nullptr),
                                       j.sqcol64, x + 5);
            }
        }
        integral_row_tail<T, S, SM, Q, QM>(in, x, w, _mm_cvtsi128_si32(carry),
                                           _mm_cvtsi128_si32(carryq), out, prev, outq, prevq, j);
    }
}

/// Column sums for the par aggregate pass: `rows` rows added to int32 colsum[0 .. w) (and the
/// sums of squares to colsq when SQ, 8-bit pixels). Chunks of 257 rows, and in each strips of
/// 16 (8-bit) or 8 (16-bit) columns summed in registers: 16-bit accumulators for 8-bit pixels
/// (257 * 255 < 2^16), int32 ones otherwise. Measured (AVX2 version, 540 rows of 1920 8-bit
/// pixels, Zen 4): 0.02-0.035 ms, 0.04 ms with squares, against 0.076 and 0.23 ms for the former
/// int64 loops; the pass is then bound by reading the pixels.
template <class T, bool SQ>
inline void integral_colsums_sse2(const T* src, std::ptrdiff_t step, std::ptrdiff_t rows,
                                  std::ptrdiff_t w, std::int32_t* colsum, std::int32_t* colsq) {
    const __m128i z = _mm_setzero_si128();
    constexpr std::ptrdiff_t strip = std::is_same<T, std::uint8_t>::value ? 16 : 8;
    const auto add = [](std::int32_t* p, __m128i v) {
        __m128i* q = reinterpret_cast<__m128i*>(p);
        _mm_storeu_si128(q, _mm_add_epi32(_mm_loadu_si128(q), v));
    };
    for (std::ptrdiff_t r0 = 0; r0 < rows; r0 += 257) {
        const std::ptrdiff_t r1 = r0 + 257 < rows ? r0 + 257 : rows;
        std::ptrdiff_t x = 0;
        for (; x + strip <= w; x += strip) {
            if constexpr (std::is_same<T, std::uint8_t>::value) {
                __m128i a = z, b = z, qa = z, qb = z, qc = z, qd = z;
                for (std::ptrdiff_t r = r0; r < r1; ++r) {
                    const __m128i v =
                        _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + r * step + x));
                    const __m128i lo = _mm_unpacklo_epi8(v, z), hi = _mm_unpackhi_epi8(v, z);
                    a = _mm_add_epi16(a, lo);
                    b = _mm_add_epi16(b, hi);
                    if constexpr (SQ) {  // squares of 8-bit pixels fit 16 unsigned bits
                        const __m128i sl = _mm_mullo_epi16(lo, lo), sh = _mm_mullo_epi16(hi, hi);
                        qa = _mm_add_epi32(qa, _mm_unpacklo_epi16(sl, z));
                        qb = _mm_add_epi32(qb, _mm_unpackhi_epi16(sl, z));
                        qc = _mm_add_epi32(qc, _mm_unpacklo_epi16(sh, z));
                        qd = _mm_add_epi32(qd, _mm_unpackhi_epi16(sh, z));
                    }
                }
                add(colsum + x, _mm_unpacklo_epi16(a, z));
                add(colsum + x + 4, _mm_unpackhi_epi16(a, z));
                add(colsum + x + 8, _mm_unpacklo_epi16(b, z));
                add(colsum + x + 12, _mm_unpackhi_epi16(b, z));
                if constexpr (SQ) {
                    add(colsq + x, qa);
                    add(colsq + x + 4, qb);
                    add(colsq + x + 8, qc);
                    add(colsq + x + 12, qd);
                }
            } else {
                __m128i a = z, b = z;
                for (std::ptrdiff_t r = r0; r < r1; ++r) {
                    const __m128i v =
                        _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + r * step + x));
                    if constexpr (std::is_same<T, std::uint16_t>::value) {
                        a = _mm_add_epi32(a, _mm_unpacklo_epi16(v, z));
                        b = _mm_add_epi32(b, _mm_unpackhi_epi16(v, z));
                    } else {
                        a = _mm_add_epi32(a, _mm_srai_epi32(_mm_unpacklo_epi16(v, v), 16));
                        b = _mm_add_epi32(b, _mm_srai_epi32(_mm_unpackhi_epi16(v, v), 16));
                    }
                }
                add(colsum + x, a);
                add(colsum + x + 4, b);
            }
        }
        integral_colsums_rest<T, SQ>(src, step, r0, r1, x, w, colsum, colsq);
    }
}
#endif  // FERX_INTEGRAL_SSE2

#if defined(FERX_INTEGRAL_AVX2)
// ---------------------------------------------------------------------------------------------
// AVX2: 8 pixels per step in one vector of 8 int32 lanes.

template <class T>
FERX_INTEGRAL_TARGET_AVX2 inline __m256i integral_load8_avx2(const T* p) {
    if constexpr (std::is_same<T, std::uint8_t>::value) {
        return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
    } else if constexpr (std::is_same<T, std::uint16_t>::value) {
        return _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    } else {
        static_assert(std::is_same<T, std::int16_t>::value, "integral kernels: integer sources");
        return _mm256_cvtepi16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    }
}

/// In-register inclusive prefix sum of 8 int32 lanes: two in-lane shift-add steps, then the
/// low half's total added to the high half.
FERX_INTEGRAL_TARGET_AVX2 inline __m256i integral_prefix8_avx2(__m256i v) {
    v = _mm256_add_epi32(v, _mm256_slli_si256(v, 4));
    v = _mm256_add_epi32(v, _mm256_slli_si256(v, 8));
    const __m256i t = _mm256_shuffle_epi32(v, 0xFF);
    return _mm256_add_epi32(v, _mm256_permute2x128_si256(t, t, 0x08));
}

/// Prefix sums of 8-bit pixels x .. x+15 in 16-bit words (three in-lane shift-add steps; no
/// cross-lane step, as each 128-bit lane holds 8 pixels), widened to int32: lo = x .. x+7
/// (prefix from x), hi = x+8 .. x+15 (prefix from x+8).
FERX_INTEGRAL_TARGET_AVX2 inline void integral_prefix16_u8_avx2(const std::uint8_t* p,
                                                                __m256i& lo, __m256i& hi) {
    __m256i v = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    v = _mm256_add_epi16(v, _mm256_slli_si256(v, 2));
    v = _mm256_add_epi16(v, _mm256_slli_si256(v, 4));
    v = _mm256_add_epi16(v, _mm256_slli_si256(v, 8));
    lo = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(v));
    hi = _mm256_cvtepu16_epi32(_mm256_extracti128_si256(v, 1));
}

/// Output elements i .. i+7 from prefix lanes p (see integral_put1).
template <integral_mode M, class S>
FERX_INTEGRAL_TARGET_AVX2 inline void integral_put8_avx2(__m256i p, S* out, const S* prev,
                                                         std::int32_t* col32, double* col64,
                                                         std::ptrdiff_t i) {
    if constexpr (M == integral_mode::prev) {
        if constexpr (std::is_same<S, std::int32_t>::value) {
            const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(prev + i));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm256_add_epi32(a, p));
        } else if constexpr (std::is_same<S, std::int64_t>::value) {
            const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(prev + i));
            const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(prev + i + 4));
            _mm256_storeu_si256(
                reinterpret_cast<__m256i*>(out + i),
                _mm256_add_epi64(a, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(p))));
            _mm256_storeu_si256(
                reinterpret_cast<__m256i*>(out + i + 4),
                _mm256_add_epi64(b, _mm256_cvtepi32_epi64(_mm256_extracti128_si256(p, 1))));
        } else {
            static_assert(std::is_same<S, double>::value, "integral prev mode: int or double");
            _mm256_storeu_pd(out + i,
                             _mm256_add_pd(_mm256_loadu_pd(prev + i),
                                           _mm256_cvtepi32_pd(_mm256_castsi256_si128(p))));
            _mm256_storeu_pd(out + i + 4,
                             _mm256_add_pd(_mm256_loadu_pd(prev + i + 4),
                                           _mm256_cvtepi32_pd(_mm256_extracti128_si256(p, 1))));
        }
    } else if constexpr (M == integral_mode::col_i32) {
        static_assert(std::is_same<S, float>::value, "integral col_i32 mode: float output");
        const __m256i c = _mm256_add_epi32(
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(col32 + i)), p);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(col32 + i), c);
        _mm256_storeu_ps(out + i, _mm256_cvtepi32_ps(c));
    } else {
        static_assert(M == integral_mode::col_f64, "integral_put8_avx2: no output");
        const __m256d a = _mm256_add_pd(_mm256_loadu_pd(col64 + i),
                                        _mm256_cvtepi32_pd(_mm256_castsi256_si128(p)));
        const __m256d b = _mm256_add_pd(_mm256_loadu_pd(col64 + i + 4),
                                        _mm256_cvtepi32_pd(_mm256_extracti128_si256(p, 1)));
        _mm256_storeu_pd(col64 + i, a);
        _mm256_storeu_pd(col64 + i + 4, b);
        if constexpr (std::is_same<S, float>::value) {
            _mm_storeu_ps(out + i, _mm256_cvtpd_ps(a));
            _mm_storeu_ps(out + i + 4, _mm256_cvtpd_ps(b));
        } else {
            _mm256_storeu_pd(out + i, a);
            _mm256_storeu_pd(out + i + 4, b);
        }
    }
}

/// Lane 0 of a vector (the scalar carry for the tails).
FERX_INTEGRAL_TARGET_AVX2 inline std::int32_t integral_lane0_avx2(__m256i v) {
    return _mm_cvtsi128_si32(_mm256_castsi256_si128(v));
}

/// Output elements i .. i+7 of two consecutive rows from their prefix lanes p0 and p1: the
/// second row adds p1 to the first row's values while they are in registers, so the row above
/// (or the column buffer) is read and the column buffer written once per two rows. Measured
/// against one row at a time (Zen 4): u8 -> float 0.056 -> 0.045 ms at 640x480, 0.38 -> 0.31 ms
/// at 1920x1080; u8 -> int32 a few percent.
template <integral_mode M, class S>
FERX_INTEGRAL_TARGET_AVX2 inline void integral_put8x2_avx2(__m256i p0, __m256i p1, S* out0,
                                                           S* out1, const S* prev,
                                                           std::int32_t* col32, double* col64,
                                                           std::ptrdiff_t i) {
    if constexpr (M == integral_mode::prev) {
        if constexpr (std::is_same<S, std::int32_t>::value) {
            const __m256i a = _mm256_add_epi32(
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(prev + i)), p0);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out0 + i), a);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out1 + i), _mm256_add_epi32(a, p1));
        } else if constexpr (std::is_same<S, std::int64_t>::value) {
            const __m128i h0[2] = {_mm256_castsi256_si128(p0), _mm256_extracti128_si256(p0, 1)};
            const __m128i h1[2] = {_mm256_castsi256_si128(p1), _mm256_extracti128_si256(p1, 1)};
            for (int k = 0; k < 2; ++k) {
                const __m256i a = _mm256_add_epi64(
                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(prev + i + 4 * k)),
                    _mm256_cvtepi32_epi64(h0[k]));
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(out0 + i + 4 * k), a);
                _mm256_storeu_si256(reinterpret_cast<__m256i*>(out1 + i + 4 * k),
                                    _mm256_add_epi64(a, _mm256_cvtepi32_epi64(h1[k])));
            }
        } else {
            static_assert(std::is_same<S, double>::value, "integral prev mode: int or double");
            const __m128i h0[2] = {_mm256_castsi256_si128(p0), _mm256_extracti128_si256(p0, 1)};
            const __m128i h1[2] = {_mm256_castsi256_si128(p1), _mm256_extracti128_si256(p1, 1)};
            for (int k = 0; k < 2; ++k) {
                const __m256d a =
                    _mm256_add_pd(_mm256_loadu_pd(prev + i + 4 * k), _mm256_cvtepi32_pd(h0[k]));
                _mm256_storeu_pd(out0 + i + 4 * k, a);
                _mm256_storeu_pd(out1 + i + 4 * k, _mm256_add_pd(a, _mm256_cvtepi32_pd(h1[k])));
            }
        }
    } else if constexpr (M == integral_mode::col_i32) {
        static_assert(std::is_same<S, float>::value, "integral col_i32 mode: float output");
        __m256i* c = reinterpret_cast<__m256i*>(col32 + i);
        const __m256i a = _mm256_add_epi32(_mm256_loadu_si256(c), p0);
        const __m256i b = _mm256_add_epi32(a, p1);
        _mm256_storeu_si256(c, b);
        _mm256_storeu_ps(out0 + i, _mm256_cvtepi32_ps(a));
        _mm256_storeu_ps(out1 + i, _mm256_cvtepi32_ps(b));
    } else {
        static_assert(M == integral_mode::col_f64, "integral_put8x2_avx2: no output");
        const __m128i h0[2] = {_mm256_castsi256_si128(p0), _mm256_extracti128_si256(p0, 1)};
        const __m128i h1[2] = {_mm256_castsi256_si128(p1), _mm256_extracti128_si256(p1, 1)};
        for (int k = 0; k < 2; ++k) {
            const __m256d a =
                _mm256_add_pd(_mm256_loadu_pd(col64 + i + 4 * k), _mm256_cvtepi32_pd(h0[k]));
            const __m256d b = _mm256_add_pd(a, _mm256_cvtepi32_pd(h1[k]));
            _mm256_storeu_pd(col64 + i + 4 * k, b);
            if constexpr (std::is_same<S, float>::value) {
                _mm_storeu_ps(out0 + i + 4 * k, _mm256_cvtpd_ps(a));
                _mm_storeu_ps(out1 + i + 4 * k, _mm256_cvtpd_ps(b));
            } else {
                _mm256_storeu_pd(out0 + i + 4 * k, a);
                _mm256_storeu_pd(out1 + i + 4 * k, b);
            }
        }
    }
}

/// AVX2 kernel: rows in pairs (integral_put8x2_avx2), each row's prefix 8 int32 lanes at a time
/// (or 16 pixels in 16-bit lanes for 8-bit sums); the carry chain is one add per step, the
/// step's total being broadcast from the local prefix. Measured (1920x1080, Zen 4, one
/// thread): u8 -> int32 0.27 ms (SSE2 0.38, cv::integral 0.29-0.31), u8 -> float 0.31 ms
/// (SSE2 0.49), u8 -> int32 + double squares 1.3-1.5 ms (cv::integral 2.7-3.4).
template <class T, class S, integral_mode SM, class Q, integral_mode QM>
FERX_INTEGRAL_TARGET_AVX2 void integral_rows_avx2(const integral_rows_job<T, S, Q>& j) {
    const std::ptrdiff_t w = j.cols;
    const __m256i last = _mm256_set1_epi32(7);
    const __m256i zero = _mm256_setzero_si256();
    std::ptrdiff_t r = 0;
    for (; r + 2 <= j.rows; r += 2) {  // pairs of rows (see integral_put8x2_avx2)
        const auto [in0, out0, prev, outq0, prevq] = integral_begin_row<QM>(j, r);
        const auto row1 = integral_begin_row<QM>(j, r + 1);  // its row above is out0
        const T* in1 = row1.in;
        S* out1 = row1.out;
        Q* outq1 = row1.outq;
        __m256i c0 = zero, c1 = zero, cq0 = zero, cq1 = zero;
        std::ptrdiff_t x = 0;
        if constexpr (std::is_same<T, std::uint8_t>::value && QM == integral_mode::none) {
            for (; x + 16 <= w; x += 16) {  // 16-bit prefixes: fewer shuffles per pixel
                __m256i a0, a1, b0, b1;
                integral_prefix16_u8_avx2(in0 + x, a0, a1);
                integral_prefix16_u8_avx2(in1 + x, b0, b1);
                const __m256i ta0 = _mm256_permutevar8x32_epi32(a0, last);
                const __m256i ta1 = _mm256_permutevar8x32_epi32(a1, last);
                const __m256i tb0 = _mm256_permutevar8x32_epi32(b0, last);
                const __m256i tb1 = _mm256_permutevar8x32_epi32(b1, last);
                a0 = _mm256_add_epi32(a0, c0);
                c0 = _mm256_add_epi32(c0, ta0);
                a1 = _mm256_add_epi32(a1, c0);
                c0 = _mm256_add_epi32(c0, ta1);
                b0 = _mm256_add_epi32(b0, c1);
                c1 = _mm256_add_epi32(c1, tb0);
                b1 = _mm256_add_epi32(b1, c1);
                c1 = _mm256_add_epi32(c1, tb1);
                integral_put8x2_avx2<SM>(a0, b0, out0, out1, prev, j.col32, j.col64, x + 1);
                integral_put8x2_avx2<SM>(a1, b1, out0, out1, prev, j.col32, j.col64, x + 9);
            }
        }
        for (; x + 8 <= w; x += 8) {
            const __m256i v0 = integral_load8_avx2(in0 + x), v1 = integral_load8_avx2(in1 + x);
            __m256i p0 = integral_prefix8_avx2(v0), p1 = integral_prefix8_avx2(v1);
            const __m256i t0 = _mm256_permutevar8x32_epi32(p0, last);
            const __m256i t1 = _mm256_permutevar8x32_epi32(p1, last);
            p0 = _mm256_add_epi32(p0, c0);
            c0 = _mm256_add_epi32(c0, t0);
            p1 = _mm256_add_epi32(p1, c1);
            c1 = _mm256_add_epi32(c1, t1);
            integral_put8x2_avx2<SM>(p0, p1, out0, out1, prev, j.col32, j.col64, x + 1);
            if constexpr (QM != integral_mode::none) {
                // Squares of 8-bit pixels: lanes hold v < 2^8, so madd(v, v) = v * v.
                __m256i q0 = integral_prefix8_avx2(_mm256_madd_epi16(v0, v0));
                __m256i q1 = integral_prefix8_avx2(_mm256_madd_epi16(v1, v1));
                const __m256i u0 = _mm256_permutevar8x32_epi32(q0, last);
                const __m256i u1 = _mm256_permutevar8x32_epi32(q1, last);
                q0 = _mm256_add_epi32(q0, cq0);
                cq0 = _mm256_add_epi32(cq0, u0);
                q1 = _mm256_add_epi32(q1, cq1);
                cq1 = _mm256_add_epi32(cq1, u1);
                integral_put8x2_avx2<QM>(q0, q1, outq0, outq1, prevq,
                                         static_cast<std::int32_t*>(nullptr), j.sqcol64, x + 1);
            }
        }
        // The tails: row 0 first (row 1 reads its values, or the column buffer it updated).
        integral_row_tail<T, S, SM, Q, QM>(in0, x, w, integral_lane0_avx2(c0),
                                           integral_lane0_avx2(cq0), out0, prev, outq0, prevq, j);
        integral_row_tail<T, S, SM, Q, QM>(in1, x, w, integral_lane0_avx2(c1),
                                           integral_lane0_avx2(cq1), out1, out0, outq1, outq0, j);
    }
    for (; r < j.rows; ++r) {  // the last row of an odd count
        const auto [in, out, prev, outq, prevq] = integral_begin_row<QM>(j, r);
        __m256i carry = _mm256_setzero_si256(), carryq = _mm256_setzero_si256();
        std::ptrdiff_t x = 0;
        if constexpr (std::is_same<T, std::uint8_t>::value && QM == integral_mode::none) {
            for (; x + 32 <= w; x += 32) {  // 16-bit prefixes: fewer shuffles per pixel
                __m256i p0, p1, p2, p3;
                integral_prefix16_u8_avx2(in + x, p0, p1);
                integral_prefix16_u8_avx2(in + x + 16, p2, p3);
                const __m256i t0 = _mm256_permutevar8x32_epi32(p0, last);
                const __m256i t1 = _mm256_permutevar8x32_epi32(p1, last);
                const __m256i t2 = _mm256_permutevar8x32_epi32(p2, last);
                const __m256i t3 = _mm256_permutevar8x32_epi32(p3, last);
                p0 = _mm256_add_epi32(p0, carry);
                carry = _mm256_add_epi32(carry, t0);
                p1 = _mm256_add_epi32(p1, carry);
                carry = _mm256_add_epi32(carry, t1);
                p2 = _mm256_add_epi32(p2, carry);
                carry = _mm256_add_epi32(carry, t2);
                p3 = _mm256_add_epi32(p3, carry);
                carry = _mm256_add_epi32(carry, t3);
                integral_put8_avx2<SM>(p0, out, prev, j.col32, j.col64, x + 1);
                integral_put8_avx2<SM>(p1, out, prev, j.col32, j.col64, x + 9);
                integral_put8_avx2<SM>(p2, out, prev, j.col32, j.col64, x + 17);
                integral_put8_avx2<SM>(p3, out, prev, j.col32, j.col64, x + 25);
            }
        }
        for (; x + 8 <= w; x += 8) {
            const __m256i v = integral_load8_avx2(in + x);
            __m256i p = integral_prefix8_avx2(v);
            const __m256i t = _mm256_permutevar8x32_epi32(p, last);
            p = _mm256_add_epi32(p, carry);
            carry = _mm256_add_epi32(carry, t);
            integral_put8_avx2<SM>(p, out, prev, j.col32, j.col64, x + 1);
            if constexpr (QM != integral_mode::none) {
                // Squares of 8-bit pixels: lanes hold v < 2^8, so madd(v, v) = v * v.
                __m256i pq = integral_prefix8_avx2(_mm256_madd_epi16(v, v));
                const __m256i tq = _mm256_permutevar8x32_epi32(pq, last);
                pq = _mm256_add_epi32(pq, carryq);
                carryq = _mm256_add_epi32(carryq, tq);
                integral_put8_avx2<QM>(pq, outq, prevq, static_cast<std::int32_t*>(nullptr),
                                       j.sqcol64, x + 1);
            }
        }
        integral_row_tail<T, S, SM, Q, QM>(in, x, w, integral_lane0_avx2(carry),
                                           integral_lane0_avx2(carryq), out, prev, outq, prevq, j);
    }
}

/// AVX2 version of integral_colsums_sse2 (strips of 32 or 16 columns).
template <class T, bool SQ>
FERX_INTEGRAL_TARGET_AVX2 inline void integral_colsums_avx2(const T* src, std::ptrdiff_t step,
                                                            std::ptrdiff_t rows, std::ptrdiff_t w,
                                                            std::int32_t* colsum,
                                                            std::int32_t* colsq) {
    const __m256i z = _mm256_setzero_si256();
    constexpr std::ptrdiff_t strip = std::is_same<T, std::uint8_t>::value ? 32 : 16;
    for (std::ptrdiff_t r0 = 0; r0 < rows; r0 += 257) {
        const std::ptrdiff_t r1 = r0 + 257 < rows ? r0 + 257 : rows;
        std::ptrdiff_t x = 0;
        for (; x + strip <= w; x += strip) {
            __m256i acc[6] = {z, z, z, z, z, z};
            for (std::ptrdiff_t r = r0; r < r1; ++r) {
                const T* p = src + r * step + x;
                if constexpr (std::is_same<T, std::uint8_t>::value) {
                    for (int k = 0; k < 2; ++k) {
                        const __m256i v = _mm256_cvtepu8_epi16(
                            _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k)));
                        acc[k] = _mm256_add_epi16(acc[k], v);
                        if constexpr (SQ) {  // squares of 8-bit pixels fit 16 unsigned bits;
                            // unpacking keeps columns 0-3|8-11 and 4-7|12-15 (fixed on flush)
                            const __m256i q = _mm256_mullo_epi16(v, v);
                            __m256i& qa = acc[2 + 2 * k];
                            __m256i& qb = acc[3 + 2 * k];
                            qa = _mm256_add_epi32(qa, _mm256_unpacklo_epi16(q, z));
                            qb = _mm256_add_epi32(qb, _mm256_unpackhi_epi16(q, z));
                        }
                    }
                } else {
                    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
                    const __m128i lo = _mm256_castsi256_si128(v);
                    const __m128i hi = _mm256_extracti128_si256(v, 1);
                    if constexpr (std::is_same<T, std::uint16_t>::value) {
                        acc[0] = _mm256_add_epi32(acc[0], _mm256_cvtepu16_epi32(lo));
                        acc[1] = _mm256_add_epi32(acc[1], _mm256_cvtepu16_epi32(hi));
                    } else {
                        acc[0] = _mm256_add_epi32(acc[0], _mm256_cvtepi16_epi32(lo));
                        acc[1] = _mm256_add_epi32(acc[1], _mm256_cvtepi16_epi32(hi));
                    }
                }
            }
            __m256i part[8];
            int parts = 2;
            if constexpr (std::is_same<T, std::uint8_t>::value) {
                parts = 4;
                for (int k = 0; k < 2; ++k) {
                    part[2 * k] = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(acc[k]));
                    part[2 * k + 1] = _mm256_cvtepu16_epi32(_mm256_extracti128_si256(acc[k], 1));
                    if constexpr (SQ) {
                        const __m256i qa = acc[2 + 2 * k], qb = acc[3 + 2 * k];
                        part[4 + 2 * k] = _mm256_permute2x128_si256(qa, qb, 0x20);
                        part[5 + 2 * k] = _mm256_permute2x128_si256(qa, qb, 0x31);
                    }
                }
            } else {
                part[0] = acc[0];
                part[1] = acc[1];
            }
            for (int k = 0; k < parts; ++k) {
                __m256i* c = reinterpret_cast<__m256i*>(colsum + x + 8 * k);
                _mm256_storeu_si256(c, _mm256_add_epi32(_mm256_loadu_si256(c), part[k]));
                if constexpr (SQ) {
                    __m256i* q = reinterpret_cast<__m256i*>(colsq + x + 8 * k);
                    _mm256_storeu_si256(q, _mm256_add_epi32(_mm256_loadu_si256(q), part[4 + k]));
                }
            }
        }
        integral_colsums_rest<T, SQ>(src, step, r0, r1, x, w, colsum, colsq);
    }
}
#endif  // FERX_INTEGRAL_AVX2

#if defined(FERX_INTEGRAL_AVX512)
// ---------------------------------------------------------------------------------------------
// AVX-512 (F + BW): 8-bit pixels to int32 sums with the row above, 32 pixels per step.

/// Prefix sums of 8-bit pixels x .. x+31 (from x), in int32: lo = x .. x+15, hi = x+16 ..
/// x+31. Three in-lane shift-add steps on 16-bit words (each 128-bit lane holds 8 pixels), then
/// two word-permute steps carry each lane's total into the lanes after it (sums of 32 pixels fit
/// 16 bits), then the words are widened.
FERX_INTEGRAL_TARGET_AVX512 inline void integral_prefix32_u8_avx512(const std::uint8_t* p, __m512i& lo,
                                                                    __m512i& hi) {
    __m512i v = _mm512_maskz_cvtepu8_epi16(0xFFFFFFFFu, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    v = _mm512_add_epi16(v, _mm512_bslli_epi128(v, 2));
    v = _mm512_add_epi16(v, _mm512_bslli_epi128(v, 4));
    v = _mm512_add_epi16(v, _mm512_bslli_epi128(v, 8));
    // Word 8k + 7 is lane k's total: lanes 1..3 add lane k-1's, then lanes 2..3 lane k-2's.
    const __m512i from1 = _mm512_set_epi16(23, 23, 23, 23, 23, 23, 23, 23, 15, 15, 15, 15, 15, 15, 15, 15,  //
                                           7, 7, 7, 7, 7, 7, 7, 7, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m512i from2 = _mm512_set_epi16(15, 15, 15, 15, 15, 15, 15, 15, 7, 7, 7, 7, 7, 7, 7, 7,  //
                                           0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    v = _mm512_mask_add_epi16(v, 0xFFFFFF00u, v, _mm512_maskz_permutexvar_epi16(0xFFFFFFFFu, from1, v));
    v = _mm512_mask_add_epi16(v, 0xFFFF0000u, v, _mm512_maskz_permutexvar_epi16(0xFFFFFFFFu, from2, v));
    // Zero-masked forms throughout: GCC 12 warns on the _mm512_undefined_*() pass-through of the
    // unmasked ones (and of the 512-to-256 casts) where they are inlined.
    lo = _mm512_maskz_cvtepu16_epi32(0xFFFF, _mm512_maskz_extracti64x4_epi64(0x0F, v, 0));
    hi = _mm512_maskz_cvtepu16_epi32(0xFFFF, _mm512_maskz_extracti64x4_epi64(0x0F, v, 1));
}

/// Pixels x .. x+n-1 (0 < n <= 16) of a row with masked loads and stores: out[x+1 ..] = prev +
/// carry + their prefix; returns the carry after them (broadcast).
FERX_INTEGRAL_TARGET_AVX512 inline __m512i integral_masked_step_avx512(const std::uint8_t* in, std::int32_t* out,
                                                                      const std::int32_t* prev, std::ptrdiff_t x,
                                                                      std::ptrdiff_t n, __m512i carry) {
    const __mmask16 m = static_cast<__mmask16>((1u << n) - 1u);
    const __m512i z = _mm512_setzero_si512();
    __m512i v = _mm512_maskz_cvtepu8_epi32(0xFFFF, _mm_maskz_loadu_epi8(m, in + x));
    v = _mm512_add_epi32(v, _mm512_maskz_alignr_epi32(0xFFFF, v, z, 15));
    v = _mm512_add_epi32(v, _mm512_maskz_alignr_epi32(0xFFFF, v, z, 14));
    v = _mm512_add_epi32(v, _mm512_maskz_alignr_epi32(0xFFFF, v, z, 12));
    v = _mm512_add_epi32(_mm512_add_epi32(v, _mm512_maskz_alignr_epi32(0xFFFF, v, z, 8)), carry);
    _mm512_mask_storeu_epi32(out + x + 1, m, _mm512_add_epi32(_mm512_maskz_loadu_epi32(m, prev + x + 1), v));
    return _mm512_maskz_permutexvar_epi32(0xFFFF, _mm512_set1_epi32(static_cast<int>(n - 1)), v);
}

/// AVX-512 kernel of u8 -> int32 (prev mode, no squares), one row at a time: a masked head up
/// to a 64-byte aligned output, 32 pixels per step (aligned stores: a 64-byte store at the
/// natural offset out + 1 would split a cache line every time), masked steps of up to 16 for
/// the tail; the carry is broadcast from lane 15. Other modes go to the AVX2 kernel. Measured
/// (Intel Xeon, Sapphire Rapids, one thread): docs/integral.md.
template <class T, class S, integral_mode SM, class Q, integral_mode QM>
FERX_INTEGRAL_TARGET_AVX512 void integral_rows_avx512(const integral_rows_job<T, S, Q>& j) {
    if constexpr (!(std::is_same<T, std::uint8_t>::value && std::is_same<S, std::int32_t>::value &&
                    SM == integral_mode::prev && QM == integral_mode::none)) {
        integral_rows_avx2<T, S, SM, Q, QM>(j);
    } else {
        const std::ptrdiff_t w = j.cols;
        const __m512i last = _mm512_set1_epi32(15);
        for (std::ptrdiff_t r = 0; r < j.rows; ++r) {
            const auto [in, out, prev, outq, prevq] = integral_begin_row<QM>(j, r);
            // A masked head up to the first 64-byte aligned output (out + 1 + x), so that no
            // 64-byte store splits a cache line; masked steps for the tail too.
            const auto addr = reinterpret_cast<std::uintptr_t>(out + 1);
            std::ptrdiff_t x = std::min<std::ptrdiff_t>(w, static_cast<std::ptrdiff_t>(((64 - addr % 64) % 64) / 4));
            __m512i c = _mm512_setzero_si512();
            if (x > 0) c = integral_masked_step_avx512(in, out, prev, 0, x, c);
            for (; x + 32 <= w; x += 32) {
                __m512i a0, a1;
                integral_prefix32_u8_avx512(in + x, a0, a1);
                const __m512i t = _mm512_maskz_permutexvar_epi32(0xFFFF, last, a1);
                a0 = _mm512_add_epi32(a0, c);
                a1 = _mm512_add_epi32(a1, c);
                c = _mm512_add_epi32(c, t);
                _mm512_store_si512(out + x + 1, _mm512_add_epi32(_mm512_loadu_si512(prev + x + 1), a0));
                _mm512_store_si512(out + x + 17, _mm512_add_epi32(_mm512_loadu_si512(prev + x + 17), a1));
            }
            for (; x < w; x += 16)  // the last 31 pixels at most
                c = integral_masked_step_avx512(in, out, prev, x, std::min<std::ptrdiff_t>(16, w - x), c);
            (void)outq;
            (void)prevq;
        }
    }
}
#endif  // FERX_INTEGRAL_AVX512

/// Runs the row kernel of the best available instruction set on a job.
template <class T, class S, integral_mode SM, class Q, integral_mode QM>
void integral_rows(const integral_rows_job<T, S, Q>& j) {
    switch (integral_isa_active()) {
#if defined(FERX_INTEGRAL_AVX512)
        case integral_isa::avx512:
            return integral_rows_avx512<T, S, SM, Q, QM>(j);
#endif
#if defined(FERX_INTEGRAL_AVX2)
        case integral_isa::avx2:
            return integral_rows_avx2<T, S, SM, Q, QM>(j);
#endif
#if defined(FERX_INTEGRAL_SSE2)
        case integral_isa::sse2:
            return integral_rows_sse2<T, S, SM, Q, QM>(j);
#endif
        default:
            return integral_rows_scalar<T, S, SM, Q, QM>(j);
    }
}

/// Adds the column sums of `rows` rows of an integer image to int32 colsum[0 .. w) (the caller
/// guarantees rows * max|pixel| fits int32), and the column sums of squares to colsq when not
/// null (8-bit pixels only, rows * 255^2 fitting int32).
template <class T>
void integral_colsums(const T* src, std::ptrdiff_t step, std::ptrdiff_t rows, std::ptrdiff_t w,
                      std::int32_t* colsum, std::int32_t* colsq) {
    const auto run = [&](auto sq) {
        constexpr bool SQ = decltype(sq)::value && std::is_same<T, std::uint8_t>::value;
        switch (integral_isa_active()) {
#if defined(FERX_INTEGRAL_AVX2)
            case integral_isa::avx512:  // no AVX-512 column sums: AVX2's
            case integral_isa::avx2:
                return integral_colsums_avx2<T, SQ>(src, step, rows, w, colsum, colsq);
#endif
#if defined(FERX_INTEGRAL_SSE2)
            case integral_isa::sse2:
                return integral_colsums_sse2<T, SQ>(src, step, rows, w, colsum, colsq);
#endif
            default:
                return integral_colsums_rest<T, SQ>(src, step, 0, rows, 0, w, colsum, colsq);
        }
    };
    if (colsq)
        run(std::true_type{});
    else
        run(std::false_type{});
}

}  // namespace detail

FERX_NAMESPACE_END
