/// \file ferx/learn/model_io.hpp
/// The model file format of ferx: one text format, versioned and checksummed, for fitted models
/// and preprocessors. This header is the format alone (header, sections, checksum, reader,
/// writer, errors); each model type's section is written and read by its own header
/// (`write_section` / `read_section`, found by argument-dependent lookup): scalers in
/// learn/scaling.hpp, PCA in learn/pca.hpp, linear SVMs in learn/linear_svm.hpp, kernel SVMs in
/// learn/kernel_svm.hpp, the dense head in learn/dense_head.hpp, the pipeline in
/// pipeline/pipeline.hpp. A file holds one or more sections (e.g. a scaler, then the SVM that was
/// trained on its output), read back in the order written:
///
///     ferx::model_writer w;  w.add(scaler);  w.add(svm);  w.save("expr.ferx");
///     ferx::model_reader r("expr.ferx");
///     auto scaler = r.read<ferx::standard_scaler>();
///     auto svm = r.read<ferx::svc_model<ferx::rbf_kernel, float>>();
///     // or, for one object: ferx::save_model(path, m);  ferx::load_model<M>(path)
///
/// Format (ASCII, whitespace-separated tokens, one record per line; see docs/learn.md):
///
///     ferx-model 1                       magic and format version
///     section <kind> ...                 per object: kind, then its fields as `key values...`
///     end <fnv1a-64 hex>                 checksum of every byte before this line
///
/// Numbers are written with max_digits10 digits, so a round trip is exact. A missing file, a
/// truncated or corrupted file (checksum), another version, a section of another kind, or a
/// kernel / value type other than the one asked for gives a ferx::error naming the file.
///
/// A new model type M becomes serialisable with two functions in its own header, in namespace
/// ferx (beside M):
///
///     void write_section(model_writer& w, const M& m);   // w.begin_section("kind") << fields
///     void read_section(model_reader& r, M& m);          // r.begin_section("kind"); r.expect(...)
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/file_io.hpp>
#include <ferx/core/samples.hpp>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

FERX_NAMESPACE_BEGIN

/// The version written by this ferx; files of other versions are refused.
inline constexpr int model_format_version = 1;

class model_reader;
class model_writer;

namespace detail {

inline std::uint64_t fnv1a(const std::string& s) {
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    return h;
}

template <class T>
void write_values(std::ostream& o, const char* key, const T* v, std::size_t n) {
    o << key;
    for (std::size_t i = 0; i < n; ++i) o << ' ' << v[i];
    o << '\n';
}
template <class T>
void write_values(std::ostream& o, const char* key, const std::vector<T>& v) {
    o << key << ' ' << v.size();
    for (const auto& x : v) o << ' ' << x;
    o << '\n';
}

inline const char* strategy_name(multiclass s) { return s == multiclass::one_vs_one ? "ovo" : "ovr"; }
template <class T>
const char* value_type_name() { return std::is_same<T, float>::value ? "float32" : "float64"; }

/// `tasks P a0 b0 a1 b1 ...`: the binary tasks of a multiclass model.
inline void write_tasks(std::ostream& o, const std::vector<binary_task>& tasks) {
    o << "tasks " << tasks.size();
    for (const auto& t : tasks) o << ' ' << t.positive << ' ' << t.negative;
    o << '\n';
}

/// Whether M has a section writer / reader (found by argument-dependent lookup).
template <class M, class = void>
struct has_write_section : std::false_type {};
template <class M>
struct has_write_section<M, std::void_t<decltype(write_section(std::declval<model_writer&>(), std::declval<const M&>()))>>
    : std::true_type {};
template <class M, class = void>
struct has_read_section : std::false_type {};
template <class M>
struct has_read_section<M, std::void_t<decltype(read_section(std::declval<model_reader&>(), std::declval<M&>()))>>
    : std::true_type {};

}  // namespace detail

/// Reads the sections of a model file, in order. The whole file is checked (magic, version,
/// checksum) on construction.
class model_reader {
public:
    explicit model_reader(std::string path) : path_(std::move(path)) {
        std::ifstream in(path_, std::ios::binary);
        if (!in) fail("cannot open the model file");
        std::ostringstream all;
        all << in.rdbuf();
        const std::string text = all.str();
        const std::size_t end = text.rfind("\nend ");
        if (end == std::string::npos) fail("no end record: the file is truncated or not a ferx model");
        const std::string body = text.substr(0, end + 1);
        std::istringstream tail(text.substr(end + 5));
        std::string sum;
        tail >> sum;
        std::ostringstream want;
        want << std::hex << std::setw(16) << std::setfill('0') << detail::fnv1a(body);
        if (sum != want.str()) fail("checksum mismatch: the file is corrupted or was edited");
        in_.str(body);
        body_bytes_ = body.size();
        if (word() != "ferx-model") fail("not a ferx model file (bad magic)");
        const long v = integer();
        if (v != model_format_version)
            fail("format version " + std::to_string(v) + ", this ferx reads version " + std::to_string(model_format_version));
    }

    const std::string& path() const { return path_; }

    /// The next section, as a T (a model or preprocessor type of ferx::learn).
    template <class M>
    M read() {
        static_assert(detail::has_read_section<M>::value,
                      "ferx::model_reader::read<M>: M has no read_section; include the header that defines M "
                      "(its serialiser lives beside it)");
        M m;
        read_section(*this, m);
        return m;
    }

    /// True when every section has been read.
    bool done() {
        in_ >> std::ws;
        return in_.peek() == std::char_traits<char>::eof();
    }

