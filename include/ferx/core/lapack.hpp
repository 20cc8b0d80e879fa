/// \file ferx/core/lapack.hpp
/// The two dense routines ferx's own code needs from BLAS/LAPACK (a symmetric rank-k update and a
/// symmetric eigen-decomposition), declared against the Fortran interface that every BLAS/LAPACK
/// build exports (OpenBLAS, the reference libraries, MKL). xtensor-blas links these libraries; ferx
/// declares the two symbols itself instead of including xtensor-blas's ~1,300 FLENS headers, which
/// cost about 2.5 s of compile time in every translation unit that reached them. User code that
/// wants the whole of xtensor-blas includes ferx/core/linalg.hpp.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/error.hpp>

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

// Fortran BLAS/LAPACK symbols (column-major; every argument by pointer; the trailing size_t
// arguments are the hidden lengths of the character arguments, as gfortran passes them).
extern "C" {
void dsyrk_(const char* uplo, const char* trans, const int* n, const int* k, const double* alpha, const double* a,
            const int* lda, const double* beta, double* c, const int* ldc, std::size_t uplo_len, std::size_t trans_len);
void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w, double* work,
             const int* lwork, int* iwork, const int* liwork, int* info, std::size_t jobz_len, std::size_t uplo_len);
}

FERX_NAMESPACE_BEGIN
namespace detail {

/// The Gram matrix g = x' x of a row-major x [n, d] (n, d >= 1): g [d, d] row-major, both
/// triangles filled. One BLAS dsyrk call.
inline std::vector<double> gram_matrix(const double* x, std::size_t n, std::size_t d) {
    // Row-major x [n, d] is column-major x' [d, n]: g = (x')(x')' is dsyrk with trans = 'N'.
    const int nn = static_cast<int>(d), kk = static_cast<int>(n), lda = static_cast<int>(d), ldc = static_cast<int>(d);
    const double alpha = 1.0, beta = 0.0;
    std::vector<double> g(d * d, 0.0);
    dsyrk_("U", "N", &nn, &kk, &alpha, x, &lda, &beta, g.data(), &ldc, 1, 1);
    // Column-major upper = row-major lower; mirror it to the other triangle.
    for (std::size_t i = 0; i < d; ++i)
        for (std::size_t j = 0; j < i; ++j) g[j * d + i] = g[i * d + j];
    return g;
}

/// Eigen-decomposition of a symmetric s [d, d] (row-major, both triangles): eigenvalues ascending in
/// `values`; `s` is overwritten so that row c holds the unit eigenvector of values[c]. LAPACK dsyevd.
inline void symmetric_eigen(std::vector<double>& s, std::size_t d, std::vector<double>& values, const char* where) {
    const int n = static_cast<int>(d), lda = static_cast<int>(d);
    values.assign(d, 0.0);
    int info = 0, lwork = -1, liwork = -1, iwork_query = 0;
    double work_query = 0;
    dsyevd_("V", "U", &n, s.data(), &lda, values.data(), &work_query, &lwork, &iwork_query, &liwork, &info, 1, 1);
    if (info != 0) throw error(where, "LAPACK dsyevd workspace query failed (info " + std::to_string(info) + ")");
    lwork = std::max(1, static_cast<int>(work_query));
    liwork = std::max(1, iwork_query);
    std::vector<double> work(static_cast<std::size_t>(lwork));
    std::vector<int> iwork(static_cast<std::size_t>(liwork));
    dsyevd_("V", "U", &n, s.data(), &lda, values.data(), work.data(), &lwork, iwork.data(), &liwork, &info, 1, 1);
    if (info != 0)
        throw error(where, "LAPACK dsyevd did not converge (info " + std::to_string(info) +
                               "); are there NaNs or infinities in the data?");
    // Column-major eigenvectors in columns = row-major eigenvectors in rows: nothing to move.
}

}  // namespace detail
FERX_NAMESPACE_END
