/// \file ferx/detect/detail/cascade_simd.hpp
/// The first stages of a Haar stump cascade on 16 windows at once (AVX-512F,
/// chosen at run time), for the scan of ferx/detect/detect_multiscale.hpp.
///
/// Most windows of a frame are rejected by the first two or three stages, so
/// those stages are evaluated for 16 consecutive window positions of a row in
/// the lanes of a vector (positions x, x + step, ...: contiguous loads for step
/// 1, even lanes of two loads for step 2, gathers otherwise); windows still
/// alive after them continue one by one (run_stages_from). Every lane does the
/// scalar code's operations in the scalar code's order with explicitly rounded
/// vector instructions (no fused multiply-add can form), so each window gets
/// the same bits, and the scan applies OpenCV's skip rule (a window rejected by
/// the first stage skips the next position) afterwards, to the lanes' results:
/// the raw windows are exactly the scalar scan's. Define FERX_CASCADE_NO_SIMD
/// to keep the scalar scan.
#pragma once

#include <ferx/detect/cascade.hpp>
#include <ferx/detect/detail/cascade_eval.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <vector>

#if !defined(FERX_CASCADE_NO_SIMD) && (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define FERX_CASCADE_AVX512 1
#include <immintrin.h>
#endif

FERX_NAMESPACE_BEGIN

namespace detail {

/// Whether the vector stages may be used (tests turn them off to compare with
/// the scalar scan).
inline std::atomic<bool>& cascade_simd_allowed() {
    static std::atomic<bool> allowed{true};
    return allowed;
}

/// Stages evaluated in the vector lanes before the survivors go on one by one.
inline constexpr int cascade_simd_stages = 3;

#if defined(FERX_CASCADE_AVX512)

// Zero-masked forms (all lanes set) throughout: GCC 12 reports the
// _mm512_undefined_*() pass-through of the unmasked forms as uninitialised
// where they are inlined.
constexpr __mmask8 cascade_all8 = 0xFF;
constexpr __mmask16 cascade_all16 = 0xFFFF;

inline bool cascade_simd_active() {
    static const bool cpu = [] {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") != 0;
    }();
    return cpu && cascade_simd_allowed().load(std::memory_order_relaxed);
}

/// Lane masks of the first n of 16 windows, over the elements a load of 16
/// (from `first`) covers when windows are `step` apart.
__attribute__((target("avx512f"))) inline __mmask16 cascade_elem_mask(int n, int step, int first) {
    // Elements e (from `first`) that some window k < n reads: e = k * step -
    // first, 0 <= e < 16.
    unsigned m = 0;
    for (int k = 0; k < n; ++k) {
        const int e = k * step - first;
        if (e >= 0 && e < 16) m |= 1u << e;
    }
    return static_cast<__mmask16>(m);
}

/// The 16 windows' int32 values at offset `o` from each window's top-left sum
/// element.
struct cascade_lanes {
    const int* row;      ///< the window row's first sum element + x
    const double* qrow;  ///< the same in the squared sum
    int step;
    __mmask16 lanes;   ///< windows k < n
    __mmask16 m0, m1;  ///< step 2: elements of the two loads
    __m512i idx;       ///< step 2: even lanes of two loads; else k * step
};

__attribute__((target("avx512f"))) inline __m512i cascade_ints(const cascade_lanes& L, int o) {
    const int* b = L.row + o;
    if (L.step == 1) return _mm512_maskz_loadu_epi32(L.lanes, b);
    if (L.step == 2) {
        const __m512i lo = _mm512_maskz_loadu_epi32(L.m0, b), hi = _mm512_maskz_loadu_epi32(L.m1, b + 16);
        return _mm512_permutex2var_epi32(lo, L.idx, hi);
    }
    return _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), L.lanes, L.idx, b, 4);
}

