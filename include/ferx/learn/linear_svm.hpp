/// \file ferx/learn/linear_svm.hpp
/// Linear SVMs trained by dual coordinate descent (Hsieh et al. 2008, the LIBLINEAR method):
/// L2-regularised, with the squared hinge (L2) loss or the hinge (L1) loss, a bias term,
/// class weights, and shrinking. For a binary task with labels y_i = +-1 it minimises
///
///     1/2 |w|^2 + sum_i C_i xi_i        (hinge:         xi_i = max(0, 1 - y_i w.x'_i))
///     1/2 |w|^2 + sum_i C_i xi_i^2      (squared hinge, the default)
///
/// where x'_i is x_i with the constant `bias` appended (so the bias weight is regularised, as in
/// LIBLINEAR) and C_i = C * class_weight[class of i]. Multiclass: one-vs-rest (default) or
/// one-vs-one, see ferx/learn/dataset.hpp.
///
///     auto model = ferx::fit_linear_svm(ferx::exec::par, x_train, y_train, {});
///     auto labels = ferx::predict(ferx::exec::par, model, x_test);
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/progress.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/learn/dataset.hpp>
#include <ferx/learn/model_io.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <mutex>
#include <random>
#include <vector>

FERX_NAMESPACE_BEGIN

enum class linear_loss {
    squared_hinge,  ///< L2 loss (LIBLINEAR -s 1)
    hinge           ///< L1 loss (LIBLINEAR -s 3)
};

/// Parameters of `fit_linear_svm`, with LIBLINEAR's defaults.
struct linear_svm_params {
    linear_loss loss = linear_loss::squared_hinge;
    double C = 1.0;                       ///< penalty of the loss, > 0
    double tol = 0.1;                     ///< stop when the projected-gradient spread <= tol
    double bias = 1.0;                    ///< the appended constant feature; <= 0: no bias term
    int max_iter = 1000;                  ///< passes over the data, at most
    bool shrinking = true;                ///< skip variables stuck at a bound
    multiclass strategy = multiclass::one_vs_rest;
    std::vector<double> class_weight;     ///< empty, or one factor of C per class
    std::uint64_t seed = 1;               ///< of the random visiting order
    progress_callback progress;           ///< optional
};

/// A fitted linear SVM: for each binary task p, decision(x) = w(p, :d).x + w(p, d) * bias.
struct linear_svm_model {
    std::size_t dim = 0;                  ///< d, the feature dimension
    int n_classes = 0;
    multiclass strategy = multiclass::one_vs_rest;
    double bias = 1.0;                    ///< the constant appended to x (0: none)
    std::vector<binary_task> tasks;       ///< P binary tasks
    xt::xtensor<double, 2> w;             ///< [P, d + 1]: weights, then the bias weight
};

