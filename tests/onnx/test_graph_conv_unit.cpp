// ST-GCN's unit built from C++ (ferx::nn::append_stgcn_unit) against the same unit built with
// onnx.helper and run by ONNX Runtime (make_op_cases.py, cases stgcn_unit and
// stgcn_unit_identity, generated with the other op cases): the ONNX file's initializers are the C++ builder's weights, its A is first
// checked against ferx's own NTU-25 spatial partition, and the outputs of exec::seq and exec::par
// are compared with ONNX Runtime's within 1e-5 of max(1, |ort|); par equals seq.
#include <ferx/core/execution.hpp>
#include <ferx/core/thread_pool.hpp>
#include <ferx/nn/graph_conv.hpp>
#include <ferx/nn/onnx.hpp>
#include <ferx/nn/session.hpp>

#include <boost/test/unit_test.hpp>

#include "onnx_test.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fn = ferx::nn;
namespace fs = std::filesystem;

namespace stgcn_onnx {

using onnx_test::op_cases_dir;

const fn::dense_tensor& init(const fn::graph& g, const std::string& name) {
    const auto it = g.initializers.find(name);
    BOOST_REQUIRE_MESSAGE(it != g.initializers.end(), "no initializer '" << name << "' in " << g.source);
    return it->second;
}

xt::xtensor<float, 3> to_xtensor(const fn::dense_tensor& t) {
    BOOST_REQUIRE_EQUAL(t.shape.size(), 3u);
    xt::xtensor<float, 3> a = xt::xtensor<float, 3>::from_shape(
        {static_cast<std::size_t>(t.shape[0]), static_cast<std::size_t>(t.shape[1]), static_cast<std::size_t>(t.shape[2])});
    std::copy(t.data.begin(), t.data.end(), a.begin());
    return a;
}

fn::batch_norm_weights bn(const fn::graph& g, const std::string& name) {
    fn::batch_norm_weights b;
    b.scale = init(g, name + ".scale").data;
    b.bias = init(g, name + ".bias").data;
    b.mean = init(g, name + ".mean").data;
    b.var = init(g, name + ".var").data;
    b.epsilon = 1e-5f;  // as make_op_cases.py writes it
    return b;
}

struct unit_case {
    std::string name;
    std::int64_t in_channels, out_channels;
    int temporal_kernel, stride;
    fn::stgcn_residual residual;  // what automatic must resolve to
    fn::shape_t x, y;
};

// Builds the unit from C++ with the ONNX file's weights, runs it; the largest relative difference.
double check_unit(const unit_case& c) {
    const fs::path file = op_cases_dir() / (c.name + ".onnx");
    const fn::graph onnx_graph = fn::load_onnx(file);

    fn::stgcn_unit u;
    u.adjacency = to_xtensor(init(onnx_graph, "A"));
    u.edge_importance = to_xtensor(init(onnx_graph, "importance"));
    u.in_channels = c.in_channels;
    u.out_channels = c.out_channels;
    u.temporal_kernel = c.temporal_kernel;
    u.stride = c.stride;
    // ferx's NTU-25 spatial partition with the reference code's distances to the centre is the
    // matrix the script computed the way ST-GCN's Graph does.
    fn::adjacency_params code;
    code.centre_distance_within_max_hop = true;
    const auto ours = fn::graph_adjacency(fn::ntu25_layout(), code);
    BOOST_REQUIRE((ours.shape() == u.adjacency.shape()));
    double a_diff = 0;
    for (std::size_t i = 0; i < ours.size(); ++i) a_diff = std::max(a_diff, double(std::fabs(ours.data()[i] - u.adjacency.data()[i])));
    BOOST_TEST(a_diff <= 1e-7, c.name << ": A differs from ferx's NTU-25 spatial partition by " << a_diff);

    auto& w = u.weights;
    w.spatial_weight = init(onnx_graph, "gcn.weight");
    w.spatial_bias = init(onnx_graph, "gcn.bias").data;
    w.spatial_bn = bn(onnx_graph, "bn1");
    w.temporal_weight = init(onnx_graph, "tcn.weight");
    w.temporal_bias = init(onnx_graph, "tcn.bias").data;
    w.temporal_bn = bn(onnx_graph, "bn2");
    if (onnx_graph.initializers.count("res.weight")) {
        w.residual_weight = init(onnx_graph, "res.weight");
        w.residual_bias = init(onnx_graph, "res.bias").data;
        w.residual_bn = bn(onnx_graph, "res_bn");
    }
    BOOST_TEST((fn::resolved_residual(u) == c.residual));

    const fn::graph g = fn::stgcn_unit_graph(u, c.x[2]);
    fn::session s(g);
    const auto x = onnx_test::read_f32(op_cases_dir() / (c.name + ".X.f32"), fn::element_count(c.x));
    const auto want = onnx_test::read_f32(op_cases_dir() / (c.name + ".Y.f32"), fn::element_count(c.y));
    const auto seq_out = s.run(ferx::exec::seq, {{x.data(), c.x}});
    BOOST_REQUIRE_EQUAL(seq_out.size(), 1u);
    BOOST_TEST(seq_out[0].shape == c.y, boost::test_tools::per_element());
    const std::vector<float> seq(seq_out[0].data, seq_out[0].data + seq_out[0].element_count());
    BOOST_REQUIRE_EQUAL(seq.size(), want.size());
    ferx::thread_pool pool(2);
    const auto par_out = s.run(ferx::exec::par.on(pool), {{x.data(), c.x}});
    double diff = 0;
    bool par_equal = true;
    std::size_t positive = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
        diff = std::max(diff, std::fabs(double(seq[i]) - want[i]) / std::max(1.0, std::fabs(double(want[i]))));
        par_equal = par_equal && par_out[0].data[i] == seq[i];
        positive += want[i] > 0;
    }
    BOOST_TEST(diff <= 1e-5, c.name << ": max |ferx - onnxruntime| / max(1, |ort|) = " << diff);
    BOOST_TEST(par_equal, c.name << ": par differs from seq");
    BOOST_TEST(positive > want.size() / 10, c.name << ": the output is mostly zero, a weak test");
    return diff;
}

}  // namespace stgcn_onnx

BOOST_AUTO_TEST_SUITE(stgcn_unit_onnx, *boost::unit_test::precondition(onnx_test::python_onnx_present))

BOOST_AUTO_TEST_CASE(cpp_unit_matches_onnxruntime) {
    using namespace stgcn_onnx;
    onnx_test::generate_op_cases();
    const std::vector<unit_case> cases = {
        {"stgcn_unit", 4, 8, 9, 2, fn::stgcn_residual::conv, {2, 4, 12, 25}, {2, 8, 6, 25}},
        {"stgcn_unit_identity", 6, 6, 5, 1, fn::stgcn_residual::identity, {3, 6, 10, 25}, {3, 6, 10, 25}},
    };
    for (const auto& c : cases) {
        const double d = check_unit(c);
        BOOST_TEST_MESSAGE(c.name << ": max |ferx - onnxruntime| / max(1, |ort|) = " << d);
    }
}

BOOST_AUTO_TEST_SUITE_END()
