// Metrics (ferx/learn/metrics.hpp): confusion matrices on hand-made and hand-computed cases,
// against a direct count, merged classes, pooling.
#include <ferx/data/labels.hpp>
#include <ferx/learn/metrics.hpp>

#include <boost/test/unit_test.hpp>

#include "learn_test.hpp"

#include <random>
#include <vector>

namespace tt = boost::test_tools;

BOOST_AUTO_TEST_SUITE(metrics)

BOOST_AUTO_TEST_CASE(metrics_on_a_hand_made_matrix) {
    // True\pred   0  1  2
    //   0         5  1  0
    //   1         2  3  1
    //   2         0  0  0   (class 2 never occurs, predicted once)
    ferx::label_vector t, p;
    auto add = [&](int a, int b, int times) {
        for (int i = 0; i < times; ++i) t.push_back(a), p.push_back(b);
    };
    add(0, 0, 5);
    add(0, 1, 1);
    add(1, 0, 2);
    add(1, 1, 3);
    add(1, 2, 1);
    ferx::confusion_matrix cm(t, p, 3);
    BOOST_TEST(cm.counts()(1, 0) == 2);
    BOOST_TEST(cm.total() == 12);
    BOOST_TEST(cm.accuracy() == 8.0 / 12.0, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(cm.recall(0) == 5.0 / 6.0, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(cm.recall(1) == 3.0 / 6.0, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(cm.recall(2) == 0.0);
    BOOST_TEST(cm.precision(0) == 5.0 / 7.0, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(cm.precision(2) == 0.0);
    BOOST_TEST(cm.f1(0) == 2 * (5.0 / 7) * (5.0 / 6) / (5.0 / 7 + 5.0 / 6), boost::test_tools::tolerance(1e-12));
    BOOST_TEST(cm.mean_recall() == (5.0 / 6 + 0.5) / 2, boost::test_tools::tolerance(1e-12));  // class 2 absent
    const auto nm = cm.normalized();
    BOOST_TEST(nm(1, 2) == 1.0 / 6.0, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(nm(2, 2) == 0.0);
    const std::string csv = cm.csv({"a", "b", "c"});
    BOOST_TEST(csv.substr(0, csv.find('\n')) == "true,a,b,c,precision,recall,f1,support");
    BOOST_TEST(csv.find("\nb,2,3,1,0.75,0.5,0.6,6\n") != std::string::npos, csv);
    const std::string table = cm.table();
    BOOST_TEST(table.find("accuracy 0.667, mean per-class recall 0.667") != std::string::npos, table);
    BOOST_CHECK_THROW(cm.add({0}, {3}), ferx::error);
    BOOST_CHECK_THROW(cm.add({0, 1}, {0}), ferx::error);
    BOOST_CHECK_THROW(cm.csv({"a"}), ferx::error);
}


BOOST_AUTO_TEST_CASE(hand_computed_three_classes) {
    // truth 0 0 0 1 1 2 ; predicted 0 0 1 1 2 2
    const ferx::confusion_matrix cm({0, 0, 0, 1, 1, 2}, {0, 0, 1, 1, 2, 2}, 3);
    BOOST_TEST(cm.counts()(0, 0) == 2);
    BOOST_TEST(cm.counts()(0, 1) == 1);
    BOOST_TEST(cm.counts()(1, 2) == 1);
    BOOST_TEST(cm.accuracy() == 4.0 / 6.0, tt::tolerance(1e-12));
    BOOST_TEST(cm.recall(0) == 2.0 / 3.0, tt::tolerance(1e-12));
    BOOST_TEST(cm.recall(1) == 0.5, tt::tolerance(1e-12));
    BOOST_TEST(cm.recall(2) == 1.0, tt::tolerance(1e-12));
    BOOST_TEST(cm.precision(0) == 1.0, tt::tolerance(1e-12));
    BOOST_TEST(cm.precision(1) == 0.5, tt::tolerance(1e-12));
    BOOST_TEST(cm.precision(2) == 0.5, tt::tolerance(1e-12));
    BOOST_TEST(cm.f1(0) == 0.8, tt::tolerance(1e-12));             // 2 * 1 * 2/3 / (5/3)
    BOOST_TEST(cm.f1(2) == 2.0 / 3.0, tt::tolerance(1e-12));       // 2 * 0.5 * 1 / 1.5
    BOOST_TEST(cm.mean_recall() == (2.0 / 3.0 + 0.5 + 1.0) / 3.0, tt::tolerance(1e-12));
    BOOST_TEST(cm.macro_f1() == (0.8 + 0.5 + 2.0 / 3.0) / 3.0, tt::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(against_a_direct_count) {
    std::mt19937 rng(11);
    const int k = 5;
    ferx::label_vector t, p;
    for (int i = 0; i < 500; ++i) {
        t.push_back(static_cast<int>(rng() % k));
        p.push_back(rng() % 3 == 0 ? static_cast<int>(rng() % k) : t.back());
    }
    const ferx::confusion_matrix cm(t, p, k);
    double correct = 0, recall_sum = 0, f1_sum = 0;
    for (std::size_t i = 0; i < t.size(); ++i) correct += t[i] == p[i];
    for (int c = 0; c < k; ++c) {
        double tp = 0, is_c = 0, said_c = 0;
        for (std::size_t i = 0; i < t.size(); ++i) {
            tp += t[i] == c && p[i] == c;
            is_c += t[i] == c;
            said_c += p[i] == c;
        }
        const double r = tp / is_c, pr = tp / said_c;
        BOOST_TEST(cm.recall(static_cast<std::size_t>(c)) == r, tt::tolerance(1e-12));
        BOOST_TEST(cm.precision(static_cast<std::size_t>(c)) == pr, tt::tolerance(1e-12));
        BOOST_TEST(cm.f1(static_cast<std::size_t>(c)) == 2 * pr * r / (pr + r), tt::tolerance(1e-12));
        recall_sum += r;
        f1_sum += 2 * pr * r / (pr + r);
    }
    BOOST_TEST(cm.accuracy() == correct / 500.0, tt::tolerance(1e-12));
    BOOST_TEST(cm.mean_recall() == recall_sum / k, tt::tolerance(1e-12));
    BOOST_TEST(cm.macro_f1() == f1_sum / k, tt::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(merged_equals_relabelled_predictions) {
    // Binning a 7-class FER2013 matrix to valence3 equals counting the binned labels.
    const auto classes = ferx::fer2013_classes();
    const auto v3 = ferx::valence3_map();
    std::vector<int> to3;
    for (const auto& c : classes) to3.push_back(v3(c));
    std::mt19937 rng(3);
    ferx::label_vector t, p, t3, p3;
    for (int i = 0; i < 300; ++i) {
        t.push_back(static_cast<int>(rng() % 7));
        p.push_back(static_cast<int>(rng() % 7));
        t3.push_back(to3[static_cast<std::size_t>(t.back())]);
        p3.push_back(to3[static_cast<std::size_t>(p.back())]);
    }
    const auto merged = ferx::confusion_matrix(t, p, 7).merged(to3, 3);
    const ferx::confusion_matrix direct(t3, p3, 3);
    BOOST_TEST(merged.counts() == direct.counts());
    BOOST_CHECK_THROW(ferx::confusion_matrix(t, p, 7).merged({0, 1, 2}, 3), ferx::error);
    BOOST_CHECK_THROW(ferx::confusion_matrix(t, p, 7).merged({0, 1, 2, 3, 4, 5, 6}, 3), ferx::error);
}

BOOST_AUTO_TEST_CASE(add_pools_matrices) {
    ferx::confusion_matrix a({0, 1, 1}, {0, 1, 0}, 2);
    a.add(ferx::confusion_matrix({1, 0}, {1, 1}, 2));
    BOOST_TEST(a.counts() == ferx::confusion_matrix({0, 1, 1, 1, 0}, {0, 1, 0, 1, 1}, 2).counts());
    BOOST_CHECK_THROW(a.add(ferx::confusion_matrix(3)), ferx::error);
}

BOOST_AUTO_TEST_SUITE_END()
