/// \file ferx/nn/gemm.hpp
/// Single-precision matrix product C = A . B on the CPU: the engine under convolution (after
/// im2col), Gemm and MatMul. ferx uses its own register-blocked kernel rather than the BLAS that
/// xtensor-blas links (OpenBLAS here) because
///   - `seq` must run on one thread, and OpenBLAS's pthread build starts its own threads unless a
///     process-wide setting is changed, which a header library must not do behind its user;
///   - every element is summed over k in the same order whatever the tiling, so `par` (which
///     splits columns and rows over the pool) equals `seq` bit for bit;
///   - the matrices of the FER CNNs are small (K <= 1152, M <= 256), where the blocking of a
///     general BLAS buys little (figures: gemm/* in benchmarks/bench_nn.cpp, docs/nn.md).
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/nn/activation.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#include <immintrin.h>
#endif

// Full unrolling of the register-tile loops (GCC; nvcc's front end, which also reads these
// headers in .cu files, does not know the pragma and would warn).
#define FERX_NN_PRAGMA(x) _Pragma(#x)
#if defined(__GNUC__) && !defined(__clang__) && !defined(__CUDACC__)
#define FERX_NN_UNROLL(n) FERX_NN_PRAGMA(GCC unroll n)
#else
#define FERX_NN_UNROLL(n)
#endif

