/// \file tests/fuzz/fuzz_support.hpp
/// What the libFuzzer harnesses of tests/fuzz share: a per-process temporary file or folder that
/// a path-taking loader reads the input from, and `refuses_cleanly`, which runs a loader and
/// accepts only two outcomes: success, or a ferx::error whose message says where and what. Any
/// other exception (std::bad_alloc, std::out_of_range, cv::Exception, ...) is a finding: it is
/// reported and the process aborts, so libFuzzer saves the input.
#pragma once

#include <ferx/core/error.hpp>

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <string_view>

namespace fuzz {

/// The input as text (binary-safe).
inline std::string text(const std::uint8_t* data, std::size_t size) {
    return std::string(reinterpret_cast<const char*>(data), size);
}

/// A folder of this process under $TMPDIR (or /tmp), removed when the process ends.
inline const std::filesystem::path& scratch() {
    static const std::filesystem::path dir = [] {
        const char* t = std::getenv("TMPDIR");
        auto d = std::filesystem::path(t && *t ? t : "/tmp") / ("ferx-fuzz-" + std::to_string(::getpid()));
        std::filesystem::create_directories(d);
        std::atexit([] {
            std::error_code ec;
            std::filesystem::remove_all(scratch(), ec);
        });
        return d;
    }();
    return dir;
}

/// Writes `bytes` to scratch()/name (replacing it) and returns its path.
inline std::string write_file(const std::string& name, std::string_view bytes) {
    const auto p = scratch() / name;
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
        std::fprintf(stderr, "fuzz: cannot write %s\n", p.string().c_str());
        std::abort();
    }
    return p.string();
}

/// Runs `load()`; returns true when it succeeded, false when it raised a ferx::error (with a
/// non-empty reason and, when `file` is given, naming that file). Anything else aborts.
template <class F>
bool refuses_cleanly(F&& load, const std::string& file = {}) {
    try {
        load();
        return true;
    } catch (const ferx::error& e) {
        if (e.reason().empty() || (!file.empty() && e.file() != file)) {
            std::fprintf(stderr, "fuzz: a ferx::error without a reason or naming another file: %s\n", e.what());
            std::abort();
        }
        return false;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fuzz: an exception other than ferx::error escaped the loader: %s\n", e.what());
        std::abort();
    } catch (...) {
        std::fprintf(stderr, "fuzz: a non-standard exception escaped the loader\n");
        std::abort();
    }
}

}  // namespace fuzz

namespace fuzz {

/// A dataset root under scratch() whose entries `names` link to the same entries of the real
/// dataset `shared_root` (where it exists), so that the image paths of a real index resolve;
/// plus an empty "x.png" of its own. Made once per process.
inline std::filesystem::path dataset_root(const std::string& name, const std::filesystem::path& shared_root,
                                          std::initializer_list<const char*> names) {
    const auto root = scratch() / name;
    std::error_code ec;
    if (std::filesystem::exists(root, ec)) return root;
    std::filesystem::create_directories(root);
    for (const char* n : names)
        if (std::filesystem::exists(shared_root / n, ec)) std::filesystem::create_directory_symlink(shared_root / n, root / n, ec);
    write_file(name + "/x.png", "");
    return root;
}

}  // namespace fuzz
