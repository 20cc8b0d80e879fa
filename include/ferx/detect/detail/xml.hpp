/// \file ferx/detect/detail/xml.hpp
/// A small, strict XML reader for OpenCV's cascade files: elements, attributes, text, comments,
/// CDATA, the XML declaration and a UTF-8 byte-order mark (no DTDs, no entities beyond the five
/// predefined ones and character references, no namespaces). Kept beside pugixml on purpose:
/// docs/limits.md, "The XML reader", has the comparison.
/// Iterative (no recursion), so deep or hostile input cannot overflow the stack; every failure is
/// a ferx::error naming the file and the line.
#pragma once

#include <ferx/core/error.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

FERX_NAMESPACE_BEGIN

namespace detail {

/// One XML element: its name, attributes, the concatenation of its text (without comments),
/// its child elements in document order, and where it is (line, and a readable path).
struct xml_element {
    std::string name;
    std::vector<std::pair<std::string, std::string>> attributes;
    std::string text;
    std::vector<std::unique_ptr<xml_element>> children;
    int line = 0;
    std::string path;  ///< e.g. "opencv_storage/cascade/stages/_[3]/stageThreshold"
    std::size_t items = 0;  ///< children named "_" (OpenCV's sequence items) so far

    /// The first child called `n`, or null.
    const xml_element* child(const std::string& n) const {
        for (const auto& c : children)
            if (c->name == n) return c.get();
        return nullptr;
    }
    /// The value of attribute `n`, or null.
    const std::string* attribute(const std::string& n) const {
        for (const auto& a : attributes)
            if (a.first == n) return &a.second;
        return nullptr;
    }
};

/// The parser: builds the element tree of a whole document held in memory.
class xml_parser {
public:
    /// \param what   the file name (or "<memory>") used in error messages
    /// \param where  the ferx function reported in error messages
    xml_parser(std::string what, const char* where) : file_(std::move(what)), where_(where) {}

    /// Parses `doc`; returns the root element.
    std::unique_ptr<xml_element> parse(const std::string& doc) {
        s_ = &doc;
        pos_ = doc.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;  // a UTF-8 byte-order mark, as OpenCV skips it
        line_ = 1;
        std::unique_ptr<xml_element> root;
        std::vector<xml_element*> stack;
        for (;;) {
            const std::size_t lt = doc.find('<', pos_);
            const std::size_t text_end = lt == std::string::npos ? doc.size() : lt;
            append_text(stack, pos_, text_end);
            if (lt == std::string::npos) break;
            pos_ = lt;
            if (starts_with("<!--")) {
                const std::size_t end = doc.find("-->", pos_ + 4);
                if (end == std::string::npos) fail("unterminated comment");
                advance_to(end + 3);
            } else if (starts_with("<?")) {
                const std::size_t end = doc.find("?>", pos_ + 2);
                if (end == std::string::npos) fail("unterminated processing instruction");
                advance_to(end + 2);
            } else if (starts_with("<![CDATA[")) {
                const std::size_t end = doc.find("]]>", pos_ + 9);
                if (end == std::string::npos) fail("unterminated CDATA section");
                if (stack.empty()) fail("text outside the root element");
                stack.back()->text.append(doc, pos_ + 9, end - pos_ - 9);
                advance_to(end + 3);
            } else if (starts_with("<!")) {
                fail("DTDs and declarations are not supported");
            } else if (starts_with("</")) {
                advance_to(pos_ + 2);
                const std::string name = read_name();
                skip_space();
                expect('>');
                if (stack.empty()) fail("closing tag </" + name + "> without an open element");
                if (stack.back()->name != name)
                    fail("closing tag </" + name + "> does not match <" + stack.back()->name +
                         "> opened at line " + std::to_string(stack.back()->line));
                stack.pop_back();
            } else {
                advance_to(pos_ + 1);
                auto el = std::make_unique<xml_element>();
                el->line = line_;
                el->name = read_name();
                bool self_closing = false;
                for (;;) {
                    skip_space();
                    if (pos_ >= doc.size()) fail("unterminated tag <" + el->name + ">");
                    if (doc[pos_] == '>') {
                        advance_to(pos_ + 1);
                        break;
                    }
                    if (starts_with("/>")) {
                        advance_to(pos_ + 2);
                        self_closing = true;
                        break;
                    }
                    std::string an = read_name();
                    skip_space();
                    expect('=');
                    skip_space();
                    el->attributes.emplace_back(std::move(an), read_quoted());
                }
                xml_element* raw = el.get();
                if (stack.empty()) {
                    if (root) fail("a second root element <" + el->name + ">");
                    raw->path = raw->name;
                    root = std::move(el);
                } else {
                    xml_element* parent = stack.back();
                    // Counted, not searched: a scan of the siblings made a parent of n children
                    // cost n^2 / 2 name comparisons (seconds for a few hundred thousand).
                    raw->path = parent->path + "/" + raw->name +
                                (raw->name == "_" ? "[" + std::to_string(parent->items++) + "]" : "");
                    parent->children.push_back(std::move(el));
                }
                if (!self_closing) {
                    if (stack.size() >= max_depth) fail("elements nested too deeply");
                    stack.push_back(raw);
                }
            }
        }
        if (!stack.empty())
            fail("the document ends inside <" + stack.back()->name + "> opened at line " +
                 std::to_string(stack.back()->line) + " (truncated file?)");
        if (!root) fail("no root element (empty or not an XML file)");
        return root;
    }

