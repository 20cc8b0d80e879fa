// The sequence head (LSTM / GRU + dense layers, ferx/learn/sequence_head.hpp): its gradient
// through time equals central finite differences for both cells (clips of different lengths,
// class weights, weight decay), it learns a task only the order of the frames tells apart,
// training is deterministic for a seed (and equal under seq and par), a model file round trip
// keeps every prediction, and bad input gives ferx::error.
#include <ferx/learn/model_io.hpp>
#include <ferx/learn/sequence_head.hpp>

#include <boost/test/unit_test.hpp>

#include "ferx_test.hpp"

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace {

using clips = std::vector<xt::xtensor<float, 2>>;

/// A model of random parameters (no fitting), so the gradient check sees every term.
ferx::sequence_head_model random_model(ferx::recurrent_cell cell, std::size_t d, std::size_t h, std::vector<std::size_t> dense,
                                       int k, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    const auto u = [&](double s) { return (ferx::detail::unit_uniform(rng) * 2 - 1) * s; };
    ferx::sequence_head_model m;
    m.cell = cell, m.dim = d, m.hidden = h, m.n_classes = k;
    const std::size_t gh = m.gates() * h;
    m.w = xt::xtensor<double, 2>({gh, d});
    m.r = xt::xtensor<double, 2>({gh, h});
    for (auto& v : m.w) v = u(0.8);
    for (auto& v : m.r) v = u(0.8);
    m.wb.resize(gh), m.rb.resize(gh);
    for (auto& v : m.wb) v = u(0.5);
    for (auto& v : m.rb) v = u(0.5);
    dense.insert(dense.begin(), h);
    dense.push_back(static_cast<std::size_t>(k));
    for (std::size_t l = 0; l + 1 < dense.size(); ++l) {
        ferx::dense_layer ly;
        ly.w = xt::xtensor<double, 2>({dense[l + 1], dense[l]});
        for (auto& v : ly.w) v = u(1.0);
        ly.b.resize(dense[l + 1]);
        for (auto& v : ly.b) v = u(0.5);
        m.layers.push_back(std::move(ly));
    }
    return m;
}

clips random_clips(std::size_t n, std::size_t d, std::uint32_t seed, std::size_t min_len = 1, std::size_t max_len = 5) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> v(-1.f, 1.f);
    std::uniform_int_distribution<std::size_t> len(min_len, max_len);
    clips out;
    for (std::size_t i = 0; i < n; ++i) {
        xt::xtensor<float, 2> c({len(rng), d});
        for (auto& x : c) x = v(rng);
        out.push_back(std::move(c));
    }
    return out;
}

/// Clips whose frames are the same set of values in rising (class 0) or falling (class 1) order
/// of feature 0, plus noise: a frame average cannot tell them apart, the order can. Class 2:
/// rising then falling.
void ordered_clips(std::size_t per_class, std::uint32_t seed, clips& xs, ferx::label_vector& y) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> noise(0.f, 0.15f);
    std::uniform_int_distribution<std::size_t> len(5, 8);
    for (std::size_t i = 0; i < per_class; ++i)
        for (int k = 0; k < 3; ++k) {
            const std::size_t steps = len(rng);
            xt::xtensor<float, 2> c({steps, 3});
            for (std::size_t t = 0; t < steps; ++t) {
                const float s = static_cast<float>(t) / static_cast<float>(steps - 1) * 2 - 1;  // -1 .. 1
                const float f0 = k == 0 ? s : k == 1 ? -s : 1 - 2 * std::abs(s);
                c(t, 0) = f0 + noise(rng);
                c(t, 1) = noise(rng);
                c(t, 2) = noise(rng);
            }
            xs.push_back(std::move(c));
            y.push_back(k);
        }
}

double accuracy(const ferx::label_vector& a, const ferx::label_vector& b) {
    std::size_t right = 0;
    for (std::size_t i = 0; i < a.size(); ++i) right += a[i] == b[i];
    return static_cast<double>(right) / static_cast<double>(a.size());
}

bool same_parameters(ferx::sequence_head_model a, ferx::sequence_head_model b) {
    const auto pa = ferx::detail::parameter_blocks(a), pb = ferx::detail::parameter_blocks(b);
    if (pa.size() != pb.size()) return false;
    for (std::size_t i = 0; i < pa.size(); ++i)
        if (pa[i].n != pb[i].n || !std::equal(pa[i].p, pa[i].p + pa[i].n, pb[i].p)) return false;
    return true;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sequence_head)

