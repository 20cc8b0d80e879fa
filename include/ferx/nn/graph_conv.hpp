/// \file ferx/nn/graph_conv.hpp
/// The graphs of graph convolution over skeletons and facial landmarks (ST-GCN, Yan et al.,
/// AAAI 2018; EfficientGCN): the layouts (OpenPose-18, NTU RGB+D 25, COCO-17, dlib's 68 facial
/// landmarks and the 51 inner ones), hop distances, the partition strategies (uniform, distance,
/// spatial) and the adjacency normalisations (plain C++, no ONNX); and ST-GCN's unit (spatial
/// graph convolution with learnable edge importance + BN + ReLU + temporal convolution + BN +
/// residual + ReLU) appended to a `nn::graph` from the session's ONNX ops (`append_stgcn_unit`).
///
/// Convention (ST-GCN's): `A[k](j, i)` is the weight of the message from node j to node i in
/// partition k, so a graph convolution of features x [C, V] is y_k = x A_k, y_k(:, i) =
/// sum_j x(:, j) A_k(j, i), and the layer sums W_k y_k over k.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/nn/builder.hpp>
#include <ferx/nn/graph.hpp>
#include <ferx/nn/tensor_ref.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
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

// --- ST-GCN's unit -----------------------------------------------------------------------------

/// The residual branch of an ST-GCN unit.
enum class stgcn_residual {
    /// ST-GCN's `residual=True`: `identity` where in_channels == out_channels and stride == 1,
    /// `conv` otherwise.
    automatic,
    none,      ///< no residual: y = ReLU(tcn(gcn(x)))
    identity,  ///< y = ReLU(tcn(gcn(x)) + x); needs in_channels == out_channels and stride 1
    conv,      ///< y = ReLU(tcn(gcn(x)) + BN(Conv1x1(x))), the Conv with stride (stride, 1)
};

/// Inference parameters of one BatchNormalization over `C` channels (ONNX's scale, B, mean, var,
/// epsilon); each vector holds C values.
struct batch_norm_weights {
    std::vector<float> scale, bias, mean, var;
    float epsilon = 1e-5f;
};

/// The learned weights of an ST-GCN unit, in ONNX's layouts (OIHW). K partitions, C_in and
/// C_out channels, temporal kernel kt. An empty bias is no bias.
struct stgcn_unit_weights {
    dense_tensor spatial_weight;      ///< Conv 1x1 of the graph convolution: [K C_out, C_in, 1, 1]
    std::vector<float> spatial_bias;  ///< [K C_out] or empty
    batch_norm_weights spatial_bn;    ///< after the graph convolution: C_out channels
    dense_tensor temporal_weight;     ///< temporal Conv (kt x 1): [C_out, C_out, kt, 1]
    std::vector<float> temporal_bias; ///< [C_out] or empty
    batch_norm_weights temporal_bn;   ///< after the temporal Conv: C_out channels
    dense_tensor residual_weight;     ///< residual Conv 1x1 (`conv` residual only): [C_out, C_in, 1, 1]
    std::vector<float> residual_bias; ///< [C_out] or empty
    batch_norm_weights residual_bn;   ///< after the residual Conv (`conv` residual only)
};

/// One ST-GCN unit (Yan et al., AAAI 2018; the reference code's `st_gcn` block at inference, its
/// dropout an identity): for x [N, C_in, T, V],
///
///     g = einsum('nkctv,kvw->nctw', reshape(Conv1x1(x), [N, K, C_out, T, V]), A * importance)
///     y = ReLU(BN(Conv_{kt x 1, stride (s, 1), pad (kt-1)/2}(ReLU(BN(g)))) + residual(x))
///
/// with y [N, C_out, T', V], T' = (T - 1) / s + 1. `adjacency` is the partitioned A [K, V, V] of
/// `graph_adjacency` (A[k](j, i): message j -> i); `edge_importance` the learnable mask [K, V, V]
/// multiplied into it element by element (ST-GCN's `edge_importance_weighting`), empty for ones.
struct stgcn_unit {
    xt::xtensor<float, 3> adjacency;
    xt::xtensor<float, 3> edge_importance = xt::xtensor<float, 3>::from_shape({0, 0, 0});
    std::int64_t in_channels = 0;
    std::int64_t out_channels = 0;
    int temporal_kernel = 9;  ///< kt, odd (the padding (kt - 1) / 2 on both sides keeps T at stride 1)
    int stride = 1;           ///< temporal stride s (of the temporal Conv and the residual Conv)
    stgcn_residual residual = stgcn_residual::automatic;
    stgcn_unit_weights weights;
};