    [[noreturn]] void fail(const std::string& why) const {
        throw error(where_, "XML error at line " + std::to_string(line_) + ": " + why, file_);
    }

private:
    static constexpr std::size_t max_depth = 256;

    bool starts_with(const char* lit) const { return s_->compare(pos_, std::char_traits<char>::length(lit), lit) == 0; }

    void advance_to(std::size_t p) {
        const std::size_t e = p < s_->size() ? p : s_->size();
        if (e > pos_) line_ += static_cast<int>(std::count(s_->begin() + static_cast<std::ptrdiff_t>(pos_), s_->begin() + static_cast<std::ptrdiff_t>(e), '\n'));
        if (e > pos_) pos_ = e;
    }
    void skip_space() {
        while (pos_ < s_->size() && is_space((*s_)[pos_])) advance_to(pos_ + 1);
    }
    static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
    static bool is_name_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-' || c == '.' || c == ':';
    }
    void expect(char c) {
        if (pos_ >= s_->size() || (*s_)[pos_] != c) fail(std::string("expected '") + c + "'");
        advance_to(pos_ + 1);
    }
    std::string read_name() {
        const std::size_t b = pos_;
        while (pos_ < s_->size() && is_name_char((*s_)[pos_])) ++pos_;
        if (pos_ == b) fail("expected a name");
        return s_->substr(b, pos_ - b);
    }
    std::string read_quoted() {
        if (pos_ >= s_->size() || ((*s_)[pos_] != '"' && (*s_)[pos_] != '\''))
            fail("expected a quoted attribute value");
        const char q = (*s_)[pos_];
        const std::size_t end = s_->find(q, pos_ + 1);
        if (end == std::string::npos) fail("unterminated attribute value");
        std::string v = s_->substr(pos_ + 1, end - pos_ - 1);
        advance_to(end + 1);
        return v;
    }
    void append_text(std::vector<xml_element*>& stack, std::size_t b, std::size_t e) {
        if (e <= b) return;
        bool blank = true;
        for (std::size_t i = b; i < e; ++i) blank = blank && is_space((*s_)[i]);
        if (!blank && stack.empty()) fail("text outside the root element");
        if (!stack.empty()) {
            std::string& t = stack.back()->text;
            for (std::size_t i = b; i < e;) {  // decode the predefined entities
                if ((*s_)[i] != '&') {  // a run of plain characters, appended at once
                    const auto b0 = s_->begin();
                    const std::size_t run_end = static_cast<std::size_t>(
                        std::find(b0 + static_cast<std::ptrdiff_t>(i), b0 + static_cast<std::ptrdiff_t>(e), '&') - b0);
                    t.append(*s_, i, run_end - i);
                    i = run_end;
                    continue;
                }
                static const char* const names[] = {"&lt;", "&gt;", "&amp;", "&quot;", "&apos;"};
                static const char chars[] = {'<', '>', '&', '"', '\''};
                bool found = false;
                for (int k = 0; k < 5 && !found; ++k) {
                    const std::size_t n = std::char_traits<char>::length(names[k]);
                    if (s_->compare(i, n, names[k]) == 0) {
                        t += chars[k];
                        i += n;
                        found = true;
                    }
                }
                if (!found && s_->compare(i, 2, "&#") == 0) {  // a character reference, as OpenCV reads it
                    const std::size_t semi = s_->find(';', i);
                    if (semi != std::string::npos && semi < e && semi - i <= 10) {
                        const bool hex = (*s_)[i + 2] == 'x';
                        const char* b = s_->data() + i + 2 + (hex ? 1 : 0);
                        const char* end = s_->data() + semi;
                        std::uint32_t cp = 0;
                        const auto r = std::from_chars(b, end, cp, hex ? 16 : 10);
                        if (r.ec == std::errc() && r.ptr == end && b != end && cp >= 1 && cp <= 0x10FFFF &&
                            (cp < 0xD800 || cp > 0xDFFF)) {
                            append_utf8(t, cp);
                            i = semi + 1;
                            found = true;
                        }
                    }
                    if (!found) {
                        advance_to(i);  // the error's line is the reference's
                        fail("bad character reference (&#N; or &#xH; of a Unicode character)");
                    }
                }
                if (!found) {
                    advance_to(i);
                    fail("unknown entity (only &lt; &gt; &amp; &quot; &apos; and character references are read)");
                }
            }
        }
        advance_to(e);
    }

