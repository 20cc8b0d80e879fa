/// \file ferx/learn/dataset.hpp
/// Data conventions of ferx's learning toolkit, and the checks every fit and predict runs.
///
/// Features: `xt::xtensor<T, 2>` of shape [n, d] (n samples, d features), T = float or double,
/// row-major. Labels: `ferx::label_vector` (std::vector<int>) of n class indices 0..K-1.
/// Groups (subjects): std::vector<int> of n group ids, any values. (The vocabulary itself,
/// label_vector, multiclass, binary_task, take, take_rows, group_ids: ferx/core/samples.hpp.)
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/samples.hpp>
#include <ferx/core/tensor.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

FERX_NAMESPACE_BEGIN

namespace detail {

template <class T>
inline constexpr bool is_feature_type_v = std::is_same<T, float>::value || std::is_same<T, double>::value;

/// The binary tasks of a K-class problem. K == 2 gives one task (0 vs 1) for either strategy.
inline std::vector<binary_task> binary_tasks(int n_classes, multiclass strategy) {
    std::vector<binary_task> tasks;
    if (n_classes == 2) return {{0, 1}};
    if (strategy == multiclass::one_vs_one) {
        for (int a = 0; a < n_classes; ++a)
            for (int b = a + 1; b < n_classes; ++b) tasks.push_back({a, b});
    } else {
        for (int c = 0; c < n_classes; ++c) tasks.push_back({c, -1});
    }
    return tasks;
}

/// +1 or -1 when a binary task's samples all have that sign (a class absent from the training
/// set, e.g. in a cross-validation fold; -1 when it has no samples), 0 when both signs occur.
inline int one_sided(const std::vector<signed char>& sign) {
    bool pos = false, neg = false;
    for (signed char v : sign) (v > 0 ? pos : neg) = true;
    return pos && neg ? 0 : (pos ? 1 : -1);
}

/// Rejects an empty matrix and NaN/Inf entries, naming the first bad entry.
template <class T>
void check_features(const xt::xtensor<T, 2>& x, const char* where) {
    static_assert(is_feature_type_v<T>, "ferx learn: features must be float or double");
    require(x.shape(0) > 0 && x.shape(1) > 0, where,
            "empty feature matrix (" + std::to_string(x.shape(0)) + " x " + std::to_string(x.shape(1)) + ")");
    const T* p = x.data();
    const std::size_t n = x.size(), d = x.shape(1);
    for (std::size_t i = 0; i < n; ++i)
        if (!std::isfinite(p[i]))
            throw error(where, "feature (row " + std::to_string(i / d) + ", column " + std::to_string(i % d) +
                                   ") is NaN or infinite");
}

/// Checks features and labels of a training set; returns K = the number of classes (the
/// largest label + 1). Needs at least two distinct classes.
template <class T>
int check_training_set(const xt::xtensor<T, 2>& x, const label_vector& y, const char* where) {
    check_features(x, where);
    require(y.size() == x.shape(0), where,
            std::to_string(y.size()) + " labels for " + std::to_string(x.shape(0)) + " samples");
    int largest = -1;
    for (std::size_t i = 0; i < y.size(); ++i) {
        require(y[i] >= 0, where, "label " + std::to_string(y[i]) + " of sample " + std::to_string(i) +
                                      " is out of range (labels are 0..K-1)");
        largest = std::max(largest, y[i]);
    }
    require(largest < (1 << 16), where, "label " + std::to_string(largest) + " is out of range (at most 65535)");
    std::vector<char> seen(static_cast<std::size_t>(largest) + 1, 0);
    int distinct = 0;
    for (int l : y)
        if (!seen[static_cast<std::size_t>(l)]++) ++distinct;
    require(distinct >= 2, where, "the training set has one class only (label " + std::to_string(largest) + ")");
    return largest + 1;
}

/// Class weights: empty (all 1) or K positive finite values.
inline void check_class_weights(const std::vector<double>& w, int n_classes, const char* where) {
    if (w.empty()) return;
    require(w.size() == static_cast<std::size_t>(n_classes), where,
            std::to_string(w.size()) + " class weights for " + std::to_string(n_classes) + " classes");
    for (double v : w) require(std::isfinite(v) && v > 0, where, "class weights must be positive and finite");
}

inline double class_weight(const std::vector<double>& w, int c) {
    return w.empty() ? 1.0 : w[static_cast<std::size_t>(c)];
}

/// Rows, +-1 labels and penalties of one binary task (for the linear and the kernel SVM;
/// Prm has C and class_weight).
template <class Prm>
void task_problem(const label_vector& y, const binary_task& t, const Prm& prm, std::vector<std::size_t>& rows,
                  std::vector<signed char>& sign, std::vector<double>& c) {
    rows.clear();
    sign.clear();
    c.clear();
    for (std::size_t i = 0; i < y.size(); ++i) {
        const bool pos = y[i] == t.positive;
        if (!pos && t.negative >= 0 && y[i] != t.negative) continue;
        rows.push_back(i);
        sign.push_back(pos ? 1 : -1);
        c.push_back(prm.C * class_weight(prm.class_weight, y[i]));
    }
}

/// Features given at predict time must have the model's dimension.
template <class T>
void check_predict_features(const xt::xtensor<T, 2>& x, std::size_t dim, const char* where) {
    check_features(x, where);
    require(x.shape(1) == dim, where,
            "features have " + std::to_string(x.shape(1)) + " columns, the model expects " + std::to_string(dim));
}

/// Sum of a[k] * b[k], k < n, with eight partial sums (vectorisable; no -ffast-math needed).
/// Accumulates in A's precision promoted with B's.
template <class A, class B>
inline auto dot(const A* a, const B* b, std::size_t n) {
    using R = decltype(A() * B());
    R s[8] = {};
    std::size_t k = 0;
    for (; k + 8 <= n; k += 8)
        for (int u = 0; u < 8; ++u) s[u] += static_cast<R>(a[k + u]) * static_cast<R>(b[k + u]);
    R tail = 0;
    for (; k < n; ++k) tail += static_cast<R>(a[k]) * static_cast<R>(b[k]);
    return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7])) + tail;
}

/// Labels of a predict: one vote per one-vs-one task (ties go to the lower class index), or the
/// largest decision value of one-vs-rest (ties to the lower index).
inline int vote(const double* dec, const std::vector<binary_task>& tasks, int n_classes, int* votes) {
    if (tasks.size() == 1) return dec[0] > 0 ? tasks[0].positive : tasks[0].negative;
    if (tasks[0].negative >= 0) {
        std::fill(votes, votes + n_classes, 0);
        for (std::size_t p = 0; p < tasks.size(); ++p) ++votes[dec[p] > 0 ? tasks[p].positive : tasks[p].negative];
        return static_cast<int>(std::max_element(votes, votes + n_classes) - votes);
    }
    return static_cast<int>(std::max_element(dec, dec + tasks.size()) - dec);
}

}  // namespace detail

/// Labels from decision values [n, P] of a model with these tasks (one-vs-one votes, ties to
/// the lower class; one-vs-rest argmax).
inline label_vector labels_from_decisions(const xt::xtensor<double, 2>& dec, const std::vector<binary_task>& tasks,
                                          int n_classes) {
    detail::require(dec.shape(1) == tasks.size(), "ferx::labels_from_decisions", "decision columns != tasks");
    label_vector out(dec.shape(0));
    std::vector<int> votes(static_cast<std::size_t>(n_classes));
    for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = detail::vote(dec.data() + i * tasks.size(), tasks, n_classes, votes.data());
    return out;
}

FERX_NAMESPACE_END
