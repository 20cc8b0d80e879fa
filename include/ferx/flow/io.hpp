/// \file ferx/flow/io.hpp
/// Flow files and OpenCV interop:
///  - Middlebury `.flo`: the float32 tag 202021.25 ("PIEH" in little-endian bytes), int32 width,
///    int32 height, then width * height (u, v) float32 pairs, row-major, little-endian;
///  - KITTI 2015 16-bit PNG flow: per pixel (R, G, B) = (u * 64 + 2^15, v * 64 + 2^15, valid),
///    with B = 1 where the pixel has ground truth and 0 elsewhere (R = G = B = 0 there);
///  - zero-copy `cv::Mat` (CV_32FC2) headers over ferx fields and ferx views of such Mats.
/// Readers check the whole file (tag, size, length, finite values) and throw ferx::error naming
/// the file; a truncated or padded file is an error, never a silently short field.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/file_io.hpp>
#include <ferx/core/opencv.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/flow/field.hpp>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

FERX_NAMESPACE_BEGIN

/// A flow field with a validity mask (1 = the pixel has a vector, 0 = it has none), as sparse
/// ground truth (KITTI) comes.
struct masked_flow {
    flow_field flow;
    image<std::uint8_t> valid;
};

/// A CV_32FC2 cv::Mat header over a ferx field view (no copy; the view must outlive it).
inline cv::Mat flow_to_mat(const flow_view<>& f) {
    detail::require_packed_rows(f, "ferx::flow_to_mat", "the flow");
    return cv::Mat(static_cast<int>(f.rows()), static_cast<int>(f.cols()), CV_32FC2, f.data(),
                   static_cast<std::size_t>(f.stride(0)) * sizeof(flow_vector));
}

namespace detail {
inline void check_flow_mat(const cv::Mat& m, const char* where) {
    if (m.empty()) throw error(where, "the cv::Mat is empty");
    if (m.dims != 2 || m.type() != CV_32FC2)
        throw error(where, "the cv::Mat must be 2-D CV_32FC2, got " + detail::cv_type_name(m.type()));
    if (m.step[0] % sizeof(flow_vector) != 0) throw error(where, "the row step is not a multiple of 8 bytes");
}
}  // namespace detail

/// A ferx view of a CV_32FC2 cv::Mat (no copy; ROIs keep their row step).
inline flow_view<> flow_view_of(cv::Mat& m) {
    detail::check_flow_mat(m, "ferx::flow_view_of");
    return flow_view<>(reinterpret_cast<flow_vector*>(m.data), {m.rows, m.cols},
                       {static_cast<index_t>(m.step[0] / sizeof(flow_vector)), 1});
}

/// A read-only ferx view of a CV_32FC2 cv::Mat (no copy).
inline const_flow_view<> flow_view_of(const cv::Mat& m) {
    detail::check_flow_mat(m, "ferx::flow_view_of");
    return const_flow_view<>(reinterpret_cast<const flow_vector*>(m.data), {m.rows, m.cols},
                             {static_cast<index_t>(m.step[0] / sizeof(flow_vector)), 1});
}

namespace detail {
inline constexpr float flo_tag = 202021.25f;

inline bool little_endian_host() {
    const std::uint32_t one = 1;
    unsigned char b;
    std::memcpy(&b, &one, 1);
    return b == 1;
}
template <class T>
T from_le(const unsigned char* p) {
    unsigned char b[sizeof(T)];
    for (std::size_t i = 0; i < sizeof(T); ++i) b[i] = little_endian_host() ? p[i] : p[sizeof(T) - 1 - i];
    T v;
    std::memcpy(&v, b, sizeof(T));
    return v;
}
template <class T>
void to_le(T v, unsigned char* p) {
    unsigned char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    for (std::size_t i = 0; i < sizeof(T); ++i) p[i] = little_endian_host() ? b[i] : b[sizeof(T) - 1 - i];
}
}  // namespace detail

