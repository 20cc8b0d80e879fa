/// \file ferx/detect/detail/cascade_eval.hpp
/// The inner loop of the cascade detector: feature evaluators (Haar, LBP) as template
/// parameters of the stage classifier, over integral images laid out with one row stride for
/// every pyramid level, so that each feature is a handful of precomputed int offsets.
///
/// Arithmetic, matching OpenCV 4.6's cv::CascadeClassifier bit for bit:
///  - Haar: value = (w0 * float(S0) + w1 * float(S1) [+ w2 * float(S2)]) * f in float, where S
///    are int rectangle sums and f = float(1 / sqrt(A * Q - S^2)) over the window's inner
///    (w-2) x (h-2) box of area A (sum S, squared sum Q); windows with A * f >= 0.1 (nearly flat)
///    or A * Q - S^2 <= 0 are rejected before the first stage;
///  - LBP: an 8-bit code of "outer block sum >= centre block sum", clockwise from the top-left;
///  - a stage sums its trees' float leaves in double and passes when the sum is not below its
///    float threshold.
#pragma once

#include <ferx/core/rounding.hpp>
#include <ferx/core/view.hpp>
#include <ferx/detect/cascade.hpp>

#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

FERX_NAMESPACE_BEGIN

namespace detail {

/// Box sum from four offsets: p[a] - p[b] - p[c] + p[d] (corners top-left, top-right,
/// bottom-left, bottom-right of an upright box; the matching corners of a tilted one).
template <class T>
FERX_HOST_DEVICE constexpr T corner_sum(const T* p, int a, int b, int c, int d) {
    return p[a] - p[b] - p[c] + p[d];
}

/// A Haar feature prepared for one row stride: offsets from the window's top-left sum element
/// (tilted rectangles point into the tilted plane, `plane` ints after the sum plane).
struct haar_opt {
    int ofs[3][4];
    float w[3];
};

/// An LBP feature prepared for one row stride: the 4 x 4 corner grid of its 3 x 3 blocks.
struct lbp_opt {
    int ofs[16];
};

/// A stump of a Haar cascade, its feature inlined (stumps are read in order, so the whole
/// cascade streams through the cache instead of being gathered by feature index).
struct haar_stump {
    haar_opt f;
    float threshold;
    float leaf[2];  ///< [0] when the value is below the threshold, [1] otherwise
};

/// A stump of an LBP cascade, its feature inlined: left when the code's bit is set in the
/// 256-bit subset.
struct lbp_stump {
    lbp_opt f;
    std::uint32_t subset[8];
    float leaf[2];  ///< [0] when the code is in the subset, [1] otherwise
};

/// A Haar feature's value at the window whose top-left sum element is `p`, times the window's
/// normalisation factor.
FERX_HOST_DEVICE inline float haar_value(const haar_opt& o, const int* p, float factor) {
    float v = add_rn(mul_rn(o.w[0], static_cast<float>(corner_sum(p, o.ofs[0][0], o.ofs[0][1], o.ofs[0][2], o.ofs[0][3]))),
                     mul_rn(o.w[1], static_cast<float>(corner_sum(p, o.ofs[1][0], o.ofs[1][1], o.ofs[1][2], o.ofs[1][3]))));
    if (o.w[2] != 0.f)
        v = add_rn(v, mul_rn(o.w[2], static_cast<float>(corner_sum(p, o.ofs[2][0], o.ofs[2][1], o.ofs[2][2], o.ofs[2][3]))));
    return mul_rn(v, factor);
}

/// Viola-Jones variance normalisation over the inner box (offsets `norm`, area `area`) of the
/// window at `p` (sum) / `q` (squared sum); false rejects the window as too flat.
FERX_HOST_DEVICE inline bool haar_norm_factor(const int* p, const double* q, const int* norm, double area, float& factor) {
    const int s = corner_sum(p, norm[0], norm[1], norm[2], norm[3]);
    const double sq = corner_sum(q, norm[0], norm[1], norm[2], norm[3]);
    const double nf = add_rn(mul_rn(area, sq), -mul_rn(static_cast<double>(s), static_cast<double>(s)));
    if (!(nf > 0.0)) return false;
#if defined(__CUDA_ARCH__)
    factor = static_cast<float>(1.0 / ::sqrt(nf));
#else
    factor = static_cast<float>(1.0 / std::sqrt(nf));
#endif
    return mul_rn(area, static_cast<double>(factor)) < 1e-1;
}

/// The 8-bit multi-block LBP code at the window whose top-left sum element is `p`: the 16 grid
/// corners are read once, the nine block sums formed from them.
FERX_HOST_DEVICE inline int lbp_code(const lbp_opt& o, const int* p) {
    int v[16];
    for (int i = 0; i < 16; ++i) v[i] = p[o.ofs[i]];
    const auto block = [&](int r, int k) {
        const int i = r * 4 + k;
        return v[i] - v[i + 1] - v[i + 4] + v[i + 5];
    };
    const int c = block(1, 1);
    return (block(0, 0) >= c ? 128 : 0) | (block(0, 1) >= c ? 64 : 0) | (block(0, 2) >= c ? 32 : 0) |
           (block(1, 2) >= c ? 16 : 0) | (block(2, 2) >= c ? 8 : 0) | (block(2, 1) >= c ? 4 : 0) |
           (block(2, 0) >= c ? 2 : 0) | (block(1, 0) >= c ? 1 : 0);
}

FERX_HOST_DEVICE inline bool lbp_in_subset(const std::uint32_t* subset, int code) {
    return (subset[code >> 5] >> (code & 31)) & 1u;
}

/// Haar evaluation: needs the sum, squared-sum and (if tilted) tilted integral images.
struct haar_evaluator {
    using stump = haar_stump;
    static constexpr bool needs_sqsum = true;

