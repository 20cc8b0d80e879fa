/// \file ferx/pipeline/spec.hpp
/// What a classical pipeline is made of, as a typed value and as a one-line string:
/// preprocess -> descriptor(s), concatenated -> scaler -> PCA -> classifier.
///
///     ferx::pipeline_spec s = ferx::parse_spec("hog+lbp_u2:std:rbf(C=10)");
///     std::string text = ferx::format_spec(s);   // every parameter, canonical; parses back to s
///
/// Grammar: stages separated by ':'; the first is the descriptors joined by '+', the last the
/// classifier; between them, in any order, at most one each of a scaler, a PCA and a
/// preprocessing stage. Each item is a name with optional `(key=value,...)`; keys left out
/// keep the defaults of the parameter structs. No spaces.
///
///   descriptors  hog(cell=8,block=16,stride=8,bins=9,signed=0,gamma=1)          (hog_params<>, L2-Hys)
///                lbp_u2 | lbp_riu2 | lbp_none (points=8,radius=1,grid=6,overlap=0)  (lbp_params<M>)
///                lpq(window=7,decorrelate=1,rho=0.9,grid=6,overlap=0)           (lpq_params)
///                sizes (cell, block, stride, grid) are N or RxC (rows x cols)
///   clip         lbp_top(map=u2,rx=1,ry=1,rt=1,pxy=8,pxt=8,pyt=8,grid=4x4x1,overlap=0)  (lbp_top_params<M>;
///   descriptors    map=u2|riu2|none; r=R sets the three radii, points=P the three point counts)
///                lpq_top(wxy=5,wxt=5,wyt=5,decorrelate=1,rho=0.9,grid=4x4x1,overlap=0)   (lpq_top_params;
///                  window=W sets the three windows)
///                vlpq(ws=3,wt=3,rho_s=0.8,rho_t=0.6,L=10,grid=1x1x1,overlap=0)          (vlpq_params)
///                clip grids are N (N x N x 1), RxC (R x C x 1) or RxCxS (rows x cols x time slices)
///   clip         clip(frames=all|half|uniform|tsn,n=8,ref=last|middle|first,detect=ref|each,box=median|union)
///                  how a clip becomes the volume the descriptors see (ferx/pipeline/clip_pipeline.hpp);
///                  present (with its defaults) whenever a clip descriptor is; makes the pipeline a
///                  clip pipeline, whose frame descriptors describe the reference frame
///   scaler       std (zero mean, unit variance per feature; the default) | minmax ([0, 1]) | none
///   pca          pca(k=100,whiten=0)                                            (no PCA by default)
///   preprocess   pre(size=48,eq=global|clahe|none,clip=2,tiles=6,norm=none|unit|std,pad=0,
///                    align=0,source=crop|largest|confident|all,scale=1.1,neighbors=3,min=30)
///   classifier   linear(C=1,strategy=ovr)                                       (fit_linear_svm)
///                rbf(C=1,gamma=scale) | poly(C=1,gamma=scale,coef0=0,degree=3) |
///                sigmoid(C=1,gamma=scale,coef0=0) | chi2(C=1,gamma=scale) | intersection(C=1)
///                  with prob=0|1 (Platt probabilities) and strategy=ovo|ovr   (fit_svc, ovo default)
///                gamma=scale: 1 / (d * variance of all features), fixed at fit time.
///
/// A malformed string gives a ferx::error that quotes the offending part.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/data/clips.hpp>
#include <ferx/features/hog.hpp>
#include <ferx/features/lbp.hpp>
#include <ferx/features/lbp_top.hpp>
#include <ferx/features/lpq.hpp>
#include <ferx/features/lpq_top.hpp>
#include <ferx/features/vlpq.hpp>
#include <ferx/learn/dataset.hpp>
#include <ferx/pipeline/preprocess.hpp>

#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

FERX_NAMESPACE_BEGIN

/// One descriptor of a pipeline: a typed parameter struct (visited once per batch). The frame
/// descriptors (hog, lbp, lpq) describe an image; the clip descriptors (lbp_top, lpq_top, vlpq:
/// is_clip_descriptor_v) a volume of frames, and only in a clip pipeline.
using descriptor_spec =
    std::variant<hog_params<hog_l2hys>, lbp_params<lbp_u2>, lbp_params<lbp_riu2>, lbp_params<lbp_none>, lpq_params,
                 lbp_top_params<lbp_u2>, lbp_top_params<lbp_riu2>, lbp_top_params<lbp_none>, lpq_top_params, vlpq_params>;

