/// \file ferx/nn/graph_conv.hpp
/// The graphs of graph convolution over skeletons and facial landmarks (ST-GCN, Yan et al.,
/// AAAI 2018; EfficientGCN): the layouts (OpenPose-18, NTU RGB+D 25, COCO-17, dlib's 68 facial
/// landmarks and the 51 inner ones), hop distances, the partition strategies (uniform, distance,
/// spatial) and the adjacency normalisations. Plain C++, no ONNX.
///
/// Convention (ST-GCN's): `A[k](j, i)` is the weight of the message from node j to node i in
/// partition k, so a graph convolution of features x [C, V] is y_k = x A_k, y_k(:, i) =
/// sum_j x(:, j) A_k(j, i), and the layer sums W_k y_k over k.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/tensor.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <deque>
#include <limits>
#include <string>
#include <utility>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {

/// An undirected graph of `nodes` joints or landmarks (0-based), with a centre for the spatial
/// partition. `edges` are the links between different nodes, each once; self links are implied.
struct skeleton_layout {
    std::string name;
    int nodes = 0;
    int centre = 0;
    std::vector<std::array<int, 2>> edges;
};

/// Checks a layout: nodes >= 1, the centre and every edge's ends are nodes, no self link, no
/// edge twice; ferx::error naming the layout otherwise.
inline void validate(const skeleton_layout& g) {
    constexpr const char* where = "ferx::nn::skeleton_layout";
    const std::string at = "layout '" + g.name + "': ";
    ferx::detail::require(g.nodes >= 1, where, at + "needs at least one node, has " + std::to_string(g.nodes));
    ferx::detail::require(g.centre >= 0 && g.centre < g.nodes, where, at + "the centre " + std::to_string(g.centre) + " is not a node");
    std::vector<char> seen(static_cast<std::size_t>(g.nodes) * static_cast<std::size_t>(g.nodes), 0);
    for (const auto& e : g.edges) {
        const std::string edge = "edge (" + std::to_string(e[0]) + ", " + std::to_string(e[1]) + ")";
        ferx::detail::require(e[0] >= 0 && e[0] < g.nodes && e[1] >= 0 && e[1] < g.nodes, where,
                        at + edge + " links a node outside 0.." + std::to_string(g.nodes - 1));
        ferx::detail::require(e[0] != e[1], where, at + edge + " is a self link (self links are implied)");
        char& s = seen[static_cast<std::size_t>(std::min(e[0], e[1]) * g.nodes + std::max(e[0], e[1]))];
        ferx::detail::require(!s, where, at + edge + " is listed twice");
        s = 1;
    }
}

/// OpenPose's 18 keypoints (COCO order with a neck): 0 nose, 1 neck, 2-4 right shoulder, elbow,
/// wrist, 5-7 left, 8-10 right hip, knee, ankle, 11-13 left, 14/15 right/left eye, 16/17
/// right/left ear. Centre 1 (neck). 17 edges, ST-GCN's.
inline skeleton_layout openpose18_layout() {
    return {"openpose18", 18, 1,
            {{4, 3}, {3, 2}, {7, 6}, {6, 5}, {13, 12}, {12, 11}, {10, 9}, {9, 8}, {11, 5},
             {8, 2}, {5, 1}, {2, 1}, {0, 1}, {15, 0}, {14, 0}, {17, 15}, {16, 14}}};
}

/// NTU RGB+D's 25 Kinect v2 joints (0-based: 0 spine base, 1 spine middle, 2 neck, 3 head, 4-7
/// left shoulder, elbow, wrist, hand, 8-11 right, 12-15 left hip, knee, ankle, foot, 16-19 right,
/// 20 spine shoulder, 21/22 left hand tip/thumb, 23/24 right). Centre 20 (1-based 21, the spine
/// at the shoulders). 24 edges, ST-GCN's (the bones of ferx::ntu25_parents).
inline skeleton_layout ntu25_layout() {
    return {"ntu25", 25, 20,
            {{0, 1}, {1, 20}, {2, 20}, {3, 2}, {4, 20}, {5, 4}, {6, 5}, {7, 6}, {8, 20}, {9, 8}, {10, 9}, {11, 10},
             {12, 0}, {13, 12}, {14, 13}, {15, 14}, {16, 0}, {17, 16}, {18, 17}, {19, 18}, {21, 22}, {22, 7},
             {23, 24}, {24, 11}}};
}

