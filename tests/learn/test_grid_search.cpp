// Grid search and nested cross-validation.
#include <ferx/learn/grid_search.hpp>
#include <ferx/learn/splits.hpp>

#include <boost/test/unit_test.hpp>

#include "learn_test.hpp"

#include <random>
#include <set>

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
