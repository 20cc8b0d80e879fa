/// \file ferx/data/ntu_skeleton.hpp
/// The NTU RGB+D `.skeleton` text format (NTU RGB+D 60 and 120, Kinect v2): the frame count,
/// then per frame the body count and per body one line of 10 header values, the joint count
/// (25) and one line of 12 values per joint:
///
///     <frames>
///     <bodies>                                   (per frame)
///     <id> <clipped edges> <hand L conf> <hand L state> <hand R conf> <hand R state>
///          <restricted> <lean x> <lean y> <tracking state>          (per body)
///     <joints>
///     <x> <y> <z> <depth x> <depth y> <colour x> <colour y>
///          <orientation w> <x> <y> <z> <tracking state>             (per joint)
///
/// x, y, z are camera-space metres; depth / colour are pixel coordinates in the depth (512x424)
/// and colour (1920x1080) images; the orientation is a quaternion (w, x, y, z). Every malformed
/// file gives a `ferx::error` that says what was wrong, where (frame, body, joint) and on which
/// line, and names the file. Declared counts are checked against the bytes left in the file
/// before anything is allocated, so a hostile count cannot make the reader allocate more than a
/// small multiple of the file's size.
#pragma once

#include <ferx/core/error.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <istream>
#include <iterator>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

FERX_NAMESPACE_BEGIN

/// One joint as the file gives it (12 values).
struct ntu_joint {
    double x = 0, y = 0, z = 0;                ///< camera space, metres
    double depth_x = 0, depth_y = 0;           ///< depth image, pixels
    double color_x = 0, color_y = 0;           ///< colour image, pixels
    double orientation_w = 0, orientation_x = 0, orientation_y = 0, orientation_z = 0;  ///< quaternion
    int tracking_state = 0;                    ///< 0 not tracked, 1 inferred, 2 tracked
};

/// One tracked body of a frame: its 10 header values and its joints.
struct ntu_body {
    std::uint64_t id = 0;        ///< Kinect tracking id (a 64-bit integer)
    int clipped_edges = 0;
    int hand_left_confidence = 0, hand_left_state = 0;
    int hand_right_confidence = 0, hand_right_state = 0;
    int is_restricted = 0;
    double lean_x = 0, lean_y = 0;
    int tracking_state = 0;
    std::vector<ntu_joint> joints;  ///< 25 for NTU RGB+D
};

/// One frame: the bodies tracked in it (none, one, or more; their order is the file's).
struct ntu_frame {
    std::vector<ntu_body> bodies;
};

/// A whole `.skeleton` file.
struct ntu_skeleton {
    std::vector<ntu_frame> frames;
    std::string source;  ///< the file name (or the name given to the buffer reader)
};

/// Limits of the reader.
struct ntu_skeleton_options {
    int joints = 25;                          ///< joints every body must declare; 0 accepts any count >= 1
    std::int64_t max_file_bytes = 1LL << 30;  ///< larger files and streams are refused
};

namespace detail {

/// A line cursor over the file's text: each call reads one whole line of exactly `n` numbers.
class ntu_skeleton_parser {
public:
    ntu_skeleton_parser(std::string_view text, const std::string& source) : text_(text), source_(source) {}