/// The squared sums at offset `o` of windows 0..7 (half 0) or 8..15 (half 1).
__attribute__((target("avx512f"))) inline __m512d cascade_doubles(const cascade_lanes& L, int o, int half) {
    const __mmask8 m = static_cast<__mmask8>(L.lanes >> (8 * half));
    const double* b = L.qrow + o + 8 * half * L.step;
    if (L.step == 1) return _mm512_maskz_loadu_pd(m, b);
    const __m256i k = _mm512_maskz_extracti64x4_epi64(
        0x0F,
        _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 0, 0, 0, 0, 0, 0, 0, 0),
                           _mm512_set1_epi32(L.step)),
        0);
    return _mm512_mask_i32gather_pd(_mm512_setzero_pd(), m, k, b, 8);
}

/// ((a - b) - c) + d in int32 lanes: corner_sum.
__attribute__((target("avx512f"))) inline __m512i cascade_corner_sum(const cascade_lanes& L, const int* ofs) {
    return _mm512_add_epi32(
        _mm512_sub_epi32(_mm512_sub_epi32(cascade_ints(L, ofs[0]), cascade_ints(L, ofs[1])), cascade_ints(L, ofs[2])),
        cascade_ints(L, ofs[3]));
}

/// w * float(S) for one rectangle, rounded on its own.
__attribute__((target("avx512f"))) inline __m512 cascade_rect_term(const cascade_lanes& L, const int* ofs, float w) {
    constexpr int rn = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
    return _mm512_maskz_mul_round_ps(cascade_all16, _mm512_set1_ps(w),
                                     _mm512_maskz_cvtepi32_ps(cascade_all16, cascade_corner_sum(L, ofs)), rn);
}

