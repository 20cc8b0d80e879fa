/// Real data sets for the learn tests and benchmarks, read from ../shared at run time:
/// CK+48 (index.csv: path,label,subject,sequence,frame) and FER2013 (index.csv:
/// path,label,label_id,usage), as pixel features (48x48 grey scaled to [0, 1]) or as OpenCV HOG
/// features (cv::HOGDescriptor, 48x48 window, 8x8 cells, 16x16 blocks, stride 8, 9 bins: 900-d).
/// Shared by tests/learn and benchmarks/bench_learn.cpp.
#pragma once

#include <ferx/learn/dataset.hpp>
#include <ferx/learn/linear_svm.hpp>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/objdetect.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace learn_data {

enum class features { pixels, hog };

struct dataset {
    xt::xtensor<float, 2> x;           ///< [n, d]
    ferx::label_vector y;              ///< n labels 0..K-1
    std::vector<int> groups;           ///< n subject ids (CK+); empty for FER2013
    std::vector<std::string> classes;  ///< K class names
};

inline std::vector<std::string> split_csv(const std::string& line) {
    std::vector<std::string> out;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) out.push_back(cell);
    return out;
}

inline std::vector<float> describe(const cv::Mat& grey, features f) {
    if (f == features::pixels) {
        std::vector<float> v(static_cast<std::size_t>(grey.total()));
        for (int r = 0; r < grey.rows; ++r)
            for (int c = 0; c < grey.cols; ++c)
                v[static_cast<std::size_t>(r * grey.cols + c)] = grey.at<unsigned char>(r, c) / 255.0f;
        return v;
    }
    static const cv::HOGDescriptor hog(cv::Size(48, 48), cv::Size(16, 16), cv::Size(8, 8), cv::Size(8, 8), 9);
    std::vector<float> v;
    hog.compute(grey, v);
    return v;
}

/// Rows of images listed in a CSV index: `path_col` relative to `root`, label name in
/// `label_col`, optional group in `group_col` (-1: none), filtered by `keep`, at most `limit`
/// (evenly spaced over the index).
template <class Keep>
dataset load_index(const std::filesystem::path& root, int path_col, int label_col, int group_col, features f,
                   std::size_t limit, Keep&& keep) {
    std::ifstream in(root / "index.csv");
    std::string line;
    std::getline(in, line);
    std::vector<std::vector<std::string>> rows;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();  // CRLF files
        if (!line.empty()) {
            auto r = split_csv(line);
            if (keep(r)) rows.push_back(std::move(r));
        }
    }
    dataset ds;
    std::map<std::string, int> class_id, group_id;
    for (const auto& r : rows) class_id.emplace(r[static_cast<std::size_t>(label_col)], 0);
    for (auto& kv : class_id) {
        kv.second = static_cast<int>(ds.classes.size());
        ds.classes.push_back(kv.first);
    }
    const std::size_t n = std::min(limit, rows.size());
    std::vector<std::vector<float>> feats;
    for (std::size_t s = 0; s < n; ++s) {
        const auto& r = rows[s * rows.size() / n];
        const cv::Mat img = cv::imread((root / r[static_cast<std::size_t>(path_col)]).string(), cv::IMREAD_GRAYSCALE);
        if (img.empty()) continue;
        feats.push_back(describe(img, f));
        ds.y.push_back(class_id[r[static_cast<std::size_t>(label_col)]]);
        if (group_col >= 0)
            ds.groups.push_back(group_id.emplace(r[static_cast<std::size_t>(group_col)], static_cast<int>(group_id.size())).first->second);
    }
    const std::size_t d = feats.empty() ? 0 : feats[0].size();
    ds.x = xt::xtensor<float, 2>({feats.size(), d});
    for (std::size_t i = 0; i < feats.size(); ++i) std::copy(feats[i].begin(), feats[i].end(), ds.x.data() + i * d);
    return ds;
}

inline bool ckplus_present(const std::filesystem::path& shared) {
    return std::filesystem::exists(shared / "data" / "ckplus48" / "index.csv");
}
inline bool fer2013_present(const std::filesystem::path& shared) {
    return std::filesystem::exists(shared / "data" / "fer2013" / "index.csv");
}

/// CK+48: 981 crops, 7 classes (alphabetical: anger, contempt, disgust, fear, happy, sadness,
/// surprise), subjects as groups.
inline dataset ckplus48(const std::filesystem::path& shared, features f) {
    return load_index(shared / "data" / "ckplus48", 0, 1, 2, f, static_cast<std::size_t>(-1),
                      [](const std::vector<std::string>& r) { return r.size() >= 5; });
}

/// FER2013 of one usage ("Training", "PublicTest", "PrivateTest"), at most `limit` samples.
inline dataset fer2013(const std::filesystem::path& shared, const std::string& usage, features f, std::size_t limit) {
    return load_index(shared / "data" / "fer2013", 0, 1, -1, f, limit,
                      [&](const std::vector<std::string>& r) { return r.size() >= 4 && r[3] == usage; });
}

/// The linear-SVM setting of the CK+48 parity test and the linear benchmarks: hinge loss (the
/// C-SVC loss cv::ml::SVM LINEAR minimises), one-vs-one as cv::ml::SVM, LIBLINEAR's bias and tol.
inline ferx::linear_svm_params parity_linear_params(double c) {
    ferx::linear_svm_params p;
    p.C = c;
    p.loss = ferx::linear_loss::hinge;
    p.strategy = ferx::multiclass::one_vs_one;
    p.bias = 1;
    p.tol = 0.1;
    return p;
}

}  // namespace learn_data
