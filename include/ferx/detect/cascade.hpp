/// \file ferx/detect/cascade.hpp
/// The boosted cascade model of Viola-Jones detectors (Haar or LBP features, stumps or trees)
/// and its loader for OpenCV's cascade XML files: the current `opencv-cascade-classifier` format
/// (BOOST stages, HAAR or LBP features, tilted Haar features, trees of any depth) and the old
/// `opencv-haar-classifier` format (converted on load). Every field is validated, so a model that
/// loads can be evaluated without any further check:
///
///     auto c = ferx::load_cascade("/usr/share/opencv4/haarcascades/haarcascade_frontalface_alt.xml");
///
/// A malformed, truncated or inconsistent file raises ferx::error naming the file, the element
/// (as a path like `cascade/stages/_[3]/weakClassifiers/_[5]/internalNodes`) and its line.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/detect/detail/xml.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN

/// The feature family of a cascade.
enum class cascade_feature { haar, lbp };

inline constexpr const char* to_string(cascade_feature f) { return f == cascade_feature::haar ? "HAAR" : "LBP"; }

/// A weighted rectangle of a Haar feature, in window pixels. Upright: the box [x, x+w) x [y, y+h).
/// Tilted (45 degrees): the rotated box with corners (x, y), (x+w, y+w), (x-h, y+h), (x+w-h, y+w+h).
struct haar_rect {
    int x = 0, y = 0, width = 0, height = 0;
    float weight = 0.f;
};

/// A Haar-like feature: the weighted sum of up to three rectangle sums.
struct haar_feature {
    haar_rect rects[3];
    int count = 0;        ///< rectangles used, 1 to 3
    bool tilted = false;  ///< sums over the 45-degree tilted integral image
};

/// A multi-block LBP feature: a 3 x 3 grid of blocks of width x height pixels, top-left at (x, y);
/// its value (0-255) compares the eight outer block sums with the centre block's.
struct lbp_feature {
    int x = 0, y = 0, width = 0, height = 0;
};

/// A node of a weak tree. `left`/`right` > 0: index of a child node (relative to the tree's first
/// node); <= 0: leaf number -left / -right (relative to the tree's first leaf).
/// Haar nodes go left when feature value < threshold; LBP nodes go left when the code's bit is set
/// in the node's 256-bit category subset.
struct cascade_node {
    int feature = 0;
    float threshold = 0.f;
    int left = 0, right = 0;
};

/// A weak tree: `nodes` internal nodes from `first_node`, nodes + 1 leaves from `first_leaf`.
struct cascade_tree {
    int first_node = 0, nodes = 0, first_leaf = 0;
};

/// A stage: trees [first_tree, first_tree + trees); the window passes when the sum of its trees'
/// leaves (accumulated in double) is not below `threshold` (the file's threshold minus 1e-5, in
/// float, as OpenCV does).
struct cascade_stage {
    int first_tree = 0, trees = 0;
    float threshold = 0.f;
};

/// A loaded, validated cascade.
struct cascade {
    cascade_feature feature_type = cascade_feature::haar;
    int window_width = 0, window_height = 0;  ///< the detection window, pixels
    std::vector<haar_feature> haar_features;  ///< feature_type == haar
    std::vector<lbp_feature> lbp_features;    ///< feature_type == lbp
    std::vector<cascade_stage> stages;
    std::vector<cascade_tree> trees;
    std::vector<cascade_node> nodes;
    std::vector<float> leaves;
    std::vector<std::uint32_t> subsets;  ///< LBP: 8 words (256 bits) per node
    int max_tree_nodes = 0;              ///< 1: every weak classifier is a stump
    bool has_tilted = false;             ///< some Haar feature is tilted
    std::string source;                  ///< the file it came from

    bool stump_based() const { return max_tree_nodes == 1; }
    std::size_t feature_count() const {
        return feature_type == cascade_feature::haar ? haar_features.size() : lbp_features.size();
    }
};