/// Runs stages [0, S) of a stump cascade on windows x, x + step, ..., (n <= 16
/// of them) of the row at `prow` / `qrow`: res[k] = -1 (too flat), -si
/// (rejected by stage si < S) or 1 (alive after S stages; factor[k] is its
/// normalisation factor).
__attribute__((target("avx512f"))) inline void haar_first_stages_avx512(const haar_evaluator& ev, const cascade& c,
                                                                        const std::vector<haar_stump>& stumps,
                                                                        const int* prow, const double* qrow, int x,
                                                                        int step, int n, int S, int* res,
                                                                        float* factor) {
    constexpr int rn = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
    cascade_lanes L;
    L.row = prow + x;
    L.qrow = qrow + x;
    L.step = step;
    L.lanes = static_cast<__mmask16>(n >= 16 ? 0xFFFF : (1u << n) - 1u);
    L.m0 = L.m1 = 0;
    if (step == 2) {
        L.m0 = cascade_elem_mask(n, 2, 0);
        L.m1 = cascade_elem_mask(n, 2, 16);
        L.idx = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    } else {
        L.idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                   _mm512_set1_epi32(step));
    }
    // Variance normalisation (haar_norm_factor), in two halves of 8 doubles.
    const __m512i s = cascade_corner_sum(L, ev.norm);
    const __m512d area = _mm512_set1_pd(ev.norm_area);
    __m256 f[2];
    __mmask16 ok = 0;
    for (int h = 0; h < 2; ++h) {
        const __m512d q = _mm512_maskz_add_round_pd(
            cascade_all8,
            _mm512_maskz_sub_round_pd(cascade_all8,
                                      _mm512_maskz_sub_round_pd(cascade_all8, cascade_doubles(L, ev.norm[0], h),
                                                                cascade_doubles(L, ev.norm[1], h), rn),
                                      cascade_doubles(L, ev.norm[2], h), rn),
            cascade_doubles(L, ev.norm[3], h), rn);
        const __m512d sd =
            _mm512_maskz_cvtepi32_pd(cascade_all8, h == 0 ? _mm512_maskz_extracti64x4_epi64(0x0F, s, 0)
                                                          : _mm512_maskz_extracti64x4_epi64(0x0F, s, 1));
        const __m512d nf = _mm512_maskz_sub_round_pd(cascade_all8, _mm512_maskz_mul_round_pd(cascade_all8, area, q, rn),
                                                     _mm512_maskz_mul_round_pd(cascade_all8, sd, sd, rn), rn);
        const __mmask8 pos = _mm512_cmp_pd_mask(nf, _mm512_setzero_pd(), _CMP_GT_OQ);
        const __m512d inv = _mm512_maskz_div_round_pd(cascade_all8, _mm512_set1_pd(1.0),
                                                      _mm512_maskz_sqrt_round_pd(cascade_all8, nf, rn), rn);
        f[h] = _mm512_maskz_cvt_roundpd_ps(cascade_all8, inv, rn);
        const __mmask8 sharp = _mm512_cmp_pd_mask(
            _mm512_maskz_mul_round_pd(cascade_all8, area, _mm512_maskz_cvtps_pd(cascade_all8, f[h]), rn),
            _mm512_set1_pd(1e-1), _CMP_LT_OQ);
        ok = static_cast<__mmask16>(ok | (static_cast<unsigned>(pos & sharp) << (8 * h)));
    }
    const __m512 fac = _mm512_castpd_ps(
        _mm512_maskz_insertf64x4(0xFF, _mm512_castpd256_pd512(_mm256_castps_pd(f[0])), _mm256_castps_pd(f[1]), 1));
    _mm512_storeu_ps(factor, fac);
    for (int k = 0; k < 16; ++k) res[k] = (ok >> k) & 1u ? 1 : -1;
    __mmask16 alive = static_cast<__mmask16>(ok & L.lanes);
    const haar_stump* st = stumps.data();
    for (int si = 0; si < S && alive; ++si) {
        const cascade_stage& stage = c.stages[static_cast<std::size_t>(si)];
        __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd();
        for (int t = 0; t < stage.trees; ++t) {
            const haar_stump& u = st[t];
            __m512 v = _mm512_maskz_add_round_ps(cascade_all16, cascade_rect_term(L, u.f.ofs[0], u.f.w[0]),
                                                 cascade_rect_term(L, u.f.ofs[1], u.f.w[1]), rn);
            if (u.f.w[2] != 0.f)
                v = _mm512_maskz_add_round_ps(cascade_all16, v, cascade_rect_term(L, u.f.ofs[2], u.f.w[2]), rn);
            v = _mm512_maskz_mul_round_ps(cascade_all16, v, fac, rn);
            const __mmask16 below = _mm512_cmp_ps_mask(v, _mm512_set1_ps(u.threshold), _CMP_LT_OQ);
            const __m512 leaf = _mm512_mask_blend_ps(below, _mm512_set1_ps(u.leaf[1]), _mm512_set1_ps(u.leaf[0]));
            acc0 = _mm512_maskz_add_round_pd(
                cascade_all8, acc0,
                _mm512_maskz_cvtps_pd(cascade_all8,
                                      _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0x0F, _mm512_castps_pd(leaf), 0))),
                rn);
            acc1 = _mm512_maskz_add_round_pd(
                cascade_all8, acc1,
                _mm512_maskz_cvtps_pd(cascade_all8, _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(
                                                        0x0F, _mm512_castps_pd(leaf), 1))),
                rn);
        }
        const __m512d thr = _mm512_set1_pd(static_cast<double>(stage.threshold));
        const __mmask16 reject =
            static_cast<__mmask16>(_mm512_cmp_pd_mask(acc0, thr, _CMP_LT_OQ) |
                                   (static_cast<unsigned>(_mm512_cmp_pd_mask(acc1, thr, _CMP_LT_OQ)) << 8));
        const __mmask16 now = static_cast<__mmask16>(reject & alive);
        for (int k = 0; k < 16; ++k)
            if ((now >> k) & 1u) res[k] = -si;
        alive = static_cast<__mmask16>(alive & ~reject);
        st += stage.trees;
    }
}

#else
inline bool cascade_simd_active() { return false; }
#endif

}  // namespace detail

FERX_NAMESPACE_END