    ntu_skeleton parse(const ntu_skeleton_options& opt) {
        ntu_skeleton s;
        s.source = source_;
        const std::int64_t frames = count_line("the frame count", 2);
        s.frames.resize(static_cast<std::size_t>(frames));
        for (std::int64_t f = 0; f < frames; ++f) {
            const std::string at_f = "frame " + std::to_string(f);
            // The smallest body: a header line of 10 one-digit values (20 bytes), the joint count.
            const std::int64_t bodies = count_line("the body count of " + at_f, 22);
            auto& frame = s.frames[static_cast<std::size_t>(f)];
            frame.bodies.resize(static_cast<std::size_t>(bodies));
            for (std::int64_t b = 0; b < bodies; ++b) {
                const std::string at_b = "body " + std::to_string(b) + " of " + at_f;
                read_body_header(frame.bodies[static_cast<std::size_t>(b)], at_b);
                // The smallest joint line: 12 one-digit values and their separators (24 bytes).
                const std::int64_t joints = count_line("the joint count of " + at_b, 24);
                if (joints == 0 || (opt.joints > 0 && joints != opt.joints))
                    fail("the joint count of " + at_b + " is " + std::to_string(joints) + ", expected " +
                         (opt.joints > 0 ? std::to_string(opt.joints) : std::string("at least 1")));
                auto& body = frame.bodies[static_cast<std::size_t>(b)];
                body.joints.resize(static_cast<std::size_t>(joints));
                for (std::int64_t j = 0; j < joints; ++j)
                    read_joint(body.joints[static_cast<std::size_t>(j)], "joint " + std::to_string(j) + " of " + at_b);
            }
        }
        // Only blank lines may follow.
        while (pos_ < text_.size()) {
            const auto line = next_line();
            if (!blank(line)) fail("unexpected text after the last frame (the file declares " + std::to_string(frames) + " frames)");
        }
        return s;
    }

private:
    std::string_view text_;
    const std::string& source_;
    std::size_t pos_ = 0;
    std::int64_t line_no_ = 0;
    std::vector<std::string_view> tokens_;

    [[noreturn]] void fail(const std::string& why) const {
        throw error("ferx::load_ntu_skeleton", "line " + std::to_string(line_no_) + ": " + why, source_);
    }
    static bool blank(std::string_view line) {
        for (char c : line)
            if (c != ' ' && c != '\t' && c != '\r') return false;
        return true;
    }
    std::string_view next_line() {
        const std::size_t end = text_.find('\n', pos_);
        const std::size_t stop = end == std::string_view::npos ? text_.size() : end;
        const auto line = text_.substr(pos_, stop - pos_);
        pos_ = end == std::string_view::npos ? text_.size() : end + 1;
        ++line_no_;
        return line;
    }
    std::int64_t bytes_left() const { return static_cast<std::int64_t>(text_.size() - pos_); }

    /// Reads the next line, which must hold exactly `n` whitespace-separated tokens.
    void read_tokens(std::size_t n, const std::string& what) {
        if (pos_ >= text_.size()) {
            ++line_no_;
            fail("the file ends where " + what + " was expected (truncated file?)");
        }
        const auto line = next_line();
        tokens_.clear();
        std::size_t i = 0;
        while (i < line.size()) {
            while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
            const std::size_t start = i;
            while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
            if (i > start) tokens_.push_back(line.substr(start, i - start));
        }
        if (tokens_.size() != n)
            fail("expected " + std::to_string(n) + (n == 1 ? " value" : " values") + " for " + what + ", found " +
                 std::to_string(tokens_.size()));
    }
    std::string quoted(std::size_t k) const { return "'" + std::string(tokens_[k]) + "'"; }

