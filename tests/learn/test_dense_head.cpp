// The dense head: its gradient equals central finite differences on a tiny net (class weights,
// weight decay, two hidden layers), it learns separable blobs, training is deterministic for a
// seed (and equal under seq and par), bad input gives ferx::error, and a model file round trip
// keeps every prediction.
#include <ferx/learn/dense_head.hpp>
#include <ferx/learn/scaling.hpp>

#include <boost/test/unit_test.hpp>

#include "learn_test.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include <unistd.h>

namespace {

/// A tiny model with random weights and biases (so no ReLU sits exactly at its kink).
ferx::dense_head_model tiny_model(std::size_t d, std::vector<std::size_t> widths, int k, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    ferx::dense_head_model m;
    m.dim = d;
    m.n_classes = k;
    widths.insert(widths.begin(), d);
    widths.push_back(static_cast<std::size_t>(k));
    for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
        ferx::dense_layer ly;
        ly.w = xt::xtensor<double, 2>({widths[l + 1], widths[l]});
        for (auto& v : ly.w) v = ferx::detail::unit_uniform(rng) * 2 - 1;
        ly.b.resize(widths[l + 1]);
        for (auto& v : ly.b) v = ferx::detail::unit_uniform(rng) - 0.5;
        m.layers.push_back(std::move(ly));
    }
    return m;
}

