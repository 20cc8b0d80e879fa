// progress_bar.hpp: a one-line text progress bar for the example programs, drawn on stderr.
// The library reports progress through callbacks (ferx::progress_callback: done, total); the
// programs turn them into this bar. It draws only when stderr is a terminal, or when forced
// (--progress), so logs and CI output stay clean.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>

namespace ferx_examples {

class progress_bar {
public:
    /// `label`: what is being counted; `force`: draw even when stderr is not a terminal.
    explicit progress_bar(std::string label, bool force = false)
        : label_(std::move(label)), on_(force || isatty(fileno(stderr))), t0_(std::chrono::steady_clock::now()) {}
    ~progress_bar() { finish(); }

    /// Draws `done` of `total` (a ferx::progress_callback).
    void operator()(std::size_t done, std::size_t total) {
        if (!on_ || total == 0) return;
        const int width = 30, filled = static_cast<int>(width * done / total);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
        std::fprintf(stderr, "\r%s [%s%s] %zu/%zu %.1fs", label_.c_str(), std::string(static_cast<std::size_t>(filled), '#').c_str(),
                     std::string(static_cast<std::size_t>(width - filled), '.').c_str(), done, total, s);
        std::fflush(stderr);
        drawn_ = true;
    }
    /// Ends the bar's line (once).
    void finish() {
        if (drawn_) std::fputc('\n', stderr);
        drawn_ = false;
    }

private:
    std::string label_;
    bool on_;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point t0_;
};

}  // namespace ferx_examples
