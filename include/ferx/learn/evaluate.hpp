/// \file ferx/learn/evaluate.hpp
/// The evaluation harness: cross-validation (subject-independent k-fold on CK+) and train/test
/// split evaluation (FER2013 Training -> PrivateTest) of any model, with per-fold and pooled
/// confusion matrices, fold-averaged figures and per-stage wall-clock timings.
///
/// The model is two callables over sample indices, so a feature-level classifier and a whole
/// image pipeline are evaluated the same way:
///
///     auto fit = [&](const auto& policy, const std::vector<std::size_t>& train) { ... return model; };
///     auto predict = [&](const auto& policy, const auto& model, const std::vector<std::size_t>& test) {
///         ... return labels; };                                 // one label per test index
///     auto folds = ferx::group_kfold(data.groups, 10);          // subjects kept apart
///     auto r = ferx::evaluate_folds(ferx::exec::par, folds, data.labels, data.classes, fit, predict);
///     r.fold_mean(&ferx::confusion_matrix::accuracy);           // fold-averaged accuracy
///     r.pooled.mean_recall();                                   // pooled mean per-class recall
///
/// `exec::par` runs the folds in parallel on the policy's pool (the callables receive the policy;
/// parallel calls they make from inside a fold run inline); the result equals that of `exec::seq`
/// whenever fit and predict are deterministic.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/progress.hpp>
#include <ferx/learn/dataset.hpp>
#include <ferx/learn/metrics.hpp>
#include <ferx/learn/splits.hpp>

#include <chrono>
#include <cmath>
#include <cstddef>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

FERX_NAMESPACE_BEGIN

/// Wall-clock seconds spent in each stage. The harness measures fit and predict around the
/// callables; `describe` is filled in by whoever computes descriptors outside them (e.g.
/// describe_timed), and stays 0 when description happens inside fit and predict.
struct stage_timings {
    double describe = 0;  ///< seconds describing images
    double fit = 0;       ///< seconds in the fit callable
    double predict = 0;   ///< seconds in the predict callable

    stage_timings& operator+=(const stage_timings& o) {
        describe += o.describe;
        fit += o.fit;
        predict += o.predict;
        return *this;
    }
};

/// One fold's outcome.
struct fold_result {
    confusion_matrix cm{1};        ///< this fold's test predictions
    std::size_t train_size = 0;    ///< samples trained on
    std::size_t test_size = 0;     ///< samples tested
    stage_timings time;            ///< this fold's fit and predict seconds
};

/// The outcome of evaluate_folds / evaluate_split.
struct evaluation {
    std::vector<std::string> classes;  ///< K class names, index = label
    std::vector<fold_result> folds;    ///< in the order of the folds given
    confusion_matrix pooled{1};        ///< all test predictions of all folds together
    stage_timings time;                ///< summed over the folds (+ describe, set by the caller)

    /// Mean over the folds of a per-fold figure, e.g. fold_mean(&confusion_matrix::accuracy).
    double fold_mean(double (confusion_matrix::*metric)() const) const {
        double s = 0;
        for (const auto& f : folds) s += (f.cm.*metric)();
        return folds.empty() ? 0.0 : s / static_cast<double>(folds.size());
    }
    /// Sample standard deviation over the folds of a per-fold figure (0 for one fold).
    double fold_std(double (confusion_matrix::*metric)() const) const {
        if (folds.size() < 2) return 0.0;
        const double m = fold_mean(metric);
        double s = 0;
        for (const auto& f : folds) s += ((f.cm.*metric)() - m) * ((f.cm.*metric)() - m);
        return std::sqrt(s / static_cast<double>(folds.size() - 1));
    }
    /// Fold-averaged accuracy: the figure CK+ papers report.
    double mean_accuracy() const { return fold_mean(&confusion_matrix::accuracy); }
    /// Fold-averaged mean per-class recall.
    double mean_recall() const { return fold_mean(&confusion_matrix::mean_recall); }
    /// Fold-averaged macro-F1.
    double mean_macro_f1() const { return fold_mean(&confusion_matrix::macro_f1); }
};

