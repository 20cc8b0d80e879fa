// Recurrent layers (ferx/nn/recurrent.hpp) from C++ and through the session: a one-step LSTM, GRU
// and RNN against their equations computed here by hand, exec::par equal to exec::seq (the two
// directions of a bidirectional layer run on two threads: the thread-sanitizer job runs this),
// the multi-output steps of the session (only Y_h and Y_c requested), and bad input. The parity
// with ONNX Runtime over every attribute is tests/onnx/test_op_parity.cpp.
#include <ferx/core/execution.hpp>
#include <ferx/core/thread_pool.hpp>
#include <ferx/nn/builder.hpp>
#include <ferx/nn/recurrent.hpp>
#include <ferx/nn/session.hpp>

#include <boost/test/unit_test.hpp>

#include "nn_test.hpp"

#include <cmath>
#include <random>
#include <vector>

namespace fn = ferx::nn;

namespace {

std::vector<float> randoms(std::size_t n, std::mt19937& rng) {
    std::uniform_real_distribution<float> d(-0.8f, 0.8f);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}
double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

}  // namespace

BOOST_AUTO_TEST_SUITE(recurrent)

// One step from zero states, hidden 1, input 1: the cell equations by hand.
BOOST_AUTO_TEST_CASE(one_step_by_hand) {
    const float x = 0.7f;
    {  // LSTM gates i, o, f, c
        const std::vector<float> w = {0.5f, -0.3f, 0.8f, 1.1f}, r = {0.2f, 0.1f, -0.4f, 0.3f}, b = {0.1f, 0, 0, -0.2f, 0, 0.05f, 0, 0};
        fn::recurrent_params p;
        p.cell = fn::rnn_cell::lstm, p.hidden = 1;
        float y = 0, yh = 0, yc = 0;
        std::vector<float> scratch(fn::recurrent_scratch_floats(p, {1, 1, 1}));
        fn::recurrent(ferx::exec::seq, p, {1, 1, 1}, {&x, w.data(), r.data(), b.data()}, {&y, &yh, &yc}, scratch.data());
        const double i = sigmoid(0.5 * x + 0.1), o = sigmoid(-0.3 * x + 0.05), c = std::tanh(1.1 * x - 0.2);
        const double cell = i * c;  // f * 0 + i * c
        BOOST_TEST(yc == cell, boost::test_tools::tolerance(1e-6));
        BOOST_TEST(yh == o * std::tanh(cell), boost::test_tools::tolerance(1e-6));
        BOOST_TEST(y == yh);
    }
    {  // GRU gates z, r, h (linear_before_reset 0; with h0 = 0 the reset does not matter)
        const std::vector<float> w = {0.4f, -0.6f, 0.9f}, r = {0.3f, 0.2f, 0.5f};
        fn::recurrent_params p;
        p.cell = fn::rnn_cell::gru, p.hidden = 1;
        float y = 0, yh = 0;
        std::vector<float> scratch(fn::recurrent_scratch_floats(p, {1, 1, 1}));
        fn::recurrent(ferx::exec::seq, p, {1, 1, 1}, {&x, w.data(), r.data()}, {&y, &yh}, scratch.data());
        const double z = sigmoid(0.4 * x), h = std::tanh(0.9 * x);
        BOOST_TEST(yh == (1 - z) * h, boost::test_tools::tolerance(1e-6));
    }
    {  // RNN, two steps: h1 = tanh(w x1), h2 = tanh(w x2 + r h1)
        const std::vector<float> xs = {0.7f, -0.2f}, w = {1.3f}, r = {-0.5f};
        fn::recurrent_params p;
        p.cell = fn::rnn_cell::rnn, p.hidden = 1;
        std::vector<float> y(2);
        float yh = 0;
        std::vector<float> scratch(fn::recurrent_scratch_floats(p, {2, 1, 1}));
        fn::recurrent(ferx::exec::seq, p, {2, 1, 1}, {xs.data(), w.data(), r.data()}, {y.data(), &yh}, scratch.data());
        const double h1 = std::tanh(1.3 * 0.7), h2 = std::tanh(1.3 * -0.2 - 0.5 * h1);
        BOOST_TEST(y[0] == h1, boost::test_tools::tolerance(1e-6));
        BOOST_TEST(y[1] == h2, boost::test_tools::tolerance(1e-6));
        BOOST_TEST(yh == y[1]);
    }
}

