/// \file ferx/learn/metrics.hpp
/// Classification metrics from a confusion matrix: accuracy, mean per-class recall (the
/// "average accuracy" FER papers report), per-class precision / recall / F1, macro-F1, the row-normalised
/// matrix, a printed table and CSV.
///
///     auto cm = ferx::confusion_matrix(y_true, y_pred, 7);
///     std::cout << cm.table({"anger", "contempt", ...});
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/learn/dataset.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN

/// counts(t, p): samples of true class t predicted as p. K x K.
class confusion_matrix {
public:
    explicit confusion_matrix(int n_classes)
        : k_(static_cast<std::size_t>(n_classes)), counts_({k_, k_}, 0) {
        detail::require(n_classes >= 1, "ferx::confusion_matrix", "needs at least one class");
    }
    /// Counts pairs of true and predicted labels (0..K-1).
    confusion_matrix(const label_vector& truth, const label_vector& predicted, int n_classes)
        : confusion_matrix(n_classes) {
        add(truth, predicted);
    }

    /// Adds more pairs (e.g. another fold).
    void add(const label_vector& truth, const label_vector& predicted) {
        constexpr const char* where = "ferx::confusion_matrix";
        detail::require(truth.size() == predicted.size(), where,
                        std::to_string(truth.size()) + " true labels but " + std::to_string(predicted.size()) + " predictions");
        for (std::size_t i = 0; i < truth.size(); ++i) {
            detail::require(truth[i] >= 0 && static_cast<std::size_t>(truth[i]) < k_ && predicted[i] >= 0 &&
                                static_cast<std::size_t>(predicted[i]) < k_,
                            where, "label out of range 0.." + std::to_string(k_ - 1) + " at sample " + std::to_string(i));
            ++counts_(static_cast<std::size_t>(truth[i]), static_cast<std::size_t>(predicted[i]));
        }
    }

    /// Adds the counts of another matrix of as many classes (pooling folds).
    void add(const confusion_matrix& other) {
        detail::require(other.k_ == k_, "ferx::confusion_matrix",
                        "cannot add a matrix of " + std::to_string(other.k_) + " classes to one of " + std::to_string(k_));
        counts_ += other.counts_;
    }

    std::size_t n_classes() const { return k_; }
    const xt::xtensor<std::int64_t, 2>& counts() const { return counts_; }
    std::int64_t total() const {
        std::int64_t s = 0;
        for (auto v : counts_) s += v;
        return s;
    }
    std::int64_t support(std::size_t c) const { return row_sum(c); }

    /// Correct / total (0 when empty).
    double accuracy() const {
        std::int64_t diag = 0;
        for (std::size_t c = 0; c < k_; ++c) diag += counts_(c, c);
        return ratio(diag, total());
    }
    /// counts(c, c) / row c (0 for a class with no samples).
    double recall(std::size_t c) const { return ratio(counts_(c, c), row_sum(c)); }
    /// counts(c, c) / column c (0 for a class never predicted).
    double precision(std::size_t c) const { return ratio(counts_(c, c), col_sum(c)); }
    double f1(std::size_t c) const {
        const double p = precision(c), r = recall(c);
        return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
    }
    /// Mean of the recalls of the classes that have samples.
    double mean_recall() const { return mean_over_present([this](std::size_t c) { return recall(c); }); }
    /// Mean of the per-class F1 scores of the classes that have samples (macro-F1).
    double macro_f1() const { return mean_over_present([this](std::size_t c) { return f1(c); }); }
    /// Each row divided by its sum (rows of absent classes stay 0).
    xt::xtensor<double, 2> normalized() const {
        xt::xtensor<double, 2> out({k_, k_}, 0.0);
        for (std::size_t t = 0; t < k_; ++t)
            for (std::size_t p = 0; p < k_; ++p) out(t, p) = ratio(counts_(t, p), row_sum(t));
        return out;
    }

