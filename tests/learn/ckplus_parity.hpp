/// Cross-validation of a ferx classifier beside cv::ml::SVM on a real data set (CK+48, subject-
/// grouped 10-fold), for the parity tests of test_kernel_svm.cpp and test_linear_svm.cpp.
#pragma once

#include <ferx/learn/metrics.hpp>
#include <ferx/learn/splits.hpp>

#include <boost/test/unit_test.hpp>

#include "learn_data.hpp"
#include "learn_test.hpp"

namespace learn_test {

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

}  // namespace learn_test
