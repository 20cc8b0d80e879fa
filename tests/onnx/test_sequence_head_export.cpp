// The sequence head as a network (ferx::sequence_head_graph) and as an ONNX file
// (ferx/nn/onnx_export.hpp): for LSTM and GRU heads fitted on small random clips, the session's
// probabilities under exec::seq and exec::par equal the head's own predict_proba within 1e-5
// (the head computes in double, the session in float); the file written by save_onnx loads back
// into a graph whose outputs equal the first's bit for bit; ONNX Runtime, given the same file,
// passes onnx.checker and gives the same logits and probabilities within 1e-5 of max(1, |ort|);
// a graph whose output is no value of it is refused with a ferx::error.
#include <ferx/core/execution.hpp>
#include <ferx/core/thread_pool.hpp>
#include <ferx/learn/sequence_head.hpp>
#include <ferx/nn/onnx.hpp>
#include <ferx/nn/onnx_export.hpp>
#include <ferx/nn/session.hpp>

#include <boost/test/unit_test.hpp>

#include "onnx_test.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace fn = ferx::nn;
namespace fs = std::filesystem;

namespace seq_export {

constexpr std::size_t n_clips = 24, steps = 5, dim = 6;

struct fitted {
    ferx::sequence_head_model head;
    std::vector<xt::xtensor<float, 2>> clips;
    std::vector<float> packed;  // the clips as one [N, T, d] tensor, row-major
};

// Clips of random features whose class is the sign pattern of their first and last frames' mean
// (so that the fit moves the weights away from their initial values), and a head fitted on them.
fitted fit(ferx::recurrent_cell cell, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> g(0.f, 1.f);
    fitted f;
    ferx::label_vector y;
    for (std::size_t i = 0; i < n_clips; ++i) {
        xt::xtensor<float, 2> c({steps, dim});
        for (auto& v : c) v = g(rng);
        f.clips.push_back(c);
        f.packed.insert(f.packed.end(), c.begin(), c.end());
        y.push_back((c(0, 0) > 0 ? 1 : 0) + (c(steps - 1, 1) > 0 ? 1 : 0));
    }
    ferx::sequence_head_params p;
    p.cell = cell;
    p.hidden_size = 7;
    p.dense = {5};
    p.epochs = 20;
    p.batch_size = 8;
    p.learning_rate = 1e-2;
    p.seed = seed;
    p.n_classes = 3;
    f.head = ferx::fit_sequence_head(ferx::exec::seq, f.clips, y, p);
    return f;
}

std::vector<float> copy(const fn::tensor_ref& t) { return std::vector<float>(t.data, t.data + t.element_count()); }

double max_rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
    BOOST_REQUIRE_EQUAL(a.size(), b.size());
    double d = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        d = std::max(d, std::fabs(double(a[i]) - b[i]) / std::max(1.0, std::fabs(double(b[i]))));
    return d;
}

const char* cell_name(ferx::recurrent_cell c) { return c == ferx::recurrent_cell::lstm ? "lstm" : "gru"; }

}  // namespace seq_export

BOOST_AUTO_TEST_SUITE(sequence_head_export)

BOOST_AUTO_TEST_CASE(session_equals_the_head_and_the_file_round_trips) {
    using namespace seq_export;
    ferx::thread_pool pool(2);
    const fn::shape_t shape{std::int64_t(n_clips), std::int64_t(steps), std::int64_t(dim)};
    for (auto cell : {ferx::recurrent_cell::lstm, ferx::recurrent_cell::gru}) {
        const fitted f = fit(cell, 5);
        const auto want = ferx::predict_proba(ferx::exec::seq, f.head, f.clips);  // [N, K] double

        const fn::graph g = ferx::sequence_head_graph(f.head);
        fn::session s(g);
        const auto out = s.run(ferx::exec::seq, {{f.packed.data(), shape}});
        BOOST_REQUIRE_EQUAL(out.size(), 2u);
        BOOST_TEST(out[1].shape == (fn::shape_t{std::int64_t(n_clips), 3}), boost::test_tools::per_element());
        const std::vector<float> logits = copy(out[0]), probs = copy(out[1]);
        double diff = 0;
        for (std::size_t i = 0; i < n_clips; ++i)
            for (std::size_t k = 0; k < 3; ++k) diff = std::max(diff, std::fabs(probs[i * 3 + k] - want(i, k)));
        BOOST_TEST(diff <= 1e-5, cell_name(cell) << ": session vs predict_proba: " << diff);
        BOOST_TEST_MESSAGE(cell_name(cell) << ": max |session - predict_proba| = " << diff);

        const auto par = s.run(ferx::exec::par.on(pool), {{f.packed.data(), shape}});
        BOOST_TEST((copy(par[1]) == probs), cell_name(cell) << ": par differs from seq");

        // save_onnx -> load_onnx: the same graph, the same outputs bit for bit.
        const fs::path file = fs::temp_directory_path() / (std::string("ferx_sequence_head_") + cell_name(cell) + ".onnx");
        fn::save_onnx(file.string(), g);
        fn::session back(fn::load_onnx(file));
        const auto again = back.run(ferx::exec::seq, {{f.packed.data(), shape}});
        BOOST_REQUIRE_EQUAL(again.size(), 2u);
        BOOST_TEST((copy(again[0]) == logits), cell_name(cell) << ": logits changed through the file");
        BOOST_TEST((copy(again[1]) == probs), cell_name(cell) << ": probabilities changed through the file");
        fs::remove(file);
    }
}

