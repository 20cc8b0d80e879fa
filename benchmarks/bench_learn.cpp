// Learn-area benchmarks: SVM training and prediction, ferx beside cv::ml::SVM with the same
// parameters, on real features read from ../shared at run time (skipped when absent):
//   ckplus48_pixels  CK+48, 981 x 2304 pixels in [0, 1]
//   ckplus48_hog     CK+48, 981 x 900 cv::HOGDescriptor features (48x48, 8x8 cells, 2x2 blocks)
//   fer2013_hog_N    the first N of FER2013 train spread evenly (N = $FERX_BENCH_FER_N, default 5000)
// Names: svm/<impl>/<case>/<task>, task = train_rbf (C 10, gamma = 1 / (d var(x))), train_linear
// (C 0.01 on pixels, 1 on HOG: ferx linear SVM with hinge loss, one-vs-one, bias 1, tol 0.1,
// the CK+48 parity-test setting; OpenCV C_SVC with the LINEAR kernel), predict10000 (RBF model of the case, 10,000 samples).
// train_linear_sqhinge_ovr: ferx's linear SVM with LIBLINEAR's defaults (squared hinge,
// one-vs-rest), same C; it has no OpenCV twin.
// impl: ferx_seq, ferx_par (all threads of ferx's pool), opencv_1thread, opencv (default threads).
// Run: build/release/benchmarks/bench_learn --benchmark_filter=svm/ --benchmark_format=console
#include <ferx/learn/kernel_svm.hpp>
#include <ferx/learn/linear_svm.hpp>

#include <benchmark/benchmark.h>
#include <opencv2/core.hpp>
#include <opencv2/ml.hpp>

#include "bench_common.hpp"
#include "learn_cases.hpp"

#include <cstdlib>
#include <map>
#include <memory>
#include <string>