/// Reads a Middlebury .flo file. Throws ferx::error (naming the file) when it cannot be opened,
/// has another tag, a non-positive or implausible size (over 2^15 per side), another length than
/// its header says, or a non-finite vector. (The Middlebury "unknown flow" marker, |u| or |v| of
/// 1e9 and more, is kept as it is: `endpoint_error` leaves such pixels out.)
inline flow_field read_flo(const std::string& path) {
    const char* where = "ferx::read_flo";
    std::ifstream in(path, std::ios::binary);
    if (!in) throw error(where, "cannot open the file", path);
    std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.size() < 12) throw error(where, "the file is too short for a .flo header (" + std::to_string(bytes.size()) + " bytes)", path);
    if (detail::from_le<float>(bytes.data()) != detail::flo_tag)
        throw error(where, "not a .flo file: the tag is not 202021.25 (\"PIEH\")", path);
    const auto w = detail::from_le<std::int32_t>(bytes.data() + 4), h = detail::from_le<std::int32_t>(bytes.data() + 8);
    if (w <= 0 || h <= 0 || w > (1 << 15) || h > (1 << 15))
        throw error(where, "implausible size " + std::to_string(w) + "x" + std::to_string(h), path);
    const std::size_t want = 12 + std::size_t(w) * std::size_t(h) * 8;
    if (bytes.size() != want)
        throw error(where, "the file holds " + std::to_string(bytes.size()) + " bytes, its " + std::to_string(w) + "x" +
                               std::to_string(h) + " header needs " + std::to_string(want), path);
    flow_field f = make_flow_field(h, w);
    const unsigned char* p = bytes.data() + 12;
    flow_vector* d = f.data();
    for (std::size_t i = 0, n = std::size_t(w) * std::size_t(h); i < n; ++i, p += 8)
        d[i] = {detail::from_le<float>(p), detail::from_le<float>(p + 4)};
    detail::require_finite_flow(view(f), where, "the file", path);
    return f;
}

/// Writes a field as a Middlebury .flo file (little-endian), atomically (ferx/core/file_io.hpp). Throws ferx::error naming the file
/// when the field is empty or has a non-finite vector, or the file cannot be written.
inline void write_flo(const std::string& path, const const_flow_view<>& f) {
    const char* where = "ferx::write_flo";
    if (f.empty()) throw error(where, "the flow is empty", path);
    detail::require_finite_flow(f, where, "the flow", path);
    std::vector<unsigned char> bytes(12 + std::size_t(f.size()) * 8);
    detail::to_le(detail::flo_tag, bytes.data());
    detail::to_le(static_cast<std::int32_t>(f.cols()), bytes.data() + 4);
    detail::to_le(static_cast<std::int32_t>(f.rows()), bytes.data() + 8);
    unsigned char* p = bytes.data() + 12;
    for (index_t y = 0; y < f.rows(); ++y)
        for (index_t x = 0; x < f.cols(); ++x, p += 8) {
            detail::to_le(f(y, x).u, p);
            detail::to_le(f(y, x).v, p + 4);
        }
    write_file_atomically(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), where);
}

namespace detail {
inline constexpr int kitti_max_side = 1 << 15;
inline std::uint32_t from_be32(const unsigned char* p) {
    return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | std::uint32_t(p[3]);
}
/// Checks a KITTI flow file's PNG header before anything is decoded: the PNG signature, an IHDR
/// of a 16-bit RGB image, sides of 1 to 2^15 pixels, and a pixel count that the file's compressed
/// bytes can hold (zlib expands at most 1032:1), so a small or corrupt file never makes the
/// decoder allocate gigabytes.
inline void check_kitti_header(const std::vector<unsigned char>& b, const char* where, const std::string& path) {
    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (b.size() < 8 || std::memcmp(b.data(), signature, 8) != 0)
        throw error(where, "not a PNG file (a KITTI flow file is a 3-channel 16-bit PNG)", path);
    if (b.size() < 33 || std::memcmp(b.data() + 12, "IHDR", 4) != 0)
        throw error(where, "the PNG has no IHDR header (truncated or corrupt)", path);
    const std::uint32_t w = from_be32(b.data() + 16), h = from_be32(b.data() + 20);
    const int depth = b[24], colour = b[25];
    if (depth != 16 || colour != 2)
        throw error(where, "a KITTI flow file is a 3-channel 16-bit PNG, got one of " + std::to_string(depth) +
                               " bits per sample, colour type " + std::to_string(colour) +
                               (colour == 0 ? " (grey)" : colour == 2 ? " (RGB)" : colour == 3 ? " (palette)" : colour == 4 ? " (grey + alpha)" : colour == 6 ? " (RGBA)" : ""),
                    path);
    if (w < 1 || h < 1 || w > std::uint32_t(kitti_max_side) || h > std::uint32_t(kitti_max_side))
        throw error(where, "implausible size " + std::to_string(w) + "x" + std::to_string(h) + " (1 to " +
                               std::to_string(kitti_max_side) + " pixels a side)", path);
    const double raw = double(h) * (1.0 + 6.0 * double(w));  // a filter byte per row, 6 bytes per pixel
    if (raw > 1032.0 * double(b.size()) + 65536.0)
        throw error(where, "the PNG declares " + std::to_string(w) + "x" + std::to_string(h) + " pixels, more than its " +
                               std::to_string(b.size()) + " bytes can hold (truncated or corrupt)", path);
}
}  // namespace detail