    /// A fixed-width table: counts, then per-class precision, recall, F1 and support, then
    /// accuracy and mean recall. `names`: K class names (empty: the indices).
    std::string table(const std::vector<std::string>& names = {}) const {
        const auto name = names_or_indices(names);
        std::size_t w = 6;
        for (const auto& s : name) w = std::max(w, s.size() + 1);
        std::ostringstream o;
        o << std::setw(static_cast<int>(w)) << "true\\pred";
        for (const auto& s : name) o << std::setw(static_cast<int>(w)) << s;
        o << std::setw(10) << "precision" << std::setw(8) << "recall" << std::setw(8) << "F1" << std::setw(9) << "support\n";
        o << std::fixed << std::setprecision(3);
        for (std::size_t t = 0; t < k_; ++t) {
            o << std::setw(static_cast<int>(w)) << name[t];
            for (std::size_t p = 0; p < k_; ++p) o << std::setw(static_cast<int>(w)) << counts_(t, p);
            o << std::setw(10) << precision(t) << std::setw(8) << recall(t) << std::setw(8) << f1(t)
              << std::setw(8) << row_sum(t) << "\n";
        }
        o << "accuracy " << accuracy() << ", mean per-class recall " << mean_recall() << ", samples " << total() << "\n";
        return o.str();
    }

    /// CSV: a header "true,<names...>,precision,recall,f1,support", one row per true class.
    std::string csv(const std::vector<std::string>& names = {}) const {
        const auto name = names_or_indices(names);
        std::ostringstream o;
        o << "true";
        for (const auto& s : name) o << "," << s;
        o << ",precision,recall,f1,support\n" << std::setprecision(6);
        for (std::size_t t = 0; t < k_; ++t) {
            o << name[t];
            for (std::size_t p = 0; p < k_; ++p) o << "," << counts_(t, p);
            o << "," << precision(t) << "," << recall(t) << "," << f1(t) << "," << row_sum(t) << "\n";
        }
        return o.str();
    }

    /// The matrix with classes merged: class c of this matrix becomes class target[c] of a
    /// `n_classes`-class matrix (e.g. 7 emotions binned to negative / neutral / positive).
    confusion_matrix merged(const std::vector<int>& target, int n_classes) const {
        constexpr const char* where = "ferx::confusion_matrix::merged";
        detail::require(target.size() == k_, where,
                        std::to_string(target.size()) + " targets for " + std::to_string(k_) + " classes");
        for (int t : target)
            detail::require(t >= 0 && t < n_classes, where,
                            "target class " + std::to_string(t) + " is out of range 0.." + std::to_string(n_classes - 1));
        confusion_matrix out(n_classes);
        for (std::size_t t = 0; t < k_; ++t)
            for (std::size_t p = 0; p < k_; ++p)
                out.counts_(static_cast<std::size_t>(target[t]), static_cast<std::size_t>(target[p])) += counts_(t, p);
        return out;
    }

private:
    /// Mean of f(c) over the classes c that have samples (0 when none has).
    template <class F>
    double mean_over_present(F f) const {
        double s = 0;
        std::size_t present = 0;
        for (std::size_t c = 0; c < k_; ++c)
            if (row_sum(c) > 0) s += f(c), ++present;
        return present ? s / static_cast<double>(present) : 0.0;
    }
    static double ratio(std::int64_t a, std::int64_t b) { return b > 0 ? static_cast<double>(a) / static_cast<double>(b) : 0.0; }
    std::int64_t row_sum(std::size_t t) const {
        std::int64_t s = 0;
        for (std::size_t p = 0; p < k_; ++p) s += counts_(t, p);
        return s;
    }
    std::int64_t col_sum(std::size_t p) const {
        std::int64_t s = 0;
        for (std::size_t t = 0; t < k_; ++t) s += counts_(t, p);
        return s;
    }
    std::vector<std::string> names_or_indices(const std::vector<std::string>& names) const {
        if (names.empty()) {
            std::vector<std::string> out;
            for (std::size_t c = 0; c < k_; ++c) out.push_back(std::to_string(c));
            return out;
        }
        detail::require(names.size() == k_, "ferx::confusion_matrix", std::to_string(names.size()) + " class names for " +
                                                                      std::to_string(k_) + " classes");
        return names;
    }

    std::size_t k_;
    xt::xtensor<std::int64_t, 2> counts_;
};

FERX_NAMESPACE_END
