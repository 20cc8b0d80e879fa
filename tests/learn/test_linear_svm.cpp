// Linear SVM by dual coordinate descent: known answers, objective against an independent
// projected-gradient solver of the same dual, multiclass, class weights, seq == par, bad input.
#include <ferx/learn/linear_svm.hpp>

#include <boost/test/unit_test.hpp>

#include "ckplus_parity.hpp"
#include "ferx_test.hpp"
#include "learn_test.hpp"

#include <cmath>
#include <limits>
#include <vector>

namespace {

// Accelerated projected gradient on the dual of a binary L2-regularised SVM (bias folded into
// the features): min 1/2 a'(Q + D)a - e'a, 0 <= a <= U. Returns the primal weights (d + 1).
std::vector<double> reference_weights(const xt::xtensor<double, 2>& x, const std::vector<signed char>& y,
                                      const std::vector<double>& c, ferx::linear_loss loss, double bias, int iters) {
    const std::size_t n = x.shape(0), d = x.shape(1);
    const bool l1 = loss == ferx::linear_loss::hinge;
    std::vector<double> q(n * n), diag(n), upper(n);
    for (std::size_t i = 0; i < n; ++i) {
        diag[i] = l1 ? 0.0 : 0.5 / c[i];
        upper[i] = l1 ? c[i] : std::numeric_limits<double>::infinity();
        for (std::size_t j = 0; j < n; ++j) {
            double k = bias * bias;
            for (std::size_t f = 0; f < d; ++f) k += x(i, f) * x(j, f);
            q[i * n + j] = y[i] * y[j] * k + (i == j ? diag[i] : 0.0);
        }
    }
    double lip = 0;
    for (std::size_t i = 0; i < n; ++i) {
        double s = 0;
        for (std::size_t j = 0; j < n; ++j) s += std::abs(q[i * n + j]);
        lip = std::max(lip, s);
    }
    std::vector<double> a(n, 0.0), prev(n, 0.0), z(n, 0.0);
    double t = 1;
    for (int it = 0; it < iters; ++it) {
        for (std::size_t i = 0; i < n; ++i) {
            double g = -1;
            for (std::size_t j = 0; j < n; ++j) g += q[i * n + j] * z[j];
            a[i] = std::min(std::max(z[i] - g / lip, 0.0), upper[i]);
        }
        const double tn = 0.5 * (1 + std::sqrt(1 + 4 * t * t));
        for (std::size_t i = 0; i < n; ++i) z[i] = a[i] + (t - 1) / tn * (a[i] - prev[i]);
        prev = a;
        t = tn;
    }
    std::vector<double> w(d + 1, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t f = 0; f < d; ++f) w[f] += a[i] * y[i] * x(i, f);
        w[d] += a[i] * y[i] * bias;
    }
    return w;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(linear_svm)

BOOST_AUTO_TEST_CASE(separable_known_answer) {
    // Class 0 at x = 1, 2; class 1 at x = -1, -2. The hard-margin solution with a regularised
    // bias is w = 1, b = 0 (margins at +-1); with C = 100 the hinge loss gives the same.
    xt::xtensor<double, 2> x = {{1.0}, {2.0}, {-1.0}, {-2.0}};
    ferx::label_vector y = {0, 0, 1, 1};
    ferx::linear_svm_params prm;
    prm.loss = ferx::linear_loss::hinge;
    prm.C = 100;
    prm.tol = 1e-8;
    const auto m = ferx::fit_linear_svm(ferx::exec::seq, x, y, prm);
    BOOST_TEST(m.tasks.size() == 1u);
    BOOST_TEST(m.w(0, 0) == 1.0, boost::test_tools::tolerance(1e-6));
    BOOST_TEST(std::abs(m.w(0, 1)) < 1e-6);
    const auto dec = ferx::decision_function(ferx::exec::seq, m, x);
    BOOST_TEST(dec(0, 0) == 1.0, boost::test_tools::tolerance(1e-6));
    BOOST_TEST(dec(2, 0) == -1.0, boost::test_tools::tolerance(1e-6));
    BOOST_TEST(ferx::predict(ferx::exec::seq, m, x) == y, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(non_separable_known_answer) {
    // One class-1 point sits among class 0: with C = 0.5 and hinge loss it is misclassified,
    // and every point has a bounded multiplier.
    xt::xtensor<double, 2> x = {{1.0}, {2.0}, {1.5}, {-1.0}, {-2.0}};
    ferx::label_vector y = {0, 0, 1, 1, 1};
    ferx::linear_svm_params prm;
    prm.loss = ferx::linear_loss::hinge;
    prm.C = 0.5;
    prm.bias = 0;  // no bias: w is a scalar
    prm.tol = 1e-10;
    const auto m = ferx::fit_linear_svm(ferx::exec::seq, x, y, prm);
    // Primal: 1/2 w^2 + 0.5 (max(0,1-w) + max(0,1-2w) + max(0,1+1.5w) + max(0,1-w) + max(0,1-2w)).
    // For w in (0.5, 1): derivative w + 0.5 (-1 + 1.5 - 1) = w - 0.25 > 0; for w in (0, 0.5):
    // w + 0.5 (-1 - 2 + 1.5 - 1 - 2) = w - 1.75 < 0, so the minimum is at the kink w = 0.5.
    BOOST_TEST(m.w(0, 0) == 0.5, boost::test_tools::tolerance(1e-6));
    BOOST_TEST(m.w(0, 1) == 0.0);
    const auto pred = ferx::predict(ferx::exec::seq, m, x);
    BOOST_TEST(pred[2] == 0);  // the outlier is given the other side
}

BOOST_AUTO_TEST_CASE(objective_matches_reference_solver) {
    for (auto loss : {ferx::linear_loss::hinge, ferx::linear_loss::squared_hinge}) {
        xt::xtensor<double, 2> x;
        ferx::label_vector y;
        learn_test::blobs<double>(2, 40, 5, 0.8, 7, x, y);  // overlapping: non-separable
        ferx::linear_svm_params prm;
        prm.loss = loss;
        prm.C = 0.7;
        prm.tol = 1e-3;
        prm.class_weight = {1.0, 2.0};
        const auto m = ferx::fit_linear_svm(ferx::exec::seq, x, y, prm);
        std::vector<std::size_t> rows;
        std::vector<signed char> sign;
        std::vector<double> c;
        ferx::detail::task_problem(y, m.tasks[0], prm, rows, sign, c);
        const auto ref = reference_weights(x, sign, c, loss, prm.bias, 20000);
        const std::vector<double> w(m.w.begin(), m.w.end());
        const double obj = ferx::linear_svm_primal_objective(w, x, rows, sign, c, loss, prm.bias);
        const double obj_ref = ferx::linear_svm_primal_objective(ref, x, rows, sign, c, loss, prm.bias);
        BOOST_TEST_MESSAGE("loss " << int(loss) << ": ferx " << obj << ", reference " << obj_ref);
        BOOST_TEST(std::abs(obj - obj_ref) <= 1e-3 * obj_ref);
        // Tighter tolerance, closer still; and without shrinking, the same optimum.
        prm.tol = 1e-6;
        const auto tight = ferx::fit_linear_svm(ferx::exec::seq, x, y, prm);
        const double obj_tight = ferx::linear_svm_primal_objective(std::vector<double>(tight.w.begin(), tight.w.end()),
                                                                   x, rows, sign, c, loss, prm.bias);
        BOOST_TEST(std::abs(obj_tight - obj_ref) <= 1e-6 * obj_ref);
        prm.shrinking = false;
        const auto plain = ferx::fit_linear_svm(ferx::exec::seq, x, y, prm);
        const double obj_plain = ferx::linear_svm_primal_objective(std::vector<double>(plain.w.begin(), plain.w.end()),
                                                                   x, rows, sign, c, loss, prm.bias);
        BOOST_TEST(std::abs(obj_plain - obj_ref) <= 1e-6 * obj_ref);
    }
}

BOOST_AUTO_TEST_CASE(multiclass_and_backends) {
    xt::xtensor<float, 2> x, xt_;
    ferx::label_vector y, yt;
    learn_test::blobs<float>(4, 60, 10, 3.0, 11, x, y);
    learn_test::blobs<float>(4, 30, 10, 3.0, 11, xt_, yt);  // same centres (same seed), fresh draws
    for (auto strategy : {ferx::multiclass::one_vs_rest, ferx::multiclass::one_vs_one}) {
        ferx::linear_svm_params prm;
        prm.strategy = strategy;
        const auto m = ferx::fit_linear_svm(ferx::exec::seq, x, y, prm);
        BOOST_TEST(m.tasks.size() == (strategy == ferx::multiclass::one_vs_rest ? 4u : 6u));
        std::vector<std::size_t> seen;
        prm.progress = [&](std::size_t done, std::size_t total) {
            seen.push_back(done);
            BOOST_TEST(total == m.tasks.size());
        };
        const auto mp = ferx::fit_linear_svm(ferx::exec::par, x, y, prm);
        BOOST_TEST(mp.w == m.w);
        BOOST_TEST(seen.size() == m.tasks.size());  // once per task, counting up
        for (std::size_t i = 0; i < seen.size(); ++i) BOOST_TEST(seen[i] == i + 1);
        const auto pred = ferx::predict(ferx::exec::seq, m, x);
        BOOST_TEST(learn_test::accuracy(pred, y) > 0.95);
        const auto ds = ferx::decision_function(ferx::exec::seq, m, x);
        const auto dp = ferx::decision_function(ferx::exec::par, m, x);
        BOOST_TEST(ds == dp);
    }
}

BOOST_AUTO_TEST_CASE(class_weights_move_the_boundary) {
    xt::xtensor<double, 2> x;
    ferx::label_vector y;
    learn_test::blobs<double>(2, 100, 2, 0.5, 3, x, y);  // heavy overlap
    ferx::linear_svm_params prm;
    const auto plain = ferx::predict(ferx::exec::seq, ferx::fit_linear_svm(ferx::exec::seq, x, y, prm), x);
    prm.class_weight = {10.0, 1.0};
    const auto weighted = ferx::predict(ferx::exec::seq, ferx::fit_linear_svm(ferx::exec::seq, x, y, prm), x);
    auto count0 = [](const ferx::label_vector& p) { return std::count(p.begin(), p.end(), 0); };
    BOOST_TEST(count0(weighted) > count0(plain));
}

BOOST_AUTO_TEST_CASE(bad_input) {
    xt::xtensor<float, 2> x = {{0.f, 1.f}, {1.f, 0.f}, {2.f, 2.f}};
    ferx::label_vector y = {0, 1, 1};
    const auto fit = [](const xt::xtensor<float, 2>& a, const ferx::label_vector& b, ferx::linear_svm_params p = {}) {
        return ferx::fit_linear_svm(ferx::exec::seq, a, b, p);
    };
    BOOST_CHECK_THROW(fit(xt::xtensor<float, 2>({0, 2}), {}), ferx::error);
    BOOST_CHECK_THROW(fit(x, {1, 1, 1}), ferx::error);                 // one class only
    BOOST_CHECK_THROW(fit(x, {0, -1, 1}), ferx::error);                // label out of range
    BOOST_CHECK_THROW(fit(x, {0, 1}), ferx::error);                    // count mismatch
    auto bad = x;
    bad(1, 1) = std::numeric_limits<float>::quiet_NaN();
    BOOST_CHECK_THROW(fit(bad, y), ferx::error);
    bad(1, 1) = std::numeric_limits<float>::infinity();
    BOOST_CHECK_THROW(fit(bad, y), ferx::error);
    ferx::linear_svm_params p;
    p.C = -1;
    BOOST_CHECK_THROW(fit(x, y, p), ferx::error);
    p = {};
    p.class_weight = {1.0};
    BOOST_CHECK_THROW(fit(x, y, p), ferx::error);
    const auto m = fit(x, y);
    BOOST_CHECK_THROW(ferx::predict(ferx::exec::seq, m, xt::xtensor<float, 2>({2, 3}, 0.f)), ferx::error);
    try {
        ferx::predict(ferx::exec::seq, m, xt::xtensor<float, 2>({2, 3}, 0.f));
    } catch (const ferx::error& e) {
        BOOST_TEST(std::string(e.what()).find("expects 2") != std::string::npos);
    }
}

BOOST_AUTO_TEST_SUITE_END()

// Parity with cv::ml::SVM on real data: CK+48 (981 crops, 7 classes, 118 subjects), pixel
// features (48x48 scaled to [0, 1]), subject-grouped 10-fold cross-validation. ferx's linear SVM
// (hinge loss, one-vs-one) within 0.5 points of cv::ml::SVM LINEAR.
// Long: labelled heavy.
BOOST_AUTO_TEST_SUITE(linear_svm_ckplus48_parity, *boost::unit_test::precondition(ferx_test::shared_data_present()))

BOOST_AUTO_TEST_CASE(linear_svm_matches_opencv_linear, *boost::unit_test::label("heavy")) {
    const auto ds = learn_data::ckplus48(ferx_test::shared_dir(), learn_data::features::pixels);
    const double c = 0.01;
    const auto s = learn_test::cross_validate(ds, cv::ml::SVM::LINEAR, c, 1.0, [&](const auto& xtr, const auto& ytr, const auto& xte, long& sv) {
        const auto m = ferx::fit_linear_svm(ferx::exec::par, xtr, ytr, learn_data::parity_linear_params(c));
        sv = 0;
        return ferx::predict(ferx::exec::par, m, xte);
    });
    BOOST_TEST_MESSAGE("linear C=" << c << ": accuracy ferx " << 100 * s.ferx_acc << " % opencv " << 100 * s.cv_acc << " %");
    BOOST_TEST(std::abs(s.ferx_acc - s.cv_acc) <= 0.005);
    BOOST_TEST(s.ferx_acc > 0.6);
}

BOOST_AUTO_TEST_SUITE_END()
