/// \file ferx/core/samples.hpp
/// The vocabulary of labelled samples that the areas share (dataset readers in data/, learners
/// in learn/, pipelines): class labels, the binary tasks a K-class problem becomes, subject
/// group ids, and taking samples by index.
///
/// Labels: `label_vector` (std::vector<int>) of n class indices 0..K-1. Groups (subjects):
/// std::vector<int> of n group ids, any values. Features: `xt::xtensor<T, 2>` [n, d].
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/tensor.hpp>

#include <algorithm>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN

/// Class labels, one per sample, in 0..K-1.
using label_vector = std::vector<int>;

/// How a K-class problem becomes binary ones.
enum class multiclass {
    one_vs_one,  ///< K(K-1)/2 models (a, b), a < b, in the order (0,1),(0,2)..(K-2,K-1); votes
    one_vs_rest  ///< K models (c vs the rest); the largest decision value wins
};

/// One binary sub-problem: samples of class `positive` get +1, those of `negative` -1
/// (negative == -1: every other class).
struct binary_task {
    int positive;
    int negative;
};

/// The rows `idx` of `x`, as a new matrix.
template <class T>
xt::xtensor<T, 2> take_rows(const xt::xtensor<T, 2>& x, const std::vector<std::size_t>& idx) {
    const std::size_t d = x.shape(1);
    xt::xtensor<T, 2> out({idx.size(), d});
    for (std::size_t r = 0; r < idx.size(); ++r) {
        detail::require(idx[r] < x.shape(0), "ferx::take_rows", "row index " + std::to_string(idx[r]) + " out of range");
        std::copy_n(x.data() + idx[r] * d, d, out.data() + r * d);
    }
    return out;
}

/// The entries `idx` of `v`.
template <class V>
V take(const V& v, const std::vector<std::size_t>& idx) {
    V out;
    out.reserve(idx.size());
    for (std::size_t i : idx) {
        detail::require(i < v.size(), "ferx::take", "index " + std::to_string(i) + " out of range");
        out.push_back(v[i]);
    }
    return out;
}

/// Integer group ids (0, 1, ... in order of first appearance) of string names (subject ids).
inline std::vector<int> group_ids(const std::vector<std::string>& names) {
    std::map<std::string, int> id;
    std::vector<int> out;
    out.reserve(names.size());
    for (const auto& s : names) out.push_back(id.emplace(s, static_cast<int>(id.size())).first->second);
    return out;
}

FERX_NAMESPACE_END