/// Whether a descriptor of a spec is a clip descriptor.
inline bool is_clip(const descriptor_spec& d) {
    return std::visit([](const auto& p) { return is_clip_descriptor_v<std::decay_t<decltype(p)>>; }, d);
}

/// Which frame of the selected clip is the reference: where frame descriptors are computed and,
/// with clip_detect::reference, where the face is detected.
enum class clip_reference { last, middle, first };

/// Where the face of a clip is detected (face sources other than crop).
enum class clip_detect {
    reference,  ///< once, on the reference frame: its box crops every frame
    each        ///< on every selected frame; the boxes found make one box (clip_params::box)
};

/// How per-frame boxes (clip_detect::each) become the clip's one crop box.
enum class clip_box {
    median,  ///< the component-wise median of the boxes' centres, widths and heights
    union_   ///< the smallest box holding them all
};

/// The clip stage: how a clip (its frames) becomes the volume [T, height, width] the descriptors
/// see. The frames are selected (ferx::select_frames; TSN with segment centres), then one crop box
/// per clip keeps the volume aligned (see ferx/pipeline/clip_pipeline.hpp).
struct clip_params {
    frame_selection::kind frames = frame_selection::kind::all;
    int count = 8;  ///< uniform: frames; tsn: segments
    clip_reference reference = clip_reference::last;
    clip_detect detect = clip_detect::reference;
    clip_box box = clip_box::median;
    frame_selection selection() const { return frame_selection{frames, count, std::nullopt}; }
};

/// Feature scaling after the descriptors.
enum class scaler_kind { none, standard, minmax };

/// PCA after scaling (components == 0: none).
struct pca_spec {
    std::size_t components = 0;
    bool whiten = false;
};

/// The classifier: LIBLINEAR-style linear SVM, or a kernel C-SVC with a typed kernel.
enum class classifier_kind { linear, rbf, poly, sigmoid, chi2, intersection };

struct classifier_spec {
    classifier_kind kind = classifier_kind::rbf;
    double C = 1.0;          ///< penalty, > 0
    double gamma = 0.0;      ///< kernel gamma; 0: "scale", 1 / (d * feature variance) at fit time
    double coef0 = 0.0;      ///< poly, sigmoid
    int degree = 3;          ///< poly
    bool probability = false;  ///< Platt probabilities as scores (kernel SVMs)
    multiclass strategy = multiclass::one_vs_one;  ///< kernel SVMs; linear SVMs use one-vs-rest unless told
};

/// A whole pipeline, every parameter. With `clip` set it is a clip pipeline (fit_clips,
/// predict_clips); a spec with a clip descriptor always has one.
struct pipeline_spec {
    preprocess_params preprocess;
    std::optional<clip_params> clip;
    std::vector<descriptor_spec> descriptors{hog_params<hog_l2hys>{}};
    scaler_kind scaler = scaler_kind::standard;
    pca_spec pca;
    classifier_spec classifier;
};

namespace detail {

inline constexpr const char* spec_where = "ferx::parse_spec";

/// The shortest decimal text that reads back as the same double.
inline std::string number_text(double v) {
    for (int digits = 6; digits <= 17; ++digits) {
        std::ostringstream o;
        o.precision(digits);
        o << v;
        if (std::strtod(o.str().c_str(), nullptr) == v) return o.str();
    }
    std::ostringstream o;
    o.precision(17);
    o << v;
    return o.str();
}

inline std::string size_text(const patch_size& s) {
    return s.rows == s.cols ? std::to_string(s.rows) : std::to_string(s.rows) + "x" + std::to_string(s.cols);
}

/// "name(k=v,...)" split into the name and its options, in order.
struct spec_item {
    std::string name;
    std::vector<std::pair<std::string, std::string>> options;
    std::string text;  // the item as written, for messages