namespace {

using namespace learn_cases;

cv::Mat as_mat(const xt::xtensor<float, 2>& x) {
    return cv::Mat(int(x.shape(0)), int(x.shape(1)), CV_32F, const_cast<float*>(x.data())).clone();
}
cv::Mat as_mat(const ferx::label_vector& y) { return cv::Mat(int(y.size()), 1, CV_32S, const_cast<int*>(y.data())).clone(); }

cv::Ptr<cv::ml::SVM> opencv_svm(int kernel, double c, double gamma) {
    auto svm = cv::ml::SVM::create();
    svm->setType(cv::ml::SVM::C_SVC);
    svm->setKernel(kernel);
    svm->setC(c);
    svm->setGamma(gamma);
    svm->setTermCriteria(cv::TermCriteria(cv::TermCriteria::EPS, 0, 1e-3));
    return svm;
}


template <class Policy>
void ferx_train_rbf(benchmark::State& state, std::string name, Policy policy) {
    const auto* c = get_case(name);
    if (skip_absent(state, c)) return;
    ferx::svc_params prm;
    prm.C = rbf_c;
    std::size_t sv = 0;
    for (auto _ : state) {
        auto m = ferx::fit_svc(policy, ferx::rbf_kernel{c->gamma}, c->data.x, c->data.y, prm);
        sv = m.n_support();
        benchmark::DoNotOptimize(m.rho.data());
    }
    state.counters["support_vectors"] = double(sv);
    state.counters["samples"] = double(c->data.x.shape(0));
}

void opencv_train(benchmark::State& state, std::string name, int kernel, int threads) {
    const auto* c = get_case(name);
    if (skip_absent(state, c)) return;
    const int previous = cv::getNumThreads();
    cv::setNumThreads(threads == 0 ? -1 : threads);
    const cv::Mat x = as_mat(c->data.x), y = as_mat(c->data.y);
    int sv = 0;
    for (auto _ : state) {
        auto svm = opencv_svm(kernel, kernel == cv::ml::SVM::RBF ? rbf_c : c->linear_c, c->gamma);
        svm->train(x, cv::ml::ROW_SAMPLE, y);
        sv = kernel == cv::ml::SVM::RBF ? svm->getSupportVectors().rows : svm->getUncompressedSupportVectors().rows;
    }
    state.counters["support_vectors"] = double(sv);
    state.counters["samples"] = double(c->data.x.shape(0));
    cv::setNumThreads(previous);
}

template <class Policy>
void ferx_train_linear(benchmark::State& state, std::string name, Policy policy, bool liblinear_defaults) {
    const auto* c = get_case(name);
    if (skip_absent(state, c)) return;
    ferx::linear_svm_params prm = learn_data::parity_linear_params(c->linear_c);
    if (liblinear_defaults) {  // squared hinge, one-vs-rest, bias 1, tol 0.1
        prm = ferx::linear_svm_params{};
        prm.C = c->linear_c;
    }
    for (auto _ : state) {
        auto m = ferx::fit_linear_svm(policy, c->data.x, c->data.y, prm);
        benchmark::DoNotOptimize(m.w.data());
    }
    state.counters["samples"] = double(c->data.x.shape(0));
}

template <class Policy>
void ferx_predict(benchmark::State& state, std::string name, Policy policy) {
    const auto* c = get_case(name);
    if (skip_absent(state, c)) return;
    const auto& m = rbf_model(c);
    for (auto _ : state) {
        auto labels = ferx::predict(policy, m, c->predict_set);
        benchmark::DoNotOptimize(labels.data());
    }
    state.SetItemsProcessed(state.iterations() * 10000);
    state.counters["support_vectors"] = double(m.n_support());
}

void opencv_predict(benchmark::State& state, std::string name, int threads) {
    const auto* c = get_case(name);
    if (skip_absent(state, c)) return;
    const int previous = cv::getNumThreads();
    cv::setNumThreads(threads == 0 ? -1 : threads);
    auto svm = opencv_svm(cv::ml::SVM::RBF, rbf_c, c->gamma);
    svm->train(as_mat(c->data.x), cv::ml::ROW_SAMPLE, as_mat(c->data.y));
    const cv::Mat x = as_mat(c->predict_set);
    cv::Mat out;
    for (auto _ : state) {
        svm->predict(x, out);
        benchmark::DoNotOptimize(out.data);
    }
    state.SetItemsProcessed(state.iterations() * 10000);
    state.counters["support_vectors"] = double(svm->getSupportVectors().rows);
    cv::setNumThreads(previous);
}

const bool registered = [] {
    for (const auto& case_name : case_names()) {
        const std::string name = case_name.first, key = case_name.second;
        auto reg = [&](const std::string& impl, const std::string& task, auto fn) {
            benchmark::RegisterBenchmark(("svm/" + impl + "/" + name + "/" + task).c_str(), fn)
                ->Unit(benchmark::kMillisecond)
                ->UseRealTime();
        };
        reg("ferx_seq", "train_rbf", [key](benchmark::State& s) { ferx_train_rbf(s, key, ferx::exec::seq); });
        reg("ferx_par", "train_rbf", [key](benchmark::State& s) { ferx_train_rbf(s, key, ferx::exec::par); });
        reg("opencv_1thread", "train_rbf", [key](benchmark::State& s) { opencv_train(s, key, cv::ml::SVM::RBF, 1); });
        reg("opencv", "train_rbf", [key](benchmark::State& s) { opencv_train(s, key, cv::ml::SVM::RBF, 0); });
        reg("ferx_seq", "train_linear", [key](benchmark::State& s) { ferx_train_linear(s, key, ferx::exec::seq, false); });
        reg("ferx_par", "train_linear", [key](benchmark::State& s) { ferx_train_linear(s, key, ferx::exec::par, false); });
        reg("ferx_seq", "train_linear_sqhinge_ovr", [key](benchmark::State& s) { ferx_train_linear(s, key, ferx::exec::seq, true); });
        reg("opencv_1thread", "train_linear", [key](benchmark::State& s) { opencv_train(s, key, cv::ml::SVM::LINEAR, 1); });
        reg("opencv", "train_linear", [key](benchmark::State& s) { opencv_train(s, key, cv::ml::SVM::LINEAR, 0); });
        reg("ferx_seq", "predict10000", [key](benchmark::State& s) { ferx_predict(s, key, ferx::exec::seq); });
        reg("ferx_par", "predict10000", [key](benchmark::State& s) { ferx_predict(s, key, ferx::exec::par); });
        reg("opencv_1thread", "predict10000", [key](benchmark::State& s) { opencv_predict(s, key, 1); });
        reg("opencv", "predict10000", [key](benchmark::State& s) { opencv_predict(s, key, 0); });
    }
    return true;
}();

}  // namespace

BENCHMARK_MAIN();