/// Gaussian blobs and a head fitted on them.
struct blob_fit {
    xt::xtensor<float, 2> x;
    ferx::label_vector y;
    ferx::dense_head_params p;
    ferx::dense_head_model m;
    blob_fit(int k, int per, int d, double spread, std::uint32_t seed, std::vector<std::size_t> hidden, std::size_t epochs) {
        learn_test::blobs<float>(k, per, d, spread, seed, x, y);
        p.hidden = std::move(hidden);
        p.epochs = epochs;
        m = ferx::fit_dense_head(ferx::exec::seq, x, y, p);
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(dense_head)

BOOST_AUTO_TEST_CASE(gradient_matches_finite_differences) {
    xt::xtensor<double, 2> x;
    ferx::label_vector y;
    learn_test::blobs<double>(3, 4, 5, 1.0, 7, x, y);
    auto m = tiny_model(5, {6, 4}, 3, 11);
    std::vector<std::size_t> rows(x.shape(0));
    for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = i;
    const std::vector<double> cw{1.0, 2.5, 0.5};
    const double wd = 0.03;
    const auto loss = [&](const ferx::dense_head_model& mm) {
        return ferx::detail::dense_head_loss_gradient(mm, x, y, rows.data(), rows.size(), cw, wd, 0.0, nullptr).loss;
    };
    const auto g = ferx::detail::dense_head_loss_gradient(m, x, y, rows.data(), rows.size(), cw, wd, 0.0, nullptr);
    BOOST_TEST(g.loss > 0);
    const double h = 1e-6;
    double worst = 0;
    std::size_t checked = 0;
    const auto check = [&](double& param, double analytic) {  // central difference on one parameter
        const double keep = param;
        param = keep + h;
        const double up = loss(m);
        param = keep - h;
        const double down = loss(m);
        param = keep;
        const double fd = (up - down) / (2 * h);
        worst = std::max(worst, std::abs(fd - analytic) / std::max(1e-3, std::abs(fd) + std::abs(analytic)));
        ++checked;
    };
    for (std::size_t l = 0; l < m.layers.size(); ++l) {
        for (std::size_t q = 0; q < m.layers[l].w.size(); ++q) check(m.layers[l].w.data()[q], g.dw[l].data()[q]);
        for (std::size_t q = 0; q < m.layers[l].b.size(); ++q) check(m.layers[l].b[q], g.db[l][q]);
    }
    BOOST_TEST(checked == std::size_t(5 * 6 + 6 + 6 * 4 + 4 + 4 * 3 + 3));
    BOOST_TEST_MESSAGE("dense head gradient check: " << checked << " parameters, worst relative error " << worst);
    BOOST_TEST(worst < 1e-5, "worst relative gradient error " << worst);
}

BOOST_AUTO_TEST_CASE(learns_separable_blobs) {
    xt::xtensor<float, 2> x;
    ferx::label_vector y;
    learn_test::blobs<float>(4, 60, 10, 6.0, 3, x, y);
    ferx::dense_head_params p;
    p.hidden = {16};
    p.dropout = 0.2;
    p.epochs = 60;
    p.learning_rate = 0.01;
    const auto m = ferx::fit_dense_head(ferx::exec::seq, x, y, p);
    BOOST_TEST(m.epoch_loss.size() == 60u);
    BOOST_TEST(m.epoch_loss.back() < 0.2 * m.epoch_loss.front());
    const auto pred = ferx::predict(ferx::exec::seq, m, x);
    std::size_t right = 0;
    for (std::size_t i = 0; i < y.size(); ++i) right += pred[i] == y[i];
    BOOST_TEST(right == y.size(), right << " of " << y.size() << " training blobs right");
    const auto proba = ferx::predict_proba(ferx::exec::seq, m, x);
    for (std::size_t i = 0; i < proba.shape(0); ++i) {
        double s = 0;
        for (std::size_t k = 0; k < proba.shape(1); ++k) s += proba(i, k);
        BOOST_TEST(std::abs(s - 1.0) < 1e-12);
    }
    // Softmax regression (no hidden layer), class weights, weight decay: still separable.
    p.hidden.clear();
    p.dropout = 0;
    p.weight_decay = 1e-4;
    p.class_weight = ferx::balanced_class_weights(y, 4);
    const auto lin = ferx::fit_dense_head(ferx::exec::seq, x, y, p);
    const auto pl = ferx::predict(ferx::exec::seq, lin, x);
    right = 0;
    for (std::size_t i = 0; i < y.size(); ++i) right += pl[i] == y[i];
    BOOST_TEST(right == y.size());
}

BOOST_AUTO_TEST_CASE(same_seed_same_weights) {
    blob_fit f(3, 40, 8, 2.0, 5, {12, 6}, 5);
    auto& x = f.x;
    auto& y = f.y;
    auto& p = f.p;
    const auto& a = f.m;
    const auto b = ferx::fit_dense_head(ferx::exec::par, x, y, p);
    p.seed = 2;
    const auto c = ferx::fit_dense_head(ferx::exec::seq, x, y, p);
    BOOST_TEST(a.layers.size() == 3u);
    bool differs = false;
    for (std::size_t l = 0; l < a.layers.size(); ++l) {
        BOOST_TEST(a.layers[l].w == b.layers[l].w);
        BOOST_TEST(a.layers[l].b == b.layers[l].b, boost::test_tools::per_element());
        differs = differs || a.layers[l].w != c.layers[l].w;
    }
    BOOST_TEST(differs, "another seed gave the same weights");
    BOOST_TEST(ferx::predict(ferx::exec::par, a, x) == ferx::predict(ferx::exec::seq, a, x), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(bad_input_throws) {
    const blob_fit f(3, 10, 4, 2.0, 5, {128}, 2);
    const auto& x = f.x;
    const auto& y = f.y;
    const auto& p = f.p;
    const auto& m = f.m;

    auto nan_x = x;
    nan_x(3, 2) = std::numeric_limits<float>::quiet_NaN();
    BOOST_CHECK_THROW(ferx::fit_dense_head(ferx::exec::seq, nan_x, y, p), ferx::error);
    BOOST_CHECK_THROW(ferx::predict(ferx::exec::seq, m, nan_x), ferx::error);
    BOOST_CHECK_THROW(ferx::fit_dense_head(ferx::exec::seq, x, ferx::label_vector(y.begin(), y.end() - 1), p), ferx::error);
    xt::xtensor<float, 2> wide = xt::zeros<float>({x.shape(0), x.shape(1) + 1});
    try {
        ferx::predict(ferx::exec::seq, m, wide);
        BOOST_ERROR("no error for 5 features into a 4-feature head");
    } catch (const ferx::error& e) {
        BOOST_TEST(std::string(e.what()).find("takes 4 features, x has 5") != std::string::npos, e.what());
    }
    BOOST_CHECK_THROW(ferx::predict_proba(ferx::exec::seq, ferx::dense_head_model{}, x), ferx::error);
    BOOST_CHECK_THROW(ferx::fit_dense_head(ferx::exec::seq, xt::xtensor<float, 2>({0, 4}), ferx::label_vector{}, p), ferx::error);
    BOOST_CHECK_THROW(ferx::fit_dense_head(ferx::exec::seq, x, ferx::label_vector(y.size(), 0), p), ferx::error);  // one class
    auto neg = y;
    neg[0] = -1;
    BOOST_CHECK_THROW(ferx::fit_dense_head(ferx::exec::seq, x, neg, p), ferx::error);
    for (auto bad : {0, 1, 2, 3, 4, 5}) {
        auto q = p;
        if (bad == 0) q.dropout = 1.0;
        if (bad == 1) q.learning_rate = 0;
        if (bad == 2) q.batch_size = 0;
        if (bad == 3) q.class_weight = {1.0, 2.0};           // 2 weights, 3 classes
        if (bad == 4) q.class_weight = {1.0, -1.0, 1.0};
        if (bad == 5) q.hidden = {8, 0};
        BOOST_CHECK_THROW(ferx::fit_dense_head(ferx::exec::seq, x, y, q), ferx::error);
    }
}

BOOST_AUTO_TEST_CASE(save_load_round_trip) {
    const blob_fit f(3, 20, 6, 1.5, 9, {10, 5}, 10);
    const auto& x = f.x;
    const auto& m = f.m;
    const auto dir = std::filesystem::temp_directory_path() / ("ferx_dense_head_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string path = (dir / "head.ferx").string();
    ferx::save_dense_head(path, m);
    const auto back = ferx::load_dense_head(path);
    BOOST_TEST(back.dim == m.dim);
    BOOST_TEST(back.n_classes == m.n_classes);
    const auto pa = ferx::predict_proba(ferx::exec::seq, m, x), pb = ferx::predict_proba(ferx::exec::seq, back, x);
    BOOST_TEST(pa == pb);  // exact: max_digits10 round trip
    BOOST_TEST(ferx::predict(ferx::exec::seq, back, x) == ferx::predict(ferx::exec::seq, m, x), boost::test_tools::per_element());

    // A corrupted file and a file of another model kind are refused, naming the file.
    {
        std::ifstream in(path);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        text[text.find("layer ") + 6] = '9';
        std::ofstream(path) << text;
    }
    BOOST_CHECK_THROW(ferx::load_dense_head(path), ferx::error);
    ferx::standard_scaler s;
    s.mean = {0.0};
    s.scale = {1.0};
    ferx::save_model(path, s);
    try {
        ferx::load_dense_head(path);
        BOOST_ERROR("a scaler file loaded as a dense head");
    } catch (const ferx::error& e) {
        BOOST_TEST(e.file() == path);
    }
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
