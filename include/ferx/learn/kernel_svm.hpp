/// \file ferx/learn/kernel_svm.hpp
/// Kernel C-SVC (the LIBSVM / cv::ml::SVM C_SVC formulation), trained by SMO with second-order
/// working-set selection and shrinking (ferx/learn/detail/smo.hpp), with a kernel cache of a set
/// memory budget, class weights, and one-vs-one (LIBSVM's voting) or one-vs-rest multiclass.
/// The kernel is a compile-time policy (ferx/learn/kernels.hpp):
///
///     ferx::svc_params prm;  prm.C = 10;
///     auto model = ferx::fit_svc(ferx::exec::par, ferx::rbf_kernel{0.01}, x_train, y_train, prm);
///     auto dec = ferx::decision_function(ferx::exec::par, model, x_test);   // [n, P]
///     auto labels = ferx::predict(ferx::exec::par, model, x_test);
///
/// The model keeps the unique support vectors of all binary tasks (one row each, as
/// cv::ml::SVM::getSupportVectors does for non-linear kernels) and a dense coefficient matrix, so
/// decision values of a batch are K(x, SV) [n, S] times coef [S, P] minus rho: the form the
/// CUDA backend computes with two GEMMs.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/progress.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/learn/dataset.hpp>
#include <ferx/learn/detail/smo.hpp>
#include <ferx/learn/kernels.hpp>
#include <ferx/learn/model_io.hpp>
#include <ferx/learn/probability.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN

/// Parameters of `fit_svc`, with LIBSVM's defaults (except the cache: 100 MiB per thread).
struct svc_params {
    double C = 1.0;                          ///< penalty, > 0
    double tol = 1e-3;                       ///< stop when the maximal KKT violation < tol
    bool shrinking = true;
    double cache_mb = 100.0;                 ///< kernel-column cache per binary solver, MiB
    long max_iter = 10000000;                ///< SMO steps per binary task, at most
    multiclass strategy = multiclass::one_vs_one;
    std::vector<double> class_weight;        ///< empty, or one factor of C per class
    progress_callback progress;              ///< optional: (binary tasks done, total)
    bool probability = false;                ///< also fit Platt sigmoids (5-fold CV per task)
    std::uint64_t seed = 1;                  ///< of the probability folds
};

/// A fitted kernel C-SVC on features of type T.
template <class Kernel, class T = float>
struct svc_model {
    Kernel kernel;
    std::size_t dim = 0;                      ///< d
    int n_classes = 0;
    multiclass strategy = multiclass::one_vs_one;
    std::vector<binary_task> tasks;           ///< P binary tasks
    xt::xtensor<T, 2> support_vectors;        ///< [S, d], unique, in training order
    std::vector<std::size_t> support_index;   ///< S row indices into the training set
    xt::xtensor<double, 2> coef;              ///< [S, P]: y_i alpha_i of task p (0 where not an SV of p)
    std::vector<double> rho;                  ///< P offsets: decision = sum coef k - rho
    std::vector<long> iterations;             ///< P SMO steps taken (diagnostics)
    std::vector<double> objective;            ///< P dual objectives (diagnostics)
    std::vector<platt_sigmoid> sigmoids;      ///< P Platt sigmoids, or empty (no probabilities)

    std::size_t n_support() const { return support_vectors.shape(0); }
};

