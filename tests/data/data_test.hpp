/// Helpers of the dataset-reader tests: small datasets written to a temporary folder (images,
/// CSV files), error-message checks, and the real CK+48 and FER2013 of ../shared/data.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/data/image_list.hpp>

#include "ferx_test.hpp"

#include <boost/test/unit_test.hpp>

#include <opencv2/imgcodecs.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace data_test {

namespace fs = std::filesystem;

/// A fresh temporary folder, removed with its contents at the end of the test.
using temp_dir = ferx_test::temp_dir;

inline void write_text(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

/// A grey image whose pixels are value + (r * cols + c) mod 256.
inline cv::Mat pattern(int rows, int cols, int value) {
    cv::Mat m(rows, cols, CV_8UC1);
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) m.at<unsigned char>(r, c) = static_cast<unsigned char>((value + r * cols + c) % 256);
    return m;
}

inline void write_image(const fs::path& p, const cv::Mat& m) {
    fs::create_directories(p.parent_path());
    BOOST_REQUIRE(cv::imwrite(p.string(), m));
}

/// Runs f, which must throw ferx::error whose message holds every one of `parts`.
inline void expect_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
    try {
        f();
    } catch (const ferx::error& e) {
        const std::string msg = e.what();
        for (const auto& p : parts) BOOST_TEST(msg.find(p) != std::string::npos, "'" << p << "' not in: " << msg);
        return;
    }
    BOOST_ERROR("no ferx::error was thrown");
}

inline std::string pixels_text(int count, int value) {
    std::string s;
    for (int i = 0; i < count; ++i) s += (i ? " " : "") + std::to_string((value + i) % 256);
    return s;
}

inline fs::path ckplus_root() { return ferx_test::shared_dir() / "data" / "ckplus48"; }
inline fs::path fer_root() { return ferx_test::shared_dir() / "data" / "fer2013"; }

/// Image `i` of the batch equals cv::imread of its path.
inline bool same_as_imread(const ferx::image_batch& b, std::size_t i) {
    const cv::Mat m = cv::imread(b.paths[i], cv::IMREAD_GRAYSCALE);
    if (m.rows != static_cast<int>(b.images.shape(1)) || m.cols != static_cast<int>(b.images.shape(2))) return false;
    for (int r = 0; r < m.rows; ++r)
        for (int c = 0; c < m.cols; ++c)
            if (b.images(i, static_cast<std::size_t>(r), static_cast<std::size_t>(c)) != m.at<unsigned char>(r, c))
                return false;
    return true;
}

// ../shared/README.md: FER2013 totals in the order angry, disgust, fear, happy, neutral, sad,
// surprise, given here in the canonical label order (angry .. surprise, neutral).
inline const std::vector<std::size_t> fer_class_totals = {4953, 547, 5121, 8989, 6077, 4002, 6198};

inline std::vector<std::size_t> add(std::vector<std::size_t> a, const std::vector<std::size_t>& b) {
    for (std::size_t k = 0; k < a.size(); ++k) a[k] += b[k];
    return a;
}

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace data_test