namespace detail {

/// The result of one binary dual coordinate descent.
struct dcd_result {
    std::vector<double> w;  ///< d + 1 (last: bias weight)
    std::vector<double> alpha;
    int iterations = 0;
    double dual_objective = 0;  ///< 1/2 |w|^2 + sum D_ii alpha_i^2 / 2 - sum alpha_i (minimised)
};

/// Dual coordinate descent on the rows `rows` of x with labels `y` (+1/-1) and per-sample
/// penalties `c`.
template <class T>
dcd_result dual_coordinate_descent(const xt::xtensor<T, 2>& x, const std::vector<std::size_t>& rows,
                                   const std::vector<signed char>& y, const std::vector<double>& c,
                                   const linear_svm_params& prm) {
    const std::size_t l = rows.size(), d = x.shape(1);
    const double bias = prm.bias > 0 ? prm.bias : 0.0;
    const bool l1 = prm.loss == linear_loss::hinge;
    const double inf = std::numeric_limits<double>::infinity();
    dcd_result r;
    r.w.assign(d + 1, 0.0);
    r.alpha.assign(l, 0.0);
    std::vector<double> qd(l), upper(l), diag(l);
    for (std::size_t s = 0; s < l; ++s) {
        const T* xi = x.data() + rows[s] * d;
        diag[s] = l1 ? 0.0 : 0.5 / c[s];
        upper[s] = l1 ? c[s] : inf;
        qd[s] = diag[s] + static_cast<double>(dot(xi, xi, d)) + bias * bias;
    }
    std::vector<std::size_t> order(l);
    for (std::size_t s = 0; s < l; ++s) order[s] = s;
    std::mt19937_64 rng(prm.seed);
    std::size_t active = l;
    double pg_max_old = inf, pg_min_old = -inf;
    double* w = r.w.data();
    int iter = 0;
    while (iter < prm.max_iter) {
        double pg_max = -inf, pg_min = inf;
        for (std::size_t s = 0; s + 1 < active; ++s)
            std::swap(order[s], order[s + std::uniform_int_distribution<std::size_t>(0, active - 1 - s)(rng)]);
        for (std::size_t s = 0; s < active; ++s) {
            const std::size_t i = order[s];
            const T* xi = x.data() + rows[i] * d;
            const double yi = y[i];
            double& a = r.alpha[i];
            const double g = yi * (dot(xi, w, d) + w[d] * bias) - 1.0 + diag[i] * a;
            double pg = 0;
            if (a == 0) {
                if (prm.shrinking && g > pg_max_old) {
                    std::swap(order[s], order[--active]);
                    --s;
                    continue;
                }
                if (g < 0) pg = g;
            } else if (a == upper[i]) {
                if (prm.shrinking && g < pg_min_old) {
                    std::swap(order[s], order[--active]);
                    --s;
                    continue;
                }
                if (g > 0) pg = g;
            } else {
                pg = g;
            }
            pg_max = std::max(pg_max, pg);
            pg_min = std::min(pg_min, pg);
            if (std::abs(pg) > 1e-12) {
                const double old = a;
                a = std::min(std::max(a - g / qd[i], 0.0), upper[i]);
                const double step = (a - old) * yi;
                for (std::size_t k = 0; k < d; ++k) w[k] += step * static_cast<double>(xi[k]);
                w[d] += step * bias;
            }
        }
        ++iter;
        if (pg_max - pg_min <= prm.tol) {
            if (active == l) break;
            active = l;  // converged on the shrunk set: check every variable once more
            pg_max_old = inf;
            pg_min_old = -inf;
            continue;
        }
        pg_max_old = pg_max <= 0 ? inf : pg_max;
        pg_min_old = pg_min >= 0 ? -inf : pg_min;
    }
    r.iterations = iter;
    double obj = 0;
    for (std::size_t k = 0; k <= d; ++k) obj += w[k] * w[k];
    obj *= 0.5;
    for (std::size_t s = 0; s < l; ++s) obj += 0.5 * diag[s] * r.alpha[s] * r.alpha[s] - r.alpha[s];
    r.dual_objective = obj;
    return r;
}

}  // namespace detail

/// Primal objective of a binary linear SVM (w: d + 1 weights, last the bias weight) on rows of
/// x with labels +-1 and penalties c: what dual coordinate descent minimises.
template <class T>
double linear_svm_primal_objective(const std::vector<double>& w, const xt::xtensor<T, 2>& x,
                                   const std::vector<std::size_t>& rows, const std::vector<signed char>& y,
                                   const std::vector<double>& c, linear_loss loss, double bias) {
    const std::size_t d = x.shape(1);
    double obj = 0;
    for (double v : w) obj += v * v;
    obj *= 0.5;
    for (std::size_t s = 0; s < rows.size(); ++s) {
        const double m = 1.0 - y[s] * (detail::dot(x.data() + rows[s] * d, w.data(), d) + w[d] * (bias > 0 ? bias : 0.0));
        if (m > 0) obj += c[s] * (loss == linear_loss::hinge ? m : m * m);
    }
    return obj;
}

