// Parity with cv::ml::SVM on real data: CK+48 (981 crops, 7 classes, 118 subjects), pixel
// features (48x48 scaled to [0, 1]), subject-grouped 10-fold cross-validation. ferx's RBF
// C-SVC and cv::ml::SVM (C_SVC, RBF, same C and gamma) must reach fold-averaged accuracies
// within 0.5 points, and support-vector counts (unique SVs of all pairwise models, summed over
// folds) within 2 %; ferx's linear SVM (hinge loss, one-vs-one) within 0.5 points of
// cv::ml::SVM LINEAR. Long: labelled heavy.
#include <ferx/learn/kernel_svm.hpp>
#include <ferx/learn/linear_svm.hpp>
#include <ferx/learn/metrics.hpp>
#include <ferx/learn/splits.hpp>

#include <boost/test/unit_test.hpp>

#include "ferx_test.hpp"
#include "learn_data.hpp"
#include "learn_test.hpp"

#include <cmath>

namespace {

struct cv_scores {
    double ferx_acc = 0, cv_acc = 0;
    long ferx_sv = 0, cv_sv = 0;
};

template <class FitPredict>
cv_scores cross_validate(const learn_data::dataset& ds, int cv_kernel, double c, double gamma, FitPredict&& ferx_fit) {
    const auto folds = ferx::group_kfold(ds.groups, 10);
    cv_scores s;
    ferx::confusion_matrix cm_ferx(7), cm_cv(7);
    for (const auto& f : folds) {
        const auto xtr = ferx::take_rows(ds.x, f.train), xte = ferx::take_rows(ds.x, f.test);
        const auto ytr = ferx::take(ds.y, f.train), yte = ferx::take(ds.y, f.test);
        long sv = 0;
        const auto pf = ferx_fit(xtr, ytr, xte, sv);
        auto svm = learn_test::opencv_svc(cv_kernel, c, gamma);
        svm->train(learn_test::to_mat(xtr), cv::ml::ROW_SAMPLE, learn_test::to_mat(ytr));
        const auto pc = learn_test::opencv_predict(svm, xte);
        s.ferx_acc += learn_test::accuracy(pf, yte) / double(folds.size());
        s.cv_acc += learn_test::accuracy(pc, yte) / double(folds.size());
        s.ferx_sv += sv;
        s.cv_sv += cv_kernel == cv::ml::SVM::LINEAR ? svm->getUncompressedSupportVectors().rows
                                                    : svm->getSupportVectors().rows;
        cm_ferx.add(yte, pf);
        cm_cv.add(yte, pc);
    }
    BOOST_TEST_MESSAGE("ferx pooled:\n" << cm_ferx.table(ds.classes) << "opencv pooled:\n" << cm_cv.table(ds.classes));
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ckplus48_parity, *boost::unit_test::precondition(ferx_test::shared_data_present()))

BOOST_AUTO_TEST_CASE(rbf_svc_matches_opencv, *boost::unit_test::label("heavy")) {
    const auto ds = learn_data::ckplus48(ferx_test::shared_dir(), learn_data::features::pixels);
    BOOST_TEST_REQUIRE(ds.x.shape(0) == 981u);
    const double c = 10, gamma = 0.005;
    const auto s = cross_validate(ds, cv::ml::SVM::RBF, c, gamma, [&](const auto& xtr, const auto& ytr, const auto& xte, long& sv) {
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

BOOST_AUTO_TEST_CASE(linear_svm_matches_opencv_linear, *boost::unit_test::label("heavy")) {
    const auto ds = learn_data::ckplus48(ferx_test::shared_dir(), learn_data::features::pixels);
    const double c = 0.01;
    const auto s = cross_validate(ds, cv::ml::SVM::LINEAR, c, 1.0, [&](const auto& xtr, const auto& ytr, const auto& xte, long& sv) {
        const auto m = ferx::fit_linear_svm(ferx::exec::par, xtr, ytr, learn_data::parity_linear_params(c));
        sv = 0;
        return ferx::predict(ferx::exec::par, m, xte);
    });
    BOOST_TEST_MESSAGE("linear C=" << c << ": accuracy ferx " << 100 * s.ferx_acc << " % opencv " << 100 * s.cv_acc << " %");
    BOOST_TEST(std::abs(s.ferx_acc - s.cv_acc) <= 0.005);
    BOOST_TEST(s.ferx_acc > 0.6);
}

BOOST_AUTO_TEST_SUITE_END()