    static void append_utf8(std::string& t, std::uint32_t cp) {
        if (cp < 0x80) {
            t += static_cast<char>(cp);
        } else if (cp < 0x800) {
            t += static_cast<char>(0xC0 | (cp >> 6));
            t += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            t += static_cast<char>(0xE0 | (cp >> 12));
            t += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            t += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            t += static_cast<char>(0xF0 | (cp >> 18));
            t += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            t += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            t += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    const std::string* s_ = nullptr;
    std::size_t pos_ = 0;
    int line_ = 1;
    std::string file_;
    const char* where_;
};

/// Reads a whole file into memory; ferx::error names the file if it cannot.
inline std::string read_text_file(const std::string& path, const char* where) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw error(where, "cannot open the file (missing or unreadable)", path);
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw error(where, "cannot read the file", path);
    return ss.str();
}

/// Whitespace-separated numbers of an element's text, checked one by one.
class xml_numbers {
public:
    xml_numbers(const xml_element& el, std::string file, const char* where)
        : el_(&el), file_(std::move(file)), where_(where) {
        const std::string& t = el.text;
        std::size_t i = 0;
        while (i < t.size()) {
            while (i < t.size() && is_space(t[i])) ++i;
            const std::size_t b = i;
            while (i < t.size() && !is_space(t[i])) ++i;
            if (i > b) tokens_.emplace_back(b, i - b);
        }
    }

    std::size_t size() const { return tokens_.size(); }

    /// Token k as a finite double (parsed independently of the C locale).
    double real(std::size_t k) const {
        const std::string tok = token(k);
        const char* b = tok.data() + (!tok.empty() && tok[0] == '+' ? 1 : 0);
        const char* e = tok.data() + tok.size();
        double v = 0;
        const auto r = std::from_chars(b, e, v);
        if (r.ec != std::errc() || r.ptr != e || !std::isfinite(v)) fail("'" + tok + "' is not a finite number");
        return v;
    }
    /// Token k as a float (a finite value in float's range).
    float real32(std::size_t k) const {
        const double v = real(k);
        if (std::fabs(v) > static_cast<double>(std::numeric_limits<float>::max()))
            fail("value " + token(k) + " is outside the range of float");
        return static_cast<float>(v);
    }
    /// Token k as an integer in [lo, hi].
    long long integer(std::size_t k, long long lo, long long hi) const {
        const std::string tok = token(k);
        const char* b = tok.data() + (!tok.empty() && tok[0] == '+' ? 1 : 0);
        const char* e = tok.data() + tok.size();
        long long v = 0;
        const auto r = std::from_chars(b, e, v);
        if (r.ec != std::errc() || r.ptr != e) fail("'" + tok + "' is not an integer");
        if (v < lo || v > hi)
            fail("value " + tok + " is outside [" + std::to_string(lo) + ", " +
                 std::to_string(hi) + "]");
        return v;
    }

    [[noreturn]] void fail(const std::string& why) const {
        throw error(where_, "<" + el_->path + "> (line " + std::to_string(el_->line) + "): " + why,
                    file_);
    }

private:
    static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
    std::string token(std::size_t k) const {
        if (k >= tokens_.size())
            fail("expected at least " + std::to_string(k + 1) + " numbers, found " +
                 std::to_string(tokens_.size()));
        return el_->text.substr(tokens_[k].first, tokens_[k].second);
    }

    const xml_element* el_;
    std::vector<std::pair<std::size_t, std::size_t>> tokens_;
    std::string file_;
    const char* where_;
};

}  // namespace detail

FERX_NAMESPACE_END