// LSTM and GRU with lengths and initial states: par (two threads, one direction each; or one
// direction with the batch rows split in blocks over the pool: batch 40 in blocks of 24 and 16,
// batch 19 in 16 and 3) equals seq bit for bit; hidden 96 and 136 (the gemm's k blocking at
// 128), GRU with and without linear_before_reset.
BOOST_AUTO_TEST_CASE(par_equals_seq) {
    std::mt19937 rng(7);
    ferx::thread_pool pool(2);
    for (auto cell : {fn::rnn_cell::lstm, fn::rnn_cell::gru})
        for (std::int64_t dirs : {1, 2})
            for (std::int64_t batch : {40, 19}) {
            fn::recurrent_params p;
            p.cell = cell, p.hidden = batch == 40 ? 96 : 136, p.directions = dirs, p.linear_before_reset = batch == 40;
            const fn::recurrent_shape sh{12, batch, 24};
            const std::int64_t gh = p.gates() * p.hidden;
            const auto x = randoms(static_cast<std::size_t>(sh.seq * sh.batch * sh.input), rng);
            const auto w = randoms(static_cast<std::size_t>(dirs * gh * sh.input), rng);
            const auto r = randoms(static_cast<std::size_t>(dirs * gh * p.hidden), rng);
            const auto b = randoms(static_cast<std::size_t>(dirs * 2 * gh), rng);
            const auto h0 = randoms(static_cast<std::size_t>(dirs * sh.batch * p.hidden), rng);
            std::vector<float> lens(static_cast<std::size_t>(sh.batch));
            for (std::size_t i = 0; i < lens.size(); ++i) lens[i] = static_cast<float>(i % 13);
            const fn::recurrent_inputs in{x.data(), w.data(), r.data(), b.data(), lens.data(), h0.data(), h0.data(), nullptr};
            const std::size_t ny = static_cast<std::size_t>(sh.seq * dirs * sh.batch * p.hidden), ns = ny / static_cast<std::size_t>(sh.seq);
            std::vector<float> ys(ny), hs(ns), cs(ns), yp(ny, 9.f), hp(ns), cp(ns);
            std::vector<float> scratch(fn::recurrent_scratch_floats(p, sh));
            const bool lstm = cell == fn::rnn_cell::lstm;
            fn::recurrent(ferx::exec::seq, p, sh, in, {ys.data(), hs.data(), lstm ? cs.data() : nullptr}, scratch.data());
            fn::recurrent(ferx::exec::par.on(pool), p, sh, in, {yp.data(), hp.data(), lstm ? cp.data() : nullptr}, scratch.data());
            BOOST_TEST_INFO((lstm ? "LSTM" : "GRU") << ", " << dirs << " direction(s), batch " << batch);
            BOOST_TEST(yp == ys, boost::test_tools::per_element());
            BOOST_TEST(hp == hs, boost::test_tools::per_element());
            BOOST_TEST(cp == cs, boost::test_tools::per_element());
            // A sequence of length 0 outputs zeros and keeps its initial state.
            BOOST_TEST(ys[static_cast<std::size_t>(0 * p.hidden)] == 0.f);  // t 0, batch 0 (length 0)
            BOOST_TEST(hs[0] == h0[0]);
        }
}

