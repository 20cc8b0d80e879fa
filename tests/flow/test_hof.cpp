// HOF: votes worked out by hand (bin centres, interpolation, wrap-round, the static bin, unsigned
// directions), grids, batches on par against seq, bad input.
#include <ferx/flow/hof.hpp>

#include <boost/test/unit_test.hpp>

#include "flow_test.hpp"

#include <cmath>
#include <limits>

namespace {
ferx::flow_field uniform(int rows, int cols, float u, float v) {
    auto f = ferx::make_flow_field(rows, cols);
    for (auto& w : f) w = {u, v};
    return f;
}
ferx::hof_params one_cell(int bins = 8) {
    ferx::hof_params p;
    p.bins = bins;
    p.grid = {{1, 1}, 0.0, ferx::hist_norm::none};
    return p;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(flow_hof)

BOOST_AUTO_TEST_CASE(votes_by_hand) {
    // angle 0 lies between the centres of bins 7 (-22.5 deg) and 0 (22.5 deg): half each
    auto h = ferx::describe(ferx::exec::seq, uniform(2, 3, 2.f, 0.f), one_cell());
    BOOST_TEST_REQUIRE(h.size() == 8u);
    BOOST_TEST(h(0) == 6.f, boost::test_tools::tolerance(1e-5f));  // 6 pixels x magnitude 2 x 0.5
    BOOST_TEST(h(7) == 6.f, boost::test_tools::tolerance(1e-5f));
    for (int b = 1; b < 7; ++b) BOOST_TEST(h(b) == 0.f, boost::test_tools::tolerance(1e-5f));
    // 112.5 deg (down-left in image axes: v > 0 is down) is the centre of bin 2
    const float a = 112.5f * float(M_PI) / 180.f;
    auto c = ferx::describe(ferx::exec::seq, uniform(1, 1, std::cos(a), std::sin(a)), one_cell());
    BOOST_TEST(c(2) == 1.f, boost::test_tools::tolerance(1e-4f));
    BOOST_TEST(c(1) + c(3) < 1e-4f);
    // 90 deg: a quarter of the way from bin 1's centre (67.5) to bin 2's (112.5)... halfway exactly
    auto d = ferx::describe(ferx::exec::seq, uniform(1, 1, 0.f, 4.f), one_cell());
    BOOST_TEST(d(1) == 2.f, boost::test_tools::tolerance(1e-4f));
    BOOST_TEST(d(2) == 2.f, boost::test_tools::tolerance(1e-4f));
}

BOOST_AUTO_TEST_CASE(unsigned_directions_merge_opposites) {
    auto p = one_cell(4);
    p.signed_directions = false;
    auto right = ferx::describe(ferx::exec::seq, uniform(1, 1, 1.f, 0.3f), p);
    auto left = ferx::describe(ferx::exec::seq, uniform(1, 1, -1.f, -0.3f), p);
    for (int b = 0; b < 4; ++b) BOOST_TEST(right(b) == left(b), boost::test_tools::tolerance(1e-5f));
}

BOOST_AUTO_TEST_CASE(static_bin_and_l1_normalisation) {
    auto f = uniform(2, 2, 0.f, 3.f);
    f(0, 0) = {0.1f, 0.f};  // below the threshold: "no motion"
    ferx::hof_params p;
    p.static_threshold = 0.5f;
    p.grid = {{1, 1}, 0.0, ferx::hist_norm::l1};
    const auto h = ferx::describe(ferx::exec::seq, f, p);
    BOOST_TEST_REQUIRE(h.size() == 9u);
    BOOST_TEST(ferx::descriptor_length(p, 2, 2) == 9);
    // votes: three pixels of magnitude 3 at 90 deg (bins 1 and 2 halves), one static vote
    const float total = 3 * 3.f + 1.f;
    BOOST_TEST(h(8) == 1.f / total, boost::test_tools::tolerance(1e-4f));
    BOOST_TEST(h(1) == 4.5f / total, boost::test_tools::tolerance(1e-4f));
    float s = 0;
    for (std::size_t i = 0; i < h.size(); ++i) s += h(i);
    BOOST_TEST(s == 1.f, boost::test_tools::tolerance(1e-4f));
}

BOOST_AUTO_TEST_CASE(grid_cells_see_their_own_motion) {
    auto f = uniform(8, 8, 0.f, 0.f);
    for (int y = 0; y < 4; ++y)
        for (int x = 4; x < 8; ++x) f(y, x) = {0.f, -1.f};  // top-right cell moves up (270 deg)
    ferx::hof_params p;
    p.grid = {{2, 2}, 0.0, ferx::hist_norm::l1};
    const auto h = ferx::describe(ferx::exec::seq, f, p);
    BOOST_TEST_REQUIRE(h.size() == 32u);
    float others = 0;
    for (int i = 0; i < 32; ++i)
        if (i / 8 != 1) others += h(i);
    BOOST_TEST(others == 0.f);
    BOOST_TEST(h(8 + 5) == 0.5f, boost::test_tools::tolerance(1e-4f));  // 270 deg: bins 5 and 6
    BOOST_TEST(h(8 + 6) == 0.5f, boost::test_tools::tolerance(1e-4f));
}

BOOST_AUTO_TEST_CASE(batches_on_par_equal_seq) {
    ferx::volume<ferx::flow_vector> batch(std::array<std::size_t, 3>{5, 24, 32});
    for (std::size_t i = 0; i < 5; ++i) {
        const auto f = flow_test::random_field(24, 32, 3.f, unsigned(i) + 1);
        std::copy(f.begin(), f.end(), batch.data() + i * f.size());
    }
    ferx::hof_params p;
    p.grid.overlap = 0.5;
    const auto s = ferx::describe(ferx::exec::seq, ferx::view(batch), p);
    const auto q = ferx::describe(ferx::exec::par, ferx::view(batch), p);
    BOOST_TEST_REQUIRE(s.shape()[1] == std::size_t(ferx::descriptor_length(p, 24, 32)));
    BOOST_TEST(std::equal(s.begin(), s.end(), q.begin()));
    const auto one = ferx::describe(ferx::exec::seq, ferx::view(batch)[3], p);
    BOOST_TEST(std::equal(one.begin(), one.end(), s.begin() + 3 * s.shape()[1]));
}

BOOST_AUTO_TEST_CASE(bad_input) {
    auto f = uniform(4, 4, 1.f, 1.f);
    ferx::hof_params p;
    p.grid.cells = {5, 5};
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, f, p), ferx::error);
    p = {};
    p.bins = 1;
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, f, p), ferx::error);
    p = {};
    p.static_threshold = -1.f;
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, f, p), ferx::error);
    p = {};
    f(1, 2).u = std::numeric_limits<float>::quiet_NaN();
    BOOST_CHECK_THROW(ferx::describe(ferx::exec::seq, f, p), ferx::error);
}

BOOST_AUTO_TEST_SUITE_END()
