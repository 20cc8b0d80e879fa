/// \file ferx/data/image_folder.hpp
/// The image-folder layout: root/<class>/<image>.png|.jpg|.jpeg, one folder per class.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/data/image_list.hpp>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

FERX_NAMESPACE_BEGIN

namespace detail {
inline bool is_image_file(const std::filesystem::path& p) {
    std::string ext = p.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

inline void require_folder(const std::filesystem::path& dir, const char* where, const char* what) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) throw error(where, std::string(what) + " does not exist", dir.string());
}

/// root / relative, checked to be an existing file (listed at row `at` of `index`).
inline std::string listed_file(const std::filesystem::path& root, const std::string& relative, const std::string& at,
                               const std::filesystem::path& index, const char* where) {
    const auto path = root / relative;
    std::error_code ec;
    if (relative.empty() || !std::filesystem::is_regular_file(path, ec))
        throw error(where, at + "the listed image '" + relative + "' does not exist", index.string());
    return path.string();
}

/// The image files directly in `dir`, sorted by name.
inline std::vector<std::string> image_files(const std::filesystem::path& dir, const char* where) {
    std::vector<std::string> out;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (it->is_regular_file(ec) && is_image_file(it->path())) out.push_back(it->path().string());
    if (ec) throw error(where, "cannot list the folder: " + ec.message(), dir.string());
    std::sort(out.begin(), out.end());
    return out;
}
}  // namespace detail

/// The images of root/<class>/*.png|.jpg|.jpeg (extensions in any case), files sorted by name.
///
/// Without `classes`, every sub-folder of root is a class, in sorted order. With `classes`, those
/// are the classes in the given order (label k = classes[k]); each must be a sub-folder, and a
/// sub-folder not listed, or a class given twice, is an error (apply a label_map to drop classes).
/// Throws ferx::error naming the folder when root or a class folder is missing, when root has no
/// class folder, or when an unlisted class folder is found. Images are not decoded here.
inline image_list image_folder(const std::filesystem::path& root, std::vector<std::string> classes = {}) {
    constexpr const char* where = "ferx::image_folder";
    detail::require_folder(root, where, "the dataset folder");
    std::vector<std::string> found;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec))
        if (it->is_directory(ec)) found.push_back(it->path().filename().string());
    if (ec) throw error(where, "cannot list the folder: " + ec.message(), root.string());
    std::sort(found.begin(), found.end());
    if (classes.empty()) {
        if (found.empty()) throw error(where, "the dataset folder has no class sub-folders", root.string());
        classes = found;
    } else {
        for (std::size_t k = 0; k < classes.size(); ++k)
            if (std::find(classes.begin(), classes.begin() + static_cast<std::ptrdiff_t>(k), classes[k]) !=
                classes.begin() + static_cast<std::ptrdiff_t>(k))
                throw error(where, "the class '" + classes[k] + "' is given twice", root.string());
        for (const auto& c : classes) detail::require_folder(root / c, where, ("the class folder '" + c + "'").c_str());
        for (const auto& f : found)
            if (std::find(classes.begin(), classes.end(), f) == classes.end())
                throw error(where, "the folder '" + f + "' is not one of the given classes", root.string());
    }
    image_list out;
    out.classes = classes;
    for (std::size_t k = 0; k < classes.size(); ++k)
        for (auto& p : detail::image_files(root / classes[k], where)) {
            out.paths.push_back(std::move(p));
            out.labels.push_back(static_cast<int>(k));
        }
    return out;
}

FERX_NAMESPACE_END
