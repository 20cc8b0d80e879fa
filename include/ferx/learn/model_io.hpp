/// \file ferx/learn/model_io.hpp
/// Saving and loading fitted models and preprocessors: one text format, versioned and
/// checksummed. A file holds one or more sections (e.g. a scaler, then the SVM that was trained
/// on its output), read back in the order written:
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
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/learn/kernel_svm.hpp>
#include <ferx/learn/linear_svm.hpp>
#include <ferx/learn/pca.hpp>
#include <ferx/learn/scaling.hpp>

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
#include <vector>

FERX_NAMESPACE_BEGIN

/// The version written by this ferx; files of other versions are refused.
inline constexpr int model_format_version = 1;

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

inline void write_kernel(std::ostream& o, const linear_kernel&) { o << "kernel linear\n"; }
inline void write_kernel(std::ostream& o, const poly_kernel& k) { o << "kernel poly " << k.gamma << ' ' << k.coef0 << ' ' << k.degree << '\n'; }
inline void write_kernel(std::ostream& o, const rbf_kernel& k) { o << "kernel rbf " << k.gamma << '\n'; }
inline void write_kernel(std::ostream& o, const sigmoid_kernel& k) { o << "kernel sigmoid " << k.gamma << ' ' << k.coef0 << '\n'; }
inline void write_kernel(std::ostream& o, const chi2_kernel& k) { o << "kernel chi2 " << k.gamma << '\n'; }
inline void write_kernel(std::ostream& o, const intersection_kernel&) { o << "kernel intersection\n"; }

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
        if (word() != "ferx-model") fail("not a ferx model file (bad magic)");
        const long v = integer();
        if (v != model_format_version)
            fail("format version " + std::to_string(v) + ", this ferx reads version " + std::to_string(model_format_version));
    }

    const std::string& path() const { return path_; }

    /// The next section, as a T (a model or preprocessor type of ferx::learn).
    template <class M>
    M read() {
        M m;
        read_section(m);
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
        std::vector<double> v(count());
        for (auto& x : v) x = number();
        return v;
    }
    [[noreturn]] void fail(const std::string& why) const { throw error("ferx::model_reader", why, path_); }

    /// Consumes the header of a section of kind `kind` (for readers of sections defined outside
    /// this file, which then read their fields with word(), number(), ...).
    void begin_section(const char* kind) { begin(kind); }

private:
    void begin(const char* kind) {
        expect("section");
        const std::string k = word();
        if (k != kind) fail(std::string("expected a '") + kind + "' section, found '" + k + "'");
    }
    multiclass read_strategy() {
        expect("strategy");
        const std::string s = word();
        if (s != "ovo" && s != "ovr") fail("unknown multiclass strategy '" + s + "'");
        return s == "ovo" ? multiclass::one_vs_one : multiclass::one_vs_rest;
    }
    std::vector<binary_task> read_tasks(int n_classes) {
        expect("tasks");
        std::vector<binary_task> t(count(1u << 20));
        for (auto& b : t) {
            b.positive = static_cast<int>(integer());
            b.negative = static_cast<int>(integer());
            if (b.positive < 0 || b.positive >= n_classes || b.negative < -1 || b.negative >= n_classes)
                fail("task class out of range");
        }
        if (t.empty()) fail("no binary tasks");
        return t;
    }

    void read_section(standard_scaler& s) {
        begin("standard_scaler");
        s.mean = numbers("mean");
        s.scale = numbers("scale");
        if (s.scale.size() != s.mean.size()) fail("mean and scale differ in length");
        for (double v : s.scale)
            if (!(v > 0)) fail("scale must be positive");
    }
    void read_section(minmax_scaler& s) {
        begin("minmax_scaler");
        expect("interval");
        s.lo = number();
        s.hi = number();
        s.min = numbers("min");
        s.range = numbers("range");
        if (s.range.size() != s.min.size() || !(s.lo < s.hi)) fail("inconsistent min-max scaler");
    }
    void read_section(pca_model& p) {
        begin("pca");
        expect("whiten");
        p.whiten = integer() != 0;
        p.mean = numbers("mean");
        p.explained_variance = numbers("explained_variance");
        expect("components");
        const std::size_t k = count(), d = count();
        if (d != p.mean.size() || k != p.explained_variance.size() || k == 0) fail("inconsistent PCA shapes");
        p.components = xt::xtensor<double, 2>({k, d});
        for (auto& v : p.components) v = number();
    }
    void read_section(linear_svm_model& m) {
        begin("linear_svm");
        expect("dim");
        m.dim = count();
        expect("n_classes");
        m.n_classes = static_cast<int>(count(1u << 16));
        m.strategy = read_strategy();
        expect("bias");
        m.bias = number();
        m.tasks = read_tasks(m.n_classes);
        expect("weights");
        if (count() != m.tasks.size() || count() != m.dim + 1) fail("weights shape does not match tasks and dim");
        m.w = xt::xtensor<double, 2>({m.tasks.size(), m.dim + 1});
        for (auto& v : m.w) v = number();
    }
    template <class Kernel, class T>
    void read_section(svc_model<Kernel, T>& m) {
        begin("svc");
        expect("kernel");
        const std::string name = word();
        if (name != Kernel::name)
            fail("the file holds a '" + name + "' kernel, the caller asked for '" + std::string(Kernel::name) + "'");
        read_kernel(m.kernel);
        m.kernel.check("ferx::model_reader");
        expect("value_type");
        if (word() != detail::value_type_name<T>())
            fail(std::string("the file's value type differs from the caller's (") + detail::value_type_name<T>() + ")");
        expect("dim");
        m.dim = count();
        expect("n_classes");
        m.n_classes = static_cast<int>(count(1u << 16));
        m.strategy = read_strategy();
        m.tasks = read_tasks(m.n_classes);
        const auto rho = numbers("rho");
        if (rho.size() != m.tasks.size()) fail("rho does not match the tasks");
        m.rho = rho;
        expect("probability");
        m.sigmoids.resize(count(m.tasks.size()));
        if (!m.sigmoids.empty() && m.sigmoids.size() != m.tasks.size()) fail("probability sigmoids do not match the tasks");
        for (auto& sg : m.sigmoids) {
            sg.a = number();
            sg.b = number();
        }
        expect("support_vectors");
        const std::size_t s_count = count(), p = m.tasks.size();
        m.support_index.resize(s_count);
        m.support_vectors = xt::xtensor<T, 2>({s_count, m.dim});
        m.coef = xt::xtensor<double, 2>({s_count, p});
        for (std::size_t s = 0; s < s_count; ++s) {
            expect("sv");
            m.support_index[s] = count(std::numeric_limits<std::size_t>::max() / 2);
            for (std::size_t q = 0; q < p; ++q) m.coef(s, q) = number();
            for (std::size_t j = 0; j < m.dim; ++j) m.support_vectors(s, j) = static_cast<T>(number());
        }
        m.iterations.assign(p, 0);
        m.objective.assign(p, 0.0);
    }
    void read_kernel(linear_kernel&) {}
    void read_kernel(poly_kernel& k) {
        k.gamma = number();
        k.coef0 = number();
        k.degree = static_cast<int>(integer());
    }
    void read_kernel(rbf_kernel& k) { k.gamma = number(); }
    void read_kernel(sigmoid_kernel& k) {
        k.gamma = number();
        k.coef0 = number();
    }
    void read_kernel(chi2_kernel& k) { k.gamma = number(); }
    void read_kernel(intersection_kernel&) {}

    std::string path_;
    std::istringstream in_;
};