/// The residual a unit uses: `automatic` resolved as ST-GCN does, the others as they are.
inline stgcn_residual resolved_residual(const stgcn_unit& u) {
    if (u.residual != stgcn_residual::automatic) return u.residual;
    return u.in_channels == u.out_channels && u.stride == 1 ? stgcn_residual::identity : stgcn_residual::conv;
}

/// Frames out of a unit for `frames` in: (frames - 1) / stride + 1 (odd temporal kernel, its
/// padding (kt - 1) / 2 on both sides).
inline std::int64_t stgcn_output_frames(std::int64_t frames, int stride) { return (frames - 1) / stride + 1; }

namespace detail {
inline shape_t shape_of(const xt::xtensor<float, 3>& a) {
    return {static_cast<std::int64_t>(a.shape()[0]), static_cast<std::int64_t>(a.shape()[1]),
            static_cast<std::int64_t>(a.shape()[2])};
}
inline void require_weight(const dense_tensor& t, const shape_t& want, const std::string& what) {
    ferx::detail::require(t.shape == want && t.data.size() == static_cast<std::size_t>(element_count(want)),
                          "ferx::nn::stgcn_unit",
                          what + " has shape " + shape_string(t.shape) + " (" + std::to_string(t.data.size()) +
                              " values), expected " + shape_string(want));
}
inline void require_vector(const std::vector<float>& v, std::int64_t n, bool optional, const std::string& what) {
    ferx::detail::require((optional && v.empty()) || v.size() == static_cast<std::size_t>(n), "ferx::nn::stgcn_unit",
                          what + " has " + std::to_string(v.size()) + " values, expected " + std::to_string(n) +
                              (optional ? " (or none)" : ""));
}
inline void require_bn(const batch_norm_weights& bn, std::int64_t c, const std::string& what) {
    require_vector(bn.scale, c, false, what + ".scale");
    require_vector(bn.bias, c, false, what + ".bias");
    require_vector(bn.mean, c, false, what + ".mean");
    require_vector(bn.var, c, false, what + ".var");
    ferx::detail::require(bn.epsilon >= 0, "ferx::nn::stgcn_unit", what + ".epsilon must be >= 0");
}
inline dense_tensor to_dense(const xt::xtensor<float, 3>& a) {
    return {shape_of(a), std::vector<float>(a.begin(), a.end())};
}
}  // namespace detail

/// Checks a unit: A [K, V, V] with K, V >= 1; the edge importance empty or of A's shape;
/// channels >= 1; an odd temporal kernel >= 1; stride >= 1; an identity residual only where the
/// channels and the frames stay; every weight of the shape the unit implies. ferx::error from
/// "ferx::nn::stgcn_unit" naming the fault otherwise.
inline void validate(const stgcn_unit& u) {
    constexpr const char* where = "ferx::nn::stgcn_unit";
    const auto& as = u.adjacency.shape();
    ferx::detail::require(as[0] >= 1 && as[1] >= 1 && as[1] == as[2], where,
                          "the adjacency A must be [K, V, V] with K, V >= 1, got " + shape_string(detail::shape_of(u.adjacency)));
    ferx::detail::require(u.edge_importance.size() == 0 || u.edge_importance.shape() == u.adjacency.shape(), where,
                          "the edge importance has shape " + shape_string(detail::shape_of(u.edge_importance)) +
                              ", the adjacency A " + shape_string(detail::shape_of(u.adjacency)) + ": they must be equal");
    ferx::detail::require(u.in_channels >= 1 && u.out_channels >= 1, where,
                          "in_channels and out_channels must be >= 1, got " + std::to_string(u.in_channels) + " and " +
                              std::to_string(u.out_channels));
    ferx::detail::require(u.temporal_kernel >= 1 && u.temporal_kernel % 2 == 1, where,
                          "the temporal kernel must be odd and >= 1 (padded by (kt - 1) / 2 on both sides), got " +
                              std::to_string(u.temporal_kernel));
    ferx::detail::require(u.stride >= 1, where, "the stride must be >= 1, got " + std::to_string(u.stride));
    const auto res = resolved_residual(u);
    ferx::detail::require(res != stgcn_residual::identity || (u.in_channels == u.out_channels && u.stride == 1), where,
                          "an identity residual needs in_channels == out_channels and stride 1, got " +
                              std::to_string(u.in_channels) + " -> " + std::to_string(u.out_channels) + " channels, stride " +
                              std::to_string(u.stride) + " (use stgcn_residual::conv)");
    const auto K = static_cast<std::int64_t>(as[0]), ci = u.in_channels, co = u.out_channels;
    const auto& w = u.weights;
    detail::require_weight(w.spatial_weight, {K * co, ci, 1, 1}, "weights.spatial_weight");
    detail::require_vector(w.spatial_bias, K * co, true, "weights.spatial_bias");
    detail::require_bn(w.spatial_bn, co, "weights.spatial_bn");
    detail::require_weight(w.temporal_weight, {co, co, u.temporal_kernel, 1}, "weights.temporal_weight");
    detail::require_vector(w.temporal_bias, co, true, "weights.temporal_bias");
    detail::require_bn(w.temporal_bn, co, "weights.temporal_bn");
    if (res == stgcn_residual::conv) {
        detail::require_weight(w.residual_weight, {co, ci, 1, 1}, "weights.residual_weight");
        detail::require_vector(w.residual_bias, co, true, "weights.residual_bias");
        detail::require_bn(w.residual_bn, co, "weights.residual_bn");
    }
}