/// COCO's 17 keypoints: 0 nose, 1/2 left/right eye, 3/4 ears, 5/6 shoulders, 7/8 elbows, 9/10
/// wrists, 11/12 hips, 13/14 knees, 15/16 ankles (left first). Centre 0 (nose). 16 edges: the
/// limbs, shoulders and hips to their side's shoulder, the shoulders, eyes and ears to the nose.
inline skeleton_layout coco17_layout() {
    return {"coco17", 17, 0,
            {{15, 13}, {13, 11}, {16, 14}, {14, 12}, {11, 5}, {12, 6}, {9, 7}, {7, 5}, {10, 8}, {8, 6},
             {5, 0}, {6, 0}, {1, 0}, {3, 1}, {2, 0}, {4, 2}}};
}

namespace detail {
inline void add_chain(std::vector<std::array<int, 2>>& e, int first, int last, bool closed) {
    for (int k = first; k < last; ++k) e.push_back({k, k + 1});
    if (closed) e.push_back({last, first});
}
/// The 68-point graph's inner edges (everything but the jaw line and its links), 68 numbering.
inline std::vector<std::array<int, 2>> face_inner_edges() {
    std::vector<std::array<int, 2>> e;
    add_chain(e, 17, 21, false);  // right eyebrow (image left), outer to inner
    add_chain(e, 22, 26, false);  // left eyebrow, inner to outer
    add_chain(e, 27, 30, false);  // nose bridge, top to tip
    add_chain(e, 31, 35, false);  // nostrils' lower contour
    add_chain(e, 36, 41, true);   // right eye
    add_chain(e, 42, 47, true);   // left eye
    add_chain(e, 48, 59, true);   // outer lip
    add_chain(e, 60, 67, true);   // inner lip
    // Links between the parts, all through the nose: the brows' inner ends and the eyes' inner
    // corners to the bridge's top, the tip to the nostrils' middle, that to the upper lip's top,
    // and the mouth corners of the outer lip to those of the inner lip.
    e.push_back({21, 27});
    e.push_back({22, 27});
    e.push_back({39, 27});
    e.push_back({42, 27});
    e.push_back({30, 33});
    e.push_back({33, 51});
    e.push_back({48, 60});
    e.push_back({54, 64});
    return e;
}
}  // namespace detail

/// dlib's (iBUG 300-W) 68 facial landmarks: 0-16 jaw, 17-21 and 22-26 eyebrows, 27-30 nose
/// bridge, 31-35 nostrils, 36-41 and 42-47 eyes, 48-59 outer and 60-67 inner lip. Centre 30 (the
/// nose tip). 74 edges: each contour as a chain (jaw, brows, bridge, nostrils: 31 edges) or a
/// ring (eyes, lips: 32 edges); 8 links of the parts through the nose (brows' inner ends 21, 22
/// and eyes' inner corners 39, 42 to 27; 30-33; 33-51; mouth corners 48-60, 54-64); 3 links of
/// the jaw (0-17, 16-26 at the temples, 8-57 at the chin). Connected.
inline skeleton_layout face68_layout() {
    auto e = detail::face_inner_edges();
    detail::add_chain(e, 0, 16, false);
    e.push_back({0, 17});
    e.push_back({16, 26});
    e.push_back({8, 57});
    return {"face68", 68, 30, e};
}

/// The 51 inner landmarks of the 68 (without the jaw line 0-16), renumbered 0-50 (landmark k of
/// the 68 is node k - 17). Centre 13 (the nose tip, 30 of the 68). 55 edges: those of
/// face68_layout() that do not touch the jaw. Connected.
inline skeleton_layout face51_layout() {
    auto e = detail::face_inner_edges();
    for (auto& x : e) x = {x[0] - 17, x[1] - 17};
    return {"face51", 51, 13, e};
}

