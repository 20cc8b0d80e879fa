/// Real inputs of the pipeline tests: grey photographs of ../shared/data/faces, CK+48 crops, and
/// a fixed subject-grouped split of CK+48.
#pragma once

#include "ferx_test.hpp"

#include <ferx/data/ckplus.hpp>
#include <ferx/learn/splits.hpp>

#include <opencv2/imgcodecs.hpp>

#include <string>
#include <vector>

namespace pipeline_test {

/// The photographs (and crops) of ../shared/data/faces, as 8-bit grey images.
inline std::vector<cv::Mat> face_photos() {
    std::vector<cv::Mat> out;
    for (const auto& p : ferx_test::image_files(ferx_test::shared_dir() / "data" / "faces"))
        out.push_back(cv::imread(p.string(), cv::IMREAD_GRAYSCALE));
    return out;
}

/// The first `n` CK+48 crops of each class folder, as 8-bit grey images.
inline std::vector<cv::Mat> ckplus_crops(std::size_t per_class) {
    std::vector<cv::Mat> out;
    const auto root = ferx_test::shared_dir() / "data" / "ckplus48";
    for (const auto& c : ferx::ckplus_classes()) {
        const auto files = ferx_test::image_files(root / c);
        for (std::size_t i = 0; i < files.size() && i < per_class; ++i)
            out.push_back(cv::imread(files[i].string(), cv::IMREAD_GRAYSCALE));
    }
    return out;
}

/// CK+48 split once: fold 0 of a 5-fold subject-grouped split (no subject on both sides).
struct ckplus_split {
    xt::xtensor<std::uint8_t, 3> train, test;
    ferx::label_vector y_train, y_test;
    std::vector<std::string> classes;
};

inline xt::xtensor<std::uint8_t, 3> take_images(const xt::xtensor<std::uint8_t, 3>& all, const std::vector<std::size_t>& idx) {
    const std::size_t px = all.shape(1) * all.shape(2);
    xt::xtensor<std::uint8_t, 3> out({idx.size(), all.shape(1), all.shape(2)});
    for (std::size_t i = 0; i < idx.size(); ++i) std::copy_n(all.data() + idx[i] * px, px, out.data() + i * px);
    return out;
}

inline const ckplus_split& ckplus_fold0() {
    static const ckplus_split split = [] {
        const auto list = ferx::ckplus48(ferx_test::shared_dir() / "data" / "ckplus48");
        const auto batch = ferx::load(list);
        const auto folds = ferx::group_kfold(list.groups, 5);
        ckplus_split s;
        s.train = take_images(batch.images, folds[0].train);
        s.test = take_images(batch.images, folds[0].test);
        s.y_train = ferx::take(batch.labels, folds[0].train);
        s.y_test = ferx::take(batch.labels, folds[0].test);
        s.classes = list.classes;
        return s;
    }();
    return split;
}

inline double accuracy(const ferx::label_vector& truth, const ferx::label_vector& pred) {
    std::size_t ok = 0;
    for (std::size_t i = 0; i < truth.size(); ++i) ok += truth[i] == pred[i];
    return static_cast<double>(ok) / static_cast<double>(truth.size());
}

}  // namespace pipeline_test