BOOST_AUTO_TEST_CASE(gradient_through_time_matches_finite_differences) {
    const auto xs = random_clips(6, 3, 21);
    const ferx::label_vector y{0, 2, 1, 1, 0, 2};
    std::vector<std::size_t> rows{0, 1, 2, 3, 4, 5};
    const std::vector<double> cw{1.0, 2.5, 0.5};
    const double wd = 0.02;
    for (auto cell : {ferx::recurrent_cell::lstm, ferx::recurrent_cell::gru}) {
        auto m = random_model(cell, 3, 4, {5}, 3, 3);
        auto g = ferx::detail::zeros_like(m), scratch = ferx::detail::zeros_like(m);
        const double loss = ferx::detail::sequence_head_loss_gradient(m, xs, y, rows.data(), rows.size(), cw, wd, 0.0, nullptr, g);
        BOOST_TEST(loss > 0);
        const auto pm = ferx::detail::parameter_blocks(m), pg = ferx::detail::parameter_blocks(g);
        const double h = 1e-6;
        double worst = 0;
        std::size_t checked = 0;
        for (std::size_t b = 0; b < pm.size(); ++b)
            for (std::size_t q = 0; q < pm[b].n; ++q) {
                double& param = pm[b].p[q];
                const double keep = param;
                param = keep + h;
                const double up = ferx::detail::sequence_head_loss_gradient(m, xs, y, rows.data(), rows.size(), cw, wd, 0.0, nullptr, scratch);
                param = keep - h;
                const double down = ferx::detail::sequence_head_loss_gradient(m, xs, y, rows.data(), rows.size(), cw, wd, 0.0, nullptr, scratch);
                param = keep;
                const double fd = (up - down) / (2 * h), an = pg[b].p[q];
                worst = std::max(worst, std::abs(fd - an) / std::max(1e-3, std::abs(fd) + std::abs(an)));
                ++checked;
            }
        const std::size_t gh = m.gates() * 4;
        BOOST_TEST(checked == gh * 3 + gh * 4 + 2 * gh + 4 * 5 + 5 + 5 * 3 + 3);
        BOOST_TEST_MESSAGE((cell == ferx::recurrent_cell::lstm ? "LSTM" : "GRU")
                           << " head gradient check: " << checked << " parameters, worst relative error " << worst);
        BOOST_TEST(worst < 1e-5, "worst relative gradient error " << worst);
    }
}

BOOST_AUTO_TEST_CASE(learns_frame_order) {
    clips xs, xt_;
    ferx::label_vector y, yt;
    ordered_clips(30, 1, xs, y);
    ordered_clips(20, 2, xt_, yt);
    for (auto cell : {ferx::recurrent_cell::lstm, ferx::recurrent_cell::gru}) {
        ferx::sequence_head_params p;
        p.cell = cell;
        p.hidden_size = 12;
        p.dense = {16};
        p.dropout = 0.1;
        p.learning_rate = 0.01;
        p.epochs = 60;
        p.batch_size = 8;
        p.clip_norm = 5;
        const auto m = ferx::fit_sequence_head(ferx::exec::seq, xs, y, p);
        BOOST_TEST(m.epoch_loss.size() == 60u);
        BOOST_TEST(m.epoch_loss.back() < 0.2 * m.epoch_loss.front());
        const double acc = accuracy(ferx::predict(ferx::exec::par, m, xt_), yt);
        BOOST_TEST_MESSAGE((cell == ferx::recurrent_cell::lstm ? "LSTM" : "GRU") << " head on frame order: test accuracy " << acc);
        BOOST_TEST(acc >= 0.95, "test accuracy " << acc);
        const auto proba = ferx::predict_proba(ferx::exec::seq, m, xt_);
        for (std::size_t i = 0; i < proba.shape(0); ++i) {
            double s = 0;
            for (std::size_t k = 0; k < proba.shape(1); ++k) s += proba(i, k);
            BOOST_TEST(std::abs(s - 1.0) < 1e-12);
        }
    }
}

BOOST_AUTO_TEST_CASE(same_seed_same_weights) {
    clips xs;
    ferx::label_vector y;
    ordered_clips(6, 4, xs, y);
    ferx::sequence_head_params p;
    p.hidden_size = 6;
    p.dense = {8};
    p.epochs = 4;
    p.batch_size = 5;
    p.class_weight = ferx::balanced_class_weights(y, 3);
    for (auto cell : {ferx::recurrent_cell::lstm, ferx::recurrent_cell::gru}) {
        p.cell = cell;
        p.seed = 1;
        const auto a = ferx::fit_sequence_head(ferx::exec::seq, xs, y, p);
        const auto b = ferx::fit_sequence_head(ferx::exec::par, xs, y, p);
        p.seed = 2;
        const auto c = ferx::fit_sequence_head(ferx::exec::seq, xs, y, p);
        BOOST_TEST(same_parameters(a, b), "seq and par trained different weights");
        BOOST_TEST(!same_parameters(a, c), "another seed gave the same weights");
        BOOST_TEST(ferx::predict_proba(ferx::exec::par, a, xs) == ferx::predict_proba(ferx::exec::seq, a, xs));
    }
}

