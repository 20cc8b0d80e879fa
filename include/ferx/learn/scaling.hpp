/// \file ferx/learn/scaling.hpp
/// Feature scaling, fitted on training data only and applied to any data of the same width:
/// standard scaling (zero mean, unit variance per column), min-max scaling (each column to
/// [lo, hi]) and L2 row normalisation (stateless).
///
///     auto sc = ferx::fit_standard_scaler(x_train);
///     auto x_tr = ferx::transform(ferx::exec::par, sc, x_train);
///     auto x_te = ferx::transform(ferx::exec::par, sc, x_test);
///
/// Columns that are constant on the training set are left unscaled (scale 1), as scikit-learn does.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/learn/dataset.hpp>
#include <ferx/learn/model_io.hpp>

#include <cmath>
#include <cstddef>
#include <vector>

FERX_NAMESPACE_BEGIN

/// x' = (x - mean) / scale, per column.
struct standard_scaler {
    std::vector<double> mean;   ///< d column means
    std::vector<double> scale;  ///< d column standard deviations (1 for constant columns)
    std::size_t dim() const { return mean.size(); }
};

/// x' = lo + (x - min) * (hi - lo) / range, per column.
struct minmax_scaler {
    std::vector<double> min;    ///< d column minima on the training set
    std::vector<double> range;  ///< d column ranges max - min (1 for constant columns)
    double lo = 0.0, hi = 1.0;  ///< the target interval
    std::size_t dim() const { return min.size(); }
};

/// Fits a standard scaler on x [n, d] (population standard deviation).
template <class T>
standard_scaler fit_standard_scaler(const xt::xtensor<T, 2>& x) {
    detail::check_features(x, "ferx::fit_standard_scaler");
    const std::size_t n = x.shape(0), d = x.shape(1);
    standard_scaler s;
    s.mean.assign(d, 0.0);
    s.scale.assign(d, 0.0);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < d; ++j) s.mean[j] += static_cast<double>(x(i, j));
    for (auto& m : s.mean) m /= static_cast<double>(n);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < d; ++j) {
            const double v = static_cast<double>(x(i, j)) - s.mean[j];
            s.scale[j] += v * v;
        }
    for (auto& v : s.scale) {
        v = std::sqrt(v / static_cast<double>(n));
        if (!(v > 0)) v = 1.0;
    }
    return s;
}

/// Fits a min-max scaler to [lo, hi] on x [n, d].
template <class T>
minmax_scaler fit_minmax_scaler(const xt::xtensor<T, 2>& x, double lo = 0.0, double hi = 1.0) {
    constexpr const char* where = "ferx::fit_minmax_scaler";
    detail::check_features(x, where);
    detail::require(std::isfinite(lo) && std::isfinite(hi) && lo < hi, where, "needs finite lo < hi");
    const std::size_t n = x.shape(0), d = x.shape(1);
    minmax_scaler s;
    s.lo = lo;
    s.hi = hi;
    s.min.assign(d, 0.0);
    std::vector<double> max(d);
    for (std::size_t j = 0; j < d; ++j) s.min[j] = max[j] = static_cast<double>(x(0, j));
    for (std::size_t i = 1; i < n; ++i)
        for (std::size_t j = 0; j < d; ++j) {
            s.min[j] = std::min(s.min[j], static_cast<double>(x(i, j)));
            max[j] = std::max(max[j], static_cast<double>(x(i, j)));
        }
    s.range.resize(d);
    for (std::size_t j = 0; j < d; ++j) s.range[j] = max[j] > s.min[j] ? max[j] - s.min[j] : 1.0;
    return s;
}

namespace detail {
/// out(i, j) = (x(i, j) - offset[j]) * factor[j] + shift, over rows split by the policy.
template <class Policy, class T>
xt::xtensor<T, 2> affine_columns(const Policy& policy, const xt::xtensor<T, 2>& x, const std::vector<double>& offset,
                                 const std::vector<double>& factor, double shift, const char* where) {
    static_assert(is_host_policy_v<Policy>, "ferx::transform runs on the host: exec::seq or exec::par");
    check_predict_features(x, offset.size(), where);
    const std::size_t d = x.shape(1);
    xt::xtensor<T, 2> out(x.shape());
    for_each_range(policy, static_cast<std::ptrdiff_t>(x.shape(0)), 64, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
        for (std::ptrdiff_t i = lo; i < hi; ++i) {
            const T* src = x.data() + static_cast<std::size_t>(i) * d;
            T* dst = out.data() + static_cast<std::size_t>(i) * d;
            for (std::size_t j = 0; j < d; ++j)
                dst[j] = static_cast<T>((static_cast<double>(src[j]) - offset[j]) * factor[j] + shift);
        }
    });
    return out;
}
}  // namespace detail