// Through the session: an LSTM node whose Y is not requested; Y_h and Y_c come out of its packed
// value and equal the direct call.
BOOST_AUTO_TEST_CASE(session_outputs_of_a_multi_output_node) {
    std::mt19937 rng(11);
    const std::int64_t T = 5, B = 3, I = 4, H = 6;
    const auto w = nn_test::random_tensor({1, 4 * H, I}, rng), r = nn_test::random_tensor({1, 4 * H, H}, rng);
    const auto g = fn::graph_builder("lstm")
                       .input("x", {T, B, I})
                       .initializer("W", w)
                       .initializer("R", r)
                       .node("LSTM", {"x", "W", "R"}, {"", "h", "c"}, {{"hidden_size", H}}, "the_lstm")
                       .output("c")
                       .output("h")
                       .build();
    fn::session s(g);
    const auto x = randoms(static_cast<std::size_t>(T * B * I), rng);
    const auto out = s.run(ferx::exec::seq, {{x.data(), {T, B, I}}});
    BOOST_REQUIRE_EQUAL(out.size(), 2u);
    const fn::shape_t state = {1, B, H};
    BOOST_TEST(out[0].shape == state, boost::test_tools::per_element());
    BOOST_TEST(out[1].shape == state, boost::test_tools::per_element());
    fn::recurrent_params p;
    p.hidden = H;
    std::vector<float> y(static_cast<std::size_t>(T * B * H)), yh(static_cast<std::size_t>(B * H)), yc(yh.size());
    std::vector<float> scratch(fn::recurrent_scratch_floats(p, {T, B, I}));
    fn::recurrent(ferx::exec::seq, p, {T, B, I}, {x.data(), w.data.data(), r.data.data()}, {y.data(), yh.data(), yc.data()}, scratch.data());
    BOOST_TEST(std::vector<float>(out[0].data, out[0].data + yc.size()) == yc, boost::test_tools::per_element());
    BOOST_TEST(std::vector<float>(out[1].data, out[1].data + yh.size()) == yh, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(bad_input_is_an_error) {
    std::mt19937 rng(3);
    const std::int64_t H = 4;
    const auto build = [&](std::int64_t in_features, fn::shape_t w_shape, std::map<std::string, fn::attribute> attrs) {
        return fn::graph_builder("bad")
            .input("x", {2, 1, in_features})
            .initializer("W", nn_test::random_tensor(w_shape, rng))
            .initializer("R", nn_test::random_tensor({1, 4 * H, H}, rng))
            .node("LSTM", {"x", "W", "R"}, {"y"}, attrs, "bad_lstm")
            .output("y")
            .build();
    };
    const auto fails_with = [](const fn::graph& g, const std::string& text) {
        try {
            fn::session s(g);
            BOOST_ERROR("no error for: " << text);
        } catch (const ferx::error& e) {
            BOOST_TEST_INFO(e.what());
            BOOST_TEST(std::string(e.what()).find(text) != std::string::npos);
            BOOST_TEST(std::string(e.what()).find("bad_lstm") != std::string::npos);
        }
    };
    fails_with(build(3, {1, 4 * H, 5}, {{"hidden_size", H}}), "W has shape [1, 16, 5], expected [1, 16, 3]");  // feature dim
    fails_with(build(3, {1, 4 * H, 3}, {}), "hidden_size is required");
    fails_with(build(3, {1, 4 * H, 3}, {{"hidden_size", H}, {"direction", std::string("sideways")}}), "unknown direction");
    fails_with(build(3, {1, 4 * H, 3}, {{"hidden_size", H}, {"input_forget", std::int64_t(1)}}), "input_forget");
    fails_with(build(3, {1, 4 * H, 3}, {{"hidden_size", H}, {"activations", std::vector<std::string>{"Sigmoid", "Tanh", "Nope"}}}),
               "unknown activation 'Nope'");
    // Lengths outside [0, seq] at run time, from the C++ API.
    fn::recurrent_params p;
    p.hidden = 2;
    const std::vector<float> x(2 * 1 * 1, 0.f), w(8, 0.1f), r(16, 0.1f), lens = {3.f};
    std::vector<float> y(4), scratch(fn::recurrent_scratch_floats(p, {2, 1, 1}));
    BOOST_CHECK_THROW(fn::recurrent(ferx::exec::seq, p, {2, 1, 1}, {x.data(), w.data(), r.data(), nullptr, lens.data()}, {y.data()},
                                    scratch.data()),
                      ferx::error);
}

BOOST_AUTO_TEST_SUITE_END()
