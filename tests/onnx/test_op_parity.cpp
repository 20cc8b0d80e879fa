// The ops of the temporal and graph networks against ONNX Runtime: one-op graphs built with
// onnx.helper by make_op_cases.py (random weights, odd sizes, every direction / layout /
// attribute combination ferx supports), run through ferx's importer and session on exec::seq and
// exec::par, every output compared within 1e-5 of max(1, |ONNX Runtime|); par equals seq.
#include <ferx/core/execution.hpp>
#include <ferx/core/thread_pool.hpp>
#include <ferx/nn/onnx.hpp>
#include <ferx/nn/session.hpp>

#include <boost/test/unit_test.hpp>

#include "onnx_test.hpp"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fn = ferx::nn;
namespace fs = std::filesystem;

namespace {

struct op_tensor {
    bool input = false;
    std::string name;
    fn::shape_t shape;
    std::vector<float> data;
};

using onnx_test::op_cases_dir;

std::vector<op_tensor> read_case(const std::string& name) {
    std::ifstream manifest(op_cases_dir() / (name + ".txt"));
    BOOST_REQUIRE_MESSAGE(manifest, "no manifest for case " << name);
    std::vector<op_tensor> out;
    for (std::string line; std::getline(manifest, line);) {
        std::istringstream is(line);
        std::string role;
        op_tensor t;
        is >> role >> t.name;
        t.input = role == "in";
        for (std::int64_t d; is >> d;) t.shape.push_back(d);
        t.data = onnx_test::read_f32(op_cases_dir() / (name + "." + t.name + ".f32"), fn::element_count(t.shape));
        out.push_back(std::move(t));
    }
    return out;
}

// Imports and runs one case on seq and par; returns the largest relative difference to ONNX Runtime.
double check_case(const std::string& name) {
    const auto tensors = read_case(name);
    fn::session s(fn::load_onnx(op_cases_dir() / (name + ".onnx")));
    std::vector<fn::tensor_ref> inputs;
    std::vector<const op_tensor*> want;
    for (const auto& t : tensors) {
        if (t.input) inputs.push_back({t.data.data(), t.shape});
        else want.push_back(&t);
    }
    ferx::thread_pool pool(2);
    const auto seq_out = s.run(ferx::exec::seq, inputs);
    std::vector<std::vector<float>> seq_values;
    for (const auto& o : seq_out) seq_values.emplace_back(o.data, o.data + o.element_count());
    const auto par_out = s.run(ferx::exec::par.on(pool), inputs);
    BOOST_REQUIRE_EQUAL(seq_out.size(), want.size());
    double worst = 0;
    for (std::size_t k = 0; k < want.size(); ++k) {
        BOOST_TEST_INFO(name << " output " << want[k]->name);
        BOOST_TEST(seq_out[k].shape == want[k]->shape, boost::test_tools::per_element());
        BOOST_TEST(par_out[k].shape == want[k]->shape, boost::test_tools::per_element());
        BOOST_REQUIRE_EQUAL(seq_values[k].size(), want[k]->data.size());
        double diff = 0;
        bool par_equal = true;
        for (std::size_t i = 0; i < want[k]->data.size(); ++i) {
            const double w = want[k]->data[i];
            diff = std::max(diff, std::fabs(seq_values[k][i] - w) / std::max(1.0, std::fabs(w)));
            par_equal = par_equal && par_out[k].data[i] == seq_values[k][i];
        }
        BOOST_TEST(diff <= 1e-5);
        BOOST_TEST(par_equal);
        worst = std::max(worst, diff);
    }
    return worst;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(op_parity, *boost::unit_test::precondition(onnx_test::python_onnx_present))

// Every case make_op_cases.py lists (so a case added there is tested here without a new line).
BOOST_AUTO_TEST_CASE(every_case_matches_onnxruntime) {
    onnx_test::generate_op_cases();
    const std::string cmd = std::string("\"") + FERX_TEST_PYTHON + "\" \"" + FERX_TEST_OP_SCRIPT + "\" --list > \"" +
                            (op_cases_dir() / "cases.list").string() + "\"";
    BOOST_REQUIRE(std::system(cmd.c_str()) == 0);
    std::ifstream list(op_cases_dir() / "cases.list");
    int n = 0;
    for (std::string name; std::getline(list, name);) {
        if (name.empty()) continue;
        const double d = check_case(name);
        BOOST_TEST_MESSAGE(name << ": max |ferx - onnxruntime| / max(1, |ort|) = " << d);
        ++n;
    }
    BOOST_TEST(n >= 14);
}

BOOST_AUTO_TEST_SUITE_END()