namespace detail {

inline constexpr const char* cascade_where = "ferx::load_cascade";
inline constexpr float cascade_threshold_eps = 1e-5f;
inline constexpr int lbp_subset_words = 8;

/// Reading helpers bound to one file.
struct cascade_reader {
    std::string file;

    [[noreturn]] void fail(const xml_element& el, const std::string& why) const {
        throw error(cascade_where, "<" + el.path + "> (line " + std::to_string(el.line) + "): " + why, file);
    }
    const xml_element& need(const xml_element& el, const char* name) const {
        const xml_element* c = el.child(name);
        if (!c) fail(el, std::string("missing element <") + name + ">");
        return *c;
    }
    xml_numbers numbers(const xml_element& el) const { return xml_numbers(el, file, cascade_where); }
    long long integer(const xml_element& el, long long lo, long long hi) const {
        const auto n = numbers(el);
        if (n.size() != 1) n.fail("expected one integer, found " + std::to_string(n.size()) + " values");
        return n.integer(0, lo, hi);
    }
    float real(const xml_element& el) const {
        const auto n = numbers(el);
        if (n.size() != 1) n.fail("expected one number, found " + std::to_string(n.size()) + " values");
        return n.real32(0);
    }
    std::string word(const xml_element& el) const {
        std::string s;
        for (char ch : el.text)
            if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') s += ch;
        return s;
    }
    /// Children named "_" (OpenCV's sequence items).
    static std::vector<const xml_element*> items(const xml_element& el) {
        std::vector<const xml_element*> out;
        for (const auto& c : el.children)
            if (c->name == "_") out.push_back(c.get());
        return out;
    }
};

/// The first four numbers as a box: x, y >= 0, width, height >= 1 (each at most 2^16).
inline void read_box(const xml_numbers& n, int& x, int& y, int& w, int& h) {
    x = static_cast<int>(n.integer(0, 0, 1 << 16));
    y = static_cast<int>(n.integer(1, 0, 1 << 16));
    w = static_cast<int>(n.integer(2, 1, 1 << 16));
    h = static_cast<int>(n.integer(3, 1, 1 << 16));
}

/// Upright rect inside the window; tilted rect's four corners inside it.
inline bool haar_rect_inside(const haar_rect& r, bool tilted, int ww, int wh) {
    if (r.width <= 0 || r.height <= 0 || r.x < 0 || r.y < 0) return false;
    if (!tilted) return r.x + r.width <= ww && r.y + r.height <= wh;
    return r.x - r.height >= 0 && r.x + r.width <= ww && r.y + r.width + r.height <= wh;
}

inline haar_feature read_haar_feature(const cascade_reader& rd, const xml_element& f, int ww, int wh) {
    haar_feature hf;
    const auto rects = cascade_reader::items(rd.need(f, "rects"));
    if (rects.empty() || rects.size() > 3)
        rd.fail(rd.need(f, "rects"), "a Haar feature needs 1 to 3 rectangles, found " + std::to_string(rects.size()));
    if (const xml_element* t = f.child("tilted")) hf.tilted = rd.integer(*t, 0, 1) != 0;
    for (std::size_t i = 0; i < rects.size(); ++i) {
        const auto n = rd.numbers(*rects[i]);
        if (n.size() != 5) n.fail("a rectangle is 'x y width height weight', found " + std::to_string(n.size()) + " values");
        haar_rect r;
        read_box(n, r.x, r.y, r.width, r.height);
        r.weight = n.real32(4);
        if (!haar_rect_inside(r, hf.tilted, ww, wh))
            n.fail("the " + std::string(hf.tilted ? "tilted " : "") + "rectangle " + std::to_string(r.x) + "," +
                   std::to_string(r.y) + " " + std::to_string(r.width) + "x" + std::to_string(r.height) +
                   " does not fit the " + std::to_string(ww) + "x" + std::to_string(wh) + " window");
        hf.rects[i] = r;
    }
    hf.count = static_cast<int>(rects.size());
    return hf;
}

/// Checks a tree's child links: every child index is after its parent (so evaluation ends),
/// every internal index is in range, and every leaf index is in [0, nodes].
inline void check_tree_links(const cascade_reader& rd, const xml_element& el, const cascade_node* nodes, int count) {
    for (int i = 0; i < count; ++i)
        for (int child : {nodes[i].left, nodes[i].right}) {
            if (child > 0 && (child <= i || child >= count))
                rd.fail(el, "node " + std::to_string(i) + " links to node " + std::to_string(child) +
                                " (children must follow their parent, within the tree's " + std::to_string(count) +
                                " nodes)");
            if (child <= 0 && -child > count)
                rd.fail(el, "node " + std::to_string(i) + " links to leaf " + std::to_string(-child) + " of " +
                                std::to_string(count + 1));
        }
}

/// The current format: <cascade type_id="opencv-cascade-classifier"> with stageType BOOST.
inline cascade read_new_cascade(const cascade_reader& rd, const xml_element& root) {
    cascade c;
    const std::string stage_type = rd.word(rd.need(root, "stageType"));
    if (stage_type != "BOOST")
        rd.fail(rd.need(root, "stageType"), "unsupported stage type '" + stage_type + "' (only BOOST)");
    const xml_element& ft = rd.need(root, "featureType");
    const std::string feature = rd.word(ft);
    if (feature == "HAAR")
        c.feature_type = cascade_feature::haar;
    else if (feature == "LBP")
        c.feature_type = cascade_feature::lbp;
    else
        rd.fail(ft, "unknown feature type '" + feature + "' (HAAR or LBP)");
    c.window_width = static_cast<int>(rd.integer(rd.need(root, "width"), 3, 4096));
    c.window_height = static_cast<int>(rd.integer(rd.need(root, "height"), 3, 4096));
    const xml_element& fp = rd.need(root, "featureParams");
    const xml_element& mc = rd.need(fp, "maxCatCount");
    const long long ncat = rd.integer(mc, 0, 1 << 20);
    const bool lbp = c.feature_type == cascade_feature::lbp;
    if (lbp && ncat != 256) rd.fail(mc, "LBP cascades have 256 categories, found " + std::to_string(ncat));
    if (!lbp && ncat != 0) rd.fail(mc, "Haar cascades have ordered features (maxCatCount 0), found " + std::to_string(ncat));

    // Features first, so that nodes can be checked against their number.
    const xml_element& fs = rd.need(root, "features");
    const auto feats = cascade_reader::items(fs);
    if (feats.empty()) rd.fail(fs, "no features");
    for (const xml_element* f : feats) {
        if (!lbp) {
            c.haar_features.push_back(read_haar_feature(rd, *f, c.window_width, c.window_height));
            c.has_tilted = c.has_tilted || c.haar_features.back().tilted;
        } else {
            const auto n = rd.numbers(rd.need(*f, "rect"));
            if (n.size() != 4) n.fail("an LBP rect is 'x y width height', found " + std::to_string(n.size()) + " values");
            lbp_feature lf;
            read_box(n, lf.x, lf.y, lf.width, lf.height);
            if (lf.x + 3 * lf.width > c.window_width || lf.y + 3 * lf.height > c.window_height)
                n.fail("the 3x3 block grid does not fit the window");
            c.lbp_features.push_back(lf);
        }
    }
    const long long nfeat = static_cast<long long>(feats.size());

    const xml_element& ss = rd.need(root, "stages");
    const auto stages = cascade_reader::items(ss);
    if (stages.empty()) rd.fail(ss, "no stages");
    if (const xml_element* sn = root.child("stageNum")) {
        const long long declared = rd.integer(*sn, 0, 1 << 20);
        if (declared != static_cast<long long>(stages.size()))
            rd.fail(*sn, "stageNum says " + std::to_string(declared) + " stages, the file has " +
                             std::to_string(stages.size()));
    }
    const std::size_t node_step = lbp ? 3 + lbp_subset_words : 4;
    for (const xml_element* st : stages) {
        cascade_stage stage;
        stage.threshold = rd.real(rd.need(*st, "stageThreshold")) - cascade_threshold_eps;
        const xml_element& wcs = rd.need(*st, "weakClassifiers");
        const auto weak = cascade_reader::items(wcs);
        if (weak.empty()) rd.fail(wcs, "a stage without weak classifiers");
        stage.first_tree = static_cast<int>(c.trees.size());
        stage.trees = static_cast<int>(weak.size());
        for (const xml_element* w : weak) {
            const xml_element& in = rd.need(*w, "internalNodes");
            const xml_element& lv = rd.need(*w, "leafValues");
            const auto nn = rd.numbers(in);
            const auto ln = rd.numbers(lv);
            if (nn.size() == 0 || nn.size() % node_step != 0)
                nn.fail("expected a multiple of " + std::to_string(node_step) + " values (" +
                        (lbp ? "left right feature + 8 subset words" : "left right feature threshold") +
                        " per node), found " + std::to_string(nn.size()));
            cascade_tree tree;
            tree.first_node = static_cast<int>(c.nodes.size());
            tree.first_leaf = static_cast<int>(c.leaves.size());
            tree.nodes = static_cast<int>(nn.size() / node_step);
            if (ln.size() != static_cast<std::size_t>(tree.nodes) + 1)
                ln.fail("a tree of " + std::to_string(tree.nodes) + " nodes needs " + std::to_string(tree.nodes + 1) +
                        " leaves, found " + std::to_string(ln.size()));
            for (int k = 0; k < tree.nodes; ++k) {
                const std::size_t b = static_cast<std::size_t>(k) * node_step;
                cascade_node node;
                node.left = static_cast<int>(nn.integer(b, -tree.nodes, tree.nodes));
                node.right = static_cast<int>(nn.integer(b + 1, -tree.nodes, tree.nodes));
                node.feature = static_cast<int>(nn.integer(b + 2, 0, nfeat - 1));
                if (lbp) {
                    for (int j = 0; j < lbp_subset_words; ++j)
                        c.subsets.push_back(static_cast<std::uint32_t>(
                            static_cast<std::int32_t>(nn.integer(b + 3 + static_cast<std::size_t>(j), INT32_MIN, INT32_MAX))));
                } else {
                    node.threshold = nn.real32(b + 3);
                }
                c.nodes.push_back(node);
            }
            check_tree_links(rd, in, c.nodes.data() + tree.first_node, tree.nodes);
            for (std::size_t k = 0; k < ln.size(); ++k) c.leaves.push_back(ln.real32(k));
            c.max_tree_nodes = std::max(c.max_tree_nodes, tree.nodes);
            c.trees.push_back(tree);
        }
        c.stages.push_back(stage);
    }
    return c;
}

/// The old format (<name type_id="opencv-haar-classifier">): <size>, stages of <trees> of node
/// lists with inline features; converted to the current model. Stages must form a chain (parent
/// = previous stage, next = -1), as every shipped file does.
inline cascade read_old_cascade(const cascade_reader& rd, const xml_element& root) {
    cascade c;
    c.feature_type = cascade_feature::haar;
    const auto sz = rd.numbers(rd.need(root, "size"));
    if (sz.size() != 2) sz.fail("<size> is 'width height'");
    c.window_width = static_cast<int>(sz.integer(0, 3, 4096));
    c.window_height = static_cast<int>(sz.integer(1, 3, 4096));
    const xml_element& ss = rd.need(root, "stages");
    const auto stages = cascade_reader::items(ss);
    if (stages.empty()) rd.fail(ss, "no stages");
    for (std::size_t si = 0; si < stages.size(); ++si) {
        const xml_element& st = *stages[si];
        if (const xml_element* p = st.child("parent")) {
            const long long parent = rd.integer(*p, -1, 1 << 20);
            if (parent != static_cast<long long>(si) - 1)
                rd.fail(*p, "stage trees are not supported: parent must be the previous stage");
        }
        if (const xml_element* nx = st.child("next")) {
            if (rd.integer(*nx, -1, 1 << 20) != -1) rd.fail(*nx, "stage trees are not supported: next must be -1");
        }
        cascade_stage stage;
        stage.threshold = rd.real(rd.need(st, "stage_threshold")) - cascade_threshold_eps;
        const xml_element& ts = rd.need(st, "trees");
        const auto trees = cascade_reader::items(ts);
        if (trees.empty()) rd.fail(ts, "a stage without trees");
        stage.first_tree = static_cast<int>(c.trees.size());
        stage.trees = static_cast<int>(trees.size());
        for (const xml_element* t : trees) {
            const auto nodes = cascade_reader::items(*t);
            if (nodes.empty()) rd.fail(*t, "a tree without nodes");
            cascade_tree tree;
            tree.first_node = static_cast<int>(c.nodes.size());
            tree.first_leaf = static_cast<int>(c.leaves.size());
            tree.nodes = static_cast<int>(nodes.size());
            int leaf = 0;
            for (const xml_element* n : nodes) {
                cascade_node node;
                node.feature = static_cast<int>(c.haar_features.size());
                c.haar_features.push_back(read_haar_feature(rd, rd.need(*n, "feature"), c.window_width, c.window_height));
                c.has_tilted = c.has_tilted || c.haar_features.back().tilted;
                node.threshold = rd.real(rd.need(*n, "threshold"));
                const auto side = [&](const char* val, const char* child) {
                    if (const xml_element* v = n->child(val)) {
                        c.leaves.push_back(rd.real(*v));
                        return -(leaf++);
                    }
                    const xml_element* ch = n->child(child);
                    if (!ch) rd.fail(*n, std::string("a node needs <") + val + "> or <" + child + ">");
                    return static_cast<int>(rd.integer(*ch, 1, tree.nodes - 1));
                };
                node.left = side("left_val", "left_node");
                node.right = side("right_val", "right_node");
                c.nodes.push_back(node);
            }
            if (leaf != tree.nodes + 1)
                rd.fail(*t, "a tree of " + std::to_string(tree.nodes) + " nodes needs " + std::to_string(tree.nodes + 1) +
                                " leaf values, found " + std::to_string(leaf));
            check_tree_links(rd, *t, c.nodes.data() + tree.first_node, tree.nodes);
            c.max_tree_nodes = std::max(c.max_tree_nodes, tree.nodes);
            c.trees.push_back(tree);
        }
        c.stages.push_back(stage);
    }
    return c;
}

}  // namespace detail

