/// \file ferx/learn/probability.hpp
/// Probability estimates from SVM decision values: Platt's sigmoid P(positive | f) =
/// 1 / (1 + exp(A f + B)), fitted by Newton's method with a backtracking line search on
/// regularised targets (Platt 1999; Lin, Lin & Weng 2007), and pairwise coupling of one-vs-one
/// probabilities r_ij = P(i | i or j) into class probabilities (Wu, Lin & Weng 2004, their
/// second method: min_p sum_i sum_{j != i} (r_ji p_i - r_ij p_j)^2 subject to sum p = 1).
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/error.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/learn/dataset.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

FERX_NAMESPACE_BEGIN

/// The sigmoid's parameters: P(positive | f) = 1 / (1 + exp(a f + b)).
struct platt_sigmoid {
    double a = 0, b = 0;
    double operator()(double f) const {
        const double z = a * f + b;  // stable in both tails
        return z >= 0 ? std::exp(-z) / (1.0 + std::exp(-z)) : 1.0 / (1.0 + std::exp(z));
    }
};

/// Fits a Platt sigmoid to decision values `dec` of samples whose true sign is `positive[i]`.
inline platt_sigmoid fit_platt_sigmoid(const std::vector<double>& dec, const std::vector<char>& positive) {
    detail::require(dec.size() == positive.size() && !dec.empty(), "ferx::fit_platt_sigmoid",
                    "needs as many signs as decision values, and at least one");
    const std::size_t n = dec.size();
    double n_pos = 0;
    for (char p : positive) n_pos += p ? 1 : 0;
    const double n_neg = static_cast<double>(n) - n_pos;
    const double hi = (n_pos + 1.0) / (n_pos + 2.0), lo = 1.0 / (n_neg + 2.0);
    std::vector<double> t(n);
    for (std::size_t i = 0; i < n; ++i) t[i] = positive[i] ? hi : lo;
    // Negative log-likelihood of (a, b), written to avoid overflow of exp.
    const auto loss = [&](double a, double b) {
        double s = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const double z = a * dec[i] + b;
            s += z >= 0 ? t[i] * z + std::log1p(std::exp(-z)) : (t[i] - 1.0) * z + std::log1p(std::exp(z));
        }
        return s;
    };
    platt_sigmoid s{0.0, std::log((n_neg + 1.0) / (n_pos + 1.0))};
    double f = loss(s.a, s.b);
    constexpr double ridge = 1e-12, min_step = 1e-10, eps = 1e-5;
    for (int it = 0; it < 100; ++it) {
        double haa = ridge, hbb = ridge, hab = 0, ga = 0, gb = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const double p = s(dec[i]), q = 1.0 - p, w = p * q, d = t[i] - p;
            haa += dec[i] * dec[i] * w;
            hbb += w;
            hab += dec[i] * w;
            ga += dec[i] * d;
            gb += d;
        }
        if (std::abs(ga) < eps && std::abs(gb) < eps) break;
        const double det = haa * hbb - hab * hab;
        const double da = -(hbb * ga - hab * gb) / det, db = -(-hab * ga + haa * gb) / det;
        const double slope = ga * da + gb * db;
        double step = 1.0;
        while (step >= min_step) {
            const double na = s.a + step * da, nb = s.b + step * db, nf = loss(na, nb);
            if (nf < f + 1e-4 * step * slope) {
                s = {na, nb};
                f = nf;
                break;
            }
            step /= 2;
        }
        if (step < min_step) break;  // no further decrease along the Newton direction
    }
    return s;
}