    std::vector<haar_opt> features;
    int norm[4] = {0, 0, 0, 0};  ///< offsets of the inner (w-2) x (h-2) box
    double norm_area = 0;

    haar_evaluator(const cascade& c, index_t stride, index_t plane) {
        const auto up = [&](const haar_rect& r, int* o) {
            o[0] = static_cast<int>(r.y * stride + r.x);
            o[1] = static_cast<int>(r.y * stride + r.x + r.width);
            o[2] = static_cast<int>((r.y + r.height) * stride + r.x);
            o[3] = static_cast<int>((r.y + r.height) * stride + r.x + r.width);
        };
        const auto tilt = [&](const haar_rect& r, int* o) {
            const index_t p = plane;
            o[0] = static_cast<int>(p + r.y * stride + r.x);
            o[1] = static_cast<int>(p + (r.y + r.height) * stride + r.x - r.height);
            o[2] = static_cast<int>(p + (r.y + r.width) * stride + r.x + r.width);
            o[3] = static_cast<int>(p + (r.y + r.width + r.height) * stride + r.x + r.width - r.height);
        };
        features.reserve(c.haar_features.size());
        for (const haar_feature& f : c.haar_features) {
            haar_opt o{};
            for (int k = 0; k < 3; ++k) {
                // A third rectangle counts only with a positive weight (as in the reference).
                const bool used = k < f.count && (k < 2 || f.rects[k].weight > 0.f);
                o.w[k] = k < f.count ? f.rects[k].weight : 0.f;
                if (!used) {
                    o.ofs[k][0] = o.ofs[k][1] = o.ofs[k][2] = o.ofs[k][3] = 0;
                    if (k == 2) o.w[k] = 0.f;
                    continue;
                }
                if (f.tilted)
                    tilt(f.rects[k], o.ofs[k]);
                else
                    up(f.rects[k], o.ofs[k]);
            }
            features.push_back(o);
        }
        const haar_rect nr{1, 1, c.window_width - 2, c.window_height - 2, 0.f};
        up(nr, norm);
        norm_area = static_cast<double>(nr.width) * nr.height;
    }

    /// Variance normalisation of the window at `p` (sum) / `q` (squared sum); false rejects it.
    bool set_window(const int* p, const double* q, float& factor) const {
        return haar_norm_factor(p, q, norm, norm_area, factor);
    }

    float value(int fi, const int* p, float factor) const {
        return haar_value(features[static_cast<std::size_t>(fi)], p, factor);
    }

    /// A stump's leaf for the window.
    float stump_leaf(const stump& s, const int* p, float factor) const {
        // An index rather than a branch: stump outcomes are close to coin flips.
        return s.leaf[haar_value(s.f, p, factor) < s.threshold ? 0 : 1];
    }
    /// A tree node's direction: true = left.
    bool node_left(const cascade& c, std::size_t node, const int* p, float factor) const {
        const cascade_node& n = c.nodes[node];
        return value(n.feature, p, factor) < n.threshold;
    }

