/// Helpers shared by the features tests: real images as 8-bit grey crops of a given size.
#pragma once

#include <ferx/core/opencv.hpp>

#include <opencv2/imgproc.hpp>

#include "ferx_test.hpp"

#include <cmath>
#include <string>
#include <vector>

namespace features_test {

struct named_mat {
    std::string name;
    cv::Mat mat;  // CV_8U
};

/// The photographs of ../shared/data/faces resized to rows x cols (area interpolation).
inline std::vector<named_mat> faces_resized(int rows, int cols) {
    std::vector<named_mat> out;
    for (const auto& f : ferx_test::image_files(ferx_test::shared_dir() / "data" / "faces")) {
        cv::Mat m = ferx::read_image(f.string()), r;
        cv::resize(m, r, cv::Size(cols, rows), 0, 0, cv::INTER_AREA);
        out.push_back({f.filename().string(), r});
    }
    return out;
}

/// CK+48 crops (every `step`-th of the index), optionally resized (bilinear) to rows x cols.
inline std::vector<named_mat> ckplus(int step, int rows = 48, int cols = 48) {
    std::vector<named_mat> out;
    const auto dir = ferx_test::shared_dir() / "data" / "ckplus48";
    std::vector<std::filesystem::path> files;
    for (const char* label : {"anger", "contempt", "disgust", "fear", "happy", "sadness", "surprise"})
        for (const auto& f : ferx_test::image_files(dir / label)) files.push_back(f);
    for (std::size_t i = 0; i < files.size(); i += static_cast<std::size_t>(step)) {
        cv::Mat m = ferx::read_image(files[i].string());
        if (m.rows != rows || m.cols != cols) cv::resize(m, m, cv::Size(cols, rows), 0, 0, cv::INTER_LINEAR);
        out.push_back({files[i].parent_path().filename().string() + "/" + files[i].filename().string(), m});
    }
    return out;
}

/// Largest |a[i] - b[i]|.
template <class A, class B>
double max_abs_diff(const A& a, const B& b, std::size_t n) {
    double d = 0;
    for (std::size_t i = 0; i < n; ++i) d = std::max(d, std::abs(double(a[i]) - double(b[i])));
    return d;
}

}  // namespace features_test
