/// \file ferx/core/progress.hpp
/// Progress of long work (fits, grid searches, cross-validation): a callback the caller passes,
/// called with (done, total) units of work, and the reporter that serialises those calls.
#pragma once

#include <ferx/core/config.hpp>

#include <cstddef>
#include <functional>
#include <mutex>

FERX_NAMESPACE_BEGIN

/// Progress of a long fit: called with (done, total) binary models (or grid points, or folds).
using progress_callback = std::function<void(std::size_t done, std::size_t total)>;

namespace detail {

/// Counts finished units of work (binary tasks) and calls the user's progress callback with
/// (done, total), one call at a time and in order, from whichever thread finished the unit.
class progress_reporter {
public:
    progress_reporter(const progress_callback& callback, std::size_t total) : callback_(callback), total_(total) {}
    void operator()() {
        std::lock_guard<std::mutex> lock(mutex_);
        ++done_;
        if (callback_) callback_(done_, total_);
    }

private:
    const progress_callback& callback_;
    std::size_t total_, done_ = 0;
    std::mutex mutex_;
};

}  // namespace detail

FERX_NAMESPACE_END