/// Appends unit `u` to `b`, reading the value `input` [N, C_in, T, V]; returns the name of its
/// output [N, C_out, T', V]. Values, initializers and nodes are named "<prefix>.<part>" (A,
/// importance, gcn.weight, bn1.scale, ...), so several units need different prefixes. The ops
/// (ONNX names, all in the session): Mul (A * importance, folded into a constant by the
/// session), Conv, Reshape ([0, K, C_out, -1, V]), Einsum, BatchNormalization, Relu, Add.
/// Validates `u` first (ferx::error, see validate).
inline std::string append_stgcn_unit(graph_builder& b, const std::string& input, const stgcn_unit& u,
                                     const std::string& prefix = "stgcn") {
    validate(u);
    ferx::detail::require(!input.empty(), "ferx::nn::append_stgcn_unit", "the input value needs a name");
    using ints = graph_builder::ints;
    const auto K = static_cast<std::int64_t>(u.adjacency.shape()[0]);
    const auto V = static_cast<std::int64_t>(u.adjacency.shape()[1]);
    const auto co = u.out_channels;
    const auto& w = u.weights;
    const std::string p = prefix + ".";
    auto vec = [](const std::vector<float>& v) { return dense_tensor{{static_cast<std::int64_t>(v.size())}, v}; };
    auto conv = [&](const std::string& name, const std::string& x, const dense_tensor& weight,
                    const std::vector<float>& bias, std::map<std::string, attribute> attrs) {
        b.initializer(p + name + ".weight", weight);
        std::vector<std::string> in{x, p + name + ".weight"};
        if (!bias.empty()) {
            b.initializer(p + name + ".bias", vec(bias));
            in.push_back(p + name + ".bias");
        }
        b.node("Conv", in, {p + name}, std::move(attrs), p + name);
        return p + name;
    };
    auto bn = [&](const std::string& name, const std::string& x, const batch_norm_weights& n) {
        b.initializer(p + name + ".scale", vec(n.scale))
            .initializer(p + name + ".bias", vec(n.bias))
            .initializer(p + name + ".mean", vec(n.mean))
            .initializer(p + name + ".var", vec(n.var));
        b.node("BatchNormalization", {x, p + name + ".scale", p + name + ".bias", p + name + ".mean", p + name + ".var"},
               {p + name}, {{"epsilon", n.epsilon}}, p + name);
        return p + name;
    };
    auto relu = [&](const std::string& name, const std::string& x) {
        b.node("Relu", {x}, {p + name}, {}, p + name);
        return p + name;
    };

    // The graph's matrices: A * importance.
    b.initializer(p + "A", detail::to_dense(u.adjacency));
    dense_tensor importance{detail::shape_of(u.adjacency), std::vector<float>(u.adjacency.size(), 1.0f)};
    if (u.edge_importance.size() != 0) importance = detail::to_dense(u.edge_importance);
    b.initializer(p + "importance", std::move(importance));
    b.node("Mul", {p + "A", p + "importance"}, {p + "A_importance"}, {}, p + "A_importance");

    // Spatial graph convolution: Conv1x1 to K C_out, [N, K, C_out, T, V], sum_k over A_k.
    const auto g = conv("gcn", input, w.spatial_weight, w.spatial_bias, {{"kernel_shape", ints{1, 1}}});
    b.initializer(p + "gcn.shape", {{5}, {0.f, static_cast<float>(K), static_cast<float>(co), -1.f, static_cast<float>(V)}});
    b.node("Reshape", {g, p + "gcn.shape"}, {p + "gcn.split"}, {}, p + "gcn.split");
    b.node("Einsum", {p + "gcn.split", p + "A_importance"}, {p + "gcn.out"}, {{"equation", std::string("nkctv,kvw->nctw")}},
           p + "gcn.out");

    // Temporal convolution: BN, ReLU, Conv (kt x 1), BN (the reference's dropout: none at inference).
    const std::int64_t pad = (u.temporal_kernel - 1) / 2;
    std::string y = relu("relu1", bn("bn1", p + "gcn.out", w.spatial_bn));
    y = conv("tcn", y, w.temporal_weight, w.temporal_bias,
             {{"kernel_shape", ints{u.temporal_kernel, 1}}, {"pads", ints{pad, 0, pad, 0}}, {"strides", ints{u.stride, 1}}});
    y = bn("bn2", y, w.temporal_bn);

    switch (resolved_residual(u)) {
        case stgcn_residual::identity:
            b.node("Add", {y, input}, {p + "add"}, {}, p + "add");
            y = p + "add";
            break;
        case stgcn_residual::conv: {
            const auto r = bn("res_bn", conv("res", input, w.residual_weight, w.residual_bias,
                                             {{"kernel_shape", ints{1, 1}}, {"strides", ints{u.stride, 1}}}),
                              w.residual_bn);
            b.node("Add", {y, r}, {p + "add"}, {}, p + "add");
            y = p + "add";
            break;
        }
        default: break;
    }
    return relu("out", y);
}

