/// \file ferx/learn/pca.hpp
/// Principal component analysis, fitted on training data: the top-k eigenvectors of the sample
/// covariance (BLAS dsyrk for the covariance, LAPACK dsyevd for its eigenvectors), optional whitening.
///
///     auto p = ferx::fit_pca(x_train, 50, /*whiten=*/true);
///     auto z = ferx::transform(ferx::exec::par, p, x_test);   // [n, 50]
///
/// Component signs are fixed so that each component's largest-magnitude entry is positive.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/lapack.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/learn/dataset.hpp>
#include <ferx/learn/model_io.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN

/// z = (x - mean) . components' (divided by sqrt(explained_variance) when whitening).
struct pca_model {
    std::vector<double> mean;                ///< d
    xt::xtensor<double, 2> components;       ///< [k, d], orthonormal rows, by decreasing variance
    std::vector<double> explained_variance;  ///< k eigenvalues of the covariance (n - 1 normalised)
    bool whiten = false;
    std::size_t dim() const { return mean.size(); }
    std::size_t n_components() const { return components.shape(0); }
};

/// Fits a PCA with k components (1 <= k <= d) on x [n, d], n >= 2.
template <class T>
pca_model fit_pca(const xt::xtensor<T, 2>& x, std::size_t k, bool whiten = false) {
    constexpr const char* where = "ferx::fit_pca";
    detail::check_features(x, where);
    const std::size_t n = x.shape(0), d = x.shape(1);
    detail::require(n >= 2, where, "needs at least two samples");
    detail::require(k >= 1 && k <= d, where, "k = " + std::to_string(k) + " must be in 1.." + std::to_string(d));
    pca_model p;
    p.whiten = whiten;
    p.mean.assign(d, 0.0);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < d; ++j) p.mean[j] += static_cast<double>(x(i, j));
    for (auto& m : p.mean) m /= static_cast<double>(n);
    std::vector<double> xc(n * d);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < d; ++j) xc[i * d + j] = static_cast<double>(x(i, j)) - p.mean[j];
    std::vector<double> cov = detail::gram_matrix(xc.data(), n, d);
    for (double& c : cov) c /= static_cast<double>(n - 1);
    std::vector<double> values;
    detail::symmetric_eigen(cov, d, values, where);  // ascending; row c of cov is eigenvector c
    p.components = xt::xtensor<double, 2>({k, d});
    p.explained_variance.resize(k);
    for (std::size_t c = 0; c < k; ++c) {
        const double* v = cov.data() + (d - 1 - c) * d;
        p.explained_variance[c] = std::max(0.0, values[d - 1 - c]);
        double big = 0;
        for (std::size_t j = 0; j < d; ++j)
            if (std::abs(v[j]) > std::abs(big)) big = v[j];
        const double sign = big < 0 ? -1.0 : 1.0;
        for (std::size_t j = 0; j < d; ++j) p.components(c, j) = sign * v[j];
    }
    if (whiten)
        for (std::size_t c = 0; c < k; ++c)
            detail::require(p.explained_variance[c] > 0, where,
                            "cannot whiten: component " + std::to_string(c) + " has zero variance (lower k)");
    return p;
}

/// Projects x [n, d] onto the components: [n, k].
template <class Policy, class T>
xt::xtensor<T, 2> transform(const Policy& policy, const pca_model& p, const xt::xtensor<T, 2>& x) {
    static_assert(is_host_policy_v<Policy>, "ferx::transform(pca_model) runs on the host: exec::seq or exec::par");
    detail::check_predict_features(x, p.dim(), "ferx::transform(pca_model)");
    const std::size_t n = x.shape(0), d = p.dim(), k = p.n_components();
    xt::xtensor<T, 2> out({n, k});
    detail::for_each_range(policy, static_cast<std::ptrdiff_t>(n), 16, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
        std::vector<double> centred(d);
        for (std::ptrdiff_t ii = lo; ii < hi; ++ii) {
            const std::size_t i = static_cast<std::size_t>(ii);
            for (std::size_t j = 0; j < d; ++j) centred[j] = static_cast<double>(x(i, j)) - p.mean[j];
            for (std::size_t c = 0; c < k; ++c) {
                double v = detail::dot(p.components.data() + c * d, centred.data(), d);
                if (p.whiten) v /= std::sqrt(p.explained_variance[c]);
                out(i, c) = static_cast<T>(v);
            }
        }
    });
    return out;
}

/// Model files (ferx/learn/model_io.hpp): section "pca" (whiten, mean, explained_variance,
/// components k d and k rows of d values).
inline void write_section(model_writer& w, const pca_model& p) {
    std::ostream& o = w.begin_section("pca");
    o << "whiten " << (p.whiten ? 1 : 0) << '\n';
    detail::write_values(o, "mean", p.mean);
    detail::write_values(o, "explained_variance", p.explained_variance);
    o << "components " << p.components.shape(0) << ' ' << p.components.shape(1) << '\n';
    for (std::size_t c = 0; c < p.components.shape(0); ++c)
        detail::write_values(o, " ", p.components.data() + c * p.dim(), p.dim());
}
inline void read_section(model_reader& r, pca_model& p) {
    r.begin_section("pca");
    r.expect("whiten");
    p.whiten = r.integer() != 0;
    p.mean = r.numbers("mean");
    p.explained_variance = r.numbers("explained_variance");
    r.expect("components");
    const std::size_t k = r.count(), d = r.count();
    if (d != p.mean.size() || k != p.explained_variance.size() || k == 0) r.fail("inconsistent PCA shapes");
    p.components = xt::xtensor<double, 2>({k, d});
    for (auto& v : p.components) v = r.number();
}

FERX_NAMESPACE_END