    [[noreturn]] void fail(const std::string& why) const { throw error(spec_where, "'" + text + "': " + why); }
};

inline spec_item parse_item(const std::string& text) {
    spec_item it;
    it.text = text;
    const std::size_t open = text.find('(');
    it.name = text.substr(0, open);
    if (it.name.empty()) it.fail("empty name");
    if (open == std::string::npos) return it;
    if (text.back() != ')' || text.find('(', open + 1) != std::string::npos) it.fail("unbalanced parentheses");
    const std::string body = text.substr(open + 1, text.size() - open - 2);
    if (body.empty()) return it;
    std::stringstream ss(body);
    for (std::string kv; std::getline(ss, kv, ',');) {
        const std::size_t eq = kv.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == kv.size()) it.fail("options are key=value, got '" + kv + "'");
        it.options.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    }
    if (body.back() == ',') it.fail("trailing comma");
    return it;
}

inline double parse_number(const spec_item& it, const std::string& key, const std::string& v) {
    char* end = nullptr;
    errno = 0;
    const double d = std::strtod(v.c_str(), &end);
    if (v.empty() || end != v.c_str() + v.size() || errno == ERANGE || !std::isfinite(d))
        it.fail("option " + key + " needs a finite number, got '" + v + "'");
    return d;
}

inline long parse_whole(const spec_item& it, const std::string& key, const std::string& v, long lo, long hi) {
    const double d = parse_number(it, key, v);
    if (d != std::floor(d) || d < lo || d > hi)
        it.fail("option " + key + " must be a whole number in " + std::to_string(lo) + ".." + std::to_string(hi) +
                ", got '" + v + "'");
    return static_cast<long>(d);
}

inline bool parse_flag(const spec_item& it, const std::string& key, const std::string& v) {
    if (v == "1" || v == "true") return true;
    if (v == "0" || v == "false") return false;
    it.fail("option " + key + " must be 0 or 1, got '" + v + "'");
}

inline patch_size parse_size(const spec_item& it, const std::string& key, const std::string& v) {
    const std::size_t x = v.find('x');
    if (x == std::string::npos) {
        const long n = parse_whole(it, key, v, 1, 4096);
        return {n, n};
    }
    return {parse_whole(it, key, v.substr(0, x), 1, 4096), parse_whole(it, key, v.substr(x + 1), 1, 4096)};
}

/// Calls f(key, value) for each option; an option no handler takes is an error.
template <class F>
void for_options(const spec_item& it, F&& f) {
    for (const auto& kv : it.options)
        if (!f(kv.first, kv.second)) it.fail("unknown option '" + kv.first + "'");
}

inline bool grid_option(const spec_item& it, const std::string& k, const std::string& v, grid_spec& g) {
    if (k == "grid") g.cells = parse_size(it, k, v);
    else if (k == "overlap") g.overlap = parse_number(it, k, v);
    else return false;
    return true;
}

/// A clip grid: N (N x N x 1), RxC (R x C x 1) or RxCxS.
inline void parse_clip_grid(const spec_item& it, const std::string& key, const std::string& v, clip_grid& g) {
    const std::size_t x1 = v.find('x');
    const std::size_t x2 = x1 == std::string::npos ? x1 : v.find('x', x1 + 1);
    if (x2 == std::string::npos) {
        g.cells = parse_size(it, key, v);
        g.slices = 1;
        return;
    }
    g.cells = parse_size(it, key, v.substr(0, x2));
    g.slices = parse_whole(it, key, v.substr(x2 + 1), 1, 4096);
}

inline bool clip_grid_option(const spec_item& it, const std::string& k, const std::string& v, clip_grid& g) {
    if (k == "grid") parse_clip_grid(it, k, v, g);
    else if (k == "overlap") g.overlap = parse_number(it, k, v);
    else return false;
    return true;
}

