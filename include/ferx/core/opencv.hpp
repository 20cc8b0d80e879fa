/// \file ferx/core/opencv.hpp
/// OpenCV interop: zero-copy views of `cv::Mat`, `cv::Mat` headers over ferx views, deep
/// conversions both ways, and image reading with ferx errors.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/file_io.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/core/view.hpp>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <type_traits>
#include <vector>

FERX_NAMESPACE_BEGIN

/// The OpenCV depth (CV_8U, ...) of a pixel type; a compile-time error for types OpenCV lacks.
template <class T>
constexpr int cv_depth() {
    using U = std::remove_cv_t<T>;
    static_assert(std::is_same<U, std::uint8_t>::value || std::is_same<U, std::int8_t>::value ||
                      std::is_same<U, std::uint16_t>::value ||
                      std::is_same<U, std::int16_t>::value ||
                      std::is_same<U, std::int32_t>::value || std::is_same<U, float>::value ||
                      std::is_same<U, double>::value,
                  "ferx: this pixel type has no OpenCV depth (use uint8_t, int8_t, uint16_t, "
                  "int16_t, int32_t, float or double)");
    if (std::is_same<U, std::uint8_t>::value) return CV_8U;
    if (std::is_same<U, std::int8_t>::value) return CV_8S;
    if (std::is_same<U, std::uint16_t>::value) return CV_16U;
    if (std::is_same<U, std::int16_t>::value) return CV_16S;
    if (std::is_same<U, std::int32_t>::value) return CV_32S;
    if (std::is_same<U, float>::value) return CV_32F;
    return CV_64F;
}

namespace detail {
inline std::string cv_type_name(int type) {
    static const char* depths[] = {"8U", "8S", "16U", "16S", "32S", "32F", "64F", "16F"};
    return std::string("CV_") + depths[CV_MAT_DEPTH(type)] + "C" +
           std::to_string(CV_MAT_CN(type));
}

template <class T, class M>
void check_mat(M& m, int channels, const char* where) {
    if (m.empty()) throw error(where, "the cv::Mat is empty");
    if (m.dims != 2) throw error(where, "the cv::Mat must be 2-D, got " + std::to_string(m.dims) + " dims");
    if (m.depth() != cv_depth<T>() || (channels > 0 && m.channels() != channels))
        throw error(where, "the cv::Mat has type " + cv_type_name(m.type()) + ", expected " +
                               cv_type_name(CV_MAKETYPE(cv_depth<T>(), channels > 0 ? channels : m.channels())));
    if (m.step[0] % sizeof(T) != 0)
        throw error(where, "the cv::Mat's row step is not a multiple of the pixel size");
}
}  // namespace detail

/// A zero-copy image view of a single-channel `cv::Mat` (ROIs included: the row step is kept).
/// Throws ferx::error if the Mat is empty, not 2-D, multi-channel or of another depth than T.
template <class T>
image_view<T> view(cv::Mat& m) {
    detail::check_mat<T>(m, 1, "ferx::view(cv::Mat)");
    return image_view<T>(m.ptr<T>(), {m.rows, m.cols},
                         {static_cast<index_t>(m.step[0] / sizeof(T)), 1});
}
template <class T>
image_view<const T> view(const cv::Mat& m) {
    detail::check_mat<T>(m, 1, "ferx::view(cv::Mat)");
    return image_view<const T>(m.ptr<T>(), {m.rows, m.cols},
                               {static_cast<index_t>(m.step[0] / sizeof(T)), 1});
}

/// A zero-copy rows x cols x channels view of an interleaved (e.g. BGR) `cv::Mat`.
template <class T>
volume_view<T> interleaved_view(cv::Mat& m) {
    detail::check_mat<T>(m, 0, "ferx::interleaved_view(cv::Mat)");
    const index_t cn = m.channels();
    return volume_view<T>(m.ptr<T>(), {m.rows, m.cols, cn},
                          {static_cast<index_t>(m.step[0] / sizeof(T)), cn, 1});
}

/// A `cv::Mat` header over a host image view (no copy; the view's memory must outlive it).
template <class T>
cv::Mat as_mat(const image_view<T>& v) {
    detail::require(v.stride(1) == 1 || v.cols() == 1, "ferx::as_mat",
                    "the view's columns must be packed to wrap it as a cv::Mat");
    using U = std::remove_const_t<T>;
    return cv::Mat(static_cast<int>(v.rows()), static_cast<int>(v.cols()), cv_depth<U>(),
                   const_cast<U*>(v.data()), static_cast<std::size_t>(v.stride(0)) * sizeof(U));
}

/// A deep copy of a host image view into a new `cv::Mat`.
template <class T>
cv::Mat to_mat(const image_view<T>& v) {
    if (v.empty()) return cv::Mat();
    if (v.stride(1) == 1 || v.cols() == 1) return as_mat(v).clone();
    using U = std::remove_const_t<T>;
    cv::Mat out(static_cast<int>(v.rows()), static_cast<int>(v.cols()), cv_depth<U>());
    for (index_t r = 0; r < v.rows(); ++r)
        for (index_t c = 0; c < v.cols(); ++c) out.at<U>(static_cast<int>(r), static_cast<int>(c)) = v(r, c);
    return out;
}