namespace detail {

/// Decision values of each sample of a binary task from 5-fold cross-validation (the samples
/// of a fold are predicted by a model trained on the other folds), for fitting Platt sigmoids.
template <class Kernel, class T>
std::vector<double> cross_validated_decisions(const Kernel& kernel, const xt::xtensor<T, 2>& sub,
                                              const std::vector<signed char>& sign, const std::vector<double>& c,
                                              const smo_options& opt, std::uint64_t seed) {
    const std::size_t l = sign.size(), d = sub.shape(1);
    const std::size_t folds = std::min<std::size_t>(5, l);
    std::vector<std::size_t> order(l);
    for (std::size_t i = 0; i < l; ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), std::mt19937_64(seed));
    std::vector<double> dec(l, 0.0);
    for (std::size_t f = 0; f < folds; ++f) {
        std::vector<std::size_t> train, test;
        for (std::size_t r = 0; r < l; ++r) (r * folds / l == f ? test : train).push_back(order[r]);
        std::vector<signed char> ts;
        std::vector<double> tc;
        bool has_pos = false, has_neg = false;
        for (std::size_t i : train) {
            ts.push_back(sign[i]);
            tc.push_back(c[i]);
            (sign[i] > 0 ? has_pos : has_neg) = true;
        }
        if (!has_pos || !has_neg) {  // one class left in training: its sign
            for (std::size_t i : test) dec[i] = has_pos ? 1.0 : -1.0;
            continue;
        }
        const auto xtr = take_rows(sub, train);
        const auto r = smo_solver<Kernel, T>(kernel, xtr.data(), train.size(), d, ts.data(), tc.data(), opt).solve();
        const auto norms = row_norms(xtr);
        for (std::size_t i : test) {
            const T* xi = sub.data() + i * d;
            const double ni = Kernel::uses_dot ? static_cast<double>(dot(xi, xi, d)) : 0.0;
            double v = -r.rho;
            for (std::size_t s = 0; s < train.size(); ++s)
                if (r.alpha[s] != 0) v += ts[s] * r.alpha[s] * kernel_value(kernel, xtr.data() + s * d, xi, d, norms[s], ni);
            dec[i] = v;
        }
    }
    return dec;
}

}  // namespace detail