template <class Mapping>
descriptor_spec parse_lbp_top(const spec_item& it) {
    lbp_top_params<Mapping> p;
    for_options(it, [&](const std::string& k, const std::string& v) {
        if (k == "map") return true;  // read by the caller
        if (k == "r") p.rx = p.ry = p.rt = parse_number(it, k, v);
        else if (k == "rx") p.rx = parse_number(it, k, v);
        else if (k == "ry") p.ry = parse_number(it, k, v);
        else if (k == "rt") p.rt = parse_number(it, k, v);
        else if (k == "points") p.p_xy = p.p_xt = p.p_yt = static_cast<int>(parse_whole(it, k, v, 1, 32));
        else if (k == "pxy") p.p_xy = static_cast<int>(parse_whole(it, k, v, 1, 32));
        else if (k == "pxt") p.p_xt = static_cast<int>(parse_whole(it, k, v, 1, 32));
        else if (k == "pyt") p.p_yt = static_cast<int>(parse_whole(it, k, v, 1, 32));
        else return clip_grid_option(it, k, v, p.grid);
        return true;
    });
    for (double r : {p.rx, p.ry, p.rt})
        if (!(r > 0) || r > 64) it.fail("the radii must be in (0, 64]");
    if (std::is_same<Mapping, lbp_none>::value && (p.p_xy > 16 || p.p_xt > 16 || p.p_yt > 16))
        it.fail("map=none needs at most 16 points per plane");
    return p;
}

template <class Mapping>
descriptor_spec parse_lbp(const spec_item& it) {
    lbp_params<Mapping> p;
    for_options(it, [&](const std::string& k, const std::string& v) {
        if (k == "points") p.points = static_cast<int>(parse_whole(it, k, v, 1, 32));
        else if (k == "radius") p.radius = parse_number(it, k, v);
        else return grid_option(it, k, v, p.grid);
        return true;
    });
    return p;
}

inline descriptor_spec parse_descriptor(const std::string& text) {
    const spec_item it = parse_item(text);
    if (it.name == "hog") {
        hog_params<hog_l2hys> p;
        for_options(it, [&](const std::string& k, const std::string& v) {
            if (k == "cell") p.cell = parse_size(it, k, v);
            else if (k == "block") p.block = parse_size(it, k, v);
            else if (k == "stride") p.block_stride = parse_size(it, k, v);
            else if (k == "bins") p.bins = static_cast<int>(parse_whole(it, k, v, 1, 255));
            else if (k == "signed") p.signed_gradient = parse_flag(it, k, v);
            else if (k == "gamma") p.gamma_correction = parse_flag(it, k, v);
            else return false;
            return true;
        });
        return p;
    }
    if (it.name == "lbp_u2" || it.name == "lbp") return parse_lbp<lbp_u2>(it);
    if (it.name == "lbp_riu2") return parse_lbp<lbp_riu2>(it);
    if (it.name == "lbp_none") return parse_lbp<lbp_none>(it);
    if (it.name == "lpq") {
        lpq_params p;
        for_options(it, [&](const std::string& k, const std::string& v) {
            if (k == "window") p.window = static_cast<int>(parse_whole(it, k, v, 3, 63));
            else if (k == "decorrelate") p.decorrelate = parse_flag(it, k, v);
            else if (k == "rho") p.rho = parse_number(it, k, v);
            else return grid_option(it, k, v, p.grid);
            return true;
        });
        return p;
    }
    if (it.name == "lbp_top") {
        std::string map = "u2";
        for (const auto& kv : it.options)
            if (kv.first == "map") map = kv.second;
        if (map == "u2") return parse_lbp_top<lbp_u2>(it);
        if (map == "riu2") return parse_lbp_top<lbp_riu2>(it);
        if (map == "none") return parse_lbp_top<lbp_none>(it);
        it.fail("option map must be one of u2, riu2, none, got '" + map + "'");
    }
    if (it.name == "lpq_top") {
        lpq_top_params p;
        for_options(it, [&](const std::string& k, const std::string& v) {
            if (k == "window") p.window_xy = p.window_xt = p.window_yt = static_cast<int>(parse_whole(it, k, v, 3, 63));
            else if (k == "wxy") p.window_xy = static_cast<int>(parse_whole(it, k, v, 3, 63));
            else if (k == "wxt") p.window_xt = static_cast<int>(parse_whole(it, k, v, 3, 63));
            else if (k == "wyt") p.window_yt = static_cast<int>(parse_whole(it, k, v, 3, 63));
            else if (k == "decorrelate") p.decorrelate = parse_flag(it, k, v);
            else if (k == "rho") p.rho = parse_number(it, k, v);
            else return clip_grid_option(it, k, v, p.grid);
            return true;
        });
        for (int w : {p.window_xy, p.window_xt, p.window_yt})
            if (w % 2 == 0) it.fail("the windows must be odd, got " + std::to_string(w));
        return p;
    }
    if (it.name == "vlpq") {
        vlpq_params p;
        for_options(it, [&](const std::string& k, const std::string& v) {
            if (k == "ws" || k == "window") p.window = static_cast<int>(parse_whole(it, k, v, 3, 63));
            else if (k == "wt") p.window_t = static_cast<int>(parse_whole(it, k, v, 3, 63));
            else if (k == "rho_s") p.rho_s = parse_number(it, k, v);
            else if (k == "rho_t") p.rho_t = parse_number(it, k, v);
            else if (k == "L") p.components = static_cast<int>(parse_whole(it, k, v, 1, 16));
            else return clip_grid_option(it, k, v, p.grid);
            return true;
        });
        if (p.window % 2 == 0 || p.window_t % 2 == 0) it.fail("the windows ws and wt must be odd");
        if (!(p.rho_s > 0 && p.rho_s < 1) || !(p.rho_t > 0 && p.rho_t < 1)) it.fail("rho_s and rho_t must be in (0, 1)");
        return p;
    }
    it.fail("unknown descriptor (hog, lbp_u2, lbp_riu2, lbp_none, lpq; clips: lbp_top, lpq_top, vlpq)");
}