/// A node pair farther apart than the max_hop asked for.
constexpr int unreachable = -1;

/// Shortest-path distances (in edges) between all nodes, [V, V]; pairs more than `max_hop`
/// apart (or not connected) are `unreachable`. max_hop < 0: no limit.
inline xt::xtensor<int, 2> hop_distance(const skeleton_layout& g, int max_hop = 1) {
    validate(g);
    const auto V = static_cast<std::size_t>(g.nodes);
    std::vector<std::vector<int>> adj(V);
    for (const auto& e : g.edges) {
        adj[static_cast<std::size_t>(e[0])].push_back(e[1]);
        adj[static_cast<std::size_t>(e[1])].push_back(e[0]);
    }
    xt::xtensor<int, 2> d = xt::xtensor<int, 2>::from_shape({V, V});
    d.fill(unreachable);
    for (std::size_t s = 0; s < V; ++s) {  // breadth-first from every node
        std::deque<int> q{static_cast<int>(s)};
        d(s, s) = 0;
        while (!q.empty()) {
            const int u = q.front();
            q.pop_front();
            if (max_hop >= 0 && d(s, static_cast<std::size_t>(u)) >= max_hop) continue;
            for (int w : adj[static_cast<std::size_t>(u)])
                if (d(s, static_cast<std::size_t>(w)) == unreachable) {
                    d(s, static_cast<std::size_t>(w)) = d(s, static_cast<std::size_t>(u)) + 1;
                    q.push_back(w);
                }
        }
    }
    return d;
}

/// How an adjacency matrix is normalised (the degree of node i: Λ_ii = sum_j A(j, i), the
/// column sum, self link included).
enum class adjacency_norm {
    /// A Λ^-1: every column divided by its sum, so the messages into each node are averaged
    /// (each non-empty column sums to 1). ST-GCN's reference code (`normalize_digraph`), which
    /// the paper's "D^-1 A" names with A indexed (target, source).
    column,
    /// Λ^-1/2 A Λ^-1/2, the symmetric form the ST-GCN paper writes (GCN, Kipf & Welling); the
    /// code's `normalize_undigraph`. A symmetric A stays symmetric.
    symmetric,
    none,  ///< 0/1 entries as they are
};

/// Normalises a square matrix [V, V] (ferx::error otherwise); a node of degree 0 keeps a zero column.
inline xt::xtensor<double, 2> normalize_adjacency(const xt::xtensor<double, 2>& a, adjacency_norm norm) {
    ferx::detail::require(a.dimension() == 2 && a.shape()[0] == a.shape()[1], "ferx::nn::normalize_adjacency",
                    "the matrix must be square");
    const std::size_t V = a.shape()[0];
    if (norm == adjacency_norm::none) return a;
    std::vector<double> deg(V, 0.0);
    for (std::size_t i = 0; i < V; ++i)
        for (std::size_t j = 0; j < V; ++j) deg[i] += a(j, i);
    xt::xtensor<double, 2> out = a;
    for (std::size_t j = 0; j < V; ++j)
        for (std::size_t i = 0; i < V; ++i) {
            if (norm == adjacency_norm::column)
                out(j, i) = deg[i] > 0 ? a(j, i) / deg[i] : 0.0;
            else
                out(j, i) = deg[i] > 0 && deg[j] > 0 ? a(j, i) / std::sqrt(deg[i] * deg[j]) : 0.0;
        }
    return out;
}

/// ST-GCN's partition strategies.
enum class partition_strategy {
    uniform,   ///< K = 1: the whole neighbourhood (all nodes within max_hop, self included)
    distance,  ///< K = max_hop / dilation + 1: one partition per hop distance 0, d, 2d, ...
    /// K = 1 + 2 (max_hop / dilation) (3 for max_hop 1): for hop 0 the root (the node itself);
    /// for every hop h > 0 two partitions, in the reference code's order: first the neighbours j
    /// at least as far from the centre as the root i (centrifugal, and equidistant ones), then
    /// those nearer to the centre than i (centripetal).
    spatial,
};

