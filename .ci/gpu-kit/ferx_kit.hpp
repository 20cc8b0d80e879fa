/// Force-included (-include / nvcc --pre-include) into every translation unit of the GPU kit's
/// binaries, which are built with FERX_KIT (CMake preset gpu-kit, .ci/gpu-kit/build.sh). The kit
/// runs on a machine without ../shared: the data folder the tests and benchmarks read is
/// $FERX_SHARED_DIR (run.sh sets it to the data it unpacks), else `shared` beside the binary.
/// The kit's CMake does not pass FERX_TEST_SHARED_DIR / FERX_BENCH_SHARED_DIR on the command
/// line; they expand to this look-up instead of a path fixed at build time.
#pragma once

#include <cstdlib>
#include <string>

#include <unistd.h>

namespace ferx_kit {

inline const char* shared_dir() {
    static const std::string dir = [] {
        if (const char* env = std::getenv("FERX_SHARED_DIR")) return std::string(env);
        char exe[4096];
        const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n <= 0) return std::string("shared");
        std::string p(exe, static_cast<std::size_t>(n));
        return p.substr(0, p.find_last_of('/') + 1) + "shared";
    }();
    return dir.c_str();
}

}  // namespace ferx_kit

#define FERX_TEST_SHARED_DIR ::ferx_kit::shared_dir()
#define FERX_BENCH_SHARED_DIR ::ferx_kit::shared_dir()