/// Fits a C-SVC with `kernel` on x [n, d] and labels y (0..K-1). `par` trains the binary tasks
/// in parallel (each with its own cache of cache_mb); the model equals `seq`'s. A task whose
/// class has no training sample gets the constant decision (+-1) of the class present. The
/// progress callback may be called from the pool's threads, one call at a time.
template <class Policy, class Kernel, class T>
svc_model<Kernel, T> fit_svc(const Policy& policy, const Kernel& kernel, const xt::xtensor<T, 2>& x,
                             const label_vector& y, const svc_params& prm = {}) {
    static_assert(is_host_policy_v<Policy>, "ferx::fit_svc runs on the host: exec::seq or exec::par");
    constexpr const char* where = "ferx::fit_svc";
    const int k = detail::check_training_set(x, y, where);
    kernel.check(where);
    detail::check_kernel_input<Kernel>(x, where);
    detail::require(std::isfinite(prm.C) && prm.C > 0, where, "C must be positive and finite");
    detail::require(std::isfinite(prm.tol) && prm.tol > 0, where, "tol must be positive");
    detail::require(prm.cache_mb > 0, where, "cache_mb must be positive");
    detail::require(prm.max_iter > 0, where, "max_iter must be positive");
    detail::check_class_weights(prm.class_weight, k, where);

    svc_model<Kernel, T> m;
    m.kernel = kernel;
    m.dim = x.shape(1);
    m.n_classes = k;
    m.strategy = prm.strategy;
    m.tasks = detail::binary_tasks(k, prm.strategy);
    const std::size_t p_count = m.tasks.size(), n = x.shape(0), d = m.dim;
    // Per task: its training rows and their y_i alpha_i.
    std::vector<std::vector<std::size_t>> rows(p_count);
    std::vector<std::vector<double>> coefs(p_count);
    m.rho.assign(p_count, 0.0);
    m.iterations.assign(p_count, 0);
    m.objective.assign(p_count, 0.0);
    if (prm.probability) m.sigmoids.resize(p_count);
    detail::smo_options opt;
    opt.tol = prm.tol;
    opt.shrinking = prm.shrinking;
    opt.cache_bytes = prm.cache_mb * 1024.0 * 1024.0;
    opt.max_iter = prm.max_iter;
    detail::progress_reporter report(prm.progress, p_count);
    detail::for_each_range(policy, static_cast<std::ptrdiff_t>(p_count), 1, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
        std::vector<signed char> sign;
        std::vector<double> c;
        for (std::ptrdiff_t pi = lo; pi < hi; ++pi) {
            const std::size_t p = static_cast<std::size_t>(pi);
            detail::task_problem(y, m.tasks[p], prm, rows[p], sign, c);
            if (const int side = detail::one_sided(sign)) {
                // One class absent (e.g. from a fold): a constant decision of the present class.
                coefs[p].assign(rows[p].size(), 0.0);
                m.rho[p] = -side;
                if (prm.probability) m.sigmoids[p] = {0.0, side > 0 ? -20.0 : 20.0};
                report();
                continue;
            }
            const auto sub = take_rows(x, rows[p]);
            detail::smo_solver<Kernel, T> solver(kernel, sub.data(), rows[p].size(), d, sign.data(), c.data(), opt);
            const auto r = solver.solve();
            coefs[p].resize(r.alpha.size());
            for (std::size_t s = 0; s < r.alpha.size(); ++s) coefs[p][s] = sign[s] * r.alpha[s];
            m.rho[p] = r.rho;
            m.iterations[p] = r.iterations;
            m.objective[p] = r.objective;
            if (prm.probability) {
                const auto dec = detail::cross_validated_decisions(kernel, sub, sign, c, opt, prm.seed + p);
                std::vector<char> pos(sign.size());
                for (std::size_t s = 0; s < sign.size(); ++s) pos[s] = sign[s] > 0;
                m.sigmoids[p] = fit_platt_sigmoid(dec, pos);
            }
            report();
        }
    });
    // The union of the support vectors, in training order.
    std::vector<std::size_t> sv_row(n, static_cast<std::size_t>(-1));
    for (std::size_t p = 0; p < p_count; ++p)
        for (std::size_t s = 0; s < rows[p].size(); ++s)
            if (coefs[p][s] != 0) sv_row[rows[p][s]] = 0;
    for (std::size_t i = 0; i < n; ++i)
        if (sv_row[i] == 0) {
            sv_row[i] = m.support_index.size();
            m.support_index.push_back(i);
        }
    m.support_vectors = take_rows(x, m.support_index);
    m.coef = xt::xtensor<double, 2>({m.support_index.size(), p_count}, 0.0);
    for (std::size_t p = 0; p < p_count; ++p)
        for (std::size_t s = 0; s < rows[p].size(); ++s)
            if (coefs[p][s] != 0) m.coef(sv_row[rows[p][s]], p) = coefs[p][s];
    return m;
}

/// Decision values [n, P] of the binary tasks on x [n, d]: positive votes for task p's
/// `positive` class. `par` splits the samples over the pool (same values as `seq`).
template <class Policy, class Kernel, class T>
xt::xtensor<double, 2> decision_function(const Policy& policy, const svc_model<Kernel, T>& m,
                                         const xt::xtensor<T, 2>& x) {
    static_assert(is_host_policy_v<Policy>,
                  "ferx::decision_function(svc_model) needs exec::seq, exec::par or exec::cuda (the "
                  "latter from a .cu file: ferx::cuda::svm_predictor)");
    constexpr const char* where = "ferx::decision_function";
    detail::check_predict_features(x, m.dim, where);
    detail::check_kernel_input<Kernel>(x, where);
    const std::size_t n = x.shape(0), d = m.dim, s_count = m.n_support(), p_count = m.tasks.size();
    const auto sv_norm = detail::row_norms(m.support_vectors);
    xt::xtensor<double, 2> out({n, p_count});
    detail::for_each_range(policy, static_cast<std::ptrdiff_t>(n), 16, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
        std::vector<double> kv(s_count);
        for (std::ptrdiff_t ii = lo; ii < hi; ++ii) {
            const std::size_t i = static_cast<std::size_t>(ii);
            const T* xi = x.data() + i * d;
            const double ni = Kernel::uses_dot ? static_cast<double>(detail::dot(xi, xi, d)) : 0.0;
            for (std::size_t s = 0; s < s_count; ++s)
                kv[s] = detail::kernel_value(m.kernel, m.support_vectors.data() + s * d, xi, d, sv_norm[s], ni);
            double* o = out.data() + i * p_count;
            for (std::size_t p = 0; p < p_count; ++p) o[p] = -m.rho[p];
            for (std::size_t s = 0; s < s_count; ++s) {
                const double* c = m.coef.data() + s * p_count;
                for (std::size_t p = 0; p < p_count; ++p) o[p] += c[p] * kv[s];
            }
        }
    });
    return out;
}

