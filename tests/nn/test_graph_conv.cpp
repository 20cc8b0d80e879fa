// Graph builders: hand-checked adjacency of a 4-node chain (every strategy and normalisation),
// hop distances, and invariants on the shipped layouts (edge counts, connectivity, symmetry,
// column sums, partitions summing to the whole neighbourhood).
#include <ferx/nn/graph_conv.hpp>

#include <boost/test/unit_test.hpp>

#include <cmath>
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

}  // namespace

BOOST_AUTO_TEST_SUITE(nn_graph_conv)

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
