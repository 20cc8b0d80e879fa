/// Real inputs of the image-primitive tests: the grey photographs of ../shared/data/faces and a
/// few CK+48 crops of each class.
#pragma once

#include "ferx_test.hpp"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <filesystem>
#include <vector>

namespace imgproc_test {

/// The photographs of ../shared/data/faces, then the first `per_class` crops of each CK+48 class
/// folder (in name order), as 8-bit grey images.
inline std::vector<cv::Mat> real_images(std::size_t per_class = 4) {
    namespace fs = std::filesystem;
    std::vector<cv::Mat> out;
    for (const auto& p : ferx_test::image_files(ferx_test::shared_dir() / "data" / "faces"))
        out.push_back(cv::imread(p.string(), cv::IMREAD_GRAYSCALE));
    std::vector<fs::path> classes;
    for (const auto& e : fs::directory_iterator(ferx_test::shared_dir() / "data" / "ckplus48"))
        if (e.is_directory()) classes.push_back(e.path());
    std::sort(classes.begin(), classes.end());
    for (const auto& c : classes) {
        const auto files = ferx_test::image_files(c);
        for (std::size_t i = 0; i < files.size() && i < per_class; ++i)
            out.push_back(cv::imread(files[i].string(), cv::IMREAD_GRAYSCALE));
    }
    return out;
}

/// Number of pixels where two 8-bit images differ.
inline long differing(const cv::Mat& a, const cv::Mat& b) { return cv::countNonZero(a != b); }

}  // namespace imgproc_test