FERX_NAMESPACE_BEGIN
namespace nn {
namespace detail {

/// Rows and columns of the register blocks: 4 x 8 accumulators for the portable kernel (they fit
/// the 16 SSE registers of x86-64), 4 x 16 (8 AVX registers) for the AVX2/FMA kernel. Work is
/// split only at multiples of these, so every element is computed by the same kernel (and in
/// the same order) whatever the split: `par` equals `seq` bit for bit.
inline constexpr std::int64_t gemm_mr = 4;
inline constexpr std::int64_t gemm_nr = 16;

/// What the kernel applies to each finished element of C: + row_bias[i] (row_bias may be null),
/// then max(0, .) when `relu` (a NaN stays NaN, as ONNX Relu).
struct gemm_epilogue {
    const float* row_bias = nullptr;
    bool relu = false;
};

/// Applies `ep` to rows [0, m) x columns [0, n) of C (the non-AVX-512 kernels do it after the
/// product, the AVX-512 one in registers; both give the same values).
inline void apply_epilogue(std::int64_t m, std::int64_t n, float* c, std::int64_t ldc, const gemm_epilogue& ep) {
    if (!ep.row_bias && !ep.relu) return;
    const unary_op post{ep.relu ? unary_kind::relu : unary_kind::identity};
    for (std::int64_t i = 0; i < m; ++i) apply_unary(post, c + i * ldc, c + i * ldc, n, 1.f, ep.row_bias ? ep.row_bias[i] : 0.f);
}

/// C[i, j] = sum_k A[i, k] B[k, j] for i in [0, m), j in [0, n) (row-major, leading dimensions
/// lda/ldb/ldc). Each element is accumulated in float in k order from zero, the same order in the
/// register block and in the edges, so any split of rows or columns gives identical results.
inline void gemm_portable(std::int64_t m, std::int64_t n, std::int64_t k, const float* a, std::int64_t lda,
                          const float* b, std::int64_t ldb, float* c, std::int64_t ldc) {
    constexpr std::int64_t MR = 4, NR = 8;
    std::int64_t i = 0;
    for (; i + MR <= m; i += MR) {
        const float* a0 = a + i * lda;
        std::int64_t j = 0;
        for (; j + NR <= n; j += NR) {
            float acc[MR][NR] = {};
            const float* bp = b + j;
            for (std::int64_t p = 0; p < k; ++p, bp += ldb) {
                for (std::int64_t r = 0; r < MR; ++r) {
                    const float av = a0[r * lda + p];
                    for (std::int64_t q = 0; q < NR; ++q) acc[r][q] += av * bp[q];
                }
            }
            for (std::int64_t r = 0; r < MR; ++r)
                for (std::int64_t q = 0; q < NR; ++q) c[(i + r) * ldc + j + q] = acc[r][q];
        }
        for (; j < n; ++j)
            for (std::int64_t r = 0; r < MR; ++r) {
                float acc = 0.f;
                for (std::int64_t p = 0; p < k; ++p) acc += a0[r * lda + p] * b[p * ldb + j];
                c[(i + r) * ldc + j] = acc;
            }
    }
    for (; i < m; ++i) {
        const float* ai = a + i * lda;
        std::int64_t j = 0;
        for (; j + NR <= n; j += NR) {
            float acc[NR] = {};
            const float* bp = b + j;
            for (std::int64_t p = 0; p < k; ++p, bp += ldb)
                for (std::int64_t q = 0; q < NR; ++q) acc[q] += ai[p] * bp[q];
            for (std::int64_t q = 0; q < NR; ++q) c[i * ldc + j + q] = acc[q];
        }
        for (; j < n; ++j) {
            float acc = 0.f;
            for (std::int64_t p = 0; p < k; ++p) acc += ai[p] * b[p * ldb + j];
            c[i * ldc + j] = acc;
        }
    }
}

/// The instruction sets the CPU kernels of ferx::nn choose from, in increasing order.
enum class cpu_isa { portable = 0, avx2 = 1, avx512 = 2 };

/// The best instruction set the kernels may use (default: the best there is). Tests lower it
/// to exercise every kernel on one machine; set it only while no kernel is running.
inline cpu_isa& cpu_isa_limit() {
    static cpu_isa limit = cpu_isa::avx512;
    return limit;
}

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
/// True where the CPU has AVX2 and FMA (checked once), and the limit allows them.
inline bool gemm_has_avx2() {
    static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return yes && cpu_isa_limit() >= cpu_isa::avx2;
}

/// The 4 x 16 blocks of C with AVX2 + FMA (rows [0, m - m % 4), columns [0, n - n % 16));
/// each element is one fused multiply-add chain over k in order.
__attribute__((target("avx2,fma"))) inline void gemm_avx2_blocks(std::int64_t m, std::int64_t n, std::int64_t k,
                                                                 const float* a, std::int64_t lda, const float* b,
                                                                 std::int64_t ldb, float* c, std::int64_t ldc) {
    for (std::int64_t j = 0; j + 16 <= n; j += 16)
        for (std::int64_t i = 0; i + 4 <= m; i += 4) {
            __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
            const float* a0 = a + i * lda;
            const float* bp = b + j;
            for (std::int64_t p = 0; p < k; ++p, bp += ldb) {
                const __m256 b0 = _mm256_loadu_ps(bp), b1 = _mm256_loadu_ps(bp + 8);
                __m256 av = _mm256_broadcast_ss(a0 + p);
                c00 = _mm256_fmadd_ps(av, b0, c00);
                c01 = _mm256_fmadd_ps(av, b1, c01);
                av = _mm256_broadcast_ss(a0 + lda + p);
                c10 = _mm256_fmadd_ps(av, b0, c10);
                c11 = _mm256_fmadd_ps(av, b1, c11);
                av = _mm256_broadcast_ss(a0 + 2 * lda + p);
                c20 = _mm256_fmadd_ps(av, b0, c20);
                c21 = _mm256_fmadd_ps(av, b1, c21);
                av = _mm256_broadcast_ss(a0 + 3 * lda + p);
                c30 = _mm256_fmadd_ps(av, b0, c30);
                c31 = _mm256_fmadd_ps(av, b1, c31);
            }
            float* cp = c + i * ldc + j;
            _mm256_storeu_ps(cp, c00);
            _mm256_storeu_ps(cp + 8, c01);
            _mm256_storeu_ps(cp + ldc, c10);
            _mm256_storeu_ps(cp + ldc + 8, c11);
            _mm256_storeu_ps(cp + 2 * ldc, c20);
            _mm256_storeu_ps(cp + 2 * ldc + 8, c21);
            _mm256_storeu_ps(cp + 3 * ldc, c30);
            _mm256_storeu_ps(cp + 3 * ldc + 8, c31);
        }
}
/// True where the CPU has AVX-512F (checked once), and the limit allows it.
inline bool gemm_has_avx512() {
    static const bool yes = __builtin_cpu_supports("avx512f");
    return yes && cpu_isa_limit() >= cpu_isa::avx512;
}

/// Rows and columns of the AVX-512 register tile, and the depth of one packed panel of B.
inline constexpr std::int64_t gemm512_mr = 8;
inline constexpr std::int64_t gemm512_nr = 32;
inline constexpr std::int64_t gemm512_kc = 128;

/// One MR x (16 * NV) tile of C over depth [0, kc) of B's rows `bp`, `ldbp` floats apart (a
/// packed panel or B itself): C = A . B (first panel, `accumulate` false) or
/// C += A . B (later panels, continuing each element's fused multiply-add chain in k order);
/// `m0`, `m1` mask the columns of C written; `ep` is applied when `last` (the final slice).
/// `Packed`: `bp` is a packed panel, zero past the edge, read with full loads (a masked load
/// costs a vector-ALU slot beside its load on Intel, one of the two that the FMAs need).
template <int MR, int NV, bool Packed>
__attribute__((target("avx512f"))) inline void gemm512_tile(std::int64_t kc, const float* a, std::int64_t lda,
                                                             const float* bp, std::int64_t ldbp, float* c,
                                                             std::int64_t ldc,
                                                             __mmask16 m0, __mmask16 m1, bool accumulate, bool last,
                                                             const gemm_epilogue& ep) {
    __m512 acc[MR][NV];
FERX_NN_UNROLL(8)
    for (int r = 0; r < MR; ++r) {
        acc[r][0] = accumulate ? _mm512_maskz_loadu_ps(m0, c + r * ldc) : _mm512_setzero_ps();
        if (NV == 2) acc[r][NV - 1] = accumulate ? _mm512_maskz_loadu_ps(m1, c + r * ldc + 16) : _mm512_setzero_ps();
    }
    for (std::int64_t p = 0; p < kc; ++p, bp += ldbp) {
        const __m512 b0 = Packed ? _mm512_load_ps(bp) : _mm512_maskz_loadu_ps(m0, bp);
        const __m512 b1 = NV == 2 ? (Packed ? _mm512_load_ps(bp + 16) : _mm512_maskz_loadu_ps(m1, bp + 16)) : b0;
FERX_NN_UNROLL(8)
        for (int r = 0; r < MR; ++r) {
            const __m512 av = _mm512_set1_ps(a[r * lda + p]);
            acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
            if (NV == 2) acc[r][NV - 1] = _mm512_fmadd_ps(av, b1, acc[r][NV - 1]);
        }
    }
    if (last && (ep.row_bias || ep.relu)) {
        const __m512 zero = _mm512_setzero_ps();
FERX_NN_UNROLL(8)
        for (int r = 0; r < MR; ++r)
            for (int v = 0; v < NV; ++v) {
                if (ep.row_bias) acc[r][v] = _mm512_add_ps(acc[r][v], _mm512_set1_ps(ep.row_bias[r]));
                if (ep.relu) acc[r][v] = _mm512_maskz_max_ps(0xFFFF, zero, acc[r][v]);
            }
    }
FERX_NN_UNROLL(8)
    for (int r = 0; r < MR; ++r) {
        _mm512_mask_storeu_ps(c + r * ldc, m0, acc[r][0]);
        if (NV == 2) _mm512_mask_storeu_ps(c + r * ldc + 16, m1, acc[r][NV - 1]);
    }
}

/// Rows [i, i + rows) of one tile (rows < 8 at the bottom edge of C).
template <int NV, bool Packed>
__attribute__((target("avx512f"))) inline void gemm512_rows(std::int64_t rows, std::int64_t kc, const float* a,
                                                             std::int64_t lda, const float* bp, std::int64_t ldbp,
                                                             float* c, std::int64_t ldc, __mmask16 m0,
                                                             __mmask16 m1, bool accumulate, bool last,
                                                             const gemm_epilogue& ep) {
    switch (rows) {
    case 8: return gemm512_tile<8, NV, Packed>(kc, a, lda, bp, ldbp, c, ldc, m0, m1, accumulate, last, ep);
    case 7: return gemm512_tile<7, NV, Packed>(kc, a, lda, bp, ldbp, c, ldc, m0, m1, accumulate, last, ep);
    case 6: return gemm512_tile<6, NV, Packed>(kc, a, lda, bp, ldbp, c, ldc, m0, m1, accumulate, last, ep);
    case 5: return gemm512_tile<5, NV, Packed>(kc, a, lda, bp, ldbp, c, ldc, m0, m1, accumulate, last, ep);
    case 4: return gemm512_tile<4, NV, Packed>(kc, a, lda, bp, ldbp, c, ldc, m0, m1, accumulate, last, ep);
    case 3: return gemm512_tile<3, NV, Packed>(kc, a, lda, bp, ldbp, c, ldc, m0, m1, accumulate, last, ep);
    case 2: return gemm512_tile<2, NV, Packed>(kc, a, lda, bp, ldbp, c, ldc, m0, m1, accumulate, last, ep);
    default: return gemm512_tile<1, NV, Packed>(kc, a, lda, bp, ldbp, c, ldc, m0, m1, accumulate, last, ep);
    }
}

/// C = A . B with AVX-512, in tiles of 8 rows x 32 columns. With more than two row tiles, each
/// 128-deep slice of a 32-column panel of B is first packed contiguously (so it stays in L1
/// whatever B's row stride) and every row tile is advanced over it; with one or two, the tiles
/// read B in place. Column and row edges use masked and shorter tiles, so every element of C is
/// one fused multiply-add chain over k in order, starting from zero: its value does not depend
/// on the path, nor on where a caller splits rows or columns.
__attribute__((target("avx512f"))) inline void gemm_avx512(std::int64_t m, std::int64_t n, std::int64_t k,
                                                            const float* a, std::int64_t lda, const float* b,
                                                            std::int64_t ldb, float* c, std::int64_t ldc,
                                                            const gemm_epilogue& ep) {
    if (k == 0) {
        for (std::int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.f);
        return apply_epilogue(m, n, c, ldc, ep);
    }
    const bool pack = m > 2 * gemm512_mr;
    alignas(64) float panel[gemm512_kc * gemm512_nr];
    for (std::int64_t j = 0; j < n; j += gemm512_nr) {
        const std::int64_t cols = std::min(gemm512_nr, n - j);
        const __mmask16 m0 = static_cast<__mmask16>(cols >= 16 ? 0xFFFF : (1u << cols) - 1u);
        const __mmask16 m1 = static_cast<__mmask16>(cols >= 32 ? 0xFFFF : cols > 16 ? (1u << (cols - 16)) - 1u : 0u);
        const std::int64_t kstep = pack ? gemm512_kc : k;
        for (std::int64_t k0 = 0; k0 < k; k0 += kstep) {
            const std::int64_t kc = std::min(kstep, k - k0);
            const float* bs = b + k0 * ldb + j;
            std::int64_t ldbp = ldb;
            if (pack) {
                for (std::int64_t p = 0; p < kc; ++p) {
                    _mm512_store_ps(panel + p * gemm512_nr, _mm512_maskz_loadu_ps(m0, bs + p * ldb));
                    _mm512_store_ps(panel + p * gemm512_nr + 16, _mm512_maskz_loadu_ps(m1, bs + p * ldb + 16));
                }
                bs = panel;
                ldbp = gemm512_nr;
            }
            for (std::int64_t i = 0; i < m; i += gemm512_mr) {
                const std::int64_t rows = std::min(gemm512_mr, m - i);
                const float* ai = a + i * lda + k0;
                float* ci = c + i * ldc + j;
                const bool last = k0 + kc == k;
                const gemm_epilogue epi{ep.row_bias ? ep.row_bias + i : nullptr, ep.relu};
                if (pack) {
                    if (cols > 16) gemm512_rows<2, true>(rows, kc, ai, lda, bs, ldbp, ci, ldc, m0, m1, k0 > 0, last, epi);
                    else gemm512_rows<1, true>(rows, kc, ai, lda, bs, ldbp, ci, ldc, m0, m1, k0 > 0, last, epi);
                } else {
                    if (cols > 16) gemm512_rows<2, false>(rows, kc, ai, lda, bs, ldbp, ci, ldc, m0, m1, k0 > 0, last, epi);
                    else gemm512_rows<1, false>(rows, kc, ai, lda, bs, ldbp, ci, ldc, m0, m1, k0 > 0, last, epi);
                }
            }
        }
    }
}
#else
inline bool gemm_has_avx512() { return false; }
inline void gemm_avx512(std::int64_t, std::int64_t, std::int64_t, const float*, std::int64_t, const float*,
                        std::int64_t, float*, std::int64_t, const gemm_epilogue&) {}
inline bool gemm_has_avx2() { return false; }
inline void gemm_avx2_blocks(std::int64_t, std::int64_t, std::int64_t, const float*, std::int64_t, const float*,
                             std::int64_t, float*, std::int64_t) {}
#endif

/// C = A . B (see gemm_portable): the AVX-512 kernel where the CPU has it, else the AVX2/FMA
/// blocks where the CPU has them, the portable
/// kernel for the edges (rows past the last multiple of 4, columns past the last multiple of 16)
/// and on other CPUs. Whichever kernel computes an element depends only on its position
/// relative to the start of the call's rows and columns.
inline void gemm_kernel(std::int64_t m, std::int64_t n, std::int64_t k, const float* a, std::int64_t lda,
                        const float* b, std::int64_t ldb, float* c, std::int64_t ldc, const gemm_epilogue& ep = {}) {
    if (gemm_has_avx512()) return gemm_avx512(m, n, k, a, lda, b, ldb, c, ldc, ep);
    if (!gemm_has_avx2()) {
        gemm_portable(m, n, k, a, lda, b, ldb, c, ldc);
        return apply_epilogue(m, n, c, ldc, ep);
    }
    const std::int64_t m4 = m - m % gemm_mr, n16 = n - n % gemm_nr;
    gemm_avx2_blocks(m4, n16, k, a, lda, b, ldb, c, ldc);
    if (n16 < n) gemm_portable(m4, n - n16, k, a, lda, b + n16, ldb, c + n16, ldc);
    if (m4 < m) gemm_portable(m - m4, n, k, a + m4 * lda, lda, b, ldb, c + m4 * ldc, ldc);
    apply_epilogue(m, n, c, ldc, ep);
}

}  // namespace detail

/// C [m x n] = A [m x k] . B [k x n], row-major with leading dimensions lda, ldb, ldc (floats).
/// `seq` runs on the calling thread; `par` splits columns (in multiples of the register block)
/// or, for narrow products, rows over the pool. Both give identical results.
template <class Policy>
void gemm(const Policy& policy, std::int64_t m, std::int64_t n, std::int64_t k, const float* a, std::int64_t lda,
          const float* b, std::int64_t ldb, float* c, std::int64_t ldc) {
    static_assert(is_host_policy_v<Policy>, "ferx::nn::gemm: host policies only (exec::seq, exec::par)");
    const std::size_t threads = ferx::detail::concurrency(policy);
    if (threads == 1 || m * n * k < 32768) return detail::gemm_kernel(m, n, k, a, lda, b, ldb, c, ldc);
    const std::int64_t col_blocks = (n + detail::gemm_nr - 1) / detail::gemm_nr;
    if (col_blocks >= static_cast<std::int64_t>(threads)) {
        ferx::detail::for_each_range(policy, col_blocks, 1, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
            const std::int64_t j0 = lo * detail::gemm_nr, j1 = std::min<std::int64_t>(n, hi * detail::gemm_nr);
            detail::gemm_kernel(m, j1 - j0, k, a, lda, b + j0, ldb, c + j0, ldc);
        });
    } else {
        const std::int64_t row_blocks = (m + detail::gemm_mr - 1) / detail::gemm_mr;
        ferx::detail::for_each_range(policy, row_blocks, 1, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
            const std::int64_t i0 = lo * detail::gemm_mr, i1 = std::min<std::int64_t>(m, hi * detail::gemm_mr);
            detail::gemm_kernel(i1 - i0, n, k, a + i0 * lda, lda, b, ldb, c + i0 * ldc, ldc);
        });
    }
}

}  // namespace nn
FERX_NAMESPACE_END
