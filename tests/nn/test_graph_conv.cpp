// Graph builders: hand-checked adjacency of a 4-node chain (every strategy and normalisation),
// hop distances, and invariants on the shipped layouts (edge counts, connectivity, symmetry,
// column sums, partitions summing to the whole neighbourhood). ST-GCN's unit built from C++
// (append_stgcn_unit): every residual against a direct computation in double, par == seq, the
// output shape, and bad input (A, importance, temporal kernel, residual, weight shapes).
#include <ferx/nn/graph_conv.hpp>

#include <boost/test/unit_test.hpp>

#include "nn_test.hpp"

#include <cmath>
#include <string>
#include <vector>

namespace {

using ferx::nn::adjacency_norm;
using ferx::nn::adjacency_params;
using ferx::nn::partition_strategy;
using ferx::nn::skeleton_layout;

// 0 - 1 - 2 - 3, centre 0.
skeleton_layout chain4() { return {"chain4", 4, 0, {{0, 1}, {1, 2}, {2, 3}}}; }

using matrix = std::vector<std::vector<double>>;

void check_partition(const xt::xtensor<float, 3>& a, std::size_t k, const matrix& want) {
    for (std::size_t j = 0; j < want.size(); ++j)
        for (std::size_t i = 0; i < want.size(); ++i)
            BOOST_TEST(a(k, j, i) == want[j][i], boost::test_tools::tolerance(1e-7)
                                                     << "partition " << k << " (" << j << ", " << i << ")");
}

// The unit computed directly (double, loops), x [N, C_in, T, V] -> [N, C_out, T', V].
std::vector<double> stgcn_reference(const ferx::nn::stgcn_unit& u, const ferx::nn::dense_tensor& x) {
    const auto& w = u.weights;
    const std::size_t N = static_cast<std::size_t>(x.shape[0]), ci = static_cast<std::size_t>(u.in_channels),
                      co = static_cast<std::size_t>(u.out_channels), T = static_cast<std::size_t>(x.shape[2]),
                      V = static_cast<std::size_t>(x.shape[3]), K = u.adjacency.shape()[0],
                      kt = static_cast<std::size_t>(u.temporal_kernel), s = static_cast<std::size_t>(u.stride);
    const std::size_t To = (T - 1) / s + 1, pad = (kt - 1) / 2;
    auto X = [&](std::size_t n, std::size_t c, std::size_t t, std::size_t v) { return double(x.data[((n * ci + c) * T + t) * V + v]); };
    auto bn = [](const ferx::nn::batch_norm_weights& b, std::size_t c, double y) {
        return (y - b.mean[c]) / std::sqrt(double(b.var[c]) + double(b.epsilon)) * b.scale[c] + b.bias[c];
    };
    auto bias = [](const std::vector<float>& b, std::size_t c) { return b.empty() ? 0.0 : double(b[c]); };
    // Spatial: h = Conv1x1(x) [N, K C_out, T, V]; g = sum_k h_k A_k; r = ReLU(BN(g)).
    std::vector<double> h(N * K * co * T * V), r(N * co * T * V, 0.0);
    for (std::size_t n = 0; n < N; ++n)
        for (std::size_t o = 0; o < K * co; ++o)
            for (std::size_t t = 0; t < T; ++t)
                for (std::size_t v = 0; v < V; ++v) {
                    double a = bias(w.spatial_bias, o);
                    for (std::size_t c = 0; c < ci; ++c) a += double(w.spatial_weight.data[o * ci + c]) * X(n, c, t, v);
                    h[((n * K * co + o) * T + t) * V + v] = a;
                }
    for (std::size_t n = 0; n < N; ++n)
        for (std::size_t c = 0; c < co; ++c)
            for (std::size_t t = 0; t < T; ++t)
                for (std::size_t i = 0; i < V; ++i) {
                    double a = 0;
                    for (std::size_t k = 0; k < K; ++k)
                        for (std::size_t j = 0; j < V; ++j) {
                            const double imp = u.edge_importance.size() ? double(u.edge_importance(k, j, i)) : 1.0;
                            a += h[((n * K * co + k * co + c) * T + t) * V + j] * double(u.adjacency(k, j, i)) * imp;
                        }
                    r[((n * co + c) * T + t) * V + i] = std::max(0.0, bn(w.spatial_bn, c, a));
                }
    // Temporal: BN(Conv kt x 1), + residual, ReLU.
    const auto res = ferx::nn::resolved_residual(u);
    std::vector<double> y(N * co * To * V);
    for (std::size_t n = 0; n < N; ++n)
        for (std::size_t c = 0; c < co; ++c)
            for (std::size_t t = 0; t < To; ++t)
                for (std::size_t v = 0; v < V; ++v) {
                    double a = bias(w.temporal_bias, c);
                    for (std::size_t c2 = 0; c2 < co; ++c2)
                        for (std::size_t d = 0; d < kt; ++d) {
                            const std::ptrdiff_t tt = std::ptrdiff_t(t * s + d) - std::ptrdiff_t(pad);
                            if (tt < 0 || tt >= std::ptrdiff_t(T)) continue;
                            a += double(w.temporal_weight.data[(c * co + c2) * kt + d]) * r[((n * co + c2) * T + std::size_t(tt)) * V + v];
                        }
                    a = bn(w.temporal_bn, c, a);
                    if (res == ferx::nn::stgcn_residual::identity) a += X(n, c, t, v);
                    if (res == ferx::nn::stgcn_residual::conv) {
                        double q = bias(w.residual_bias, c);
                        for (std::size_t c2 = 0; c2 < ci; ++c2) q += double(w.residual_weight.data[c * ci + c2]) * X(n, c2, t * s, v);
                        a += bn(w.residual_bn, c, q);
                    }
                    y[((n * co + c) * To + t) * V + v] = std::max(0.0, a);
                }
    return y;
}

ferx::nn::stgcn_unit make_unit(const xt::xtensor<float, 3>& a, std::int64_t ci, std::int64_t co, int kt, int stride,
                               ferx::nn::stgcn_residual res, std::uint64_t seed) {
    ferx::nn::stgcn_unit u;
    u.adjacency = a;
    u.in_channels = ci;
    u.out_channels = co;
    u.temporal_kernel = kt;
    u.stride = stride;
    u.residual = res;
    u.weights = ferx::nn::random_stgcn_unit_weights(u, seed);
    return u;
}

// ferx::error whose message contains `part`.
auto error_naming(const std::string& part) {
    return [part](const ferx::error& e) {
        const bool ok = std::string(e.what()).find(part) != std::string::npos;
        if (!ok) BOOST_TEST_MESSAGE("message: " << e.what() << " (wanted '" << part << "')");
        return ok;
    };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(nn_graph_conv)

BOOST_AUTO_TEST_CASE(stgcn_unit_every_residual_against_direct_computation) {
    using ferx::nn::stgcn_residual;
    const auto a = ferx::nn::graph_adjacency(ferx::nn::ntu25_layout());  // [3, 25, 25]
    struct setup { std::int64_t ci, co; int kt, stride; stgcn_residual res; stgcn_residual resolved; std::int64_t T; };
    const std::vector<setup> setups = {
        {3, 16, 9, 2, stgcn_residual::automatic, stgcn_residual::conv, 20},   // channels and frames change
        {8, 8, 9, 1, stgcn_residual::automatic, stgcn_residual::identity, 13},
        {5, 7, 3, 1, stgcn_residual::none, stgcn_residual::none, 6},
        {6, 6, 5, 3, stgcn_residual::conv, stgcn_residual::conv, 11},         // conv residual by choice, stride 3
        {4, 4, 1, 1, stgcn_residual::identity, stgcn_residual::identity, 4},  // kt 1: no temporal mixing
    };
    std::mt19937 rng(7);
    std::uint64_t seed = 100;
    for (const auto& c : setups) {
        auto u = make_unit(a, c.ci, c.co, c.kt, c.stride, c.res, ++seed);
        BOOST_TEST((ferx::nn::resolved_residual(u) == c.resolved));
        // Learnable edge importance: random around 1.
        u.edge_importance = xt::xtensor<float, 3>::from_shape({3, 25, 25});
        for (auto& v : u.edge_importance) v = std::uniform_real_distribution<float>(0.5f, 1.5f)(rng);
        const auto g = ferx::nn::stgcn_unit_graph(u, c.T);
        const auto x = nn_test::random_tensor({3, c.ci, c.T, 25}, rng);
        const auto want = stgcn_reference(u, x);
        const std::string what = "stgcn unit " + std::to_string(c.ci) + "->" + std::to_string(c.co) + " kt " +
                                 std::to_string(c.kt) + " stride " + std::to_string(c.stride);
        const nn_test::dense_tensor ref{{3, c.co, ferx::nn::stgcn_output_frames(c.T, c.stride), 25},
                                        std::vector<float>(want.begin(), want.end())};
        BOOST_TEST(ref.shape[2] == (c.T - 1) / c.stride + 1);
        nn_test::check_op(g, {x}, ref, what, 1e-5);
        // Batch 1 equals the first image of batch 3.
        const nn_test::dense_tensor x1{{1, c.ci, c.T, 25},
                                       std::vector<float>(x.data.begin(), x.data.begin() + x.element_count() / 3)};
        const auto y3 = nn_test::run(ferx::exec::seq, g, {x});
        const auto y1 = nn_test::run(ferx::exec::seq, g, {x1});
        BOOST_TEST(std::equal(y1.data.begin(), y1.data.end(), y3.data.begin()), what << ": batch 1 != batch 3's first");
    }
}

BOOST_AUTO_TEST_CASE(stgcn_unit_importance_and_chained_units) {
    using ferx::nn::stgcn_residual;
    const auto a = ferx::nn::graph_adjacency(chain4());
    // Zero importance: the graph convolution gives 0, so with no residual the unit's output is
    // ReLU(BN(Conv(ReLU(BN(0))))), the same at every node.
    auto u = make_unit(a, 2, 3, 3, 1, stgcn_residual::none, 5);
    u.edge_importance = xt::zeros<float>({a.shape()[0], a.shape()[1], a.shape()[2]});
    std::mt19937 rng(3);
    const auto x = nn_test::random_tensor({2, 2, 5, 4}, rng);
    const auto y = nn_test::run(ferx::exec::seq, ferx::nn::stgcn_unit_graph(u, 5), {x});
    BOOST_TEST((y.shape == ferx::nn::shape_t{2, 3, 5, 4}));
    for (std::size_t i = 0; i < y.data.size(); i += 4)
        for (std::size_t v = 1; v < 4; ++v) BOOST_TEST(y.data[i + v] == y.data[i]);
    // Two units in one graph (different prefixes): 2 -> 4 (stride 2) -> 4.
    auto u1 = make_unit(a, 2, 4, 3, 2, stgcn_residual::automatic, 11);
    auto u2 = make_unit(a, 4, 4, 3, 1, stgcn_residual::automatic, 12);
    ferx::nn::graph_builder b("two_units");
    b.input("x", {-1, 2, 5, 4});
    b.output(ferx::nn::append_stgcn_unit(b, ferx::nn::append_stgcn_unit(b, "x", u1, "block1"), u2, "block2"));
    const auto g = b.build();
    const auto y2 = nn_test::run(ferx::exec::seq, g, {x});
    BOOST_TEST((y2.shape == ferx::nn::shape_t{2, 4, 3, 4}));
    const auto mid = stgcn_reference(u1, x);
    const nn_test::dense_tensor m{{2, 4, 3, 4}, std::vector<float>(mid.begin(), mid.end())};
    const auto want = stgcn_reference(u2, m);
    nn_test::check_op(g, {x}, {{2, 4, 3, 4}, std::vector<float>(want.begin(), want.end())}, "two units", 1e-5);
}

BOOST_AUTO_TEST_CASE(stgcn_unit_bad_input) {
    using ferx::nn::stgcn_residual;
    const auto a = ferx::nn::graph_adjacency(chain4());  // [3, 4, 4]
    const auto good = make_unit(a, 2, 3, 3, 1, stgcn_residual::automatic, 1);
    BOOST_CHECK_NO_THROW(ferx::nn::validate(good));
    BOOST_CHECK_EXCEPTION(ferx::nn::validate(ferx::nn::stgcn_unit{}), ferx::error, error_naming("the adjacency A must be"));
    auto bad = good;
    bad.adjacency = xt::zeros<float>({3, 4, 5});
    BOOST_CHECK_EXCEPTION(ferx::nn::stgcn_unit_graph(bad, 5), ferx::error, error_naming("the adjacency A must be [K, V, V]"));
    bad = good;
    bad.edge_importance = xt::ones<float>({3, 5, 5});
    BOOST_CHECK_EXCEPTION(ferx::nn::stgcn_unit_graph(bad, 5), ferx::error, error_naming("edge importance has shape [3, 5, 5]"));
    bad = good;
    bad.edge_importance = xt::ones<float>({2, 4, 4});
    BOOST_CHECK_EXCEPTION(ferx::nn::validate(bad), ferx::error, error_naming("edge importance"));
    bad = good;
    bad.temporal_kernel = 8;
    BOOST_CHECK_EXCEPTION(ferx::nn::stgcn_unit_graph(bad, 5), ferx::error, error_naming("temporal kernel must be odd"));
    bad.temporal_kernel = 0;
    BOOST_CHECK_EXCEPTION(ferx::nn::validate(bad), ferx::error, error_naming("temporal kernel"));
    bad = good;
    bad.stride = 0;
    BOOST_CHECK_EXCEPTION(ferx::nn::validate(bad), ferx::error, error_naming("stride must be >= 1"));
    bad = good;
    bad.residual = stgcn_residual::identity;  // 2 -> 3 channels
    BOOST_CHECK_EXCEPTION(ferx::nn::validate(bad), ferx::error, error_naming("identity residual needs"));
    bad = good;
    bad.out_channels = 0;
    BOOST_CHECK_EXCEPTION(ferx::nn::validate(bad), ferx::error, error_naming("out_channels"));
    bad = good;
    bad.weights.spatial_weight.shape = {9, 3, 1, 1};
    BOOST_CHECK_EXCEPTION(ferx::nn::validate(bad), ferx::error, error_naming("weights.spatial_weight has shape [9, 3, 1, 1]"));
    bad = good;
    bad.weights.temporal_bn.var.pop_back();
    BOOST_CHECK_EXCEPTION(ferx::nn::validate(bad), ferx::error, error_naming("weights.temporal_bn.var"));
    bad = good;
    bad.weights.residual_weight = {};  // automatic resolves to conv here: its weights are needed
    BOOST_CHECK_EXCEPTION(ferx::nn::validate(bad), ferx::error, error_naming("weights.residual_weight"));
    bad = good;
    bad.weights.temporal_weight.shape = {3, 3, 5, 1};  // kt 3 expected
    BOOST_CHECK_EXCEPTION(ferx::nn::validate(bad), ferx::error, error_naming("weights.temporal_weight"));
    bad = good;
    bad.weights.spatial_bias.resize(4);
    BOOST_CHECK_EXCEPTION(ferx::nn::validate(bad), ferx::error, error_naming("weights.spatial_bias has 4 values"));
    // No bias at all is fine; the seeded weights repeat.
    auto nobias = good;
    nobias.weights.spatial_bias.clear();
    nobias.weights.temporal_bias.clear();
    BOOST_CHECK_NO_THROW(ferx::nn::validate(nobias));
    BOOST_CHECK_EXCEPTION(ferx::nn::stgcn_unit_graph(good, 0), ferx::error, error_naming("frames must be >= 1"));
    const auto again = ferx::nn::random_stgcn_unit_weights(good, 1);
    BOOST_TEST(again.temporal_weight.data == good.weights.temporal_weight.data);
    BOOST_TEST(ferx::nn::random_stgcn_unit_weights(good, 2).temporal_weight.data != good.weights.temporal_weight.data);
}

BOOST_AUTO_TEST_CASE(chain_hop_distance) {
    const auto d1 = ferx::nn::hop_distance(chain4(), 1);
    const auto d2 = ferx::nn::hop_distance(chain4(), 2);
    const auto all = ferx::nn::hop_distance(chain4(), -1);
    const int u = ferx::nn::unreachable;
    const std::vector<std::vector<int>> w1 = {{0, 1, u, u}, {1, 0, 1, u}, {u, 1, 0, 1}, {u, u, 1, 0}};
    const std::vector<std::vector<int>> w2 = {{0, 1, 2, u}, {1, 0, 1, 2}, {2, 1, 0, 1}, {u, 2, 1, 0}};
    for (std::size_t j = 0; j < 4; ++j)
        for (std::size_t i = 0; i < 4; ++i) {
            BOOST_TEST(d1(j, i) == w1[j][i]);
            BOOST_TEST(d2(j, i) == w2[j][i]);
            BOOST_TEST(all(j, i) == (j > i ? int(j - i) : int(i - j)));
        }
    // Two components: unreachable across them, whatever the limit.
    const skeleton_layout two{"two", 4, 0, {{0, 1}, {2, 3}}};
    BOOST_TEST(ferx::nn::hop_distance(two, -1)(0, 2) == u);
}

BOOST_AUTO_TEST_CASE(chain_uniform_column_and_symmetric) {
    // Degrees with the self link: 2, 3, 3, 2.
    adjacency_params p;
    p.strategy = partition_strategy::uniform;
    const auto col = ferx::nn::graph_adjacency(chain4(), p);
    BOOST_TEST(col.shape()[0] == 1u);
    const double h = 1.0 / 2, t = 1.0 / 3;
    check_partition(col, 0, {{h, t, 0, 0}, {h, t, t, 0}, {0, t, t, h}, {0, 0, t, h}});

    p.norm = adjacency_norm::symmetric;
    const auto sym = ferx::nn::graph_adjacency(chain4(), p);
    const double s = 1.0 / std::sqrt(6.0);
    check_partition(sym, 0, {{h, s, 0, 0}, {s, t, t, 0}, {0, t, t, s}, {0, 0, s, h}});

    p.norm = adjacency_norm::none;
    check_partition(ferx::nn::graph_adjacency(chain4(), p), 0, {{1, 1, 0, 0}, {1, 1, 1, 0}, {0, 1, 1, 1}, {0, 0, 1, 1}});
}

BOOST_AUTO_TEST_CASE(chain_distance_partition) {
    // max_hop 2: the neighbourhoods have 3, 4, 4, 3 nodes; one partition per hop 0, 1, 2.
    adjacency_params p;
    p.strategy = partition_strategy::distance;
    p.max_hop = 2;
    const auto a = ferx::nn::graph_adjacency(chain4(), p);
    BOOST_TEST(a.shape()[0] == 3u);
    const double t = 1.0 / 3, q = 1.0 / 4;
    check_partition(a, 0, {{t, 0, 0, 0}, {0, q, 0, 0}, {0, 0, q, 0}, {0, 0, 0, t}});
    check_partition(a, 1, {{0, q, 0, 0}, {t, 0, q, 0}, {0, q, 0, t}, {0, 0, q, 0}});
    check_partition(a, 2, {{0, 0, q, 0}, {0, 0, 0, t}, {t, 0, 0, 0}, {0, q, 0, 0}});
    // Dilation 2: hops 0 and 2 only, neighbourhoods of 2 nodes each.
    p.dilation = 2;
    const auto d = ferx::nn::graph_adjacency(chain4(), p);
    BOOST_TEST(d.shape()[0] == 2u);
    check_partition(d, 0, {{0.5, 0, 0, 0}, {0, 0.5, 0, 0}, {0, 0, 0.5, 0}, {0, 0, 0, 0.5}});
    check_partition(d, 1, {{0, 0, 0.5, 0}, {0, 0, 0, 0.5}, {0.5, 0, 0, 0}, {0, 0.5, 0, 0}});
}

BOOST_AUTO_TEST_CASE(chain_spatial_partition) {
    // Centre 0; A(j, i) is the message j -> i. Root: the diagonal; centrifugal: j farther from the
    // centre than i (j = i + 1); centripetal: j nearer (j = i - 1).
    const auto a = ferx::nn::graph_adjacency(chain4());
    BOOST_TEST(a.shape()[0] == 3u);
    const double h = 1.0 / 2, t = 1.0 / 3;
    check_partition(a, 0, {{h, 0, 0, 0}, {0, t, 0, 0}, {0, 0, t, 0}, {0, 0, 0, h}});
    check_partition(a, 1, {{0, 0, 0, 0}, {h, 0, 0, 0}, {0, t, 0, 0}, {0, 0, t, 0}});
    check_partition(a, 2, {{0, t, 0, 0}, {0, 0, t, 0}, {0, 0, 0, h}, {0, 0, 0, 0}});

    // ST-GCN's code cuts the distances to the centre at max_hop: nodes 2 and 3 are both "inf",
    // so the link 2 -> 3 counts as equidistant (centrifugal) instead of centripetal.
    adjacency_params p;
    p.centre_distance_within_max_hop = true;
    const auto q = ferx::nn::graph_adjacency(chain4(), p);
    check_partition(q, 0, {{h, 0, 0, 0}, {0, t, 0, 0}, {0, 0, t, 0}, {0, 0, 0, h}});
    check_partition(q, 1, {{0, 0, 0, 0}, {h, 0, 0, 0}, {0, t, 0, h}, {0, 0, t, 0}});
    check_partition(q, 2, {{0, t, 0, 0}, {0, 0, t, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}});
}

BOOST_AUTO_TEST_CASE(normalize_adjacency_empty_column_and_errors) {
    xt::xtensor<double, 2> a = {{1, 0, 0}, {1, 0, 0}, {0, 0, 2}};
    const auto c = ferx::nn::normalize_adjacency(a, adjacency_norm::column);
    BOOST_TEST(c(0, 0) == 0.5);
    BOOST_TEST(c(1, 0) == 0.5);
    BOOST_TEST(c(2, 2) == 1.0);
    BOOST_TEST(c(0, 1) == 0.0);  // node 1 has no link at all: its column stays zero
    BOOST_CHECK_THROW(ferx::nn::normalize_adjacency(xt::xtensor<double, 2>(xt::zeros<double>({2, 3})), adjacency_norm::column),
                      ferx::error);
    BOOST_CHECK_THROW(ferx::nn::validate({"bad", 3, 0, {{0, 3}}}), ferx::error);
    BOOST_CHECK_THROW(ferx::nn::validate({"self", 3, 0, {{1, 1}}}), ferx::error);
    BOOST_CHECK_THROW(ferx::nn::validate({"twice", 3, 0, {{0, 1}, {1, 0}}}), ferx::error);
    BOOST_CHECK_THROW(ferx::nn::validate({"centre", 3, 3, {}}), ferx::error);
    adjacency_params p;
    p.max_hop = -1;
    BOOST_CHECK_THROW(ferx::nn::graph_adjacency(chain4(), p), ferx::error);
    p.max_hop = 1;
    p.dilation = 0;
    BOOST_CHECK_THROW(ferx::nn::graph_adjacency(chain4(), p), ferx::error);
}

BOOST_AUTO_TEST_CASE(shipped_layouts_invariants) {
    struct expect {
        skeleton_layout g;
        int nodes, centre, edges;
        bool tree;
    };
    const std::vector<expect> layouts = {
        {ferx::nn::openpose18_layout(), 18, 1, 17, true}, {ferx::nn::ntu25_layout(), 25, 20, 24, true},
        {ferx::nn::coco17_layout(), 17, 0, 16, true},     {ferx::nn::face68_layout(), 68, 30, 74, false},
        {ferx::nn::face51_layout(), 51, 13, 55, false}};
    for (const auto& e : layouts) {
        BOOST_TEST_CONTEXT(e.g.name) {
            ferx::nn::validate(e.g);
            BOOST_TEST(e.g.nodes == e.nodes);
            BOOST_TEST(e.g.centre == e.centre);
            BOOST_TEST(static_cast<int>(e.g.edges.size()) == e.edges);
            const auto V = static_cast<std::size_t>(e.g.nodes);
            const auto all = ferx::nn::hop_distance(e.g, -1);
            bool connected = true;
            for (std::size_t j = 0; j < V; ++j)
                for (std::size_t i = 0; i < V; ++i) {
                    connected = connected && all(j, i) != ferx::nn::unreachable;
                    BOOST_TEST(all(j, i) == all(i, j));
                }
            BOOST_TEST(connected);

            adjacency_params p;
            p.strategy = partition_strategy::uniform;
            const auto uni = ferx::nn::graph_adjacency(e.g, p);
            p.norm = adjacency_norm::none;
            const auto raw = ferx::nn::graph_adjacency(e.g, p);
            p.norm = adjacency_norm::symmetric;
            const auto sym = ferx::nn::graph_adjacency(e.g, p);
            const auto spatial = ferx::nn::graph_adjacency(e.g);
            BOOST_TEST(spatial.shape()[0] == 3u);
            double links = 0;
            for (std::size_t i = 0; i < V; ++i) {
                double col = 0;
                for (std::size_t j = 0; j < V; ++j) {
                    col += uni(0, j, i);
                    links += raw(0, j, i);
                    BOOST_TEST(raw(0, j, i) == raw(0, i, j));
                    BOOST_TEST(sym(0, j, i) == sym(0, i, j));
                    const double parts = double(spatial(0, j, i)) + spatial(1, j, i) + spatial(2, j, i);
                    BOOST_TEST(parts == uni(0, j, i), boost::test_tools::tolerance(1e-6));
                    // Root is the diagonal; on a tree every link is either farther or nearer, so
                    // the centrifugal partition is the centripetal one transposed (as a pattern).
                    BOOST_TEST((spatial(0, j, i) != 0) == (i == j));
                    if (e.tree) BOOST_TEST((spatial(1, j, i) != 0) == (spatial(2, i, j) != 0));
                }
                BOOST_TEST(col == 1.0, boost::test_tools::tolerance(1e-6));
            }
            BOOST_TEST(links == static_cast<double>(V + 2 * e.g.edges.size()));  // self links + both directions
        }
    }
}

BOOST_AUTO_TEST_CASE(face51_is_face68_without_the_jaw) {
    const auto f68 = ferx::nn::face68_layout(), f51 = ferx::nn::face51_layout();
    const auto d68 = ferx::nn::hop_distance(f68, 1), d51 = ferx::nn::hop_distance(f51, 1);
    for (std::size_t j = 0; j < 51; ++j)
        for (std::size_t i = 0; i < 51; ++i) BOOST_TEST(d51(j, i) == d68(j + 17, i + 17));
}

BOOST_AUTO_TEST_SUITE_END()
