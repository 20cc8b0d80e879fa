// The cuda backend of kernel C-SVC prediction against the seq reference: decision values within
// 1e-5 for dot-product and histogram kernels, across several batches. Needs a GPU: the tests that
// run kernels are skipped, with a message, where no CUDA device is present.
#include <ferx/cuda/memory.cuh>
#include <ferx/learn/kernel_svm.hpp>

#include <boost/test/unit_test.hpp>

#include "cuda_test.hpp"
#include "ferx_test.hpp"

#include <cmath>
#include <random>
#include <string>

namespace {

void data(std::size_t n, std::size_t d, int k, std::uint32_t seed, xt::xtensor<float, 2>& x, ferx::label_vector& y) {
    std::mt19937 rng(seed);
    // Small values (dot products about 1) keep float rounding of the dots, which the GPU sums in
    // another order, well below the 1e-5 asked of the decision values.
    std::uniform_real_distribution<float> u(0.f, 0.3f);
    x = xt::xtensor<float, 2>({n, d});
    y.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        y[i] = static_cast<int>(i % static_cast<std::size_t>(k));
        for (std::size_t j = 0; j < d; ++j) x(i, j) = u(rng) + (j % static_cast<std::size_t>(k) == static_cast<std::size_t>(y[i]) ? 0.1f : 0.f);
    }
}

template <class Kernel>
void compare(const Kernel& kernel, const std::string& what) {
    xt::xtensor<float, 2> x, xt_;
    ferx::label_vector y, yt;
    data(300, 37, 4, 1, x, y);
    data(1000, 37, 4, 2, xt_, yt);
    const auto m = ferx::fit_svc(ferx::exec::seq, kernel, x, y);
    const auto ref = ferx::decision_function(ferx::exec::seq, m, xt_);
    ferx::cuda::stream stream;
    // A small budget forces several batches.
    ferx::cuda::svm_predictor<Kernel, float> pred(stream.policy(), m, 64 * 1024);
    BOOST_TEST(pred.max_batch() < xt_.shape(0));
    const auto got = pred.decision_function(xt_);
    double diff = 0;
    for (std::size_t i = 0; i < ref.size(); ++i) diff = std::max(diff, std::abs(got.data()[i] - ref.data()[i]));
    BOOST_TEST(diff <= 1e-5, what << ": max |cuda - seq| = " << diff);
    // Device samples in, device decisions out (no host copy inside): the same values.
    const auto d_x = ferx::cuda::to_device(stream.policy(), xt_);
    ferx::cuda::device_tensor<double, 2> d_dec({static_cast<ferx::index_t>(ref.shape(0)), static_cast<ferx::index_t>(ref.shape(1))});
    pred.decision_function(d_x.cview(), d_dec.view());
    const auto got_d = ferx::cuda::to_host(stream.policy(), d_dec.cview());
    double diff_d = 0;
    for (std::size_t i = 0; i < got.size(); ++i) diff_d = std::max(diff_d, std::abs(got_d.data()[i] - got.data()[i]));
    BOOST_TEST(diff_d <= 1e-12, what << ": device-in/out decisions differ from host-in/out by " << diff_d);
    const auto labels = ferx::predict(stream.policy(), m, xt_);
    BOOST_TEST(labels == ferx::predict(ferx::exec::seq, m, xt_), boost::test_tools::per_element());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(learn_cuda)

BOOST_AUTO_TEST_CASE(svc_decisions_match_seq, *boost::unit_test::precondition(ferx_test::gpu_present())) {
    compare(ferx::linear_kernel{}, "linear");
    compare(ferx::rbf_kernel{1.0}, "rbf");
    compare(ferx::poly_kernel{0.5, 1.0, 2}, "poly");
    compare(ferx::sigmoid_kernel{0.1, 0.0}, "sigmoid");
    compare(ferx::chi2_kernel{1.0}, "chi2");
    compare(ferx::intersection_kernel{}, "intersection");
}

BOOST_AUTO_TEST_CASE(svc_bad_input_on_device, *boost::unit_test::precondition(ferx_test::gpu_present())) {
    xt::xtensor<float, 2> x;
    ferx::label_vector y;
    data(50, 5, 2, 3, x, y);
    const auto m = ferx::fit_svc(ferx::exec::seq, ferx::rbf_kernel{0.1}, x, y);
    BOOST_CHECK_THROW(ferx::decision_function(ferx::exec::cuda, m, xt::xtensor<float, 2>({3, 4}, 0.f)), ferx::error);
}

BOOST_AUTO_TEST_CASE(svc_without_a_device_raises, *boost::unit_test::precondition(ferx_test::gpu_absent())) {
    xt::xtensor<float, 2> x;
    ferx::label_vector y;
    data(50, 5, 2, 3, x, y);
    const auto m = ferx::fit_svc(ferx::exec::seq, ferx::rbf_kernel{0.1}, x, y);
    BOOST_CHECK_THROW(ferx::decision_function(ferx::exec::cuda, m, x), ferx::error);
}

BOOST_AUTO_TEST_SUITE_END()