template <class M>
const char* lbp_top_map(const lbp_top_params<M>&) {
    return std::is_same<M, lbp_u2>::value ? "u2" : std::is_same<M, lbp_riu2>::value ? "riu2" : "none";
}

inline std::string clip_grid_text(const clip_grid& g) {
    return "grid=" + std::to_string(g.cells.rows) + "x" + std::to_string(g.cells.cols) + "x" + std::to_string(g.slices) +
           ",overlap=" + number_text(g.overlap);
}

inline const char* lbp_name(const lbp_params<lbp_u2>&) { return "lbp_u2"; }
inline const char* lbp_name(const lbp_params<lbp_riu2>&) { return "lbp_riu2"; }
inline const char* lbp_name(const lbp_params<lbp_none>&) { return "lbp_none"; }

inline std::string grid_text(const grid_spec& g) {
    return "grid=" + size_text(g.cells) + ",overlap=" + number_text(g.overlap);
}

inline std::string format_descriptor(const descriptor_spec& d) {
    return std::visit(
        [](const auto& p) -> std::string {
            using P = std::decay_t<decltype(p)>;
            if constexpr (std::is_same<P, hog_params<hog_l2hys>>::value) {
                return "hog(cell=" + size_text(p.cell) + ",block=" + size_text(p.block) + ",stride=" +
                       size_text(p.block_stride) + ",bins=" + std::to_string(p.bins) +
                       ",signed=" + (p.signed_gradient ? "1" : "0") + ",gamma=" + (p.gamma_correction ? "1" : "0") + ")";
            } else if constexpr (std::is_same<P, lpq_top_params>::value) {
                return "lpq_top(wxy=" + std::to_string(p.window_xy) + ",wxt=" + std::to_string(p.window_xt) +
                       ",wyt=" + std::to_string(p.window_yt) + ",decorrelate=" + (p.decorrelate ? "1" : "0") +
                       ",rho=" + number_text(p.rho) + "," + clip_grid_text(p.grid) + ")";
            } else if constexpr (std::is_same<P, vlpq_params>::value) {
                return "vlpq(ws=" + std::to_string(p.window) + ",wt=" + std::to_string(p.window_t) +
                       ",rho_s=" + number_text(p.rho_s) + ",rho_t=" + number_text(p.rho_t) +
                       ",L=" + std::to_string(p.components) + "," + clip_grid_text(p.grid) + ")";
            } else if constexpr (is_clip_descriptor_v<P>) {  // lbp_top
                return std::string("lbp_top(map=") + lbp_top_map(p) + ",rx=" + number_text(p.rx) + ",ry=" +
                       number_text(p.ry) + ",rt=" + number_text(p.rt) + ",pxy=" + std::to_string(p.p_xy) +
                       ",pxt=" + std::to_string(p.p_xt) + ",pyt=" + std::to_string(p.p_yt) + "," +
                       clip_grid_text(p.grid) + ")";
            } else if constexpr (std::is_same<P, lpq_params>::value) {
                return "lpq(window=" + std::to_string(p.window) + ",decorrelate=" + (p.decorrelate ? "1" : "0") +
                       ",rho=" + number_text(p.rho) + "," + grid_text(p.grid) + ")";
            } else {
                return std::string(lbp_name(p)) + "(points=" + std::to_string(p.points) + ",radius=" +
                       number_text(p.radius) + "," + grid_text(p.grid) + ")";
            }
        },
        d);
}

