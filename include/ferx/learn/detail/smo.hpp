/// \file ferx/learn/detail/smo.hpp
/// The binary C-SVC dual solver behind ferx::fit_svc: sequential minimal optimisation with
/// second-order working-set selection (WSS3 of Fan, Chen & Lin, JMLR 2005), shrinking, and an
/// LRU cache of kernel columns within a memory budget. Solves
///
///     min_a 1/2 a'Qa - e'a   subject to  y'a = 0,  0 <= a_i <= C_i,   Q_ij = y_i y_j k(x_i, x_j)
///
/// Columns are computed in full (all l rows) so they stay valid across shrinking; shrinking
/// saves the selection and gradient work on variables stuck at a bound.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/error.hpp>
#include <ferx/learn/kernels.hpp>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstddef>
#include <limits>
#include <list>
#include <vector>

FERX_NAMESPACE_BEGIN

namespace detail {

/// Least-recently-used kernel columns (float, l entries each) within a byte budget (at least
/// two columns, which one SMO step needs at once).
class column_cache {
public:
    column_cache(std::size_t l, double budget_bytes) : l_(l), slot_of_(l, npos) {
        const double per = static_cast<double>(l) * sizeof(float);
        capacity_ = static_cast<std::size_t>(std::max(2.0, std::min(budget_bytes / per, static_cast<double>(l))));
    }
    /// The column of i, computing it with fill(i, out) when absent.
    template <class Fill>
    const float* get(std::size_t i, Fill&& fill) {
        if (slot_of_[i] != npos) {
            lru_.splice(lru_.begin(), lru_, where_[slot_of_[i]]);
            return store_[slot_of_[i]].data();
        }
        std::size_t slot;
        if (store_.size() < capacity_) {
            slot = store_.size();
            store_.emplace_back(l_);
            owner_.push_back(i);
            where_.push_back(lru_.insert(lru_.begin(), slot));
        } else {
            slot = lru_.back();
            slot_of_[owner_[slot]] = npos;
            owner_[slot] = i;
            lru_.splice(lru_.begin(), lru_, where_[slot]);
        }
        slot_of_[i] = slot;
        fill(i, store_[slot].data());
        ++misses_;
        return store_[slot].data();
    }
    std::size_t capacity() const { return capacity_; }
    std::size_t misses() const { return misses_; }

private:
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);
    std::size_t l_, capacity_, misses_ = 0;
    std::vector<std::size_t> slot_of_, owner_;
    std::vector<std::vector<float>> store_;
    std::list<std::size_t> lru_;
    std::vector<std::list<std::size_t>::iterator> where_;
};

struct smo_result {
    std::vector<double> alpha;  ///< l
    double rho = 0;             ///< decision(x) = sum_i y_i alpha_i k(x_i, x) - rho
    double objective = 0;
    long iterations = 0;
    bool converged = true;
};

struct smo_options {
    double tol = 1e-3;
    bool shrinking = true;
    double cache_bytes = 100.0 * 1024 * 1024;
    long max_iter = 10000000;
};

/// SMO on l samples (rows of x, contiguous [l, d]) with labels y (+1/-1) and bounds c.
template <class Kernel, class T>
class smo_solver {
public:
    smo_solver(const Kernel& kernel, const T* x, std::size_t l, std::size_t d, const signed char* y,
               const double* c, const smo_options& opt)
        : k_(kernel), x_(x), l_(l), d_(d), y_(y), c_(c), opt_(opt), cache_(l, opt.cache_bytes) {
        norm_.resize(l);
        qd_.resize(l);
        for (std::size_t i = 0; i < l; ++i) {
            const T* xi = x + i * d;
            norm_[i] = Kernel::uses_dot ? static_cast<double>(dot(xi, xi, d)) : 0.0;
            qd_[i] = kernel_value(k_, xi, xi, d, norm_[i], norm_[i]);
        }
    }