/// Predicted labels of x [n, d].
template <class Policy, class Kernel, class T>
label_vector predict(const Policy& policy, const svc_model<Kernel, T>& m, const xt::xtensor<T, 2>& x) {
    return labels_from_decisions(decision_function(policy, m, x), m.tasks, m.n_classes);
}

/// Class probabilities [n, K] of x [n, d] (rows sum to 1). Needs a model fitted with
/// `probability = true`. One-vs-one: Platt probabilities of each pair, coupled (Wu, Lin & Weng);
/// one-vs-rest: each class's Platt probability, normalised.
template <class Policy, class Kernel, class T>
xt::xtensor<double, 2> predict_proba(const Policy& policy, const svc_model<Kernel, T>& m, const xt::xtensor<T, 2>& x) {
    detail::require(m.sigmoids.size() == m.tasks.size(), "ferx::predict_proba",
                    "the model has no probability sigmoids (fit it with svc_params::probability = true)");
    return probabilities_from_decisions(decision_function(policy, m, x), m.tasks, m.sigmoids, m.n_classes);
}

namespace detail {
/// `kernel <name> <parameters>` of a model file.
inline void write_kernel(std::ostream& o, const linear_kernel&) { o << "kernel linear\n"; }
inline void write_kernel(std::ostream& o, const poly_kernel& k) { o << "kernel poly " << k.gamma << ' ' << k.coef0 << ' ' << k.degree << '\n'; }
inline void write_kernel(std::ostream& o, const rbf_kernel& k) { o << "kernel rbf " << k.gamma << '\n'; }
inline void write_kernel(std::ostream& o, const sigmoid_kernel& k) { o << "kernel sigmoid " << k.gamma << ' ' << k.coef0 << '\n'; }
inline void write_kernel(std::ostream& o, const chi2_kernel& k) { o << "kernel chi2 " << k.gamma << '\n'; }
inline void write_kernel(std::ostream& o, const intersection_kernel&) { o << "kernel intersection\n"; }

/// The parameters after `kernel <name>`.
inline void read_kernel(model_reader&, linear_kernel&) {}
inline void read_kernel(model_reader& r, poly_kernel& k) {
    k.gamma = r.number();
    k.coef0 = r.number();
    k.degree = static_cast<int>(r.integer());
}
inline void read_kernel(model_reader& r, rbf_kernel& k) { k.gamma = r.number(); }
inline void read_kernel(model_reader& r, sigmoid_kernel& k) {
    k.gamma = r.number();
    k.coef0 = r.number();
}
inline void read_kernel(model_reader& r, chi2_kernel& k) { k.gamma = r.number(); }
inline void read_kernel(model_reader&, intersection_kernel&) {}
}  // namespace detail

