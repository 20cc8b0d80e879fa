// libFuzzer harness for the choice of docs/limits.md ("The XML reader"): the same input through
// ferx's own reader (ferx/detect/detail/xml.hpp) and through pugixml (Debian's libpugixml-dev),
// and, when both accept it, the element trees compared (names, attributes, the text's
// whitespace-separated tokens). Disagreements are counted, not fatal: the two parsers accept
// different XML subsets by design. At exit the harness prints the tally and each parser's time;
// with FERX_XML_DIFF_OPENCV=1 it also asks OpenCV's own reader (cv::FileStorage, the parser
// ferx must agree with; not instrumented, so used when replaying a corpus, not while fuzzing),
// and with FERX_XML_DIFF_SHOW=1 it prints each disagreement.
#include "fuzz_support.hpp"

#include <ferx/detect/cascade.hpp>
#include <ferx/detect/detail/xml.hpp>

#include <opencv2/core.hpp>
#include <pugixml.hpp>

#include <chrono>
#include <cstring>
#include <vector>

namespace {

struct tally {
    long inputs = 0, both_refuse = 0, both_accept_same = 0, both_accept_differ = 0, only_ferx = 0, only_pugixml = 0;
    long opencv_checked = 0, opencv_agrees_with_ferx = 0, opencv_agrees_with_pugixml = 0;
    long cascade_ok = 0;
    double ferx_s = 0, pugixml_s = 0;
    ~tally() {
        if (inputs == 0) return;
        std::fprintf(stderr,
                     "xml-diff: %ld inputs: both refuse %ld, both accept and agree %ld, both accept and differ %ld, "
                     "only ferx accepts %ld, only pugixml accepts %ld; loadable cascades %ld; time ferx %.3f s, "
                     "pugixml %.3f s\n",
                     inputs, both_refuse, both_accept_same, both_accept_differ, only_ferx, only_pugixml, cascade_ok,
                     ferx_s, pugixml_s);
        if (opencv_checked)
            std::fprintf(stderr, "xml-diff: OpenCV FileStorage on %ld inputs: agrees with ferx %ld, with pugixml %ld\n",
                         opencv_checked, opencv_agrees_with_ferx, opencv_agrees_with_pugixml);
    }
} counts;

bool env(const char* name) {
    const char* v = std::getenv(name);
    return v && *v && std::strcmp(v, "0") != 0;
}

std::vector<std::string> tokens(const std::string& s) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && std::strchr(" \t\r\n", s[i]) && s[i]) ++i;
        const std::size_t b = i;
        while (i < s.size() && !(std::strchr(" \t\r\n", s[i]) && s[i])) ++i;
        if (i > b) out.push_back(s.substr(b, i - b));
    }
    return out;
}

/// The text of a pugixml element: its PCDATA and CDATA children, concatenated.
std::string pugi_text(const pugi::xml_node& n) {
    std::string t;
    for (auto c : n.children())
        if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) t += c.value();
    return t;
}

/// Empty when the trees agree, else where they first differ.
std::string compare(const ferx::detail::xml_element& a, const pugi::xml_node& b) {
    if (a.name != b.name()) return a.path + ": name '" + a.name + "' vs '" + b.name() + "'";
    std::vector<std::pair<std::string, std::string>> battr;
    for (auto at : b.attributes()) battr.emplace_back(at.name(), at.value());
    if (battr != a.attributes) return a.path + ": attributes differ";
    if (tokens(a.text) != tokens(pugi_text(b))) return a.path + ": text differs";
    std::size_t k = 0;
    for (auto c : b.children()) {
        if (c.type() != pugi::node_element) continue;
        if (k >= a.children.size()) return a.path + ": pugixml has more children";
        const std::string d = compare(*a.children[k++], c);
        if (!d.empty()) return d;
    }
    if (k != a.children.size()) return a.path + ": ferx has more children";
    return {};
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string doc = fuzz::text(data, size);
    ++counts.inputs;
    auto t0 = std::chrono::steady_clock::now();
    std::unique_ptr<ferx::detail::xml_element> root;
    std::string ferx_why;
    fuzz::refuses_cleanly([&] {
        try {
            root = ferx::detail::xml_parser("fuzz.xml", "fuzz").parse(doc);
        } catch (const ferx::error& e) {
            ferx_why = e.reason();
            throw;
        }
    });
    counts.ferx_s += seconds_since(t0);

    t0 = std::chrono::steady_clock::now();
    pugi::xml_document pdoc;
    const pugi::xml_parse_result pr = pdoc.load_buffer(data, size, pugi::parse_default, pugi::encoding_utf8);
    // ferx reads one root element; pugixml accepts several top-level elements.
    int top = 0;
    for (auto c : pdoc.children()) top += c.type() == pugi::node_element;
    const bool pugi_ok = pr && top == 1;
    counts.pugixml_s += seconds_since(t0);

    const bool show = env("FERX_XML_DIFF_SHOW");
    if (root && pugi_ok) {
        const std::string d = compare(*root, pdoc.document_element());
        if (d.empty()) ++counts.both_accept_same;
        else {
            ++counts.both_accept_differ;
            if (show) std::fprintf(stderr, "xml-diff: trees differ at %s\n", d.c_str());
        }
    } else if (root) {
        ++counts.only_ferx;
        if (show) std::fprintf(stderr, "xml-diff: only ferx accepts (pugixml: %s at offset %td)\n", pr.description(), pr.offset);
    } else if (pugi_ok) {
        ++counts.only_pugixml;
        if (show) std::fprintf(stderr, "xml-diff: only pugixml accepts (ferx: %s)\n", ferx_why.c_str());
    } else {
        ++counts.both_refuse;
    }
    if (root && fuzz::refuses_cleanly([&] { (void)ferx::parse_cascade(doc, "fuzz.xml"); })) ++counts.cascade_ok;

    if (env("FERX_XML_DIFF_OPENCV")) {
        bool cv_ok = false;
        try {
            cv::FileStorage fs(doc, cv::FileStorage::READ | cv::FileStorage::MEMORY | cv::FileStorage::FORMAT_XML);
            cv_ok = fs.isOpened();
        } catch (const cv::Exception&) {
        }
        ++counts.opencv_checked;
        counts.opencv_agrees_with_ferx += cv_ok == static_cast<bool>(root);
        counts.opencv_agrees_with_pugixml += cv_ok == pugi_ok;
        if (show)
            std::fprintf(stderr, "xml-diff: OpenCV %s, ferx %s, pugixml %s\n", cv_ok ? "accepts" : "refuses",
                         root ? "accepts" : "refuses", pugi_ok ? "accepts" : "refuses");
    }
    return 0;
}
