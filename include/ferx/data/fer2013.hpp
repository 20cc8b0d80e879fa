/// \file ferx/data/fer2013.hpp
/// FER2013 (ICML 2013 challenge): the image-folder layout root/{train,validation,test}/<class>/
/// *.jpg with its optional root/index.csv (`path,label,label_id,usage`), and the original
/// `fer2013.csv` (`emotion,pixels,Usage`: a class id 0..6, 48x48 = 2304 space-separated grey
/// values, and Training / PublicTest / PrivateTest). Labels are in the canonical FER2013 order
/// of fer2013_classes(): 0 angry, 1 disgust, 2 fear, 3 happy, 4 sad, 5 surprise, 6 neutral.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/data/detail/csv.hpp>
#include <ferx/data/image_folder.hpp>
#include <ferx/data/image_list.hpp>
#include <ferx/data/labels.hpp>

#include <opencv2/core.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN

/// The official FER2013 split: train = Training (28,709 images), validation = PublicTest
/// (3,589), test = PrivateTest (3,589); all = the three together, in that order.
enum class fer2013_split { train, validation, test, all };

namespace detail {
/// The folder and the `Usage` value of a split.
inline const char* fer2013_folder_name(fer2013_split s) {
    return s == fer2013_split::train ? "train" : s == fer2013_split::validation ? "validation" : "test";
}
inline const char* fer2013_usage(fer2013_split s) {
    return s == fer2013_split::train ? "Training" : s == fer2013_split::validation ? "PublicTest" : "PrivateTest";
}
/// The split of a `Usage` value (column `column` of the row `at` of `file`); ferx::error if it is
/// none of the three.
inline fer2013_split fer2013_split_of(const std::string& usage, const char* column, const std::string& at,
                                      const std::filesystem::path& file, const char* where) {
    for (fer2013_split s : {fer2013_split::train, fer2013_split::validation, fer2013_split::test})
        if (usage == fer2013_usage(s)) return s;
    throw error(where, at + "unknown " + column + " '" + usage + "' (expected Training, PublicTest or PrivateTest)",
                file.string());
}
inline bool in_split(fer2013_split which, fer2013_split s) { return which == fer2013_split::all || which == s; }
}  // namespace detail

/// The FER2013 images of one split of the image-folder layout.
///
/// With root/index.csv, the images it lists whose usage is the split's, in the index's order
/// (label_id gives the label; it must agree with the label name). Without it, the folders
/// root/<split>/<class> for the 7 FER2013 class names (image_folder with fer2013_classes()).
/// Throws ferx::error naming the file (and line) for a missing folder, a wrong header, a row with
/// other than 4 fields, a label_id outside 0..6 or disagreeing with the label, an unknown usage,
/// or a listed image file that does not exist.
inline image_list fer2013_folder(const std::filesystem::path& root, fer2013_split split = fer2013_split::all) {
    constexpr const char* where = "ferx::fer2013_folder";
    detail::require_folder(root, where, "the FER2013 folder");
    const auto classes = fer2013_classes();
    const auto index = root / "index.csv";
    std::error_code ec;
    if (!std::filesystem::exists(index, ec)) {
        image_list out;
        out.classes = classes;
        for (fer2013_split s : {fer2013_split::train, fer2013_split::validation, fer2013_split::test}) {
            if (!detail::in_split(split, s)) continue;
            const image_list part = image_folder(root / detail::fer2013_folder_name(s), classes);
            out.paths.insert(out.paths.end(), part.paths.begin(), part.paths.end());
            out.labels.insert(out.labels.end(), part.labels.begin(), part.labels.end());
        }
        return out;
    }
    image_list out;
    out.classes = classes;
    detail::read_csv(index, {"path", "label", "label_id", "usage"}, true, where,
                     [&](const std::vector<std::string>& f, std::size_t line) {
                         const std::string at = "line " + std::to_string(line) + ": ";
                         int id = -1;
                         if (!detail::parse_int(f[2], id) || id > 6)
                             throw error(where, at + "label_id '" + f[2] + "' is not a class id 0..6", index.string());
                         const auto& name = classes[static_cast<std::size_t>(id)];
                         if (canonical_emotion(f[1]) != canonical_emotion(name))
                             throw error(where, at + "label '" + f[1] + "' disagrees with label_id " + f[2] + " (" +
                                                     name + ")", index.string());
                         const fer2013_split s = detail::fer2013_split_of(f[3], "usage", at, index, where);
                         if (!detail::in_split(split, s)) return;
                         out.paths.push_back(detail::listed_file(root, f[0], at, index, where));
                         out.labels.push_back(id);
                     });
    return out;
}