/// Model files (ferx/learn/model_io.hpp): section "svc" (kernel and its parameters, value_type
/// float32|float64, dim, n_classes, strategy, tasks, rho, probability sigmoids, support vectors:
/// `sv index coef[P] x[d]` each).
template <class Kernel, class T>
void write_section(model_writer& w, const svc_model<Kernel, T>& m) {
    std::ostream& o = w.begin_section("svc");
    detail::write_kernel(o, m.kernel);
    o << "value_type " << detail::value_type_name<T>() << "\ndim " << m.dim << "\nn_classes " << m.n_classes
      << "\nstrategy " << detail::strategy_name(m.strategy) << '\n';
    detail::write_tasks(o, m.tasks);
    detail::write_values(o, "rho", m.rho);
    o << "probability " << m.sigmoids.size();
    for (const auto& sg : m.sigmoids) o << ' ' << sg.a << ' ' << sg.b;
    o << '\n';
    const std::size_t p = m.tasks.size();
    o << "support_vectors " << m.n_support() << '\n';
    for (std::size_t s = 0; s < m.n_support(); ++s) {
        o << "sv " << m.support_index[s];
        for (std::size_t q = 0; q < p; ++q) o << ' ' << m.coef(s, q);
        for (std::size_t j = 0; j < m.dim; ++j) o << ' ' << m.support_vectors(s, j);
        o << '\n';
    }
}
template <class Kernel, class T>
void read_section(model_reader& r, svc_model<Kernel, T>& m) {
    r.begin_section("svc");
    r.expect("kernel");
    const std::string name = r.word();
    if (name != Kernel::name)
        r.fail("the file holds a '" + name + "' kernel, the caller asked for '" + std::string(Kernel::name) + "'");
    detail::read_kernel(r, m.kernel);
    try {
        m.kernel.check("ferx::model_reader");
    } catch (const error& e) {
        r.fail(e.reason());  // the same sentence, naming the file
    }
    r.expect("value_type");
    if (r.word() != detail::value_type_name<T>())
        r.fail(std::string("the file's value type differs from the caller's (") + detail::value_type_name<T>() + ")");
    r.expect("dim");
    m.dim = r.count();
    r.expect("n_classes");
    m.n_classes = static_cast<int>(r.count(1u << 16));
    m.strategy = r.read_strategy();
    m.tasks = r.read_tasks(m.n_classes);
    const auto rho = r.numbers("rho");
    if (rho.size() != m.tasks.size()) r.fail("rho does not match the tasks");
    m.rho = rho;
    r.expect("probability");
    m.sigmoids.resize(r.count(m.tasks.size()));
    if (!m.sigmoids.empty() && m.sigmoids.size() != m.tasks.size()) r.fail("probability sigmoids do not match the tasks");
    for (auto& sg : m.sigmoids) {
        sg.a = r.number();
        sg.b = r.number();
    }
    r.expect("support_vectors");
    const std::size_t s_count = r.count(), p = m.tasks.size();
    r.require_values(s_count, 2 + p + m.dim, "'support_vectors'");  // sv index coef[P] x[dim]
    m.support_index.resize(s_count);
    m.support_vectors = xt::xtensor<T, 2>({s_count, m.dim});
    m.coef = xt::xtensor<double, 2>({s_count, p});
    for (std::size_t s = 0; s < s_count; ++s) {
        r.expect("sv");
        m.support_index[s] = r.count(std::numeric_limits<std::size_t>::max() / 2);
        for (std::size_t q = 0; q < p; ++q) m.coef(s, q) = r.number();
        for (std::size_t j = 0; j < m.dim; ++j) m.support_vectors(s, j) = static_cast<T>(r.number());
    }
    m.iterations.assign(p, 0);
    m.objective.assign(p, 0.0);
}

