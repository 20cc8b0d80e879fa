/// \file ferx/core/thread_pool.hpp
/// A small fork-join thread pool: the engine behind `ferx::exec::par`.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/error.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

FERX_NAMESPACE_BEGIN

/// A fixed set of worker threads that run `parallel_for` loops. The calling thread takes part,
/// so a pool of size n uses n threads in all (n - 1 workers). Calls from inside a running loop
/// run inline, so nested parallelism cannot deadlock. One loop runs at a time per pool.
/// Between loops, workers (and a caller waiting for the last task) spin for up to `spin_wait`
/// before sleeping: waking a sleeping thread costs tens of microseconds, which is the whole
/// gain of splitting a millisecond-sized loop (measured: integral of a 1920x1080 frame on 2
/// threads).
class thread_pool {
public:
    /// How long an idle thread polls for the next loop before it blocks.
    static constexpr std::chrono::microseconds spin_wait{200};

    /// \param threads total threads to use (0: std::thread::hardware_concurrency()).
    explicit thread_pool(std::size_t threads = 0) {
        if (threads == 0) threads = std::max<std::size_t>(1, std::thread::hardware_concurrency());
        workers_.reserve(threads - 1);
        for (std::size_t i = 0; i + 1 < threads; ++i) workers_.emplace_back([this] { work(); });
    }
    thread_pool(const thread_pool&) = delete;
    thread_pool& operator=(const thread_pool&) = delete;
    ~thread_pool() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stop_.store(true);
        }
        wake_.notify_all();
        for (auto& w : workers_) w.join();
    }

    /// Total number of threads a loop runs on (workers + the caller).
    std::size_t size() const noexcept { return workers_.size() + 1; }

    /// Runs `task(i)` for i in [0, tasks), spread over the pool, and returns when all are done.
    /// The first exception thrown by a task is rethrown here (the others are dropped).
    void run(std::size_t tasks, const std::function<void(std::size_t)>& task) {
        if (tasks == 0) return;
        if (tasks == 1 || workers_.empty() || inside_loop()) {
            for (std::size_t i = 0; i < tasks; ++i) task(i);
            return;
        }
        std::unique_lock<std::mutex> serial(run_mutex_);  // one loop at a time
        {
            std::lock_guard<std::mutex> lock(mutex_);
            task_ = &task;
            tasks_ = tasks;
            next_.store(0);
            pending_.store(tasks);
            error_ = nullptr;
            generation_.fetch_add(1, std::memory_order_release);
        }
        wake_.notify_all();
        drain();
        spin([this] { return pending_.load(std::memory_order_acquire) == 0 && busy_.load(std::memory_order_acquire) == 0; });
        std::unique_lock<std::mutex> lock(mutex_);
        done_.wait(lock, [this] { return pending_ == 0 && busy_ == 0; });
        task_ = nullptr;
        if (error_) std::rethrow_exception(error_);
    }

    /// Splits [begin, end) into about `size()` contiguous chunks of at least `grain` items and
    /// calls `body(chunk_begin, chunk_end)` for each, in parallel.
    template <class F>
    void parallel_for(std::ptrdiff_t begin, std::ptrdiff_t end, std::ptrdiff_t grain, F&& body) {
        const std::ptrdiff_t n = end - begin;
        if (n <= 0) return;
        grain = std::max<std::ptrdiff_t>(grain, 1);
        const std::ptrdiff_t chunks =
            std::max<std::ptrdiff_t>(1, std::min<std::ptrdiff_t>(size(), n / grain));
        const std::function<void(std::size_t)> task = [&](std::size_t c) {
            const std::ptrdiff_t lo = begin + n * static_cast<std::ptrdiff_t>(c) / chunks;
            const std::ptrdiff_t hi = begin + n * (static_cast<std::ptrdiff_t>(c) + 1) / chunks;
            body(lo, hi);
        };
        run(static_cast<std::size_t>(chunks), task);
    }

    /// The pool `ferx::exec::par` uses when none is given: hardware threads, created on first use.
    static thread_pool& default_pool() {
        static thread_pool pool;
        return pool;
    }

private:
    // Polls `ready` for up to spin_wait; true if it became true.
    template <class Ready>
    static bool spin(Ready&& ready) {
        const auto until = std::chrono::steady_clock::now() + spin_wait;
        for (unsigned n = 1;; ++n) {
            if (ready()) return true;
            if ((n & 63u) == 0 && std::chrono::steady_clock::now() > until) return false;
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
            __builtin_ia32_pause();
#else
            std::this_thread::yield();
#endif
        }
    }

    static bool& inside_loop() {
        thread_local bool inside = false;
        return inside;
    }

    // Claims and runs tasks of the current loop until none is left.
    void drain() {
        inside_loop() = true;
        for (;;) {
            const std::size_t i = next_.fetch_add(1);
            if (i >= tasks_) break;
            try {
                (*task_)(i);
            } catch (...) {
                std::lock_guard<std::mutex> lock(mutex_);
                if (!error_) error_ = std::current_exception();
            }
            std::lock_guard<std::mutex> lock(mutex_);
            if (--pending_ == 0) done_.notify_all();
        }
        inside_loop() = false;
    }

    void work() {
        std::size_t seen = 0;
        for (;;) {
            spin([&] { return stop_.load() || generation_.load(std::memory_order_acquire) != seen; });
            {
                std::unique_lock<std::mutex> lock(mutex_);
                wake_.wait(lock, [&] { return stop_.load() || (generation_.load() != seen && task_); });
                if (stop_.load()) return;
                seen = generation_.load();
                ++busy_;
            }
            drain();
            std::lock_guard<std::mutex> lock(mutex_);
            if (--busy_ == 0 && pending_ == 0) done_.notify_all();
        }
    }

    std::vector<std::thread> workers_;
    std::mutex run_mutex_;
    std::mutex mutex_;
    std::condition_variable wake_, done_;
    const std::function<void(std::size_t)>* task_ = nullptr;
    std::size_t tasks_ = 0;
    std::atomic<std::size_t> next_{0};
    // Written under mutex_ (so condition-variable waits see them); atomic so spinners may poll.
    std::atomic<std::size_t> pending_{0};
    std::atomic<std::size_t> busy_{0};
    std::atomic<std::size_t> generation_{0};
    std::atomic<bool> stop_{false};
    std::exception_ptr error_;
};

FERX_NAMESPACE_END