inline const char* classifier_name(classifier_kind k) {
    switch (k) {
        case classifier_kind::linear: return "linear";
        case classifier_kind::rbf: return "rbf";
        case classifier_kind::poly: return "poly";
        case classifier_kind::sigmoid: return "sigmoid";
        case classifier_kind::chi2: return "chi2";
        case classifier_kind::intersection: return "intersection";
    }
    return "?";
}

inline classifier_spec parse_classifier(const std::string& text) {
    const spec_item it = parse_item(text);
    classifier_spec c;
    bool found = false;
    for (classifier_kind k : {classifier_kind::linear, classifier_kind::rbf, classifier_kind::poly,
                              classifier_kind::sigmoid, classifier_kind::chi2, classifier_kind::intersection})
        if (it.name == classifier_name(k)) {
            c.kind = k;
            found = true;
        }
    if (!found) it.fail("unknown classifier (linear, rbf, poly, sigmoid, chi2, intersection)");
    const bool linear = c.kind == classifier_kind::linear;
    if (linear) c.strategy = multiclass::one_vs_rest;
    const bool has_gamma = !linear && c.kind != classifier_kind::intersection;
    const bool has_coef0 = c.kind == classifier_kind::poly || c.kind == classifier_kind::sigmoid;
    for_options(it, [&](const std::string& k, const std::string& v) {
        if (k == "C") c.C = parse_number(it, k, v);
        else if (k == "gamma" && has_gamma) c.gamma = v == "scale" ? 0.0 : parse_number(it, k, v);
        else if (k == "coef0" && has_coef0) c.coef0 = parse_number(it, k, v);
        else if (k == "degree" && c.kind == classifier_kind::poly) c.degree = static_cast<int>(parse_whole(it, k, v, 1, 32));
        else if (k == "prob" && !linear) c.probability = parse_flag(it, k, v);
        else if (k == "strategy") {
            if (v != "ovo" && v != "ovr") it.fail("strategy must be ovo or ovr, got '" + v + "'");
            c.strategy = v == "ovo" ? multiclass::one_vs_one : multiclass::one_vs_rest;
        } else return false;
        return true;
    });
    if (!(c.C > 0)) it.fail("C must be positive");
    if (c.gamma < 0) it.fail("gamma must be positive (or scale)");
    return c;
}

inline std::string format_classifier(const classifier_spec& c) {
    std::string s = std::string(classifier_name(c.kind)) + "(C=" + number_text(c.C);
    if (c.kind != classifier_kind::linear && c.kind != classifier_kind::intersection)
        s += ",gamma=" + (c.gamma > 0 ? number_text(c.gamma) : std::string("scale"));
    if (c.kind == classifier_kind::poly || c.kind == classifier_kind::sigmoid) s += ",coef0=" + number_text(c.coef0);
    if (c.kind == classifier_kind::poly) s += ",degree=" + std::to_string(c.degree);
    if (c.kind != classifier_kind::linear) s += std::string(",prob=") + (c.probability ? "1" : "0");
    s += std::string(",strategy=") + (c.strategy == multiclass::one_vs_one ? "ovo" : "ovr") + ")";
    return s;
}

/// The spelling of each enumerator of equalization, intensity_norm and face_source, in order.
inline constexpr const char* equalization_names[] = {"none", "global", "clahe"};
inline constexpr const char* norm_names[] = {"none", "unit", "std"};
inline constexpr const char* source_names[] = {"crop", "largest", "confident", "all"};

/// The enumerator of E spelt `v` in `names` (indexed by the enumerator's value).
template <class E, std::size_t N>
E parse_choice(const spec_item& it, const std::string& key, const std::string& v, const char* const (&names)[N]) {
    std::string all;
    for (std::size_t i = 0; i < N; ++i) {
        if (v == names[i]) return static_cast<E>(i);
        all += (i ? ", " : "") + std::string(names[i]);
    }
    it.fail("option " + key + " must be one of " + all + ", got '" + v + "'");
}