/// Standard-scaled copy of x [n, d].
template <class Policy, class T>
xt::xtensor<T, 2> transform(const Policy& policy, const standard_scaler& s, const xt::xtensor<T, 2>& x) {
    std::vector<double> inv(s.scale.size());
    for (std::size_t j = 0; j < inv.size(); ++j) inv[j] = 1.0 / s.scale[j];
    return detail::affine_columns(policy, x, s.mean, inv, 0.0, "ferx::transform(standard_scaler)");
}

/// Min-max-scaled copy of x [n, d] (values outside the training range map outside [lo, hi]).
template <class Policy, class T>
xt::xtensor<T, 2> transform(const Policy& policy, const minmax_scaler& s, const xt::xtensor<T, 2>& x) {
    std::vector<double> f(s.range.size());
    for (std::size_t j = 0; j < f.size(); ++j) f[j] = (s.hi - s.lo) / s.range[j];
    return detail::affine_columns(policy, x, s.min, f, s.lo, "ferx::transform(minmax_scaler)");
}

/// Each row of x [n, d] divided by its L2 norm (rows of norm 0 stay 0).
template <class Policy, class T>
xt::xtensor<T, 2> l2_normalize(const Policy& policy, const xt::xtensor<T, 2>& x) {
    static_assert(is_host_policy_v<Policy>, "ferx::l2_normalize runs on the host: exec::seq or exec::par");
    detail::check_features(x, "ferx::l2_normalize");
    const std::size_t d = x.shape(1);
    xt::xtensor<T, 2> out(x.shape());
    detail::for_each_range(policy, static_cast<std::ptrdiff_t>(x.shape(0)), 64, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
        for (std::ptrdiff_t i = lo; i < hi; ++i) {
            const T* src = x.data() + static_cast<std::size_t>(i) * d;
            T* dst = out.data() + static_cast<std::size_t>(i) * d;
            const double norm = std::sqrt(static_cast<double>(detail::dot(src, src, d)));
            const double f = norm > 0 ? 1.0 / norm : 0.0;
            for (std::size_t j = 0; j < d; ++j) dst[j] = static_cast<T>(src[j] * f);
        }
    });
    return out;
}

/// Model files (ferx/learn/model_io.hpp): section "standard_scaler" (mean, scale) and
/// "minmax_scaler" (interval lo hi, min, range).
inline void write_section(model_writer& w, const standard_scaler& s) {
    std::ostream& o = w.begin_section("standard_scaler");
    detail::write_values(o, "mean", s.mean);
    detail::write_values(o, "scale", s.scale);
}
inline void read_section(model_reader& r, standard_scaler& s) {
    r.begin_section("standard_scaler");
    s.mean = r.numbers("mean");
    s.scale = r.numbers("scale");
    if (s.scale.size() != s.mean.size()) r.fail("mean and scale differ in length");
    for (double v : s.scale)
        if (!(v > 0)) r.fail("scale must be positive");
}
inline void write_section(model_writer& w, const minmax_scaler& s) {
    std::ostream& o = w.begin_section("minmax_scaler");
    o << "interval " << s.lo << ' ' << s.hi << '\n';
    detail::write_values(o, "min", s.min);
    detail::write_values(o, "range", s.range);
}
inline void read_section(model_reader& r, minmax_scaler& s) {
    r.begin_section("minmax_scaler");
    r.expect("interval");
    s.lo = r.number();
    s.hi = r.number();
    s.min = r.numbers("min");
    s.range = r.numbers("range");
    if (s.range.size() != s.min.size() || !(s.lo < s.hi)) r.fail("inconsistent min-max scaler");
}

FERX_NAMESPACE_END