/// A graph of one unit: input "x" [-1, C_in, frames, V] (any batch), output the unit's
/// [N, C_out, (frames - 1) / stride + 1, V]; values named "<prefix>.<part>".
inline graph stgcn_unit_graph(const stgcn_unit& u, std::int64_t frames, const std::string& prefix = "stgcn") {
    ferx::detail::require(frames >= 1, "ferx::nn::stgcn_unit_graph", "frames must be >= 1, got " + std::to_string(frames));
    validate(u);
    graph_builder b("stgcn_unit");
    b.input("x", {-1, u.in_channels, frames, static_cast<std::int64_t>(u.adjacency.shape()[1])});
    b.output(append_stgcn_unit(b, "x", u, prefix));
    return b.build();
}

/// Random weights of the shapes unit `u` implies (its adjacency, channels, temporal kernel and
/// residual; the edge importance is left as it is), for tests and benchmarks: the same seed gives
/// the same weights on every platform (SplitMix64). Conv weights and biases uniform in
/// ±1/sqrt(fan_in) (PyTorch's default bound); BN scale and var in [0.5, 1.5), bias and mean in
/// [-0.5, 0.5), epsilon 1e-5.
inline stgcn_unit_weights random_stgcn_unit_weights(const stgcn_unit& u, std::uint64_t seed) {
    std::uint64_t state = seed;
    auto uniform = [&state](double lo, double hi) {  // SplitMix64, 53 bits into [lo, hi)
        std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        return static_cast<float>(lo + (hi - lo) * static_cast<double>(z >> 11) * (1.0 / 9007199254740992.0));
    };
    auto values = [&](std::int64_t n, double bound) {
        std::vector<float> v(static_cast<std::size_t>(n));
        for (auto& x : v) x = uniform(-bound, bound);
        return v;
    };
    auto conv = [&](shape_t shape, dense_tensor& weight, std::vector<float>& bias) {
        const double bound = 1.0 / std::sqrt(static_cast<double>(shape[1] * shape[2] * shape[3]));
        weight = {shape, values(element_count(shape), bound)};
        bias = values(shape[0], bound);
    };
    auto bn = [&](std::int64_t c) {
        batch_norm_weights n;
        for (std::int64_t k = 0; k < c; ++k) {
            n.scale.push_back(uniform(0.5, 1.5));
            n.bias.push_back(uniform(-0.5, 0.5));
            n.mean.push_back(uniform(-0.5, 0.5));
            n.var.push_back(uniform(0.5, 1.5));
        }
        return n;
    };
    const auto K = static_cast<std::int64_t>(u.adjacency.shape()[0]);
    const auto ci = u.in_channels, co = u.out_channels;
    ferx::detail::require(ci >= 1 && co >= 1 && u.temporal_kernel >= 1, "ferx::nn::random_stgcn_unit_weights",
                          "channels and the temporal kernel must be >= 1");
    stgcn_unit_weights w;
    conv({K * co, ci, 1, 1}, w.spatial_weight, w.spatial_bias);
    w.spatial_bn = bn(co);
    conv({co, co, u.temporal_kernel, 1}, w.temporal_weight, w.temporal_bias);
    w.temporal_bn = bn(co);
    if (resolved_residual(u) == stgcn_residual::conv) {
        conv({co, ci, 1, 1}, w.residual_weight, w.residual_bias);
        w.residual_bn = bn(co);
    }
    return w;
}


}  // namespace nn
FERX_NAMESPACE_END