/// Class probabilities (k entries, summing to 1) from pairwise probabilities r [k x k],
/// r[i*k + j] = P(i | i or j), r[j*k + i] = 1 - r[i*k + j]. Solves the coupling problem's
/// KKT system directly (k + 1 unknowns).
inline std::vector<double> couple_pairwise(const std::vector<double>& r, std::size_t k) {
    detail::require(r.size() == k * k && k >= 2, "ferx::couple_pairwise", "r must be k x k, k >= 2");
    const std::size_t m = k + 1;
    std::vector<double> a(m * (m + 1), 0.0);  // augmented [Q e | 0; e' 0 | 1]
    for (std::size_t i = 0; i < k; ++i) {
        for (std::size_t j = 0; j < k; ++j) {
            if (i == j) continue;
            a[i * (m + 1) + i] += r[j * k + i] * r[j * k + i];
            a[i * (m + 1) + j] = -r[j * k + i] * r[i * k + j];
        }
        a[i * (m + 1) + k] = 1.0;
        a[k * (m + 1) + i] = 1.0;
    }
    a[k * (m + 1) + m] = 1.0;
    for (std::size_t c = 0; c < m; ++c) {  // Gaussian elimination, partial pivoting
        std::size_t piv = c;
        for (std::size_t row = c + 1; row < m; ++row)
            if (std::abs(a[row * (m + 1) + c]) > std::abs(a[piv * (m + 1) + c])) piv = row;
        for (std::size_t col = 0; col <= m; ++col) std::swap(a[c * (m + 1) + col], a[piv * (m + 1) + col]);
        const double d = a[c * (m + 1) + c];
        if (std::abs(d) < 1e-300) continue;
        for (std::size_t row = 0; row < m; ++row) {
            if (row == c) continue;
            const double f = a[row * (m + 1) + c] / d;
            if (f == 0) continue;
            for (std::size_t col = c; col <= m; ++col) a[row * (m + 1) + col] -= f * a[c * (m + 1) + col];
        }
    }
    std::vector<double> p(k);
    double sum = 0;
    for (std::size_t i = 0; i < k; ++i) {
        const double d = a[i * (m + 1) + i];
        p[i] = std::max(0.0, d != 0 ? a[i * (m + 1) + m] / d : 0.0);
        sum += p[i];
    }
    for (auto& v : p) v = sum > 0 ? v / sum : 1.0 / static_cast<double>(k);
    return p;
}

/// Class probabilities [n, K] from decision values [n, P] of binary tasks with their sigmoids.
inline xt::xtensor<double, 2> probabilities_from_decisions(const xt::xtensor<double, 2>& dec,
                                                           const std::vector<binary_task>& tasks,
                                                           const std::vector<platt_sigmoid>& sig, int n_classes) {
    constexpr const char* where = "ferx::probabilities_from_decisions";
    detail::require(dec.shape(1) == tasks.size() && sig.size() == tasks.size(), where, "decisions, tasks and sigmoids differ");
    const std::size_t n = dec.shape(0), k = static_cast<std::size_t>(n_classes), p_count = tasks.size();
    xt::xtensor<double, 2> out({n, k}, 0.0);
    constexpr double floor = 1e-7;
    std::vector<double> r(k * k);
    for (std::size_t i = 0; i < n; ++i) {
        const double* di = dec.data() + i * p_count;
        if (tasks[0].negative < 0) {  // one-vs-rest: normalise
            double sum = 0;
            for (std::size_t p = 0; p < p_count; ++p) sum += out(i, p) = sig[p](di[p]);
            for (std::size_t c = 0; c < k; ++c) out(i, c) = sum > 0 ? out(i, c) / sum : 1.0 / static_cast<double>(k);
            continue;
        }
        std::fill(r.begin(), r.end(), 0.0);
        for (std::size_t p = 0; p < p_count; ++p) {
            const double v = std::min(std::max(sig[p](di[p]), floor), 1.0 - floor);
            const std::size_t a = static_cast<std::size_t>(tasks[p].positive), b = static_cast<std::size_t>(tasks[p].negative);
            r[a * k + b] = v;
            r[b * k + a] = 1.0 - v;
        }
        const auto prob = couple_pairwise(r, k);
        for (std::size_t c = 0; c < k; ++c) out(i, c) = prob[c];
    }
    return out;
}

FERX_NAMESPACE_END
