/// \file ferx/learn/grid_search.hpp
/// Cross-validation drivers: cross-validated predictions of any fit, a grid search of C and
/// gamma for a kernel C-SVC, and nested cross-validation (the grid search runs inside each outer
/// training set, so the outer test folds never inform the choice).
///
///     auto make = [](double g) { return ferx::rbf_kernel{g}; };
///     auto outer = ferx::group_kfold(subjects, 10);
///     auto inner = [&](const std::vector<std::size_t>& train) {
///         return ferx::group_kfold(ferx::take(subjects, train), 5); };
///     auto r = ferx::nested_cross_validate_svc(ferx::exec::par, make, x, y, outer, inner,
///                                              {1, 10, 100}, {1e-3, 1e-2}, {});
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/progress.hpp>
#include <ferx/learn/dataset.hpp>
#include <ferx/learn/kernel_svm.hpp>
#include <ferx/learn/metrics.hpp>
#include <ferx/learn/splits.hpp>

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN

/// Pooled confusion matrix of `fit_predict(x_train, y_train, x_test) -> labels` over the folds.
template <class T, class FitPredict>
confusion_matrix cross_validate(const xt::xtensor<T, 2>& x, const label_vector& y, const std::vector<fold>& folds,
                                int n_classes, FitPredict&& fit_predict) {
    detail::require(y.size() == x.shape(0), "ferx::cross_validate", "labels and samples differ in number");
    confusion_matrix cm(n_classes);
    for (const auto& f : folds) cm.add(take(y, f.test), fit_predict(take_rows(x, f.train), take(y, f.train), take_rows(x, f.test)));
    return cm;
}

/// One (C, gamma) of a grid with its cross-validated scores.
struct grid_point {
    double C = 0, gamma = 0;
    double accuracy = 0;     ///< pooled over the folds
    double mean_recall = 0;  ///< pooled over the folds
};

struct grid_search_result {
    std::vector<grid_point> points;  ///< every (C, gamma), C-major
    grid_point best;                 ///< highest accuracy; ties: the first in grid order
};

/// Grid search of C x gamma for fit_svc(policy, make_kernel(gamma), ...) by cross-validation on
/// `folds`. `progress`, if set, is called after each grid point with (done, total).
template <class Policy, class MakeKernel, class T>
grid_search_result grid_search_svc(const Policy& policy, MakeKernel&& make_kernel, const xt::xtensor<T, 2>& x,
                                   const label_vector& y, const std::vector<fold>& folds, const std::vector<double>& cs,
                                   const std::vector<double>& gammas, const svc_params& base,
                                   const progress_callback& progress = {}) {
    constexpr const char* where = "ferx::grid_search_svc";
    const int k = detail::check_training_set(x, y, where);
    detail::require(!cs.empty() && !gammas.empty(), where, "the grid is empty");
    detail::require(!folds.empty(), where, "no folds");
    grid_search_result r;
    const std::size_t total = cs.size() * gammas.size();
    for (double c : cs)
        for (double g : gammas) {
            svc_params prm = base;
            prm.C = c;
            prm.progress = nullptr;
            const auto kernel = make_kernel(g);
            const auto cm = cross_validate(x, y, folds, k, [&](const auto& xtr, const auto& ytr, const auto& xte) {
                return predict(policy, fit_svc(policy, kernel, xtr, ytr, prm), xte);
            });
            r.points.push_back({c, g, cm.accuracy(), cm.mean_recall()});
            if (r.points.size() == 1 || r.points.back().accuracy > r.best.accuracy) r.best = r.points.back();
            if (progress) progress(r.points.size(), total);
        }
    return r;
}

struct nested_cv_result {
    confusion_matrix pooled{2};             ///< outer test predictions, pooled
    std::vector<double> fold_accuracy;      ///< per outer fold
    std::vector<grid_point> chosen;         ///< the inner search's choice per outer fold
    double mean_accuracy = 0;               ///< mean of fold_accuracy
};

/// Nested cross-validation: for each outer fold, a grid search on its training samples with the
/// folds `inner_folds(outer_train_indices)` (indices local to the training set), then a fit
/// with the chosen (C, gamma) on all of them and a test on the outer test fold.
template <class Policy, class MakeKernel, class T>
nested_cv_result nested_cross_validate_svc(
    const Policy& policy, MakeKernel&& make_kernel, const xt::xtensor<T, 2>& x, const label_vector& y,
    const std::vector<fold>& outer, const std::function<std::vector<fold>(const std::vector<std::size_t>&)>& inner_folds,
    const std::vector<double>& cs, const std::vector<double>& gammas, const svc_params& base,
    const progress_callback& progress = {}) {
    const int k = detail::check_training_set(x, y, "ferx::nested_cross_validate_svc");
    nested_cv_result r;
    r.pooled = confusion_matrix(k);
    for (std::size_t o = 0; o < outer.size(); ++o) {
        const auto& f = outer[o];
        const auto xtr = take_rows(x, f.train);
        const auto ytr = take(y, f.train);
        const auto g = grid_search_svc(policy, make_kernel, xtr, ytr, inner_folds(f.train), cs, gammas, base);
        svc_params prm = base;
        prm.C = g.best.C;
        prm.progress = nullptr;
        const auto pred = predict(policy, fit_svc(policy, make_kernel(g.best.gamma), xtr, ytr, prm), take_rows(x, f.test));
        const auto truth = take(y, f.test);
        r.pooled.add(truth, pred);
        r.fold_accuracy.push_back(confusion_matrix(truth, pred, k).accuracy());
        r.chosen.push_back(g.best);
        r.mean_accuracy += r.fold_accuracy.back() / static_cast<double>(outer.size());
        if (progress) progress(o + 1, outer.size());
    }
    return r;
}

FERX_NAMESPACE_END
