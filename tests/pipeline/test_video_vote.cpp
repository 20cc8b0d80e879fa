// Clip decisions from known per-frame results.
#include "ferx_test.hpp"

#include <ferx/pipeline/video_vote.hpp>

#include <cmath>

BOOST_AUTO_TEST_SUITE(video_vote)

BOOST_AUTO_TEST_CASE(ranges_resolve) {
    using r = ferx::frame_range;
    BOOST_TEST((r::second_half().resolve(10) == std::pair<std::size_t, std::size_t>{5, 10}));
    BOOST_TEST((r::second_half().resolve(5) == std::pair<std::size_t, std::size_t>{2, 5}));
    BOOST_TEST((r::fractions(0.25, 0.75).resolve(8) == std::pair<std::size_t, std::size_t>{2, 6}));
    BOOST_TEST((r::indices(3, 7).resolve(10) == std::pair<std::size_t, std::size_t>{3, 7}));
    BOOST_TEST((r::indices(3, 70).resolve(10) == std::pair<std::size_t, std::size_t>{3, 10}));
    BOOST_CHECK_THROW(r::indices(10, 12).resolve(10), ferx::error);     // past the end
    BOOST_CHECK_THROW(r::fractions(0.5, 0.5).resolve(10), ferx::error);  // empty
    BOOST_CHECK_THROW(r::fractions(0.0, 1.5).resolve(10), ferx::error);
    BOOST_CHECK_THROW(r::fractions(-0.1, 0.5).resolve(10), ferx::error);
    BOOST_CHECK_THROW(r::fractions(0.5, 0.9).resolve(1), ferx::error);   // no frame of a 1-frame clip
    BOOST_CHECK_THROW(r::all().resolve(0), ferx::error);
}

BOOST_AUTO_TEST_CASE(majority_vote_over_a_range) {
    //                       0  1  2  3   4  5  6  7
    const std::vector<int> l{0, 0, 0, 2, -1, 1, 2, 1};
    const auto all = ferx::majority_vote(l, 3);
    BOOST_TEST(all.label == 0);  // 3 votes for 0, 2 for 1, 2 for 2
    BOOST_TEST(all.frames_used == 7u);
    BOOST_TEST(all.support == (std::vector<double>{3, 2, 2}), boost::test_tools::per_element());
    const auto half = ferx::majority_vote(l, 3, ferx::frame_range::second_half());  // frames 4..7: -1, 1, 2, 1
    BOOST_TEST(half.label == 1);
    BOOST_TEST(half.frames_used == 3u);
    BOOST_TEST(half.first == 4u);
    BOOST_TEST(half.last == 8u);
    const auto tie = ferx::majority_vote({2, 1, 1, 2}, 3);  // tie: the lower class
    BOOST_TEST(tie.label == 1);
    const auto none = ferx::majority_vote({-1, -1}, 3);
    BOOST_TEST(none.label == -1);
    BOOST_TEST(none.frames_used == 0u);
    BOOST_CHECK_THROW(ferx::majority_vote({0, 3}, 3), ferx::error);
    BOOST_CHECK_THROW(ferx::majority_vote({0, -2}, 3), ferx::error);
    BOOST_CHECK_THROW(ferx::majority_vote({0}, 0), ferx::error);
}