    smo_result solve() {
        const std::size_t l = l_;
        alpha_.assign(l, 0.0);
        g_.assign(l, -1.0);
        g_bar_.assign(l, 0.0);
        active_.resize(l);
        for (std::size_t i = 0; i < l; ++i) active_[i] = i;
        unshrunk_ = false;
        smo_result r;
        long counter = static_cast<long>(std::min<std::size_t>(l, 1000)) + 1;
        long iter = 0;
        while (iter < opt_.max_iter) {
            if (opt_.shrinking && --counter == 0) {
                counter = static_cast<long>(std::min<std::size_t>(l, 1000));
                shrink();
            }
            std::size_t i, j;
            if (!select(i, j)) {
                reconstruct_gradient();
                restore_active();
                if (!select(i, j)) break;
                counter = 1;  // shrink again at the next step
            }
            ++iter;
            step(i, j);
        }
        if (iter >= opt_.max_iter) {
            r.converged = false;
            reconstruct_gradient();
            restore_active();
        }
        r.iterations = iter;
        r.rho = compute_rho();
        double obj = 0;
        for (std::size_t i = 0; i < l; ++i) obj += alpha_[i] * (g_[i] - 1.0);
        r.objective = 0.5 * obj;
        r.alpha = alpha_;
        return r;
    }

    std::size_t cache_capacity() const { return cache_.capacity(); }

private:
    bool upper(std::size_t i) const { return alpha_[i] >= c_[i]; }
    bool lower(std::size_t i) const { return alpha_[i] <= 0; }

    const float* column(std::size_t i) {
        return cache_.get(i, [this](std::size_t c, float* out) {
            const T* xc = x_ + c * d_;
            const double yc = y_[c];
            for (std::size_t t = 0; t < l_; ++t)
                out[t] = static_cast<float>(yc * y_[t] * kernel_value(k_, x_ + t * d_, xc, d_, norm_[t], norm_[c]));
        });
    }

    // WSS3: i maximises -y G over I_up; j minimises -(b_ij^2)/a_ij over I_low with b_ij > 0.
    // Returns false when the maximal violation is below tol (optimal on the active set).
    bool select(std::size_t& out_i, std::size_t& out_j) {
        const double inf = std::numeric_limits<double>::infinity();
        double gmax = -inf, gmax2 = -inf;
        std::size_t i = npos, j = npos;
        for (std::size_t t : active_) {
            if (y_[t] > 0) {
                if (!upper(t) && -g_[t] >= gmax) gmax = -g_[t], i = t;
            } else {
                if (!lower(t) && g_[t] >= gmax) gmax = g_[t], i = t;
            }
        }
        if (i == npos) return false;
        const float* qi = column(i);
        const double yi = y_[i];
        double best = inf;
        for (std::size_t t : active_) {
            double diff, quad;
            if (y_[t] > 0) {
                if (lower(t)) continue;
                diff = gmax + g_[t];
                gmax2 = std::max(gmax2, g_[t]);
                quad = qd_[i] + qd_[t] - 2.0 * yi * qi[t];
            } else {
                if (upper(t)) continue;
                diff = gmax - g_[t];
                gmax2 = std::max(gmax2, -g_[t]);
                quad = qd_[i] + qd_[t] + 2.0 * yi * qi[t];
            }
            if (diff > 0) {
                const double obj = -(diff * diff) / (quad > 0 ? quad : tau);
                if (obj <= best) best = obj, j = t;
            }
        }
        if (gmax + gmax2 < opt_.tol || j == npos) return false;
        out_i = i;
        out_j = j;
        return true;
    }

    // The analytic solution of the two-variable sub-problem, clipped to the box.
    void step(std::size_t i, std::size_t j) {
        const float* qi = column(i);
        const float* qj = column(j);
        const double ci = c_[i], cj = c_[j];
        const double ai_old = alpha_[i], aj_old = alpha_[j];
        double& ai = alpha_[i];
        double& aj = alpha_[j];
        if (y_[i] != y_[j]) {
            double quad = qd_[i] + qd_[j] + 2.0 * qi[j];
            if (quad <= 0) quad = tau;
            const double delta = (-g_[i] - g_[j]) / quad;
            const double diff = ai - aj;
            ai += delta;
            aj += delta;
            if (diff > 0) {
                if (aj < 0) aj = 0, ai = diff;
            } else if (ai < 0) {
                ai = 0, aj = -diff;
            }
            if (diff > ci - cj) {
                if (ai > ci) ai = ci, aj = ci - diff;
            } else if (aj > cj) {
                aj = cj, ai = cj + diff;
            }
        } else {
            double quad = qd_[i] + qd_[j] - 2.0 * qi[j];
            if (quad <= 0) quad = tau;
            const double delta = (g_[i] - g_[j]) / quad;
            const double sum = ai + aj;
            ai -= delta;
            aj += delta;
            if (sum > ci) {
                if (ai > ci) ai = ci, aj = sum - ci;
            } else if (aj < 0) {
                aj = 0, ai = sum;
            }
            if (sum > cj) {
                if (aj > cj) aj = cj, ai = sum - cj;
            } else if (ai < 0) {
                ai = 0, aj = sum;
            }
        }
        const double di = ai - ai_old, dj = aj - aj_old;
        for (std::size_t t : active_) g_[t] += static_cast<double>(qi[t]) * di + static_cast<double>(qj[t]) * dj;
        // G_bar = sum over variables at their upper bound of C_t Q_:t (for unshrinking).
        const bool ui_old = ai_old >= ci, uj_old = aj_old >= cj;
        if (ui_old != upper(i)) {
            const double s = ui_old ? -ci : ci;
            for (std::size_t t = 0; t < l_; ++t) g_bar_[t] += s * qi[t];
        }
        if (uj_old != upper(j)) {
            const double s = uj_old ? -cj : cj;
            for (std::size_t t = 0; t < l_; ++t) g_bar_[t] += s * qj[t];
        }
    }