inline void parse_preprocess(const spec_item& it, preprocess_params& p) {
    for_options(it, [&](const std::string& k, const std::string& v) {
        if (k == "size") {
            const patch_size s = parse_size(it, k, v);
            p.height = static_cast<int>(s.rows);
            p.width = static_cast<int>(s.cols);
        } else if (k == "eq") {
            p.equalize = parse_choice<equalization>(it, k, v, equalization_names);
        } else if (k == "clip") {
            p.clahe.clip_limit = parse_number(it, k, v);
        } else if (k == "tiles") {
            const patch_size s = parse_size(it, k, v);
            p.clahe.tiles_y = static_cast<int>(s.rows);
            p.clahe.tiles_x = static_cast<int>(s.cols);
        } else if (k == "norm") {
            p.normalize = parse_choice<intensity_norm>(it, k, v, norm_names);
        } else if (k == "pad") {
            p.pad = parse_number(it, k, v);
        } else if (k == "align") {
            p.align_eyes = parse_flag(it, k, v);
        } else if (k == "source") {
            p.source = parse_choice<face_source>(it, k, v, source_names);
        } else if (k == "scale") {
            p.detect.scale_factor = parse_number(it, k, v);
        } else if (k == "neighbors") {
            p.detect.min_neighbors = static_cast<int>(parse_whole(it, k, v, 0, 1000));
        } else if (k == "min") {
            p.detect.min_width = p.detect.min_height = static_cast<int>(parse_whole(it, k, v, 0, 100000));
        } else {
            return false;
        }
        return true;
    });
    try {
        check_preprocess_params(p);
    } catch (const error& e) {
        it.fail(e.reason());
    }
}

inline std::string format_preprocess(const preprocess_params& p) {
    return "pre(size=" + size_text({p.height, p.width}) + ",eq=" + equalization_names[static_cast<int>(p.equalize)] +
           ",clip=" + number_text(p.clahe.clip_limit) + ",tiles=" + size_text({p.clahe.tiles_y, p.clahe.tiles_x}) +
           ",norm=" + norm_names[static_cast<int>(p.normalize)] + ",pad=" + number_text(p.pad) +
           ",align=" + (p.align_eyes ? "1" : "0") + ",source=" + source_names[static_cast<int>(p.source)] +
           ",scale=" + number_text(p.detect.scale_factor) + ",neighbors=" + std::to_string(p.detect.min_neighbors) +
           ",min=" + std::to_string(p.detect.min_width) + ")";
}

inline constexpr const char* frames_names[] = {"all", "half", "uniform", "tsn"};
inline constexpr const char* reference_names[] = {"last", "middle", "first"};
inline constexpr const char* detect_names[] = {"ref", "each"};
inline constexpr const char* box_names[] = {"median", "union"};

inline void parse_clip(const spec_item& it, clip_params& c) {
    for_options(it, [&](const std::string& k, const std::string& v) {
        if (k == "frames") c.frames = parse_choice<frame_selection::kind>(it, k, v, frames_names);
        else if (k == "n") c.count = static_cast<int>(parse_whole(it, k, v, 1, 100000));
        else if (k == "ref") c.reference = parse_choice<clip_reference>(it, k, v, reference_names);
        else if (k == "detect") c.detect = parse_choice<clip_detect>(it, k, v, detect_names);
        else if (k == "box") c.box = parse_choice<clip_box>(it, k, v, box_names);
        else return false;
        return true;
    });
}

inline std::string format_clip(const clip_params& c) {
    return std::string("clip(frames=") + frames_names[static_cast<int>(c.frames)] + ",n=" + std::to_string(c.count) +
           ",ref=" + reference_names[static_cast<int>(c.reference)] + ",detect=" + detect_names[static_cast<int>(c.detect)] +
           ",box=" + box_names[static_cast<int>(c.box)] + ")";
}

/// Splits on a separator that is not inside parentheses.
inline std::vector<std::string> split_top(const std::string& s, char sep) {
    std::vector<std::string> out(1);
    int depth = 0;
    for (char c : s) {
        if (c == '(') ++depth;
        if (c == ')') --depth;
        if (depth < 0) throw error(spec_where, "unbalanced parentheses in '" + s + "'");
        if (c == sep && depth == 0) out.emplace_back();
        else out.back() += c;
    }
    if (depth != 0) throw error(spec_where, "unbalanced parentheses in '" + s + "'");
    return out;
}

}  // namespace detail