BOOST_AUTO_TEST_CASE(mean_score_over_a_range) {
    const std::vector<int> l{0, 0, -1, 1, 2};
    const xt::xtensor<double, 2> s = {{0.9, 0.05, 0.05}, {0.8, 0.1, 0.1}, {1e9, 0, 0}, {0.2, 0.5, 0.3}, {0.1, 0.3, 0.6}};
    const auto all = ferx::mean_score(l, s);  // frame 2 (no face) is skipped
    BOOST_TEST(all.frames_used == 4u);
    BOOST_TEST(all.label == 0);
    BOOST_TEST(all.support[0] == (0.9 + 0.8 + 0.2 + 0.1) / 4, boost::test_tools::tolerance(1e-12));
    // Frames 3..4: means 0.15, 0.4, 0.45 -> class 2, though the votes are tied 1 : 1.
    const auto tail = ferx::mean_score(l, s, ferx::frame_range::indices(3, 5));
    BOOST_TEST(tail.label == 2);
    BOOST_TEST(tail.support[1] == 0.4, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(ferx::majority_vote(l, 3, ferx::frame_range::indices(3, 5)).label == 1);
    xt::xtensor<double, 2> nan_scores = s;
    nan_scores(3, 1) = std::nan("");
    BOOST_CHECK_THROW(ferx::mean_score(l, nan_scores), ferx::error);
    nan_scores(3, 1) = 0.5;
    nan_scores(2, 1) = std::nan("");  // a frame without a face is not read
    BOOST_TEST(ferx::mean_score(l, nan_scores).label == 0);
    BOOST_CHECK_THROW(ferx::mean_score({0, 1}, s), ferx::error);  // 2 labels, 5 score rows
    BOOST_TEST(ferx::mean_score({-1, -1}, xt::xtensor<double, 2>({2, 3}, 0.0)).label == -1);
}

// TSN's consensus over segments: hand-checked means, maxima and weighted means; bad input.
BOOST_AUTO_TEST_CASE(segment_consensus_by_hand) {
    const xt::xtensor<double, 2> s = {{1.0, -2.0, 0.5}, {3.0, 0.0, -1.5}, {2.0, 4.0, 1.0}};
    const auto avg = ferx::consensus(s);
    BOOST_TEST(avg[0] == 2.0);
    BOOST_TEST(avg[1] == 2.0 / 3.0, boost::test_tools::tolerance(1e-15));
    BOOST_TEST(avg[2] == 0.0, boost::test_tools::tolerance(1e-15));
    const auto mx = ferx::consensus(s, ferx::segment_consensus::max);
    BOOST_TEST(mx == std::vector<double>({3.0, 4.0, 1.0}), boost::test_tools::per_element());
    const auto wt = ferx::consensus(s, ferx::segment_consensus::weighted, {1.0, 0.0, 3.0});
    BOOST_TEST(wt[0] == (1.0 + 6.0) / 4.0);
    BOOST_TEST(wt[1] == (-2.0 + 12.0) / 4.0);
    BOOST_TEST(wt[2] == (0.5 + 3.0) / 4.0);
    BOOST_CHECK_THROW(ferx::consensus(xt::xtensor<double, 2>(std::array<std::size_t, 2>{0, 3})), ferx::error);
    BOOST_CHECK_THROW(ferx::consensus(s, ferx::segment_consensus::weighted, {1.0, 2.0}), ferx::error);   // 2 for 3
    BOOST_CHECK_THROW(ferx::consensus(s, ferx::segment_consensus::weighted, {0.0, 0.0, 0.0}), ferx::error);
    BOOST_CHECK_THROW(ferx::consensus(s, ferx::segment_consensus::weighted, {1.0, -1.0, 1.0}), ferx::error);
    BOOST_CHECK_THROW(ferx::consensus(s, ferx::segment_consensus::average, {1.0, 1.0, 1.0}), ferx::error);
    xt::xtensor<double, 2> bad = s;
    bad(1, 2) = std::nan("");
    BOOST_CHECK_THROW(ferx::consensus(bad), ferx::error);
}

// Late fusion 2 : 2 : 1 of three streams, by hand, with and without softmax; bad input.
BOOST_AUTO_TEST_CASE(late_fusion_by_hand) {
    const xt::xtensor<double, 2> rgb = {{1.0, 0.0}, {0.0, 2.0}}, flow = {{3.0, 1.0}, {1.0, 1.0}}, skel = {{-5.0, 5.0}, {0.0, 0.0}};
    const auto f = ferx::late_fusion({rgb, flow, skel}, {2.0, 2.0, 1.0});
    BOOST_TEST(f(0, 0) == (2.0 * 1 + 2.0 * 3 + 1.0 * -5) / 5.0, boost::test_tools::tolerance(1e-15));
    BOOST_TEST(f(0, 1) == (0.0 + 2.0 * 1 + 5.0) / 5.0, boost::test_tools::tolerance(1e-15));
    BOOST_TEST(f(1, 1) == (4.0 + 2.0 + 0.0) / 5.0, boost::test_tools::tolerance(1e-15));
    const auto p = ferx::late_fusion({rgb, skel}, {1.0, 1.0}, true);
    const double p_rgb = 1.0 / (1.0 + std::exp(-1.0));  // softmax(1, 0)[0]
    const double p_skel = 1.0 / (1.0 + std::exp(10.0));  // softmax(-5, 5)[0]
    BOOST_TEST(p(0, 0) == (p_rgb + p_skel) / 2.0, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(p(0, 0) + p(0, 1) == 1.0, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(p(1, 0) == (1.0 / (1.0 + std::exp(2.0)) + 0.5) / 2.0, boost::test_tools::tolerance(1e-12));
    BOOST_CHECK_THROW(ferx::late_fusion({}, {}), ferx::error);
    BOOST_CHECK_THROW(ferx::late_fusion({rgb, flow}, {1.0}), ferx::error);
    BOOST_CHECK_THROW(ferx::late_fusion({rgb, xt::xtensor<double, 2>({{1.0, 2.0, 3.0}})}, {1.0, 1.0}), ferx::error);
    BOOST_CHECK_THROW(ferx::late_fusion({rgb, flow}, {0.0, 0.0}), ferx::error);
    BOOST_CHECK_THROW(ferx::late_fusion({rgb, flow}, {1.0, -0.5}), ferx::error);
}

BOOST_AUTO_TEST_SUITE_END()