/// Fits a linear SVM on x [n, d] with labels y (0..K-1). `par` fits the binary tasks in
/// parallel (same models as `seq`). A task whose class has no training sample (a class absent
/// from a fold) gets the constant decision of the class present (+-1; 0 without a bias term).
template <class Policy, class T>
linear_svm_model fit_linear_svm(const Policy& policy, const xt::xtensor<T, 2>& x, const label_vector& y,
                                const linear_svm_params& prm = {}) {
    static_assert(is_host_policy_v<Policy>, "ferx::fit_linear_svm runs on the host: exec::seq or exec::par");
    constexpr const char* where = "ferx::fit_linear_svm";
    const int k = detail::check_training_set(x, y, where);
    detail::require(std::isfinite(prm.C) && prm.C > 0, where, "C must be positive and finite");
    detail::require(std::isfinite(prm.tol) && prm.tol > 0, where, "tol must be positive");
    detail::require(std::isfinite(prm.bias), where, "bias must be finite");
    detail::require(prm.max_iter > 0, where, "max_iter must be positive");
    detail::check_class_weights(prm.class_weight, k, where);
    linear_svm_model m;
    m.dim = x.shape(1);
    m.n_classes = k;
    m.strategy = prm.strategy;
    m.bias = prm.bias > 0 ? prm.bias : 0.0;
    m.tasks = detail::binary_tasks(k, prm.strategy);
    const std::size_t p_count = m.tasks.size(), d = m.dim;
    m.w = xt::xtensor<double, 2>({p_count, d + 1}, 0.0);
    detail::progress_reporter report(prm.progress, p_count);
    detail::for_each_range(policy, static_cast<std::ptrdiff_t>(p_count), 1, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
        std::vector<std::size_t> rows;
        std::vector<signed char> sign;
        std::vector<double> c;
        for (std::ptrdiff_t p = lo; p < hi; ++p) {
            detail::task_problem(y, m.tasks[static_cast<std::size_t>(p)], prm, rows, sign, c);
            double* w = m.w.data() + static_cast<std::size_t>(p) * (d + 1);
            if (const int side = detail::one_sided(sign)) {
                // One class absent: a constant decision of its sign (0 without a bias term).
                if (m.bias > 0) w[d] = side / m.bias;
            } else {
                const auto r = detail::dual_coordinate_descent(x, rows, sign, c, prm);
                std::copy(r.w.begin(), r.w.end(), w);
            }
            report();
        }
    });
    return m;
}

/// Decision values [n, P] of the model's binary tasks on x [n, d].
template <class Policy, class T>
xt::xtensor<double, 2> decision_function(const Policy& policy, const linear_svm_model& m, const xt::xtensor<T, 2>& x) {
    static_assert(is_host_policy_v<Policy>, "ferx::decision_function(linear_svm_model) runs on the host");
    detail::check_predict_features(x, m.dim, "ferx::decision_function");
    const std::size_t n = x.shape(0), d = m.dim, p_count = m.tasks.size();
    xt::xtensor<double, 2> out({n, p_count});
    detail::for_each_range(policy, static_cast<std::ptrdiff_t>(n), 64, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
        for (std::ptrdiff_t i = lo; i < hi; ++i)
            for (std::size_t p = 0; p < p_count; ++p) {
                const double* w = m.w.data() + p * (d + 1);
                out(static_cast<std::size_t>(i), p) =
                    detail::dot(x.data() + static_cast<std::size_t>(i) * d, w, d) + w[d] * m.bias;
            }
    });
    return out;
}

/// Predicted labels of x [n, d].
template <class Policy, class T>
label_vector predict(const Policy& policy, const linear_svm_model& m, const xt::xtensor<T, 2>& x) {
    return labels_from_decisions(decision_function(policy, m, x), m.tasks, m.n_classes);
}

/// Model files (ferx/learn/model_io.hpp): section "linear_svm" (dim, n_classes, strategy, bias,
/// tasks, weights P d+1 and P rows).
inline void write_section(model_writer& w, const linear_svm_model& m) {
    std::ostream& o = w.begin_section("linear_svm");
    o << "dim " << m.dim << "\nn_classes " << m.n_classes << "\nstrategy " << detail::strategy_name(m.strategy)
      << "\nbias " << m.bias << '\n';
    detail::write_tasks(o, m.tasks);
    o << "weights " << m.w.shape(0) << ' ' << m.w.shape(1) << '\n';
    for (std::size_t p = 0; p < m.w.shape(0); ++p) detail::write_values(o, " ", m.w.data() + p * m.w.shape(1), m.w.shape(1));
}
inline void read_section(model_reader& r, linear_svm_model& m) {
    r.begin_section("linear_svm");
    r.expect("dim");
    m.dim = r.count();
    r.expect("n_classes");
    m.n_classes = static_cast<int>(r.count(1u << 16));
    m.strategy = r.read_strategy();
    r.expect("bias");
    m.bias = r.number();
    m.tasks = r.read_tasks(m.n_classes);
    r.expect("weights");
    if (r.count() != m.tasks.size() || r.count() != m.dim + 1) r.fail("weights shape does not match tasks and dim");
    r.require_values(m.tasks.size(), m.dim + 1, "'weights'");
    m.w = xt::xtensor<double, 2>({m.tasks.size(), m.dim + 1});
    for (auto& v : m.w) v = r.number();
}

FERX_NAMESPACE_END