namespace detail {
inline pipeline_spec parse_spec_stages(const std::string& text) {
    if (text.empty()) throw error(spec_where, "the pipeline string is empty (e.g. \"hog:std:rbf\")");
    if (text.find_first_of(" \t\r\n") != std::string::npos)
        throw error(spec_where, "the pipeline string must not contain spaces: '" + text + "'");
    const std::vector<std::string> stages = split_top(text, ':');
    if (stages.size() < 2) throw error(spec_where, "'" + text + "' needs descriptors and a classifier, e.g. \"hog:rbf\"");
    pipeline_spec s;
    s.descriptors.clear();
    for (const std::string& d : split_top(stages.front(), '+')) {
        if (d.empty()) throw error(spec_where, "an empty descriptor in '" + stages.front() + "'");
        s.descriptors.push_back(parse_descriptor(d));
    }
    bool seen_scaler = false, seen_pca = false, seen_pre = false, seen_clip = false;
    for (std::size_t i = 1; i + 1 < stages.size(); ++i) {
        const spec_item it = parse_item(stages[i]);
        if (it.name == "std" || it.name == "minmax" || it.name == "none") {
            if (seen_scaler) it.fail("a second scaler");
            if (!it.options.empty()) it.fail("the scaler takes no options");
            seen_scaler = true;
            s.scaler = it.name == "std" ? scaler_kind::standard : it.name == "minmax" ? scaler_kind::minmax : scaler_kind::none;
        } else if (it.name == "pca") {
            if (seen_pca) it.fail("a second PCA");
            seen_pca = true;
            s.pca.components = 0;
            for_options(it, [&](const std::string& k, const std::string& v) {
                if (k == "k") s.pca.components = static_cast<std::size_t>(parse_whole(it, k, v, 1, 1 << 20));
                else if (k == "whiten") s.pca.whiten = parse_flag(it, k, v);
                else return false;
                return true;
            });
            if (s.pca.components == 0) it.fail("pca needs k=<components>");
        } else if (it.name == "pre") {
            if (seen_pre) it.fail("a second preprocessing stage");
            seen_pre = true;
            parse_preprocess(it, s.preprocess);
        } else if (it.name == "clip") {
            if (seen_clip) it.fail("a second clip stage");
            seen_clip = true;
            s.clip.emplace();
            parse_clip(it, *s.clip);
        } else {
            it.fail("unknown stage (std, minmax, none, pca(k=..), pre(...), clip(...)); the classifier comes last");
        }
    }
    s.classifier = parse_classifier(stages.back());
    for (const auto& d : s.descriptors)
        if (is_clip(d) && !s.clip) s.clip.emplace();
    if (s.clip) {
        if (s.preprocess.source == face_source::all)
            throw error(spec_where, "'source=all': a clip pipeline takes one face per clip (crop, largest or confident)");
    }
    return s;
}
}  // namespace detail

/// Parses a pipeline string (see the file comment). Throws ferx::error for a malformed string,
/// naming the whole string and the offending item.
inline pipeline_spec parse_spec(const std::string& text) {
    try {
        return detail::parse_spec_stages(text);
    } catch (const error& e) {
        if (text.empty()) throw;
        throw error(detail::spec_where, "in '" + text + "': " + e.reason());
    }
}

/// The canonical string of a spec: every parameter, in a fixed order; parse_spec reads it back.
inline std::string format_spec(const pipeline_spec& s) {
    using namespace detail;
    std::string out;
    for (const auto& d : s.descriptors) out += (out.empty() ? "" : "+") + format_descriptor(d);
    if (s.clip) out += ":" + format_clip(*s.clip);
    out += ":" + format_preprocess(s.preprocess);
    out += s.scaler == scaler_kind::standard ? ":std" : s.scaler == scaler_kind::minmax ? ":minmax" : ":none";
    if (s.pca.components > 0)
        out += ":pca(k=" + std::to_string(s.pca.components) + ",whiten=" + (s.pca.whiten ? "1" : "0") + ")";
    out += ":" + format_classifier(s.classifier);
    return out;
}

FERX_NAMESPACE_END