    std::vector<stump> make_stumps(const cascade& c) const {
        std::vector<stump> out;
        out.reserve(c.trees.size());
        for (const cascade_tree& t : c.trees) {
            const cascade_node& n = c.nodes[static_cast<std::size_t>(t.first_node)];
            const std::size_t l = static_cast<std::size_t>(t.first_leaf);
            out.push_back({features[static_cast<std::size_t>(n.feature)], n.threshold,
                           {c.leaves[l + static_cast<std::size_t>(-n.left)], c.leaves[l + static_cast<std::size_t>(-n.right)]}});
        }
        return out;
    }
};

/// LBP evaluation: needs the sum integral image only.
struct lbp_evaluator {
    using stump = lbp_stump;
    static constexpr bool needs_sqsum = false;

    std::vector<lbp_opt> features;

    lbp_evaluator(const cascade& c, index_t stride, index_t /*plane*/) {
        features.reserve(c.lbp_features.size());
        for (const lbp_feature& f : c.lbp_features) {
            lbp_opt o{};
            for (int r = 0; r < 4; ++r)
                for (int k = 0; k < 4; ++k)
                    o.ofs[r * 4 + k] = static_cast<int>((f.y + r * f.height) * stride + f.x + k * f.width);
            features.push_back(o);
        }
    }

    bool set_window(const int*, const double*, float& factor) const {
        factor = 1.f;
        return true;
    }

    int code(int fi, const int* p) const { return lbp_code(features[static_cast<std::size_t>(fi)], p); }

    float stump_leaf(const stump& s, const int* p, float) const {
        return s.leaf[lbp_in_subset(s.subset, lbp_code(s.f, p)) ? 0 : 1];
    }
    bool node_left(const cascade& c, std::size_t node, const int* p, float) const {
        return lbp_in_subset(c.subsets.data() + node * lbp_subset_words, code(c.nodes[node].feature, p));
    }

    std::vector<stump> make_stumps(const cascade& c) const {
        std::vector<stump> out;
        out.reserve(c.trees.size());
        for (const cascade_tree& t : c.trees) {
            const std::size_t ni = static_cast<std::size_t>(t.first_node);
            const cascade_node& n = c.nodes[ni];
            const std::size_t l = static_cast<std::size_t>(t.first_leaf);
            stump s{features[static_cast<std::size_t>(n.feature)], {},
                    {c.leaves[l + static_cast<std::size_t>(-n.left)], c.leaves[l + static_cast<std::size_t>(-n.right)]}};
            for (int k = 0; k < lbp_subset_words; ++k) s.subset[k] = c.subsets[ni * lbp_subset_words + static_cast<std::size_t>(k)];
            out.push_back(s);
        }
        return out;
    }
};

/// Stages [first, end) of a stump cascade on a window whose normalisation `factor` is known
/// (the vector scan ran the stages before `first`); `s` points at the stage's first stump.
/// Returns as run_stages does.
template <class E>
int run_stages_from(const E& ev, const cascade& c, const typename E::stump* s, int first, const int* p, float factor) {
    const int nstages = static_cast<int>(c.stages.size());
    for (int si = first; si < nstages; ++si) {
        const cascade_stage& st = c.stages[static_cast<std::size_t>(si)];
        double acc = 0.0;
        for (int t = 0; t < st.trees; ++t) acc += ev.stump_leaf(s[t], p, factor);
        if (acc < st.threshold) return -si;
        s += st.trees;
    }
    return 1;
}

/// Runs the stages on the window at `p` (sum) / `q` (squared sum): 1 when every stage passes,
/// -k when stage k rejects it (0: the first), -1 when the window is too flat to normalise (Haar).
template <class E>
int run_stages(const E& ev, const cascade& c, const std::vector<typename E::stump>& stumps, const int* p,
               const double* q) {
    float factor = 1.f;
    if (!ev.set_window(p, q, factor)) return -1;
    const int nstages = static_cast<int>(c.stages.size());
    if (c.stump_based()) return run_stages_from(ev, c, stumps.data(), 0, p, factor);
    for (int si = 0; si < nstages; ++si) {
        const cascade_stage& st = c.stages[static_cast<std::size_t>(si)];
        double acc = 0.0;
        for (int t = st.first_tree; t < st.first_tree + st.trees; ++t) {
            const cascade_tree& tr = c.trees[static_cast<std::size_t>(t)];
            int idx = 0;
            do {
                const std::size_t node = static_cast<std::size_t>(tr.first_node + idx);
                const int next[2] = {c.nodes[node].left, c.nodes[node].right};
                idx = next[ev.node_left(c, node, p, factor) ? 0 : 1];  // an index, not a branch
            } while (idx > 0);  // children follow their parent (checked on load): this ends
            acc += c.leaves[static_cast<std::size_t>(tr.first_leaf - idx)];
        }
        if (acc < st.threshold) return -si;
    }
    return 1;
}

}  // namespace detail

FERX_NAMESPACE_END