namespace detail {
FERX_ARCH_NAMESPACE_BEGIN
/// The device side of cuda::svm_predictor (support vectors, coefficients, cuBLAS handle and
/// batch scratch), defined in ferx/cuda/dispatch/svm_predict.cuh.
template <class Kernel, class T>
struct svm_device_state;
/// Uploads a model (support vectors sv [s, dim] and their squared norms, coef [s, p], rho [p];
/// synchronises once) and allocates scratch for `max_batch` samples.
template <class Kernel, class T>
std::shared_ptr<svm_device_state<Kernel, T>> svm_upload(const exec::cuda_policy& policy, const Kernel& kernel, const T* sv,
                                                       const double* sv_norm, const double* coef, const double* rho,
                                                       std::size_t s, std::size_t dim, std::size_t p, std::size_t max_batch);
/// Decision values [b, P] of b <= max_batch contiguous device samples into contiguous device
/// rows: enqueued on the policy's stream, no allocation, no synchronisation.
template <class Kernel, class T>
void svm_decide_device(svm_device_state<Kernel, T>& s, const T* d_x, std::size_t b, double* d_out);
/// The same from host samples into host rows (copies in, computes, copies out): synchronises.
template <class Kernel, class T>
void svm_decide_host(svm_device_state<Kernel, T>& s, const T* x, std::size_t b, double* out);
FERX_ARCH_NAMESPACE_END
}  // namespace detail

namespace cuda {
FERX_ARCH_NAMESPACE_BEGIN

/// A kernel C-SVC model resident on the device, with scratch for batches of samples (sized
/// from a memory budget): the model is uploaded once, and no call allocates or uploads it again.
/// Use it from .cu files (its device side is ferx/cuda/dispatch/svm_predict.cuh, included at
/// the end of this header under nvcc). Link CUDA::cublas. Needs a device: without one,
/// ferx::error (never a CPU fallback).
///
///   dot-product kernels (linear, poly, rbf, sigmoid): dots = X_batch . SV' by cuBLAS GEMM (in T),
///     then k = kernel.from_dot(dot, |sv|^2, |x|^2) elementwise (in double);
///   chi2, intersection: k by a tiled kernel (ferx/cuda/kernels/svm.cuh);
///   decisions = k [b, S] . coef [S, P] - rho by a double-precision cuBLAS GEMM.
template <class Kernel, class T>
class svm_predictor {
    static_assert(cuda_compiled || sizeof(T) == 0,
                  "ferx::cuda::svm_predictor runs on the device: use it from a translation unit compiled by nvcc (.cu)");

public:
    /// \param budget_bytes device scratch for one batch (dots, kernel values, decisions, input).
    /// Uploads the model and synchronises the policy's stream once.
    svm_predictor(const exec::cuda_policy& policy, const svc_model<Kernel, T>& m, std::size_t budget_bytes = std::size_t(256) << 20)
        : dim_(m.dim), p_(m.tasks.size()), tasks_(m.tasks), n_classes_(m.n_classes) {
        constexpr const char* where = "ferx::svm_predictor";
        const std::size_t s = m.n_support();
        ferx::detail::require(s > 0 && dim_ > 0, where, "the model has no support vectors");
        constexpr std::size_t int_max = static_cast<std::size_t>(std::numeric_limits<int>::max());
        ferx::detail::require(s <= int_max && dim_ <= int_max && p_ <= int_max, where,
                              "the model is too large for cuBLAS's int dimensions");
        const std::size_t per_row = dim_ * sizeof(T) + s * (sizeof(T) + sizeof(double)) + p_ * sizeof(double) + sizeof(double);
        max_batch_ = std::max<std::size_t>(1, std::min<std::size_t>(budget_bytes / per_row, 65536));
        const std::vector<double> sv_norm = ferx::detail::row_norms(m.support_vectors);
        state_ = ferx::detail::svm_upload(policy, m.kernel, m.support_vectors.data(), sv_norm.data(), m.coef.data(), m.rho.data(), s,
                                          dim_, p_, max_batch_);
    }

    /// Move-only: the device buffers belong to one predictor (and its stream).
    svm_predictor(svm_predictor&&) noexcept = default;
    svm_predictor& operator=(svm_predictor&&) noexcept = default;
    svm_predictor(const svm_predictor&) = delete;
    svm_predictor& operator=(const svm_predictor&) = delete;