/// Collects sections and writes them as one model file.
class model_writer {
public:
    model_writer() {
        out_ << std::setprecision(std::numeric_limits<double>::max_digits10);
        out_ << "ferx-model " << model_format_version << '\n';
    }

    void add(const standard_scaler& s) {
        out_ << "section standard_scaler\n";
        detail::write_values(out_, "mean", s.mean);
        detail::write_values(out_, "scale", s.scale);
    }
    void add(const minmax_scaler& s) {
        out_ << "section minmax_scaler\ninterval " << s.lo << ' ' << s.hi << '\n';
        detail::write_values(out_, "min", s.min);
        detail::write_values(out_, "range", s.range);
    }
    void add(const pca_model& p) {
        out_ << "section pca\nwhiten " << (p.whiten ? 1 : 0) << '\n';
        detail::write_values(out_, "mean", p.mean);
        detail::write_values(out_, "explained_variance", p.explained_variance);
        out_ << "components " << p.components.shape(0) << ' ' << p.components.shape(1) << '\n';
        for (std::size_t c = 0; c < p.components.shape(0); ++c)
            detail::write_values(out_, " ", p.components.data() + c * p.dim(), p.dim());
    }
    void add(const linear_svm_model& m) {
        out_ << "section linear_svm\ndim " << m.dim << "\nn_classes " << m.n_classes << "\nstrategy "
             << detail::strategy_name(m.strategy) << "\nbias " << m.bias << '\n';
        write_tasks(m.tasks);
        out_ << "weights " << m.w.shape(0) << ' ' << m.w.shape(1) << '\n';
        for (std::size_t p = 0; p < m.w.shape(0); ++p) detail::write_values(out_, " ", m.w.data() + p * m.w.shape(1), m.w.shape(1));
    }
    template <class Kernel, class T>
    void add(const svc_model<Kernel, T>& m) {
        out_ << "section svc\n";
        detail::write_kernel(out_, m.kernel);
        out_ << "value_type " << detail::value_type_name<T>() << "\ndim " << m.dim << "\nn_classes " << m.n_classes
             << "\nstrategy " << detail::strategy_name(m.strategy) << '\n';
        write_tasks(m.tasks);
        detail::write_values(out_, "rho", m.rho);
        out_ << "probability " << m.sigmoids.size();
        for (const auto& sg : m.sigmoids) out_ << ' ' << sg.a << ' ' << sg.b;
        out_ << '\n';
        const std::size_t p = m.tasks.size();
        out_ << "support_vectors " << m.n_support() << '\n';
        for (std::size_t s = 0; s < m.n_support(); ++s) {
            out_ << "sv " << m.support_index[s];
            for (std::size_t q = 0; q < p; ++q) out_ << ' ' << m.coef(s, q);
            for (std::size_t j = 0; j < m.dim; ++j) out_ << ' ' << m.support_vectors(s, j);
            out_ << '\n';
        }
    }

    /// Starts a section of kind `kind` defined outside this file and returns the stream its
    /// fields go to, one `key values...` record per line (tokens without spaces).
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

    /// Writes the file; ferx::error naming it when that fails.
    void save(const std::string& path) const {
        std::ofstream f(path, std::ios::binary | std::ios::trunc);
        const std::string text = str();
        if (!f || !f.write(text.data(), static_cast<std::streamsize>(text.size())) || !f.flush())
            throw error("ferx::model_writer", "cannot write the model file", path);
    }

private:
    void write_tasks(const std::vector<binary_task>& tasks) {
        out_ << "tasks " << tasks.size();
        for (const auto& t : tasks) out_ << ' ' << t.positive << ' ' << t.negative;
        out_ << '\n';
    }
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