BOOST_AUTO_TEST_CASE(undefined_output_is_refused) {
    using namespace seq_export;
    const fitted f = fit(ferx::recurrent_cell::gru, 3);
    fn::graph g = ferx::sequence_head_graph(f.head, "broken_head");
    g.outputs.push_back(fn::value_info{"nowhere", {}});
    onnx_test::expect_error([&] { fn::to_onnx_bytes(g); }, {"to_onnx_model", "broken_head", "nowhere"});
    g.outputs.pop_back();
    g.opset_version = 0;
    onnx_test::expect_error([&] { fn::to_onnx_bytes(g); }, {"to_onnx_model", "opset version 0"});
}

#if defined(FERX_TEST_PYTHON) && defined(FERX_TEST_ORT_SCRIPT) && defined(FERX_TEST_ONNX_WORK_DIR)
BOOST_AUTO_TEST_CASE(onnxruntime_runs_the_exported_file, *boost::unit_test::precondition(onnx_test::python_onnx_present)) {
    using namespace seq_export;
    const fs::path dir = fs::path(FERX_TEST_ONNX_WORK_DIR) / "sequence_head_export";
    fs::create_directories(dir);
    const fn::shape_t shape{std::int64_t(n_clips), std::int64_t(steps), std::int64_t(dim)};
    for (auto cell : {ferx::recurrent_cell::lstm, ferx::recurrent_cell::gru}) {
        const fitted f = fit(cell, 11);
        const fn::graph g = ferx::sequence_head_graph(f.head);
        const std::string tag = cell_name(cell);
        const fs::path model = dir / (tag + ".onnx"), input = dir / (tag + ".sequence.f32"), out = dir / tag;
        fn::save_onnx(model.string(), g);
        {
            std::ofstream o(input, std::ios::binary);
            o.write(reinterpret_cast<const char*>(f.packed.data()), std::streamsize(f.packed.size() * 4));
        }
        const std::string cmd = std::string("\"") + FERX_TEST_PYTHON + "\" \"" + FERX_TEST_ORT_SCRIPT + "\" --model \"" +
                                model.string() + "\" --input \"sequence=" + input.string() + ":" + std::to_string(n_clips) +
                                "x" + std::to_string(steps) + "x" + std::to_string(dim) + "\" --out \"" + out.string() + "\"";
        BOOST_TEST_MESSAGE("running: " << cmd);
        BOOST_REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, "ONNX Runtime refused or failed on " << model << ": " << cmd);

        fn::session s(g);
        const auto ours = s.run(ferx::exec::seq, {{f.packed.data(), shape}});
        const auto ort_logits = onnx_test::read_f32(out / "logits.f32", std::int64_t(n_clips * 3));
        const auto ort_probs = onnx_test::read_f32(out / "probabilities.f32", std::int64_t(n_clips * 3));
        const double dl = max_rel_diff(copy(ours[0]), ort_logits), dp = max_rel_diff(copy(ours[1]), ort_probs);
        BOOST_TEST(dl <= 1e-5, tag << ": logits vs onnxruntime: " << dl);
        BOOST_TEST(dp <= 1e-5, tag << ": probabilities vs onnxruntime: " << dp);
        BOOST_TEST_MESSAGE(tag << ": max |ferx - onnxruntime| / max(1, |ort|): logits " << dl << ", probabilities " << dp);
        // The logits are not all alike (a head that learned nothing would make a weak test).
        const auto mm = std::minmax_element(ort_logits.begin(), ort_logits.end());
        BOOST_TEST(*mm.second - *mm.first > 0.1f, tag << ": logits span only " << (*mm.second - *mm.first));
    }
}
#endif

BOOST_AUTO_TEST_SUITE_END()
