// Rectangle grouping against cv::groupRectangles.
#include <ferx/detect/group_rectangles.hpp>

#include <boost/test/unit_test.hpp>

#include <opencv2/objdetect.hpp>

#include <algorithm>
#include <random>
#include <vector>

BOOST_AUTO_TEST_SUITE(group_rectangles)

// Grouping equals cv::groupRectangles (boxes, neighbour counts and order) on random clusters.
BOOST_AUTO_TEST_CASE(group_rectangles_matches_opencv) {
    std::mt19937 rng(11);
    for (int it = 0; it < 300; ++it) {
        std::vector<cv::Rect> cv_boxes;
        std::vector<ferx::rect> boxes;
        const int clusters = 1 + static_cast<int>(rng() % 6);
        for (int c = 0; c < clusters; ++c) {
            const int cx = static_cast<int>(rng() % 400), cy = static_cast<int>(rng() % 300);
            const int s = 20 + static_cast<int>(rng() % 120), n = 1 + static_cast<int>(rng() % 12);
            for (int k = 0; k < n; ++k) {
                const int jitter = std::max(1, s / 6);
                const int w = s + static_cast<int>(rng() % jitter) - jitter / 2;
                const cv::Rect r(cx + static_cast<int>(rng() % jitter), cy + static_cast<int>(rng() % jitter), w, w);
                cv_boxes.push_back(r);
                boxes.push_back({r.x, r.y, r.width, r.height});
            }
        }
        const int min_n = static_cast<int>(rng() % 5);
        std::vector<int> weights;
        cv::groupRectangles(cv_boxes, weights, min_n, 0.2);
        const auto ours = ferx::group_rectangles(boxes, min_n, 0.2);
        BOOST_TEST_REQUIRE(ours.size() == cv_boxes.size());
        for (std::size_t i = 0; i < ours.size(); ++i) {
            BOOST_TEST((ours[i].box == ferx::rect{cv_boxes[i].x, cv_boxes[i].y, cv_boxes[i].width, cv_boxes[i].height}));
            if (min_n > 0) BOOST_TEST(ours[i].neighbors == weights[i]);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
