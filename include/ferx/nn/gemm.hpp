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

#include <algorithm>
#include <cstddef>
#include <cstdint>

FERX_NAMESPACE_BEGIN
namespace nn {
namespace detail {

/// Rows and columns of the register block: 4 x 8 accumulators fit the 16 SSE registers of
/// x86-64 without spilling.
inline constexpr std::int64_t gemm_mr = 4;
inline constexpr std::int64_t gemm_nr = 8;

/// C[i, j] = sum_k A[i, k] B[k, j] for i in [0, m), j in [0, n) (row-major, leading dimensions
/// lda/ldb/ldc). Each element is accumulated in float in k order from zero, the same order in the
/// register block and in the edges, so any split of rows or columns gives identical results.
inline void gemm_kernel(std::int64_t m, std::int64_t n, std::int64_t k, const float* a, std::int64_t lda,
                        const float* b, std::int64_t ldb, float* c, std::int64_t ldc) {
    constexpr std::int64_t MR = gemm_mr, NR = gemm_nr;
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