/// Parses a cascade from XML text held in memory; `name` is used in error messages.
inline cascade parse_cascade(const std::string& xml, const std::string& name = "<memory>") {
    const detail::cascade_reader rd{name};
    auto doc = detail::xml_parser(name, detail::cascade_where).parse(xml);
    // OpenCV files wrap the model in <opencv_storage>; take its first element.
    const detail::xml_element* root = doc.get();
    if (root->name == "opencv_storage") {
        if (root->children.empty()) rd.fail(*root, "no cascade inside <opencv_storage>");
        root = root->children.front().get();
    }
    const std::string* type = root->attribute("type_id");
    cascade c;
    if ((type && *type == "opencv-cascade-classifier") || (!type && root->child("stageType")))
        c = detail::read_new_cascade(rd, *root);
    else if ((type && *type == "opencv-haar-classifier") || (!type && root->child("size")))
        c = detail::read_old_cascade(rd, *root);
    else
        rd.fail(*root, type ? "unknown cascade type '" + *type + "'" : "not a cascade (no stageType or size)");
    c.source = name;
    return c;
}

/// Loads an OpenCV cascade XML file (either format). Throws ferx::error naming the file and the
/// element at fault if the file is missing, malformed, truncated or inconsistent.
inline cascade load_cascade(const std::string& path) {
    return parse_cascade(detail::read_text_file(path, detail::cascade_where), path);
}

FERX_NAMESPACE_END