/// Reads a KITTI 16-bit PNG flow file (3 channels, 16 bits). Pixels with B = 0 are invalid and
/// get a zero vector. Throws ferx::error naming the file when it cannot be read, is not a PNG of a
/// 3-channel 16-bit image, declares more pixels than the file can hold or sides over 2^15 pixels
/// (checked before decoding), or has a B channel other than 0 or 1.
inline masked_flow read_kitti_flow(const std::string& path) {
    const char* where = "ferx::read_kitti_flow";
    std::ifstream in(path, std::ios::binary);
    if (!in) throw error(where, "cannot open the file", path);
    const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw error(where, "cannot read the file", path);
    detail::check_kitti_header(bytes, where, path);
    cv::Mat m;
    try {
        m = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
    } catch (const cv::Exception& e) {
        throw error(where, std::string("OpenCV cannot decode the file: ") + e.what(), path);
    }
    if (m.empty()) throw error(where, "cannot read the file as an image", path);
    if (m.type() != CV_16UC3)
        throw error(where, "a KITTI flow file is a 3-channel 16-bit PNG, got " + detail::cv_type_name(m.type()), path);
    masked_flow r{make_flow_field(m.rows, m.cols), image<std::uint8_t>(std::array<std::size_t, 2>{std::size_t(m.rows), std::size_t(m.cols)})};
    for (int y = 0; y < m.rows; ++y) {
        const auto* row = m.ptr<cv::Vec3w>(y);  // OpenCV's channel order: B, G, R
        for (int x = 0; x < m.cols; ++x) {
            const auto b = row[x][0];
            if (b > 1)
                throw error(where, "the validity channel must be 0 or 1, got " + std::to_string(b) + " at row " +
                                       std::to_string(y) + ", column " + std::to_string(x), path);
            r.valid(y, x) = static_cast<std::uint8_t>(b);
            r.flow(y, x) = b ? flow_vector{(float(row[x][2]) - 32768.f) / 64.f, (float(row[x][1]) - 32768.f) / 64.f}
                             : flow_vector{};
        }
    }
    return r;
}

/// Writes a KITTI 16-bit PNG flow file. `valid` (optional, the field's size) marks the pixels that
/// have a vector; components are rounded to 1/64 pixel and must lie within ±511.98 pixels. The
/// file is written atomically (ferx/core/file_io.hpp).
inline void write_kitti_flow(const std::string& path, const const_flow_view<>& f,
                             const image_view<const std::uint8_t>& valid = {}) {
    const char* where = "ferx::write_kitti_flow";
    if (f.empty()) throw error(where, "the flow is empty", path);
    if (!valid.empty() && (valid.rows() != f.rows() || valid.cols() != f.cols()))
        throw error(where, "the validity mask differs in size from the flow", path);
    detail::require_finite_flow(f, where, "the flow", path);
    cv::Mat m(static_cast<int>(f.rows()), static_cast<int>(f.cols()), CV_16UC3);
    for (int y = 0; y < m.rows; ++y) {
        auto* row = m.ptr<cv::Vec3w>(y);
        for (int x = 0; x < m.cols; ++x) {
            const bool ok = valid.empty() || valid(y, x) != 0;
            if (!ok) {
                row[x] = cv::Vec3w(0, 0, 0);
                continue;
            }
            const double u = std::nearbyint(double(f(y, x).u) * 64.0) + 32768.0, v = std::nearbyint(double(f(y, x).v) * 64.0) + 32768.0;
            if (u < 0 || u > 65535 || v < 0 || v > 65535)
                throw error(where, "a vector at row " + std::to_string(y) + ", column " + std::to_string(x) +
                                       " exceeds the format's ±512 pixels", path);
            row[x] = cv::Vec3w(1, static_cast<std::uint16_t>(v), static_cast<std::uint16_t>(u));
        }
    }
    write_image(path, m, where);
}

FERX_NAMESPACE_END
