/// Helpers shared by the ferx test suites: where ../shared is, skipping without it, random images.
#pragma once

#include <ferx/core/error.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <csignal>
#include <fstream>
#include <sstream>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ferx_test {

/// The shared data folder: $FERX_SHARED_DIR, else the path CMake configured.
inline std::filesystem::path shared_dir() {
    if (const char* env = std::getenv("FERX_SHARED_DIR")) return env;
#ifdef FERX_TEST_SHARED_DIR
    return FERX_TEST_SHARED_DIR;
#else
    return {};
#endif
}

/// A Boost.Test precondition: the test is skipped, with a message, where ../shared/data is absent.
struct shared_data_present {
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
        boost::test_tools::assertion_result r(std::filesystem::is_directory(shared_dir() / "data"));
        r.message() << "shared data folder not found at '" << shared_dir().string()
                    << "' (set FERX_SHARED_DIR); skipping the tests on real images";
        return r;
    }
};

/// A Boost.Test precondition: the test is skipped, with a message naming the file, where `path` is
/// not a regular file (data from a Debian package or ../shared that this machine lacks).
struct file_present {
    std::filesystem::path path;
    std::string what;  ///< e.g. "Megamind.avi (Debian package opencv-doc)"
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
        boost::test_tools::assertion_result r(std::filesystem::is_regular_file(path));
        r.message() << what << " not found at '" << path.string() << "'; skipping";
        return r;
    }
};

/// A Boost.Test precondition: OpenCV's cascade files (Debian package opencv-data) are installed.
struct opencv_cascades_present {
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
        const std::filesystem::path root = "/usr/share/opencv4";
        boost::test_tools::assertion_result r(std::filesystem::is_directory(root / "haarcascades") &&
                                              std::filesystem::is_directory(root / "lbpcascades"));
        r.message() << "OpenCV's cascades (Debian package opencv-data) not found in " << root.string() << "; skipping";
        return r;
    }
};

/// A fresh folder under the system's temporary directory, removed with everything in it at the
/// end of the scope. Unique per process and object, so concurrent test processes never share one.
struct temp_dir {
    std::filesystem::path path;
    explicit temp_dir(const std::string& prefix = "ferx_test") {
        static std::atomic<int> serial{0};
        path = std::filesystem::temp_directory_path() /
               (prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(serial++));
        std::filesystem::create_directories(path);
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    /// The path of `name` inside the folder, as a string.
    std::string file(const std::string& name) const { return (path / name).string(); }
};

/// The bytes of a file ("" where it cannot be read).
inline std::string file_bytes(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

/// The names in a folder, sorted (to see that a failed write left no temporary file behind).
inline std::vector<std::string> folder_names(const std::filesystem::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

/// Runs `fn` in a child process whose file-size limit (RLIMIT_FSIZE) is `max_bytes`, with SIGXFSZ
/// ignored, so that a write past the limit fails part-way with EFBIG, as on a full disk: a real,
/// injected write error. Returns what the child saw: "ferx::error: <what()>" when fn threw one,
/// "no error" when it returned, "other exception" or "child failed" otherwise.
template <class F>
std::string run_with_file_size_limit(std::size_t max_bytes, F&& fn) {
    int fds[2];
    if (::pipe(fds) != 0) return "child failed: pipe";
    const pid_t pid = ::fork();
    if (pid < 0) return "child failed: fork";
    if (pid == 0) {
        ::close(fds[0]);
        std::string said;
        rlimit lim{static_cast<rlim_t>(max_bytes), static_cast<rlim_t>(max_bytes)};
        std::signal(SIGXFSZ, SIG_IGN);
        if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) said = "child failed: setrlimit";
        else {
            try {
                fn();
                said = "no error";
            } catch (const ferx::error& e) {
                said = std::string("ferx::error: ") + e.what();
            } catch (...) {
                said = "other exception";
            }
        }
        const char* p = said.data();
        std::size_t left = said.size();
        while (left > 0) {
            const ssize_t w = ::write(fds[1], p, left);
            if (w <= 0) break;
            p += w;
            left -= static_cast<std::size_t>(w);
        }
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string out;
    char buf[512];
    for (ssize_t r; (r = ::read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(r));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return "child failed: status " + std::to_string(status);
    return out;
}

/// Image files of a folder (sorted), for tests on real images.
inline std::vector<std::filesystem::path> image_files(const std::filesystem::path& dir) {
    std::vector<std::filesystem::path> out;
    if (!std::filesystem::is_directory(dir)) return out;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        const auto ext = e.path().extension().string();
        if (ext == ".png" || ext == ".jpg" || ext == ".jpeg") out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

/// A random single-channel cv::Mat of depth T, values over T's range (or [-1000, 1000] for floats).
template <class T>
cv::Mat random_mat(int rows, int cols, int depth, std::uint32_t seed) {
    cv::Mat m(rows, cols, depth);
    cv::RNG rng(seed);
    if (std::is_floating_point<T>::value)
        rng.fill(m, cv::RNG::UNIFORM, -1000.0, 1000.0);
    else
        rng.fill(m, cv::RNG::UNIFORM, static_cast<double>(std::numeric_limits<T>::min()),
                 static_cast<double>(std::numeric_limits<T>::max()) + 1.0);
    return m;
}

/// A random 8-bit grey image; `smooth` blurs it (7x7 Gaussian, sigma 2) into face-like gradients.
inline cv::Mat random_grey(int rows, int cols, std::uint32_t seed, bool smooth) {
    cv::Mat m = random_mat<std::uint8_t>(rows, cols, CV_8U, seed);
    if (smooth) cv::GaussianBlur(m, m, cv::Size(7, 7), 2.0);
    return m;
}

}  // namespace ferx_test