BOOST_AUTO_TEST_CASE(save_load_round_trip) {
    clips xs;
    ferx::label_vector y;
    ordered_clips(5, 6, xs, y);
    ferx::sequence_head_params p;
    p.hidden_size = 5;
    p.dense = {7, 4};
    p.epochs = 3;
    ferx_test::temp_dir dir("sequence_head");
    for (auto cell : {ferx::recurrent_cell::lstm, ferx::recurrent_cell::gru}) {
        p.cell = cell;
        const auto m = ferx::fit_sequence_head(ferx::exec::seq, xs, y, p);
        const std::string path = (dir.path / "head.ferx").string();
        ferx::save_model(path, m);
        const auto back = ferx::load_model<ferx::sequence_head_model>(path);
        BOOST_TEST((back.cell == m.cell));
        BOOST_TEST(same_parameters(m, back));
        BOOST_TEST(ferx::predict_proba(ferx::exec::seq, back, xs) == ferx::predict_proba(ferx::exec::seq, m, xs));  // exact

        std::string text = ferx_test::file_bytes(path);
        const auto at = text.find("cell ");
        text.replace(at, text.find('\n', at) - at, "cell rnn");
        ferx::write_file_atomically(path, text);
        try {  // the checksum no longer matches (and the cell is unknown): refused, naming the file
            ferx::load_model<ferx::sequence_head_model>(path);
            BOOST_ERROR("an edited sequence head file loaded");
        } catch (const ferx::error& e) {
            BOOST_TEST(e.file() == path);
        }
    }
}

BOOST_AUTO_TEST_CASE(bad_input_throws) {
    clips xs;
    ferx::label_vector y;
    ordered_clips(4, 8, xs, y);
    ferx::sequence_head_params p;
    p.hidden_size = 4;
    p.dense = {};
    p.epochs = 1;
    const auto m = ferx::fit_sequence_head(ferx::exec::seq, xs, y, p);
    const auto message = [](auto&& f) {
        try {
            f();
        } catch (const ferx::error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    auto empty = xs;
    empty[2] = xt::xtensor<float, 2>({0, 3});
    BOOST_TEST(message([&] { ferx::fit_sequence_head(ferx::exec::seq, empty, y, p); }).find("sequence 2 has no frames") != std::string::npos);
    BOOST_TEST(message([&] { ferx::predict(ferx::exec::seq, m, empty); }).find("sequence 2 has no frames") != std::string::npos);
    auto wide = xs;
    wide[1] = xt::zeros<float>({4, 5});
    BOOST_TEST(message([&] { ferx::predict(ferx::exec::seq, m, wide); }).find("sequence 1 has 5 features per frame, the head takes 3") !=
               std::string::npos);
    BOOST_CHECK_THROW(ferx::fit_sequence_head(ferx::exec::seq, wide, y, p), ferx::error);
    auto nan = xs;
    nan[0](1, 2) = std::numeric_limits<float>::quiet_NaN();
    BOOST_TEST(message([&] { ferx::predict(ferx::exec::seq, m, nan); }).find("not finite") != std::string::npos);
    BOOST_CHECK_THROW(ferx::fit_sequence_head(ferx::exec::seq, nan, y, p), ferx::error);
    BOOST_CHECK_THROW(ferx::fit_sequence_head(ferx::exec::seq, xs, ferx::label_vector(y.begin(), y.end() - 1), p), ferx::error);
    BOOST_CHECK_THROW(ferx::fit_sequence_head(ferx::exec::seq, clips{}, ferx::label_vector{}, p), ferx::error);
    BOOST_CHECK_THROW(ferx::fit_sequence_head(ferx::exec::seq, xs, ferx::label_vector(y.size(), 0), p), ferx::error);  // one class
    BOOST_CHECK_THROW(ferx::predict(ferx::exec::seq, ferx::sequence_head_model{}, xs), ferx::error);
    BOOST_CHECK_THROW(ferx::sequence_head_graph(ferx::sequence_head_model{}), ferx::error);
    for (int bad = 0; bad < 5; ++bad) {
        auto q = p;
        if (bad == 0) q.hidden_size = 0;
        if (bad == 1) q.dropout = 1.0;
        if (bad == 2) q.clip_norm = -1;
        if (bad == 3) q.class_weight = {1.0, 2.0};  // 2 weights, 3 classes
        if (bad == 4) q.dense = {4, 0};
        BOOST_CHECK_THROW(ferx::fit_sequence_head(ferx::exec::seq, xs, y, q), ferx::error);
    }
}

BOOST_AUTO_TEST_SUITE_END()
