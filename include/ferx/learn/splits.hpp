/// \file ferx/learn/splits.hpp
/// Cross-validation splits: k-fold, stratified k-fold, subject-grouped k-fold (no group on both
/// sides) and leave-one-group-out. Each returns folds of sample indices (sorted ascending);
/// every sample is in exactly one fold's test set.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/learn/dataset.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN

/// One split: indices to train on and to test on.
struct fold {
    std::vector<std::size_t> train;
    std::vector<std::size_t> test;
};

namespace detail {
inline std::vector<fold> folds_from_assignment(const std::vector<std::size_t>& fold_of, std::size_t k) {
    std::vector<fold> out(k);
    for (std::size_t i = 0; i < fold_of.size(); ++i)
        for (std::size_t f = 0; f < k; ++f) (f == fold_of[i] ? out[f].test : out[f].train).push_back(i);
    return out;
}
inline void check_k(std::size_t k, std::size_t units, const char* where, const char* what) {
    require(k >= 2, where, "k must be at least 2");
    require(k <= units, where, "k = " + std::to_string(k) + " exceeds the number of " + what + " (" +
                                   std::to_string(units) + ")");
}
}  // namespace detail

/// k folds of n samples; with `shuffle`, samples are permuted with `seed` first, else
/// consecutive blocks.
inline std::vector<fold> kfold(std::size_t n, std::size_t k, bool shuffle = false, std::uint64_t seed = 1) {
    detail::check_k(k, n, "ferx::kfold", "samples");
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    if (shuffle) std::shuffle(order.begin(), order.end(), std::mt19937_64(seed));
    std::vector<std::size_t> fold_of(n);
    for (std::size_t r = 0; r < n; ++r) fold_of[order[r]] = r * k / n;
    return detail::folds_from_assignment(fold_of, k);
}

/// k folds with each class spread evenly (each class's samples, shuffled with `seed`, dealt to
/// the folds in turn).
inline std::vector<fold> stratified_kfold(const label_vector& y, std::size_t k, std::uint64_t seed = 1) {
    detail::check_k(k, y.size(), "ferx::stratified_kfold", "samples");
    std::map<int, std::vector<std::size_t>> by_class;
    for (std::size_t i = 0; i < y.size(); ++i) by_class[y[i]].push_back(i);
    std::mt19937_64 rng(seed);
    std::vector<std::size_t> fold_of(y.size());
    std::size_t next = 0;
    for (auto& kv : by_class) {
        std::shuffle(kv.second.begin(), kv.second.end(), rng);
        for (std::size_t i : kv.second) fold_of[i] = next++ % k;
    }
    return detail::folds_from_assignment(fold_of, k);
}

/// k folds where each group (subject) is wholly in one fold: groups, largest first, go to the
/// fold with the fewest samples so far (ties: the lower fold). Deterministic.
inline std::vector<fold> group_kfold(const std::vector<int>& groups, std::size_t k) {
    std::map<int, std::size_t> size;
    for (int g : groups) ++size[g];
    detail::check_k(k, size.size(), "ferx::group_kfold", "groups");
    std::vector<std::pair<int, std::size_t>> order(size.begin(), size.end());
    std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    std::vector<std::size_t> load(k, 0);
    std::map<int, std::size_t> fold_of_group;
    for (const auto& g : order) {
        const std::size_t f = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
        fold_of_group[g.first] = f;
        load[f] += g.second;
    }
    std::vector<std::size_t> fold_of(groups.size());
    for (std::size_t i = 0; i < groups.size(); ++i) fold_of[i] = fold_of_group[groups[i]];
    return detail::folds_from_assignment(fold_of, k);
}

/// One fold per group (in ascending group id): test on that group, train on the others.
inline std::vector<fold> leave_one_group_out(const std::vector<int>& groups) {
    std::map<int, std::size_t> index;
    for (int g : groups) index.emplace(g, 0);
    detail::check_k(2, index.size(), "ferx::leave_one_group_out", "groups");
    std::size_t f = 0;
    for (auto& kv : index) kv.second = f++;
    std::vector<std::size_t> fold_of(groups.size());
    for (std::size_t i = 0; i < groups.size(); ++i) fold_of[i] = index[groups[i]];
    return detail::folds_from_assignment(fold_of, index.size());
}

FERX_NAMESPACE_END