    // Can t leave the active set? At a bound, and its gradient points out of the box by more than
    // the current violation on the other side.
    bool stuck(std::size_t t, double gmax1, double gmax2) const {
        if (upper(t)) return y_[t] > 0 ? -g_[t] > gmax1 : -g_[t] > gmax2;
        if (lower(t)) return y_[t] > 0 ? g_[t] > gmax2 : g_[t] > gmax1;
        return false;
    }

    void shrink() {
        const double inf = std::numeric_limits<double>::infinity();
        double gmax1 = -inf, gmax2 = -inf;  // max -yG over I_up, max yG over I_low
        for (std::size_t t : active_) {
            const double yg = y_[t] * g_[t];
            if ((y_[t] > 0 && !upper(t)) || (y_[t] < 0 && !lower(t))) gmax1 = std::max(gmax1, -yg);
            if ((y_[t] > 0 && !lower(t)) || (y_[t] < 0 && !upper(t))) gmax2 = std::max(gmax2, yg);
        }
        if (!unshrunk_ && gmax1 + gmax2 <= opt_.tol * 10) {
            unshrunk_ = true;  // near the end: bring every variable back once, with exact gradients
            reconstruct_gradient();
            restore_active();
        }
        std::size_t kept = 0;
        for (std::size_t t : active_)
            if (!stuck(t, gmax1, gmax2)) active_[kept++] = t;
        active_.resize(kept);
    }

    void restore_active() {
        if (active_.size() == l_) return;
        active_.resize(l_);
        for (std::size_t i = 0; i < l_; ++i) active_[i] = i;
    }

    // Exact gradients of the shrunk variables: G_t = G_bar_t - 1 + sum over free j of alpha_j Q_tj.
    void reconstruct_gradient() {
        if (active_.size() == l_) return;
        std::vector<char> is_active(l_, 0);
        for (std::size_t t : active_) is_active[t] = 1;
        std::vector<std::size_t> inactive;
        for (std::size_t t = 0; t < l_; ++t)
            if (!is_active[t]) inactive.push_back(t), g_[t] = g_bar_[t] - 1.0;
        for (std::size_t j = 0; j < l_; ++j) {
            if (upper(j) || lower(j)) continue;
            const float* qj = column(j);
            const double aj = alpha_[j];
            for (std::size_t t : inactive) g_[t] += aj * qj[t];
        }
    }

    double compute_rho() const {
        const double inf = std::numeric_limits<double>::infinity();
        double ub = inf, lb = -inf, sum = 0;
        std::size_t free = 0;
        for (std::size_t t = 0; t < l_; ++t) {
            const double yg = y_[t] * g_[t];
            if (upper(t)) {
                if (y_[t] < 0) ub = std::min(ub, yg); else lb = std::max(lb, yg);
            } else if (lower(t)) {
                if (y_[t] > 0) ub = std::min(ub, yg); else lb = std::max(lb, yg);
            } else {
                ++free;
                sum += yg;
            }
        }
        return free > 0 ? sum / static_cast<double>(free) : 0.5 * (ub + lb);
    }

    static constexpr std::size_t npos = static_cast<std::size_t>(-1);
    static constexpr double tau = 1e-12;

    Kernel k_;
    const T* x_;
    std::size_t l_, d_;
    const signed char* y_;
    const double* c_;
    smo_options opt_;
    column_cache cache_;
    std::vector<double> norm_, qd_, alpha_, g_, g_bar_;
    std::vector<std::size_t> active_;
    bool unshrunk_ = false;
};

}  // namespace detail

FERX_NAMESPACE_END
