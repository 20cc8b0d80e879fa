/// \file ferx/learn/kernels.hpp
/// SVM kernels as compile-time policies: the kernel type is a template parameter of
/// `ferx::fit_svc`, so the training and prediction loops inline it; its parameters are fields.
/// Definitions (those of cv::ml::SVM and LIBSVM), for feature rows a, b of length d:
///
///     linear        k = a.b
///     poly          k = (gamma a.b + coef0)^degree
///     rbf           k = exp(-gamma |a - b|^2)
///     sigmoid       k = tanh(gamma a.b + coef0)
///     chi2          k = exp(-gamma sum_k (a_k - b_k)^2 / (a_k + b_k))   (terms with a_k + b_k = 0 are 0)
///     intersection  k = sum_k min(a_k, b_k)
///
/// Kernels of a dot product (`uses_dot`) are evaluated as `from_dot(a.b, |a|^2, |b|^2)`, which
/// the CUDA backend batches as a GEMM; the others as `finish(sum_k term(a_k, b_k))`. chi2 and intersection are for histograms (LBP, LPQ):
/// their features must be non-negative (checked at fit and predict time).
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/error.hpp>
#include <ferx/learn/dataset.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>

FERX_NAMESPACE_BEGIN

namespace detail {
inline void check_gamma(double gamma, const char* where) {
    require(std::isfinite(gamma) && gamma > 0, where, "kernel gamma must be positive and finite");
}
}  // namespace detail

/// k = a.b
struct linear_kernel {
    static constexpr const char* name = "linear";
    static constexpr bool uses_dot = true;
    static constexpr bool needs_nonnegative = false;
    void check(const char*) const {}
    FERX_HOST_DEVICE double from_dot(double dot, double, double) const { return dot; }
};

/// k = (gamma a.b + coef0)^degree
struct poly_kernel {
    static constexpr const char* name = "poly";
    static constexpr bool uses_dot = true;
    static constexpr bool needs_nonnegative = false;
    double gamma = 1.0, coef0 = 0.0;
    int degree = 3;
    void check(const char* where) const {
        detail::check_gamma(gamma, where);
        detail::require(std::isfinite(coef0), where, "kernel coef0 must be finite");
        detail::require(degree >= 1 && degree <= 32, where, "poly kernel degree must be in 1..32");
    }
    FERX_HOST_DEVICE double from_dot(double dot, double, double) const {
        const double v = gamma * dot + coef0;
        double r = 1.0;
        for (int k = 0; k < degree; ++k) r *= v;
        return r;
    }
};

/// k = exp(-gamma |a - b|^2)
struct rbf_kernel {
    static constexpr const char* name = "rbf";
    static constexpr bool uses_dot = true;
    static constexpr bool needs_nonnegative = false;
    double gamma = 1.0;
    void check(const char* where) const { detail::check_gamma(gamma, where); }
    FERX_HOST_DEVICE double from_dot(double dot, double na, double nb) const {
        const double d2 = na + nb - 2.0 * dot;
        return exp(-gamma * (d2 > 0 ? d2 : 0.0));
    }
};

/// k = tanh(gamma a.b + coef0)
struct sigmoid_kernel {
    static constexpr const char* name = "sigmoid";
    static constexpr bool uses_dot = true;
    static constexpr bool needs_nonnegative = false;
    double gamma = 1.0, coef0 = 0.0;
    void check(const char* where) const {
        detail::check_gamma(gamma, where);
        detail::require(std::isfinite(coef0), where, "kernel coef0 must be finite");
    }
    FERX_HOST_DEVICE double from_dot(double dot, double, double) const { return tanh(gamma * dot + coef0); }
};

/// k = exp(-gamma sum (a_k - b_k)^2 / (a_k + b_k)), for non-negative histograms.
struct chi2_kernel {
    static constexpr const char* name = "chi2";
    static constexpr bool uses_dot = false;
    static constexpr bool needs_nonnegative = true;
    double gamma = 1.0;
    void check(const char* where) const { detail::check_gamma(gamma, where); }
    /// One feature's term of the sum, and the kernel of the sum: k = finish(sum_k term(a_k, b_k)).
    template <class T>
    FERX_HOST_DEVICE static T term(T a, T b) {
        const T sum = a + b, diff = a - b;
        return sum > 0 ? diff * diff / sum : T(0);
    }
    FERX_HOST_DEVICE double finish(double s) const { return exp(-gamma * s); }
};

/// k = sum min(a_k, b_k), for non-negative histograms.
struct intersection_kernel {
    static constexpr const char* name = "intersection";
    static constexpr bool uses_dot = false;
    static constexpr bool needs_nonnegative = true;
    void check(const char*) const {}
    template <class T>
    FERX_HOST_DEVICE static T term(T a, T b) { return a < b ? a : b; }
    FERX_HOST_DEVICE double finish(double s) const { return s; }
};

namespace detail {

/// k(a, b) of the kernels of a sum of per-feature terms (chi2, intersection).
template <class Kernel, class T>
FERX_HOST_DEVICE double sum_of_terms(const Kernel& k, const T* a, const T* b, std::size_t d) {
    T s = 0;
    for (std::size_t j = 0; j < d; ++j) s += Kernel::term(a[j], b[j]);
    return k.finish(static_cast<double>(s));
}

/// k(a, b) for any kernel; na, nb are |a|^2, |b|^2 (used by the dot-product kernels).
template <class Kernel, class T>
inline double kernel_value(const Kernel& k, const T* a, const T* b, std::size_t d, double na, double nb) {
    if constexpr (Kernel::uses_dot)
        return k.from_dot(static_cast<double>(dot(a, b, d)), na, nb);
    else
        return sum_of_terms(k, a, b, d);
}

/// Squared row norms of an [n, d] matrix (what the dot-product kernels need), as double.
template <class T>
std::vector<double> row_norms(const xt::xtensor<T, 2>& x) {
    const std::size_t n = x.shape(0), d = x.shape(1);
    std::vector<double> out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<double>(dot(x.data() + i * d, x.data() + i * d, d));
    return out;
}

template <class Kernel, class T>
void check_kernel_input(const xt::xtensor<T, 2>& x, const char* where) {
    if constexpr (Kernel::needs_nonnegative) {
        const T* p = x.data();
        for (std::size_t i = 0; i < x.size(); ++i)
            require(p[i] >= 0, where,
                    std::string("the ") + Kernel::name + " kernel needs non-negative features; row " +
                        std::to_string(i / x.shape(1)) + " has a negative one");
    }
}

}  // namespace detail

FERX_NAMESPACE_END