    // Token access, for the section readers.
    std::string word() {
        std::string w;
        if (!(in_ >> w)) fail("unexpected end of data");
        return w;
    }
    void expect(const std::string& w) {
        const std::string got = word();
        if (got != w) fail("expected '" + w + "', found '" + got + "'");
    }
    double number() {
        const std::string w = word();
        char* end = nullptr;
        errno = 0;
        const double v = std::strtod(w.c_str(), &end);
        if (end == w.c_str() || *end != '\0' || errno == ERANGE || !std::isfinite(v)) fail("bad number '" + w + "'");
        return v;
    }
    long integer() {
        const double v = number();
        if (v != std::floor(v) || std::abs(v) > 1e15) fail("expected an integer");
        return static_cast<long>(v);
    }
    std::size_t count(std::size_t limit = std::size_t(1) << 32) {
        const long v = integer();
        if (v < 0 || static_cast<std::size_t>(v) > limit) fail("count out of range");
        return static_cast<std::size_t>(v);
    }
    std::vector<double> numbers(const std::string& key) {
        expect(key);
        const std::size_t n = count();
        require_values(n, 1, "'" + key + "'");
        std::vector<double> v(n);
        for (auto& x : v) x = number();
        return v;
    }
    [[noreturn]] void fail(const std::string& why) const { throw error("ferx::model_reader", why, path_); }

    /// Bytes of the file not read yet (the end record excluded).
    std::size_t remaining() {
        const auto at = in_.tellg();
        return at < 0 || static_cast<std::size_t>(at) > body_bytes_ ? 0 : body_bytes_ - static_cast<std::size_t>(at);
    }
    /// Checks, before a section reader allocates for them, that the `rows` x `cols` values a
    /// count of the file declares can be in the rest of it (each value takes at least two bytes,
    /// a digit and a separator): a corrupt count gives a ferx::error naming `what`, never a huge
    /// allocation.
    void require_values(std::size_t rows, std::size_t cols, const std::string& what) {
        const std::size_t left = remaining();
        if (cols != 0 && rows > left / 2 / cols)
            fail(what + " declares " + std::to_string(rows) + (cols == 1 ? "" : " x " + std::to_string(cols)) +
                 " values, more than the " + std::to_string(left) + " bytes left in the file can hold (truncated or corrupt)");
    }

    /// Consumes the header of a section of kind `kind`; the section's reader then reads its
    /// fields with word(), number(), ...
    void begin_section(const char* kind) {
        expect("section");
        const std::string k = word();
        if (k != kind) fail(std::string("expected a '") + kind + "' section, found '" + k + "'");
    }
    /// `strategy ovo|ovr`.
    multiclass read_strategy() {
        expect("strategy");
        const std::string s = word();
        if (s != "ovo" && s != "ovr") fail("unknown multiclass strategy '" + s + "'");
        return s == "ovo" ? multiclass::one_vs_one : multiclass::one_vs_rest;
    }
    /// `tasks P a0 b0 ...`, each class in 0..n_classes-1 (b: -1 for one-vs-rest); at least one.
    std::vector<binary_task> read_tasks(int n_classes) {
        expect("tasks");
        const std::size_t n = count(1u << 20);
        require_values(n, 2, "'tasks'");
        std::vector<binary_task> t(n);
        for (auto& b : t) {
            b.positive = static_cast<int>(integer());
            b.negative = static_cast<int>(integer());
            if (b.positive < 0 || b.positive >= n_classes || b.negative < -1 || b.negative >= n_classes)
                fail("task class out of range");
        }
        if (t.empty()) fail("no binary tasks");
        return t;
    }

private:
    std::string path_;
    std::istringstream in_;
    std::size_t body_bytes_ = 0;
};

/// Collects sections and writes them as one model file.
class model_writer {
public:
    model_writer() {
        out_ << std::setprecision(std::numeric_limits<double>::max_digits10);
        out_ << "ferx-model " << model_format_version << '\n';
    }

    /// Appends m as a section (its write_section, found by argument-dependent lookup).
    template <class M>
    void add(const M& m) {
        static_assert(detail::has_write_section<M>::value,
                      "ferx::model_writer::add: M has no write_section; include the header that defines M "
                      "(its serialiser lives beside it)");
        write_section(*this, m);
    }

    /// Starts a section of kind `kind` and returns the stream its fields go to, one
    /// `key values...` record per line (tokens without spaces), numbers at max_digits10.
    std::ostream& begin_section(const std::string& kind) {
        out_ << "section " << kind << '\n';
        return out_;
    }

    /// The file's text (header, sections, end record).
    std::string str() const {
        const std::string body = out_.str();
        std::ostringstream o;
        o << body << "end " << std::hex << std::setw(16) << std::setfill('0') << detail::fnv1a(body) << '\n';
        return o.str();
    }

    /// Writes the file atomically (ferx/core/file_io.hpp): a model already at `path` is replaced
    /// only once the new one is complete on disk, and survives, byte for byte, a save that fails
    /// part-way. ferx::error naming the file and the system's reason when that fails.
    void save(const std::string& path) const {
        write_file_atomically(path, str(), "ferx::model_writer::save");
    }

private:
    std::ostringstream out_;
};

/// Writes one model or preprocessor to `path`.
template <class M>
void save_model(const std::string& path, const M& m) {
    model_writer w;
    w.add(m);
    w.save(path);
}

/// Reads a file of one section of type M.
template <class M>
M load_model(const std::string& path) {
    model_reader r(path);
    M m = r.read<M>();
    if (!r.done()) r.fail("more sections than the one asked for");
    return m;
}

FERX_NAMESPACE_END
