// Splits and metrics: partition properties of every splitter, the subject-grouped splitter
// never puts a group on both sides (property test over random groupings), metrics on
// hand-made confusion matrices, grid search and nested cross-validation.
#include <ferx/learn/grid_search.hpp>
#include <ferx/learn/metrics.hpp>
#include <ferx/learn/splits.hpp>

#include <boost/test/unit_test.hpp>

#include "learn_test.hpp"

#include <random>
#include <set>

namespace {
// Every sample in exactly one test set, train = the complement.
void check_partition(const std::vector<ferx::fold>& folds, std::size_t n) {
    std::vector<int> in_test(n, 0);
    for (const auto& f : folds) {
        BOOST_TEST(f.train.size() + f.test.size() == n);
        std::set<std::size_t> tr(f.train.begin(), f.train.end());
        for (std::size_t i : f.test) {
            ++in_test[i];
            BOOST_TEST(tr.count(i) == 0u);
        }
    }
    for (std::size_t i = 0; i < n; ++i) BOOST_TEST(in_test[i] == 1);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(evaluation)

BOOST_AUTO_TEST_CASE(kfold_and_stratified) {
    const auto f = ferx::kfold(10, 3);
    check_partition(f, 10);
    BOOST_TEST(f[0].test == (std::vector<std::size_t>{0, 1, 2, 3}), boost::test_tools::per_element());
    check_partition(ferx::kfold(103, 7, true, 5), 103);
    ferx::label_vector y;
    for (int i = 0; i < 100; ++i) y.push_back(i < 80 ? 0 : 1);  // 80 / 20
    const auto s = ferx::stratified_kfold(y, 5);
    check_partition(s, 100);
    for (const auto& fo : s) {
        std::size_t ones = 0;
        for (std::size_t i : fo.test) ones += y[i] == 1;
        BOOST_TEST(fo.test.size() == 20u);
        BOOST_TEST(ones == 4u);
    }
    BOOST_CHECK_THROW(ferx::kfold(3, 4), ferx::error);
    BOOST_CHECK_THROW(ferx::kfold(3, 1), ferx::error);
}

BOOST_AUTO_TEST_CASE(group_kfold_never_leaks_a_group) {
    std::mt19937 rng(17);
    for (int trial = 0; trial < 50; ++trial) {
        const std::size_t n = 50 + rng() % 300, n_groups = 10 + rng() % 40, k = 2 + rng() % 9;
        std::vector<int> groups(n);
        for (auto& g : groups) g = static_cast<int>(rng() % n_groups) * 7 - 30;  // arbitrary ids
        std::set<int> distinct(groups.begin(), groups.end());
        if (distinct.size() < k) continue;
        const auto folds = ferx::group_kfold(groups, k);
        BOOST_TEST(folds.size() == k);
        check_partition(folds, n);
        for (const auto& f : folds) {
            std::set<int> test_groups;
            for (std::size_t i : f.test) test_groups.insert(groups[i]);
            for (std::size_t i : f.train) BOOST_TEST_REQUIRE(test_groups.count(groups[i]) == 0u);
            BOOST_TEST(!f.test.empty());
        }
    }
    const auto logo = ferx::leave_one_group_out({5, 3, 5, 9, 3});
    BOOST_TEST(logo.size() == 3u);
    BOOST_TEST(logo[0].test == (std::vector<std::size_t>{1, 4}), boost::test_tools::per_element());  // group 3
    check_partition(logo, 5);
    BOOST_CHECK_THROW(ferx::group_kfold({1, 1, 2}, 3), ferx::error);
    BOOST_CHECK_THROW(ferx::leave_one_group_out({4, 4}), ferx::error);
    BOOST_TEST(ferx::group_ids({"S010", "S011", "S010"}) == (std::vector<int>{0, 1, 0}), boost::test_tools::per_element());
}

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

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(grid_search)

BOOST_AUTO_TEST_CASE(grid_and_nested_cv) {
    xt::xtensor<float, 2> x;
    ferx::label_vector y;
    learn_test::blobs<float>(3, 40, 4, 1.5, 13, x, y);
    std::vector<int> groups(y.size());
    for (std::size_t i = 0; i < groups.size(); ++i) groups[i] = static_cast<int>(i % 12);  // 12 "subjects"
    const auto make = [](double g) { return ferx::rbf_kernel{g}; };
    const auto folds = ferx::group_kfold(groups, 4);
    std::size_t calls = 0;
    const auto g = ferx::grid_search_svc(ferx::exec::seq, make, x, y, folds, {0.01, 1.0, 100.0}, {1e-4, 0.1}, {},
                                         [&](std::size_t done, std::size_t total) {
                                             ++calls;
                                             BOOST_TEST(total == 6u);
                                             BOOST_TEST(done == calls);
                                         });
    BOOST_TEST(g.points.size() == 6u);
    BOOST_TEST(calls == 6u);
    // Each point's accuracy is what cross_validate gives for it; the best is the maximum.
    for (const auto& p : g.points) {
        ferx::svc_params prm;
        prm.C = p.C;
        const auto cm = ferx::cross_validate(x, y, folds, 3, [&](const auto& a, const auto& b, const auto& c) {
            return ferx::predict(ferx::exec::seq, ferx::fit_svc(ferx::exec::seq, make(p.gamma), a, b, prm), c);
        });
        BOOST_TEST(cm.accuracy() == p.accuracy);
        BOOST_TEST(p.accuracy <= g.best.accuracy);
    }
    BOOST_TEST(g.best.accuracy > 0.8);
    for (const auto& p : g.points) BOOST_TEST_MESSAGE("C " << p.C << " gamma " << p.gamma << " acc " << p.accuracy);
    // The best is the first point of highest accuracy.
    std::size_t first_best = 0;
    for (std::size_t i = 1; i < g.points.size(); ++i)
        if (g.points[i].accuracy > g.points[first_best].accuracy) first_best = i;
    BOOST_TEST(g.best.C == g.points[first_best].C);
    BOOST_TEST(g.best.gamma == g.points[first_best].gamma);
    const auto inner = [&](const std::vector<std::size_t>& train) { return ferx::group_kfold(ferx::take(groups, train), 3); };
    const auto n = ferx::nested_cross_validate_svc(ferx::exec::par, make, x, y, folds, inner, {0.01, 1.0}, {0.1}, {});
    BOOST_TEST(n.fold_accuracy.size() == 4u);
    BOOST_TEST(n.pooled.total() == static_cast<std::int64_t>(y.size()));
    BOOST_TEST(n.mean_accuracy > 0.8);
    BOOST_CHECK_THROW(ferx::grid_search_svc(ferx::exec::seq, make, x, y, folds, {}, {0.1}, {}), ferx::error);
}

BOOST_AUTO_TEST_SUITE_END()