/// Reads the original fer2013.csv row by row, calling `f(image, label, split, line)` for the
/// rows of `split`: image a 48x48 CV_8UC1 cv::Mat (valid during the call only), label 0..6,
/// line the 1-based line number. Only one row is held in memory.
/// Throws ferx::error naming the file and line for a missing file, a header other than
/// `emotion,pixels,Usage`, a row with other than 3 fields, an emotion outside 0..6, a pixel that
/// is not an integer 0..255, other than 2304 pixels, or an unknown Usage.
template <class F>
void for_each_fer2013_csv(const std::filesystem::path& file, F&& f, fer2013_split split = fer2013_split::all) {
    constexpr const char* where = "ferx::for_each_fer2013_csv";
    constexpr int side = 48, n_pixels = side * side;
    cv::Mat img(side, side, CV_8UC1);
    detail::read_csv(file, {"emotion", "pixels", "Usage"}, true, where,
                     [&](const std::vector<std::string>& fields, std::size_t line) {
                         const std::string at = "line " + std::to_string(line) + ": ";
                         int label = -1;
                         if (!detail::parse_int(fields[0], label) || label > 6)
                             throw error(where, at + "emotion '" + fields[0] + "' is not a class id 0..6", file.string());
                         const fer2013_split s = detail::fer2013_split_of(fields[2], "Usage", at, file, where);
                         if (!detail::in_split(split, s)) return;
                         const std::string& px = fields[1];
                         std::uint8_t* out = img.ptr<std::uint8_t>();
                         int count = 0;
                         std::size_t i = 0;
                         while (i < px.size()) {
                             if (px[i] == ' ') {
                                 ++i;
                                 continue;
                             }
                             int v = 0, digits = 0;
                             for (; i < px.size() && px[i] != ' '; ++i, ++digits) {
                                 if (px[i] < '0' || px[i] > '9' || digits >= 3)
                                     throw error(where, at + "pixel " + std::to_string(count) +
                                                             " is not an integer 0..255", file.string());
                                 v = v * 10 + (px[i] - '0');
                             }
                             if (v > 255)
                                 throw error(where, at + "pixel " + std::to_string(count) + " is " + std::to_string(v) +
                                                         ", above 255", file.string());
                             if (count < n_pixels) out[count] = static_cast<std::uint8_t>(v);
                             ++count;
                         }
                         if (count != n_pixels)
                             throw error(where, at + std::to_string(count) + " pixels, expected 2304 (48x48)",
                                         file.string());
                         f(static_cast<const cv::Mat&>(img), label, s, line);
                     });
}

/// The rows of `split` of the original fer2013.csv as a batch [n, 48, 48] (classes
/// fer2013_classes(); paths "<file>:<line>"). Errors as for_each_fer2013_csv, and for a file
/// with no row of the split.
inline image_batch read_fer2013_csv(const std::filesystem::path& file, fer2013_split split = fer2013_split::all) {
    std::vector<std::uint8_t> pixels;
    image_batch out;
    out.classes = fer2013_classes();
    for_each_fer2013_csv(
        file,
        [&](const cv::Mat& img, int label, fer2013_split, std::size_t line) {
            pixels.insert(pixels.end(), img.data, img.data + img.total());
            out.labels.push_back(label);
            out.paths.push_back(file.string() + ":" + std::to_string(line));
        },
        split);
    if (out.empty()) throw error("ferx::read_fer2013_csv", "no image of the requested split", file.string());
    out.images = xt::xtensor<std::uint8_t, 3>({out.size(), std::size_t{48}, std::size_t{48}});
    std::copy(pixels.begin(), pixels.end(), out.images.data());
    return out;
}

FERX_NAMESPACE_END
