#include <ferx/core/execution.hpp>
#include <ferx/core/thread_pool.hpp>

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <stdexcept>
#include <thread>
#include <vector>

BOOST_AUTO_TEST_SUITE(execution)

static_assert(ferx::is_execution_policy_v<decltype(ferx::exec::seq)>, "seq is a policy");
static_assert(ferx::is_execution_policy_v<decltype(ferx::exec::par)>, "par is a policy");
static_assert(ferx::is_execution_policy_v<decltype(ferx::exec::cuda)>, "cuda is a policy");
static_assert(!ferx::is_execution_policy_v<int>, "int is not a policy");
static_assert(ferx::is_host_policy_v<ferx::exec::parallel_policy>, "par runs on the host");
static_assert(ferx::is_cuda_policy_v<ferx::exec::cuda_policy>, "cuda runs on a device");
static_assert(!ferx::is_host_policy_v<ferx::exec::cuda_policy>, "cuda is not a host policy");

BOOST_AUTO_TEST_CASE(policies_name_their_backend) {
    BOOST_TEST(ferx::to_string(ferx::backend_of(ferx::exec::seq)) == std::string("seq"));
    BOOST_TEST(ferx::to_string(ferx::backend_of(ferx::exec::par)) == std::string("par"));
    BOOST_TEST(ferx::to_string(ferx::backend_of(ferx::exec::cuda)) == std::string("cuda"));
    auto* fake_stream = reinterpret_cast<CUstream_st*>(0x10);
    BOOST_TEST(ferx::exec::cuda.on(fake_stream).stream() == fake_stream);
    BOOST_TEST(ferx::exec::cuda.stream() == nullptr);
}

BOOST_AUTO_TEST_CASE(pool_has_the_size_asked_for) {
    ferx::thread_pool one(1), three(3);
    BOOST_TEST(one.size() == 1u);
    BOOST_TEST(three.size() == 3u);
    ferx::thread_pool hw;
    BOOST_TEST(hw.size() == std::max(1u, std::thread::hardware_concurrency()));
    BOOST_TEST(&ferx::exec::par.on(three).pool() == &three);
    BOOST_TEST(&ferx::exec::par.pool() == &ferx::thread_pool::default_pool());
}

BOOST_AUTO_TEST_CASE(parallel_for_covers_every_index_once_on_several_threads) {
    ferx::thread_pool pool(4);
    for (std::ptrdiff_t n : {0, 1, 3, 4, 5, 1000, 100003}) {
        std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
        pool.parallel_for(0, n, 1, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
            for (auto i = lo; i < hi; ++i) hits[static_cast<std::size_t>(i)]++;
        });
        for (auto& h : hits) BOOST_TEST(h.load() == 1);
    }
}

BOOST_AUTO_TEST_CASE(work_really_runs_on_more_than_one_thread) {
    ferx::thread_pool pool(3);
    std::atomic<int> inside{0}, peak{0};
    pool.run(3, [&](std::size_t) {
        const int now = ++inside;
        int p = peak.load();
        while (now > p && !peak.compare_exchange_weak(p, now)) {
        }
        // Wait (bounded) until the others arrive, so the overlap is observable.
        for (int i = 0; i < 2000 && peak.load() < 3; ++i)
            std::this_thread::sleep_for(std::chrono::microseconds(100));
        --inside;
    });
    BOOST_TEST(peak.load() == 3);
}

BOOST_AUTO_TEST_CASE(exceptions_propagate_to_the_caller_and_the_pool_survives) {
    ferx::thread_pool pool(3);
    BOOST_CHECK_THROW(pool.run(10,
                               [](std::size_t i) {
                                   if (i == 7) throw std::runtime_error("task 7");
                               }),
                      std::runtime_error);
    std::atomic<int> count{0};
    pool.run(10, [&](std::size_t) { ++count; });
    BOOST_TEST(count.load() == 10);
}

BOOST_AUTO_TEST_CASE(nested_loops_run_inline_without_deadlock) {
    ferx::thread_pool pool(2);
    std::atomic<int> count{0};
    pool.run(4, [&](std::size_t) { pool.run(5, [&](std::size_t) { ++count; }); });
    BOOST_TEST(count.load() == 20);
}

// Plain (non-atomic) writes of the tasks, read by the caller after run() returns and rewritten by
// the next loop: run() must order them (what ThreadSanitizer checks in the tsan preset). Loops
// back to back (workers still spinning) and after a pause (workers asleep), from three callers
// sharing one pool (one loop at a time), and a pool destroyed right after its loop.
BOOST_AUTO_TEST_CASE(loop_results_are_visible_to_the_caller_and_the_next_loop) {
    ferx::thread_pool pool(3);
    auto caller = [&pool](int seed, bool& ok) {
        std::vector<int> v(64, 0);
        for (int pass = 0; pass < 60; ++pass) {
            pool.parallel_for(0, 64, 1, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
                for (auto i = lo; i < hi; ++i) v[static_cast<std::size_t>(i)] += seed + static_cast<int>(i);
            });
            for (std::size_t i = 0; i < v.size(); ++i)
                if (v[i] != (pass + 1) * (seed + static_cast<int>(i))) ok = false;
            if (pass % 20 == 19) std::this_thread::sleep_for(std::chrono::milliseconds(2));  // past spin_wait
        }
    };
    bool ok[3] = {true, true, true};
    {
        std::thread a(caller, 1, std::ref(ok[1])), b(caller, 2, std::ref(ok[2]));
        caller(0, ok[0]);
        a.join();
        b.join();
    }
    BOOST_TEST(ok[0]);
    BOOST_TEST(ok[1]);
    BOOST_TEST(ok[2]);
    for (int pass = 0; pass < 20; ++pass) {
        std::vector<int> v(8, 0);
        {
            ferx::thread_pool shortlived(3);
            shortlived.run(8, [&](std::size_t i) { v[i] = static_cast<int>(i) + pass; });
        }
        for (std::size_t i = 0; i < v.size(); ++i) BOOST_TEST(v[i] == static_cast<int>(i) + pass);
    }
}

BOOST_AUTO_TEST_CASE(for_each_range_dispatches_on_the_policy) {
    ferx::thread_pool pool(2);
    for (int pass = 0; pass < 2; ++pass) {
        std::vector<int> v(1000, 0);
        auto body = [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
            for (auto i = lo; i < hi; ++i) v[static_cast<std::size_t>(i)] += 1;
        };
        if (pass == 0)
            ferx::detail::for_each_range(ferx::exec::seq, 1000, 1, body);
        else
            ferx::detail::for_each_range(ferx::exec::par.on(pool), 1000, 1, body);
        for (int x : v) BOOST_TEST(x == 1);
    }
    BOOST_TEST(ferx::detail::concurrency(ferx::exec::par.on(pool)) == 2u);
    BOOST_TEST(ferx::detail::concurrency(ferx::exec::seq) == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
