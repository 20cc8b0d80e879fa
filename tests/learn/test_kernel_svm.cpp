// Kernel C-SVC by SMO: a known answer (XOR), parity with cv::ml::SVM for every kernel the two
// share (support-vector counts, predictions), cache and shrinking invariance, seq == par, bad input.
#include <ferx/learn/kernel_svm.hpp>
#include <ferx/learn/linear_svm.hpp>

#include <boost/test/unit_test.hpp>

#include "ckplus_parity.hpp"
#include "ferx_test.hpp"
#include "learn_test.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace {

template <class Kernel>
void compare_with_opencv(const Kernel& kernel, int cv_kernel, double c, double gamma, double coef0, double degree,
                         bool nonnegative, const std::string& what) {
    xt::xtensor<float, 2> x, xt_;
    ferx::label_vector y, yt;
    learn_test::blobs<float>(3, 80, 6, 1.0, 21, x, y, nonnegative);
    learn_test::blobs<float>(3, 40, 6, 1.0, 21, xt_, yt, nonnegative);
    ferx::svc_params prm;
    prm.C = c;
    const auto m = ferx::fit_svc(ferx::exec::seq, kernel, x, y, prm);
    auto svm = learn_test::opencv_svc(cv_kernel, c, gamma, coef0, degree);
    svm->train(learn_test::to_mat(x), cv::ml::ROW_SAMPLE, learn_test::to_mat(y));
    // For the linear kernel OpenCV folds each pair's support vectors into one weight vector;
    // its uncompressed set is the union ferx keeps.
    const int cv_sv = cv_kernel == cv::ml::SVM::LINEAR ? svm->getUncompressedSupportVectors().rows
                                                       : svm->getSupportVectors().rows;
    const auto pf = ferx::predict(ferx::exec::seq, m, xt_);
    const auto pc = learn_test::opencv_predict(svm, xt_);
    const double agree = learn_test::accuracy(pf, pc);
    BOOST_TEST_MESSAGE(what << ": SVs ferx " << m.n_support() << " opencv " << cv_sv << ", prediction agreement "
                            << agree << ", accuracy ferx " << learn_test::accuracy(pf, yt) << " opencv "
                            << learn_test::accuracy(pc, yt));
    BOOST_TEST(std::abs(double(m.n_support()) - cv_sv) <= std::max(1.0, 0.02 * cv_sv), what);
    BOOST_TEST(agree >= 0.98, what);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(kernel_svm)

BOOST_AUTO_TEST_CASE(xor_known_answer) {
    // XOR with an RBF kernel (gamma = 1): by symmetry every point is a support vector with the
    // same multiplier a and rho = 0; the margin condition a (1 - 2/e + 1/e^2) = 1 gives
    // a = 1 / (1 - 1/e)^2.
    xt::xtensor<double, 2> x = {{0, 0}, {1, 1}, {0, 1}, {1, 0}};
    ferx::label_vector y = {0, 0, 1, 1};
    ferx::svc_params prm;
    prm.C = 10;
    prm.tol = 1e-9;
    const auto m = ferx::fit_svc(ferx::exec::seq, ferx::rbf_kernel{1.0}, x, y, prm);
    const double a = 1.0 / std::pow(1.0 - std::exp(-1.0), 2);
    BOOST_TEST(m.n_support() == 4u);
    for (std::size_t s = 0; s < 4; ++s)
        BOOST_TEST(m.coef(s, 0) == (y[m.support_index[s]] == 0 ? a : -a), boost::test_tools::tolerance(1e-6));
    BOOST_TEST(std::abs(m.rho[0]) < 1e-6);
    const auto dec = ferx::decision_function(ferx::exec::seq, m, x);
    for (std::size_t i = 0; i < 4; ++i) BOOST_TEST(dec(i, 0) == (y[i] == 0 ? 1.0 : -1.0), boost::test_tools::tolerance(1e-6));
    // Soft margin: C below a bounds every multiplier at C.
    prm.C = 1.0;
    const auto soft = ferx::fit_svc(ferx::exec::seq, ferx::rbf_kernel{1.0}, x, y, prm);
    for (std::size_t s = 0; s < soft.n_support(); ++s) BOOST_TEST(std::abs(soft.coef(s, 0)) == 1.0, boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(parity_with_opencv_every_kernel) {
    compare_with_opencv(ferx::linear_kernel{}, cv::ml::SVM::LINEAR, 0.1, 1, 0, 3, false, "linear");
    compare_with_opencv(ferx::rbf_kernel{0.2}, cv::ml::SVM::RBF, 1.0, 0.2, 0, 3, false, "rbf");
    compare_with_opencv(ferx::poly_kernel{0.1, 1.0, 3}, cv::ml::SVM::POLY, 1.0, 0.1, 1.0, 3, false, "poly");
    compare_with_opencv(ferx::sigmoid_kernel{0.01, -0.5}, cv::ml::SVM::SIGMOID, 1.0, 0.01, -0.5, 3, false, "sigmoid");
    compare_with_opencv(ferx::chi2_kernel{0.3}, cv::ml::SVM::CHI2, 1.0, 0.3, 0, 3, true, "chi2");
    compare_with_opencv(ferx::intersection_kernel{}, cv::ml::SVM::INTER, 0.1, 1, 0, 3, true, "intersection");
}

BOOST_AUTO_TEST_CASE(cache_shrinking_and_backends) {
    xt::xtensor<float, 2> x;
    ferx::label_vector y;
    learn_test::blobs<float>(4, 50, 8, 1.2, 5, x, y);
    ferx::svc_params prm;
    prm.C = 2;
    const ferx::rbf_kernel k{0.1};
    const auto m = ferx::fit_svc(ferx::exec::seq, k, x, y, prm);
    // A two-column cache recomputes columns, bit for bit the same.
    auto tiny = prm;
    tiny.cache_mb = 1e-6;
    const auto mt = ferx::fit_svc(ferx::exec::seq, k, x, y, tiny);
    BOOST_TEST(mt.coef == m.coef);
    BOOST_TEST(mt.rho == m.rho, boost::test_tools::per_element());
    // Without shrinking: the same optimum (objective within the stopping tolerance).
    auto plain = prm;
    plain.shrinking = false;
    const auto mp = ferx::fit_svc(ferx::exec::seq, k, x, y, plain);
    for (std::size_t p = 0; p < m.tasks.size(); ++p)
        BOOST_TEST(mp.objective[p] == m.objective[p], boost::test_tools::tolerance(1e-3));
    // par trains the same model and predicts the same decision values.
    const auto mpar = ferx::fit_svc(ferx::exec::par, k, x, y, prm);
    BOOST_TEST(mpar.coef == m.coef);
    const auto ds = ferx::decision_function(ferx::exec::seq, m, x);
    const auto dp = ferx::decision_function(ferx::exec::par, m, x);
    BOOST_TEST(ds == dp);
    BOOST_TEST(learn_test::accuracy(ferx::predict(ferx::exec::seq, m, x), y) > 0.9);
    // One-vs-rest: 4 tasks, also accurate.
    auto ovr = prm;
    ovr.strategy = ferx::multiclass::one_vs_rest;
    std::size_t calls = 0;
    ovr.progress = [&](std::size_t done, std::size_t total) {
        ++calls;
        BOOST_TEST(done <= total);
    };
    const auto mo = ferx::fit_svc(ferx::exec::seq, k, x, y, ovr);
    BOOST_TEST(mo.tasks.size() == 4u);
    BOOST_TEST(calls == 4u);
    BOOST_TEST(learn_test::accuracy(ferx::predict(ferx::exec::seq, mo, x), y) > 0.9);
}

BOOST_AUTO_TEST_CASE(voting_ties_go_to_the_lower_class) {
    // Three classes, one-vs-one decisions (0v1, 0v2, 1v2) = (+, -, +): votes 0:1, 1:1, 2:1.
    const std::vector<ferx::binary_task> tasks = {{0, 1}, {0, 2}, {1, 2}};
    xt::xtensor<double, 2> dec = {{1.0, -1.0, 1.0}, {-1.0, -1.0, 1.0}, {-1.0, -1.0, -1.0}};
    const auto labels = ferx::labels_from_decisions(dec, tasks, 3);
    BOOST_TEST(labels[0] == 0);  // three-way tie
    BOOST_TEST(labels[1] == 1);  // 1 wins twice
    BOOST_TEST(labels[2] == 2);
}

BOOST_AUTO_TEST_CASE(bad_input) {
    xt::xtensor<float, 2> x = {{0.f, 1.f}, {1.f, 0.f}, {2.f, 2.f}};
    ferx::label_vector y = {0, 1, 1};
    BOOST_CHECK_THROW(ferx::fit_svc(ferx::exec::seq, ferx::rbf_kernel{-1.0}, x, y), ferx::error);
    BOOST_CHECK_THROW(ferx::fit_svc(ferx::exec::seq, ferx::rbf_kernel{1.0}, x, ferx::label_vector{0, 0, 0}), ferx::error);
    auto neg = x;
    neg(0, 0) = -1.f;
    BOOST_CHECK_THROW(ferx::fit_svc(ferx::exec::seq, ferx::chi2_kernel{1.0}, neg, y), ferx::error);
    auto nan = x;
    nan(2, 0) = std::numeric_limits<float>::quiet_NaN();
    BOOST_CHECK_THROW(ferx::fit_svc(ferx::exec::seq, ferx::rbf_kernel{1.0}, nan, y), ferx::error);
    const auto m = ferx::fit_svc(ferx::exec::seq, ferx::rbf_kernel{1.0}, x, y);
    BOOST_CHECK_THROW(ferx::decision_function(ferx::exec::seq, m, xt::xtensor<float, 2>({1, 5}, 0.f)), ferx::error);
    BOOST_CHECK_THROW(ferx::predict(ferx::exec::par, m, nan), ferx::error);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(absent_class)

BOOST_AUTO_TEST_CASE(a_class_missing_from_training_is_never_predicted) {
    // Labels 0 and 2 only (class 1 absent, as in a cross-validation fold that lacks it).
    xt::xtensor<float, 2> x;
    ferx::label_vector y;
    learn_test::blobs<float>(2, 30, 3, 3.0, 6, x, y);
    for (auto& v : y) v = v == 1 ? 2 : 0;
    const auto m = ferx::fit_svc(ferx::exec::seq, ferx::rbf_kernel{0.3}, x, y);
    BOOST_TEST(m.n_classes == 3);
    const auto pred = ferx::predict(ferx::exec::seq, m, x);
    BOOST_TEST(std::count(pred.begin(), pred.end(), 1) == 0);
    BOOST_TEST(learn_test::accuracy(pred, y) > 0.95);
    const auto lin = ferx::fit_linear_svm(ferx::exec::seq, x, y, ferx::linear_svm_params{});
    const auto pl = ferx::predict(ferx::exec::seq, lin, x);
    BOOST_TEST(std::count(pl.begin(), pl.end(), 1) == 0);
    BOOST_TEST(learn_test::accuracy(pl, y) > 0.95);
    const auto dec = ferx::decision_function(ferx::exec::seq, m, x);
    for (std::size_t i = 0; i < dec.size(); ++i) BOOST_TEST_REQUIRE(std::isfinite(dec.data()[i]));
}

BOOST_AUTO_TEST_SUITE_END()

// Parity with cv::ml::SVM on real data: CK+48 (981 crops, 7 classes, 118 subjects), pixel
// features (48x48 scaled to [0, 1]), subject-grouped 10-fold cross-validation. ferx's RBF C-SVC
// and cv::ml::SVM (C_SVC, RBF, same C and gamma) must reach fold-averaged accuracies within 0.5
// points, and support-vector counts (unique SVs of all pairwise models, summed over folds) within 2 %.
// Long: labelled heavy.
BOOST_AUTO_TEST_SUITE(kernel_svm_ckplus48_parity, *boost::unit_test::precondition(ferx_test::shared_data_present()))

BOOST_AUTO_TEST_CASE(rbf_svc_matches_opencv, *boost::unit_test::label("heavy")) {
    const auto ds = learn_data::ckplus48(ferx_test::shared_dir(), learn_data::features::pixels);
    BOOST_TEST_REQUIRE(ds.x.shape(0) == 981u);
    const double c = 10, gamma = 0.005;
    const auto s = learn_test::cross_validate(ds, cv::ml::SVM::RBF, c, gamma, [&](const auto& xtr, const auto& ytr, const auto& xte, long& sv) {
        ferx::svc_params prm;
        prm.C = c;
        const auto m = ferx::fit_svc(ferx::exec::par, ferx::rbf_kernel{gamma}, xtr, ytr, prm);
        sv = static_cast<long>(m.n_support());
        return ferx::predict(ferx::exec::par, m, xte);
    });
    BOOST_TEST_MESSAGE("RBF C=" << c << " gamma=" << gamma << ": accuracy ferx " << 100 * s.ferx_acc << " % opencv "
                                << 100 * s.cv_acc << " %; SVs ferx " << s.ferx_sv << " opencv " << s.cv_sv);
    BOOST_TEST(std::abs(s.ferx_acc - s.cv_acc) <= 0.005);
    BOOST_TEST(std::abs(double(s.ferx_sv - s.cv_sv)) <= 0.02 * double(s.cv_sv));
    BOOST_TEST(s.ferx_acc > 0.6);  // a floor: far above the 25 % of the largest class
}

BOOST_AUTO_TEST_SUITE_END()