    double real(std::size_t k, const std::string& what) const {
        const auto t = tokens_[k];
        double v = 0;
        const auto r = std::from_chars(t.data(), t.data() + t.size(), v);
        if (r.ec == std::errc::result_out_of_range) fail(what + " is out of range: " + quoted(k));
        if (r.ec != std::errc() || r.ptr != t.data() + t.size()) fail(what + " is not a number: " + quoted(k));
        if (!std::isfinite(v)) fail(what + " is not finite: " + quoted(k));
        return v;
    }
    template <class Int>
    Int integer(std::size_t k, const std::string& what) const {
        const auto t = tokens_[k];
        Int v = 0;
        const auto r = std::from_chars(t.data(), t.data() + t.size(), v);
        if (r.ec == std::errc::result_out_of_range) fail(what + " is out of range: " + quoted(k));
        if (r.ec != std::errc() || r.ptr != t.data() + t.size()) fail(what + " is not an integer: " + quoted(k));
        return v;
    }
    /// A count line: one non-negative integer, at most what the bytes left can hold when each
    /// counted item takes at least `min_bytes` (checked before the caller allocates).
    std::int64_t count_line(const std::string& what, std::int64_t min_bytes) {
        read_tokens(1, what);
        const auto n = integer<std::int64_t>(0, what);
        if (n < 0) fail(what + " is negative: " + quoted(0));
        if (n > bytes_left() / min_bytes + 1)
            fail(what + " is " + std::to_string(n) + ", more than the " + std::to_string(bytes_left()) +
                 " bytes left in the file can hold (truncated file or corrupt count?)");
        return n;
    }
    void read_body_header(ntu_body& b, const std::string& at) {
        read_tokens(10, "the header of " + at);
        const std::string w = "in the header of " + at + ", ";
        b.id = integer<std::uint64_t>(0, w + "the body id");
        b.clipped_edges = integer<int>(1, w + "clippedEdges");
        b.hand_left_confidence = integer<int>(2, w + "handLeftConfidence");
        b.hand_left_state = integer<int>(3, w + "handLeftState");
        b.hand_right_confidence = integer<int>(4, w + "handRightConfidence");
        b.hand_right_state = integer<int>(5, w + "handRightState");
        b.is_restricted = integer<int>(6, w + "isRestricted");
        b.lean_x = real(7, w + "leanX");
        b.lean_y = real(8, w + "leanY");
        b.tracking_state = integer<int>(9, w + "trackingState");
    }
    void read_joint(ntu_joint& j, const std::string& at) {
        read_tokens(12, at);
        static const char* names[11] = {"x", "y", "z", "depthX", "depthY", "colorX", "colorY",
                                        "orientationW", "orientationX", "orientationY", "orientationZ"};
        double* fields[11] = {&j.x, &j.y, &j.z, &j.depth_x, &j.depth_y, &j.color_x, &j.color_y,
                              &j.orientation_w, &j.orientation_x, &j.orientation_y, &j.orientation_z};
        for (std::size_t k = 0; k < 11; ++k) *fields[k] = real(k, std::string(names[k]) + " of " + at);
        j.tracking_state = integer<int>(11, "trackingState of " + at);
    }
};

}  // namespace detail

/// Parses the text of a `.skeleton` file held in memory; `source_name` names it in errors.
/// The entry point for buffers (and fuzzers): it reads nothing else.
inline ntu_skeleton parse_ntu_skeleton(std::string_view text, const std::string& source_name,
                                       const ntu_skeleton_options& opt = {}) {
    if (static_cast<std::int64_t>(text.size()) > opt.max_file_bytes)
        throw error("ferx::load_ntu_skeleton",
                    "the file has " + std::to_string(text.size()) + " bytes, more than max_file_bytes = " +
                        std::to_string(opt.max_file_bytes),
                    source_name);
    return detail::ntu_skeleton_parser(text, source_name).parse(opt);
}

/// Reads a `.skeleton` file from a stream (up to `opt.max_file_bytes`), then parses it.
inline ntu_skeleton read_ntu_skeleton(std::istream& in, const std::string& source_name,
                                      const ntu_skeleton_options& opt = {}) {
    std::string text;
    char chunk[1 << 16];
    while (in) {
        in.read(chunk, sizeof chunk);
        text.append(chunk, static_cast<std::size_t>(in.gcount()));
        if (static_cast<std::int64_t>(text.size()) > opt.max_file_bytes)
            throw error("ferx::load_ntu_skeleton",
                        "the stream holds more than max_file_bytes = " + std::to_string(opt.max_file_bytes) + " bytes",
                        source_name);
    }
    if (in.bad()) throw error("ferx::load_ntu_skeleton", "reading the stream failed", source_name);
    return parse_ntu_skeleton(text, source_name, opt);
}

/// Reads a `.skeleton` file.
inline ntu_skeleton load_ntu_skeleton(const std::filesystem::path& file, const ntu_skeleton_options& opt = {}) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw error("ferx::load_ntu_skeleton", "cannot open the file", file.string());
    return read_ntu_skeleton(in, file.string(), opt);
}

FERX_NAMESPACE_END