namespace detail {

inline void check_folds(const std::vector<fold>& folds, std::size_t n, const char* where) {
    require(!folds.empty(), where, "no folds");
    for (std::size_t f = 0; f < folds.size(); ++f) {
        const std::string which = "fold " + std::to_string(f) + " ";
        require(!folds[f].train.empty(), where, which + "has an empty training set");
        require(!folds[f].test.empty(), where, which + "has an empty test set");
        for (const auto* part : {&folds[f].train, &folds[f].test})
            for (std::size_t i : *part)
                require(i < n, where, which + "has sample index " + std::to_string(i) + " but there are only " +
                                          std::to_string(n) + " labels");
    }
}

inline void check_classes(const label_vector& y, const std::vector<std::string>& classes, const char* where) {
    require(!classes.empty(), where, "no class names");
    for (std::size_t i = 0; i < y.size(); ++i)
        require(y[i] >= 0 && static_cast<std::size_t>(y[i]) < classes.size(), where,
                "label " + std::to_string(y[i]) + " of sample " + std::to_string(i) + " is not a class index (" +
                    std::to_string(classes.size()) + " classes)");
}

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace detail

/// Evaluates a model over `folds` (indices into `y`): for each fold, model = fit(policy, train)
/// and labels = predict(policy, model, test), scored against y[test].
/// - `fit(policy, const std::vector<std::size_t>& train)` returns a model (any type);
/// - `predict(policy, const model&, const std::vector<std::size_t>& test)` returns a
///   label_vector with one label in 0..K-1 per test index (K = classes.size()).
/// Under exec::par the folds run in parallel; `progress(done, total)` is called after each fold
/// (serialised, from whichever thread finished it).
/// Throws ferx::error for no folds, a fold with an empty training or test set, an index out of
/// range, a label that is not a class index, or a predict that returns the wrong number of
/// labels (naming the fold); exceptions from the callables propagate.
template <class Policy, class Fit, class Predict>
evaluation evaluate_folds(const Policy& policy, const std::vector<fold>& folds, const label_vector& y,
                          const std::vector<std::string>& classes, Fit&& fit, Predict&& predict,
                          const progress_callback& progress = {}) {
    static_assert(is_host_policy_v<Policy>, "ferx::evaluate_folds: needs exec::seq or exec::par");
    constexpr const char* where = "ferx::evaluate_folds";
    detail::require(!y.empty(), where, "no labels");
    detail::check_classes(y, classes, where);
    detail::check_folds(folds, y.size(), where);
    const int k = static_cast<int>(classes.size());

    evaluation r;
    r.classes = classes;
    r.folds.resize(folds.size());
    std::mutex progress_mutex;
    std::size_t done = 0;
    const auto run_fold = [&](std::size_t f) {
        const auto t0 = std::chrono::steady_clock::now();
        const auto model = fit(policy, folds[f].train);
        const double fit_s = detail::seconds_since(t0);
        const auto t1 = std::chrono::steady_clock::now();
        const label_vector pred = predict(policy, model, folds[f].test);
        const double predict_s = detail::seconds_since(t1);
        detail::require(pred.size() == folds[f].test.size(), where,
                "fold " + std::to_string(f) + ": predict returned " + std::to_string(pred.size()) + " labels for " +
                    std::to_string(folds[f].test.size()) + " test samples");
        fold_result& out = r.folds[f];
        out.cm = confusion_matrix(take(y, folds[f].test), pred, k);
        out.train_size = folds[f].train.size();
        out.test_size = folds[f].test.size();
        out.time.fit = fit_s;
        out.time.predict = predict_s;
        if (progress) {
            std::lock_guard<std::mutex> lock(progress_mutex);
            progress(++done, folds.size());
        }
    };
    if constexpr (std::is_same<std::decay_t<Policy>, exec::parallel_policy>::value)
        policy.pool().run(folds.size(), run_fold);
    else
        for (std::size_t f = 0; f < folds.size(); ++f) run_fold(f);

    r.pooled = confusion_matrix(k);
    for (const auto& f : r.folds) {
        r.pooled.add(f.cm);
        r.time += f.time;
    }
    return r;
}

/// One train/test split (e.g. FER2013 Training -> PrivateTest): evaluate_folds with a single fold.
template <class Policy, class Fit, class Predict>
evaluation evaluate_split(const Policy& policy, const std::vector<std::size_t>& train, const std::vector<std::size_t>& test,
                          const label_vector& y, const std::vector<std::string>& classes, Fit&& fit, Predict&& predict) {
    return evaluate_folds(policy, std::vector<fold>{{train, test}}, y, classes, std::forward<Fit>(fit),
                          std::forward<Predict>(predict));
}

/// evaluate_folds on a feature matrix x [n, d]: `fit(policy, x_train, y_train)` returns a model
/// and `predict(policy, model, x_test)` its labels, with the rows of each fold taken out of `x`.
/// Throws ferx::error when x and y differ in their number of samples.
template <class Policy, class T, class Fit, class Predict>
evaluation evaluate_features(const Policy& policy, const xt::xtensor<T, 2>& x, const label_vector& y,
                             const std::vector<fold>& folds, const std::vector<std::string>& classes, Fit&& fit,
                             Predict&& predict, const progress_callback& progress = {}) {
    detail::require(x.shape(0) == y.size(), "ferx::evaluate_features",
            std::to_string(y.size()) + " labels for " + std::to_string(x.shape(0)) + " feature rows");
    return evaluate_folds(
        policy, folds, y, classes,
        [&](const auto& pol, const std::vector<std::size_t>& train) { return fit(pol, take_rows(x, train), take(y, train)); },
        [&](const auto& pol, const auto& model, const std::vector<std::size_t>& test) {
            return predict(pol, model, take_rows(x, test));
        },
        progress);
}

/// Runs `describe()` and returns its result, adding the seconds it took to `time.describe`.
template <class F>
auto describe_timed(stage_timings& time, F&& describe) {
    const auto t0 = std::chrono::steady_clock::now();
    auto out = describe();
    time.describe += detail::seconds_since(t0);
    return out;
}

FERX_NAMESPACE_END
