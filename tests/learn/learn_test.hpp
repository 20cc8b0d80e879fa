/// Helpers of the learn tests: synthetic data sets, and the same data as cv::Mat for cv::ml.
#pragma once

#include <ferx/learn/dataset.hpp>

#include <opencv2/core.hpp>
#include <opencv2/ml.hpp>

#include <cstdint>
#include <random>
#include <vector>

namespace learn_test {

/// k Gaussian blobs in d dimensions, `per` samples each, centres spread by `spread`.
template <class T = float>
inline void blobs(int k, int per, int d, double spread, std::uint32_t seed, xt::xtensor<T, 2>& x, ferx::label_vector& y,
                  bool nonnegative = false) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> g(0.0, 1.0);
    std::vector<std::vector<double>> centre(static_cast<std::size_t>(k), std::vector<double>(static_cast<std::size_t>(d)));
    for (auto& c : centre)
        for (auto& v : c) v = spread * g(rng);
    x = xt::xtensor<T, 2>({static_cast<std::size_t>(k * per), static_cast<std::size_t>(d)});
    y.assign(static_cast<std::size_t>(k * per), 0);
    for (int c = 0; c < k; ++c)
        for (int s = 0; s < per; ++s) {
            const std::size_t i = static_cast<std::size_t>(c * per + s);
            y[i] = c;
            for (int j = 0; j < d; ++j) {
                double v = centre[static_cast<std::size_t>(c)][static_cast<std::size_t>(j)] + g(rng);
                if (nonnegative) v = std::abs(v);
                x(i, static_cast<std::size_t>(j)) = static_cast<T>(v);
            }
        }
}

inline cv::Mat to_mat(const xt::xtensor<float, 2>& x) {
    cv::Mat m(static_cast<int>(x.shape(0)), static_cast<int>(x.shape(1)), CV_32F);
    std::copy(x.begin(), x.end(), m.ptr<float>());
    return m;
}

inline cv::Mat to_mat(const ferx::label_vector& y) {
    cv::Mat m(static_cast<int>(y.size()), 1, CV_32S);
    std::copy(y.begin(), y.end(), m.ptr<int>());
    return m;
}

/// cv::ml::SVM C_SVC with LIBSVM's stopping rule (eps 1e-3, no iteration cap).
inline cv::Ptr<cv::ml::SVM> opencv_svc(int kernel, double c, double gamma, double coef0 = 0, double degree = 3) {
    auto svm = cv::ml::SVM::create();
    svm->setType(cv::ml::SVM::C_SVC);
    svm->setKernel(kernel);
    svm->setC(c);
    svm->setGamma(gamma);
    svm->setCoef0(coef0);
    svm->setDegree(degree);
    svm->setTermCriteria(cv::TermCriteria(cv::TermCriteria::EPS, 0, 1e-3));
    return svm;
}

inline double accuracy(const ferx::label_vector& a, const ferx::label_vector& b) {
    std::size_t same = 0;
    for (std::size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
    return a.empty() ? 0.0 : static_cast<double>(same) / static_cast<double>(a.size());
}

inline ferx::label_vector opencv_predict(const cv::Ptr<cv::ml::SVM>& svm, const xt::xtensor<float, 2>& x) {
    cv::Mat out;
    svm->predict(to_mat(x), out);
    ferx::label_vector y(static_cast<std::size_t>(out.rows));
    for (int i = 0; i < out.rows; ++i) y[static_cast<std::size_t>(i)] = static_cast<int>(std::lround(out.at<float>(i)));
    return y;
}

}  // namespace learn_test