/// Parameters of graph_adjacency; the defaults are ST-GCN's.
struct adjacency_params {
    partition_strategy strategy = partition_strategy::spatial;
    int max_hop = 1;   ///< neighbourhood radius D
    int dilation = 1;  ///< hops used: 0, dilation, 2 dilation, ... <= max_hop
    adjacency_norm norm = adjacency_norm::column;
    /// Spatial partition only: compare distances to the centre cut at max_hop, as ST-GCN's code
    /// does (`hop_dis` is computed with max_hop, so every node farther than max_hop from the
    /// centre is at "inf", and two such nodes count as equidistant: their links fall into the
    /// centrifugal partition whatever their real distances). false (default): true
    /// shortest-path distances, the paper's definition.
    bool centre_distance_within_max_hop = false;
};

/// The normalised adjacency of every partition, [K, V, V] in float32 (computed in float64): the
/// 0/1 neighbourhood (pairs at a used hop distance, self links included) is normalised as a
/// whole, then split into the partitions, so the partitions of each column sum to the
/// normalised column (as ST-GCN's code does).
inline xt::xtensor<float, 3> graph_adjacency(const skeleton_layout& g, const adjacency_params& p = {}) {
    constexpr const char* where = "ferx::nn::graph_adjacency";
    ferx::detail::require(p.max_hop >= 0, where, "max_hop must be >= 0, got " + std::to_string(p.max_hop));
    ferx::detail::require(p.dilation >= 1, where, "dilation must be >= 1, got " + std::to_string(p.dilation));
    const auto hop = hop_distance(g, p.max_hop);
    const auto V = static_cast<std::size_t>(g.nodes);
    std::vector<int> hops;
    for (int h = 0; h <= p.max_hop; h += p.dilation) hops.push_back(h);
    auto used = [&](int d) { return d != unreachable && d % p.dilation == 0; };

    xt::xtensor<double, 2> a = xt::zeros<double>({V, V});
    for (std::size_t j = 0; j < V; ++j)
        for (std::size_t i = 0; i < V; ++i) a(j, i) = used(hop(j, i)) ? 1.0 : 0.0;
    const auto n = normalize_adjacency(a, p.norm);

    std::size_t K = 1;
    if (p.strategy == partition_strategy::distance) K = hops.size();
    if (p.strategy == partition_strategy::spatial) K = 2 * hops.size() - 1;
    xt::xtensor<float, 3> out = xt::zeros<float>({K, V, V});
    // Distances to the centre: cut at max_hop (the code's) or true ones; unreachable as +inf.
    const auto to_centre_hops = p.centre_distance_within_max_hop ? hop : hop_distance(g, -1);
    const auto c = static_cast<std::size_t>(g.centre);
    auto to_centre = [&](std::size_t v) {
        const int d = to_centre_hops(v, c);
        return d == unreachable ? std::numeric_limits<double>::infinity() : static_cast<double>(d);
    };
    for (std::size_t j = 0; j < V; ++j)
        for (std::size_t i = 0; i < V; ++i) {
            const int d = hop(j, i);
            if (!used(d)) continue;
            const auto w = static_cast<float>(n(j, i));
            const std::size_t h = static_cast<std::size_t>(d / p.dilation);  // index into hops
            switch (p.strategy) {
                case partition_strategy::uniform: out(0, j, i) = w; break;
                case partition_strategy::distance: out(h, j, i) = w; break;
                case partition_strategy::spatial:
                    if (h == 0) out(0, j, i) = w;
                    else if (to_centre(j) >= to_centre(i)) out(2 * h - 1, j, i) = w;
                    else out(2 * h, j, i) = w;
                    break;
            }
        }
    return out;
}

}  // namespace nn
FERX_NAMESPACE_END