    /// Samples per batch of the scratch (larger inputs are split).
    std::size_t max_batch() const { return max_batch_; }
    std::size_t dim() const { return dim_; }
    std::size_t tasks() const { return p_; }

    /// Decision values [n, P] of host x [n, d] (host in, host out): synchronises the stream.
    xt::xtensor<double, 2> decision_function(const xt::xtensor<T, 2>& x) {
        constexpr const char* where = "ferx::decision_function (cuda)";
        ferx::detail::check_predict_features(x, dim_, where);
        ferx::detail::check_kernel_input<Kernel>(x, where);
        const std::size_t n = x.shape(0);
        xt::xtensor<double, 2> out({n, p_});
        for (std::size_t b0 = 0; b0 < n; b0 += max_batch_)
            ferx::detail::svm_decide_host(*state_, x.data() + b0 * dim_, std::min(max_batch_, n - b0), out.data() + b0 * p_);
        return out;
    }

    /// Decision values [n, P] of device x [n, d] into device `out` [n, P] (both contiguous):
    /// enqueued on the policy's stream, asynchronous, no allocation. The histogram kernels'
    /// input check (non-negative features) is the caller's here: the samples stay on the device.
    void decision_function(const tensor_view<const T, 2, memory_space::device>& x,
                           const tensor_view<double, 2, memory_space::device>& out) {
        constexpr const char* where = "ferx::decision_function (cuda)";
        const std::size_t n = static_cast<std::size_t>(x.shape(0));
        ferx::detail::require(static_cast<std::size_t>(x.shape(1)) == dim_, where,
                              "the samples have " + std::to_string(x.shape(1)) + " features, the model " + std::to_string(dim_));
        ferx::detail::require(static_cast<std::size_t>(out.shape(0)) == n && static_cast<std::size_t>(out.shape(1)) == p_, where,
                              "the output must be [n, P] = [" + std::to_string(n) + ", " + std::to_string(p_) + "]");
        ferx::detail::require(x.contiguous() && out.contiguous(), where, "the samples and the output must be contiguous");
        for (std::size_t b0 = 0; b0 < n; b0 += max_batch_)
            ferx::detail::svm_decide_device(*state_, x.data() + b0 * dim_, std::min(max_batch_, n - b0), out.data() + b0 * p_);
    }

    /// Predicted labels of host x [n, d]: synchronises.
    label_vector predict(const xt::xtensor<T, 2>& x) { return labels_from_decisions(decision_function(x), tasks_, n_classes_); }

private:
    std::size_t dim_, p_, max_batch_ = 0;
    std::vector<binary_task> tasks_;
    int n_classes_;
    std::shared_ptr<ferx::detail::svm_device_state<Kernel, T>> state_;
};

FERX_ARCH_NAMESPACE_END
}  // namespace cuda

FERX_ARCH_NAMESPACE_BEGIN
/// Decision values [n, P] of a kernel C-SVC on the device (host data in and out). One-shot: uploads
/// the model for this call (allocates, synchronises); in a loop keep a cuda::svm_predictor.
template <class Kernel, class T>
xt::xtensor<double, 2> decision_function(const exec::cuda_policy& policy, const svc_model<Kernel, T>& m, const xt::xtensor<T, 2>& x) {
    return cuda::svm_predictor<Kernel, T>(policy, m).decision_function(x);
}

/// Predicted labels of x [n, d] on the device (one-shot, as above).
template <class Kernel, class T>
label_vector predict(const exec::cuda_policy& policy, const svc_model<Kernel, T>& m, const xt::xtensor<T, 2>& x) {
    return cuda::svm_predictor<Kernel, T>(policy, m).predict(x);
}
FERX_ARCH_NAMESPACE_END

FERX_NAMESPACE_END

#if defined(__CUDACC__)
#include <ferx/cuda/dispatch/svm_predict.cuh>
#endif