/// A deep copy of an xtensor image into a new `cv::Mat`.
template <class T, xt::layout_type L>
cv::Mat to_mat(const xt::xtensor<T, 2, L>& img) {
    return to_mat(view(img));
}

/// A deep copy of a single-channel `cv::Mat` into an owning image of T; the depth is converted
/// with OpenCV's saturating cast if it differs.
template <class T>
image<T> to_image(const cv::Mat& m) {
    if (m.empty()) throw error("ferx::to_image", "the cv::Mat is empty");
    if (m.channels() != 1)
        throw error("ferx::to_image", "expected a single-channel cv::Mat, got " +
                                          detail::cv_type_name(m.type()) +
                                          " (convert it to grey first)");
    image<T> out({static_cast<std::size_t>(m.rows), static_cast<std::size_t>(m.cols)});
    cv::Mat dst = as_mat(view(out));
    m.convertTo(dst, cv_depth<T>());  // writes into out's memory (same size and type)
    return out;
}

/// Frames of equal size and type stacked into a frames x rows x cols volume (a copy).
template <class T>
volume<T> to_volume(const std::vector<cv::Mat>& frames) {
    if (frames.empty()) throw error("ferx::to_volume", "no frames given");
    const cv::Size size = frames.front().size();
    volume<T> out({frames.size(), static_cast<std::size_t>(size.height),
                   static_cast<std::size_t>(size.width)});
    auto v = view(out);
    for (std::size_t i = 0; i < frames.size(); ++i) {
        if (frames[i].size() != size)
            throw error("ferx::to_volume", "frame " + std::to_string(i) + " is " +
                                               std::to_string(frames[i].cols) + "x" +
                                               std::to_string(frames[i].rows) + ", frame 0 is " +
                                               std::to_string(size.width) + "x" +
                                               std::to_string(size.height));
        cv::Mat dst = as_mat(v[static_cast<index_t>(i)]);
        if (frames[i].channels() != 1)
            throw error("ferx::to_volume", "frame " + std::to_string(i) + " has " +
                                               std::to_string(frames[i].channels()) +
                                               " channels; expected grey frames");
        frames[i].convertTo(dst, cv_depth<T>());
    }
    return out;
}

/// Images of equal size stacked into an N x C x H x W batch (channels de-interleaved; a copy).
template <class T>
batch<T> to_batch(const std::vector<cv::Mat>& images) {
    if (images.empty()) throw error("ferx::to_batch", "no images given");
    const cv::Size size = images.front().size();
    const int cn = images.front().channels();
    batch<T> out({images.size(), static_cast<std::size_t>(cn),
                  static_cast<std::size_t>(size.height), static_cast<std::size_t>(size.width)});
    auto v = view(out);
    for (std::size_t i = 0; i < images.size(); ++i) {
        if (images[i].size() != size || images[i].channels() != cn)
            throw error("ferx::to_batch", "image " + std::to_string(i) +
                                              " differs in size or channels from image 0");
        std::vector<cv::Mat> planes;
        cv::split(images[i], planes);
        for (int c = 0; c < cn; ++c) {
            cv::Mat dst = as_mat(v[static_cast<index_t>(i)][c]);
            planes[static_cast<std::size_t>(c)].convertTo(dst, cv_depth<T>());
        }
    }
    return out;
}

/// Reads an image file as grey (or colour) 8-bit pixels; ferx::error names the file on failure.
inline cv::Mat read_image(const std::string& path, bool grey = true) {
    cv::Mat m = cv::imread(path, grey ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR);
    if (m.empty())
        throw error("ferx::read_image", "cannot read the image (missing, unreadable or not an image)",
                    path);
    return m;
}

/// Writes `img` to `path` in the format its extension names (.png, .jpg, ...), atomically
/// (ferx/core/file_io.hpp: the target appears only complete). ferx::error naming `where` and
/// the file when the extension is unknown, OpenCV cannot encode the image or the write fails.
inline void write_image(const std::string& path, const cv::Mat& img, const std::string& where = "ferx::write_image") {
    const std::string ext = std::filesystem::path(path).extension().string();
    if (ext.empty()) throw error(where, "the image file name has no extension to choose the format by", path);
    if (img.empty()) throw error(where, "the image is empty", path);
    std::vector<unsigned char> bytes;
    bool ok = false;
    try {
        ok = cv::imencode(ext, img, bytes);
    } catch (const cv::Exception& e) {
        throw error(where, std::string("OpenCV cannot encode the image as ") + ext + ": " + e.what(), path);
    }
    if (!ok) throw error(where, std::string("OpenCV cannot encode the image as ") + ext, path);
    write_file_atomically(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), where);
}

FERX_NAMESPACE_END
