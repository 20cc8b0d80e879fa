// Splits: partition properties of every splitter, the subject-grouped splitter never puts a
// group on both sides (property test over random groupings).
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

BOOST_AUTO_TEST_SUITE(splits)

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

BOOST_AUTO_TEST_SUITE_END()
