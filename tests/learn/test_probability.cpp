// Probability estimates: Platt sigmoid fits, pairwise coupling recovers known probabilities,
// and a C-SVC with probability = true gives rows that sum to 1 and agree with its labels.
#include <ferx/learn/kernel_svm.hpp>
#include <ferx/learn/model_io.hpp>
#include <ferx/learn/probability.hpp>

#include <boost/test/unit_test.hpp>

#include "learn_test.hpp"

#include <cmath>
#include <filesystem>

BOOST_AUTO_TEST_SUITE(probability)

BOOST_AUTO_TEST_CASE(platt_sigmoid_fit) {
    // Decision values drawn so that P(positive | f) = 1 / (1 + exp(-2 f)) exactly (a = -2, b = 0):
    // a grid of f with positives in the proportion the sigmoid gives. The fit must come close.
    std::vector<double> dec;
    std::vector<char> pos;
    for (int g = -20; g <= 20; ++g) {
        const double f = g / 10.0, p = 1.0 / (1.0 + std::exp(-2.0 * f));
        const int n_pos = static_cast<int>(std::lround(p * 200));
        for (int s = 0; s < 200; ++s) {
            dec.push_back(f);
            pos.push_back(s < n_pos);
        }
    }
    const auto s = ferx::fit_platt_sigmoid(dec, pos);
    BOOST_TEST(s.a == -2.0, boost::test_tools::tolerance(0.02));
    BOOST_TEST(std::abs(s.b) < 0.02);
    BOOST_TEST(s(0.0) == 0.5, boost::test_tools::tolerance(0.01));
    BOOST_TEST(s(1e6) == 1.0);  // no overflow in the tails
    BOOST_TEST(s(-1e6) == 0.0);
    BOOST_CHECK_THROW(ferx::fit_platt_sigmoid({}, {}), ferx::error);
}

BOOST_AUTO_TEST_CASE(pairwise_coupling_recovers_consistent_probabilities) {
    // r_ij = p_i / (p_i + p_j) from a known p: the coupling returns p.
    const std::vector<double> p = {0.5, 0.2, 0.2, 0.1};
    const std::size_t k = p.size();
    std::vector<double> r(k * k, 0.0);
    for (std::size_t i = 0; i < k; ++i)
        for (std::size_t j = 0; j < k; ++j)
            if (i != j) r[i * k + j] = p[i] / (p[i] + p[j]);
    const auto q = ferx::couple_pairwise(r, k);
    for (std::size_t i = 0; i < k; ++i) BOOST_TEST(q[i] == p[i], boost::test_tools::tolerance(1e-9));
    // Two classes: p = (r_01, r_10).
    const auto two = ferx::couple_pairwise({0.0, 0.7, 0.3, 0.0}, 2);
    BOOST_TEST(two[0] == 0.7, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(svc_probabilities) {
    xt::xtensor<float, 2> x, xt_;
    ferx::label_vector y, yt;
    learn_test::blobs<float>(3, 60, 5, 1.2, 31, x, y);
    learn_test::blobs<float>(3, 40, 5, 1.2, 31, xt_, yt);
    for (auto strategy : {ferx::multiclass::one_vs_one, ferx::multiclass::one_vs_rest}) {
        ferx::svc_params prm;
        prm.probability = true;
        prm.strategy = strategy;
        const auto m = ferx::fit_svc(ferx::exec::seq, ferx::rbf_kernel{0.2}, x, y, prm);
        BOOST_TEST(m.sigmoids.size() == m.tasks.size());
        const auto pr = ferx::predict_proba(ferx::exec::seq, m, xt_);
        BOOST_TEST(pr == ferx::predict_proba(ferx::exec::par, m, xt_));
        const auto labels = ferx::predict(ferx::exec::seq, m, xt_);
        std::size_t agree = 0;
        for (std::size_t i = 0; i < pr.shape(0); ++i) {
            double sum = 0;
            std::size_t best = 0;
            for (std::size_t c = 0; c < 3; ++c) {
                BOOST_TEST_REQUIRE((pr(i, c) >= 0.0 && pr(i, c) <= 1.0));
                sum += pr(i, c);
                if (pr(i, c) > pr(i, best)) best = c;
            }
            BOOST_TEST_REQUIRE(sum == 1.0, boost::test_tools::tolerance(1e-9));
            agree += static_cast<int>(best) == labels[i];
        }
        BOOST_TEST(double(agree) / double(pr.shape(0)) >= 0.95);
        // The sigmoids survive a model file.
        const std::string path = (std::filesystem::temp_directory_path() / "ferx_learn_proba.ferx").string();
        ferx::save_model(path, m);
        const auto back = ferx::load_model<ferx::svc_model<ferx::rbf_kernel, float>>(path);
        std::filesystem::remove(path);
        BOOST_TEST(ferx::predict_proba(ferx::exec::seq, back, xt_) == pr);
    }
    const auto plain = ferx::fit_svc(ferx::exec::seq, ferx::rbf_kernel{0.2}, x, y);
    BOOST_CHECK_THROW(ferx::predict_proba(ferx::exec::seq, plain, xt_), ferx::error);
}

BOOST_AUTO_TEST_SUITE_END()
