/// \file ferx/data/skeleton_input.hpp
/// From an NTU RGB+D skeleton (ferx/data/ntu_skeleton.hpp) to the input tensor of a skeleton
/// network, as EfficientGCN (Song et al., arXiv:2106.15125) was trained on it:
///
///  1. `skeleton_positions`: per frame and body (the first `max_bodies` of each frame, 4), the
///     joints' camera-space x, y, z in metres, no centring or rotation; the `keep_bodies` (2)
///     bodies with the highest energy std(x) + std(y) + std(z) over their non-zero frames are
///     kept, highest first (a missing body is all zeros); zero-padded to `pad_frames` (300)
///     frames, cut to `keep_frames` (288). Shape [3, T, V, M] (channel, frame, joint, body),
///     rounded to float32 as the original stored it.
///  2. `efficientgcn_branches`: three branches of 6 channels, computed in float64 from those
///     float32 positions and rounded to float32: J = [p, p - p(joint 1)]; V = [p(t+1) - p(t),
///     p(t+2) - p(t)] for t < T - 2, 0 on the last two frames; B = [b, arccos(b / (|b| + 1e-4))]
///     per axis with the bone b = p(v) - p(parent(v)). Shape [3, 6, T, V, M].
///
/// The padding is differenced as the original does (V jumps where the real frames end), and B's
/// angle channels are pi/2 on padded frames and on an absent body: the trained model expects it.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/data/ntu_skeleton.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN

/// The parent of every NTU joint (0-based) for the bones: joint 1, the middle of the spine, is
/// its own parent (a zero bone).
inline std::vector<int> ntu25_parents() {
    return {1, 1, 20, 2, 20, 4, 5, 6, 20, 8, 9, 10, 0, 12, 13, 14, 0, 16, 17, 18, 1, 22, 7, 24, 11};
}

/// The preprocessing's parameters; the defaults are EfficientGCN's for NTU RGB+D.
struct skeleton_input_params {
    int max_bodies = 4;    ///< bodies read per frame (later ones are ignored)
    int keep_bodies = 2;   ///< M: bodies kept, by energy
    int pad_frames = 300;  ///< frames zero-padded to (longer sequences are cut to it)
    int keep_frames = 288; ///< T: frames kept from the start of the padded sequence
    int joints = 25;       ///< V
    int centre_joint = 1;  ///< J's second half is relative to this joint (0-based)
    std::vector<int> parents = ntu25_parents();  ///< bones: parent of each joint (0-based)
};

namespace detail {
inline void check_skeleton_input_params(const skeleton_input_params& p, const char* where) {
    require(p.max_bodies >= 1 && p.keep_bodies >= 1 && p.keep_bodies <= p.max_bodies, where,
            "need 1 <= keep_bodies <= max_bodies, got keep_bodies " + std::to_string(p.keep_bodies) +
                " and max_bodies " + std::to_string(p.max_bodies));
    require(p.keep_frames >= 1 && p.pad_frames >= p.keep_frames, where,
            "need 1 <= keep_frames <= pad_frames, got " + std::to_string(p.keep_frames) + " and " +
                std::to_string(p.pad_frames));
    require(p.joints >= 1 && p.centre_joint >= 0 && p.centre_joint < p.joints, where,
            "centre_joint " + std::to_string(p.centre_joint) + " is not a joint of " + std::to_string(p.joints));
    require(static_cast<int>(p.parents.size()) == p.joints, where,
            "parents has " + std::to_string(p.parents.size()) + " entries for " + std::to_string(p.joints) + " joints");
    for (int v : p.parents) require(v >= 0 && v < p.joints, where, "parent " + std::to_string(v) + " is not a joint");
}
}  // namespace detail

/// Step 1: the kept bodies' joint positions, [3, keep_frames, joints, keep_bodies] (x, y, z).
/// Energy ties (e.g. two absent bodies) keep the later body slot first, as NumPy's reversed
/// argsort does. ferx::error if a body has another joint count than `p.joints`.
inline xt::xtensor<float, 4> skeleton_positions(const ntu_skeleton& s, const skeleton_input_params& p = {}) {
    constexpr const char* where = "ferx::skeleton_positions";
    detail::check_skeleton_input_params(p, where);
    const std::size_t frames = s.frames.size(), bodies = static_cast<std::size_t>(p.max_bodies),
                      joints = static_cast<std::size_t>(p.joints);
    // All read bodies in float64, [body][frame][joint][axis].
    std::vector<double> all(bodies * frames * joints * 3, 0.0);
    auto at = [&](std::size_t m, std::size_t t, std::size_t v, std::size_t c) -> double& {
        return all[((m * frames + t) * joints + v) * 3 + c];
    };
    for (std::size_t t = 0; t < frames; ++t) {
        const auto& f = s.frames[t];
        for (std::size_t m = 0; m < std::min(bodies, f.bodies.size()); ++m) {
            const auto& b = f.bodies[m];
            if (b.joints.size() != joints)
                throw error(where, "body " + std::to_string(m) + " of frame " + std::to_string(t) + " has " +
                                       std::to_string(b.joints.size()) + " joints, expected " + std::to_string(joints),
                            s.source);
            for (std::size_t v = 0; v < joints; ++v) {
                at(m, t, v, 0) = b.joints[v].x;
                at(m, t, v, 1) = b.joints[v].y;
                at(m, t, v, 2) = b.joints[v].z;
            }
        }
    }
    // Energy: sum over axes of the (population) std over the frames whose values do not sum to 0.
    std::vector<double> energy(bodies, 0.0);
    for (std::size_t m = 0; m < bodies; ++m) {
        std::vector<std::size_t> valid;
        for (std::size_t t = 0; t < frames; ++t) {
            double sum = 0;
            for (std::size_t v = 0; v < joints; ++v)
                for (std::size_t c = 0; c < 3; ++c) sum += at(m, t, v, c);
            if (sum != 0) valid.push_back(t);
        }
        if (valid.empty()) continue;
        const double n = static_cast<double>(valid.size() * joints);
        for (std::size_t c = 0; c < 3; ++c) {
            double mean = 0;
            for (auto t : valid)
                for (std::size_t v = 0; v < joints; ++v) mean += at(m, t, v, c);
            mean /= n;
            double var = 0;
            for (auto t : valid)
                for (std::size_t v = 0; v < joints; ++v) var += (at(m, t, v, c) - mean) * (at(m, t, v, c) - mean);
            energy[m] += std::sqrt(var / n);
        }
    }
    std::vector<std::size_t> order(bodies);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return energy[a] < energy[b]; });
    std::reverse(order.begin(), order.end());

    const std::size_t keep_t = static_cast<std::size_t>(p.keep_frames), keep_m = static_cast<std::size_t>(p.keep_bodies);
    const std::size_t used_t = std::min({frames, keep_t, static_cast<std::size_t>(p.pad_frames)});
    xt::xtensor<float, 4> out = xt::zeros<float>({std::size_t{3}, keep_t, joints, keep_m});
    for (std::size_t k = 0; k < keep_m; ++k)
        for (std::size_t t = 0; t < used_t; ++t)
            for (std::size_t v = 0; v < joints; ++v)
                for (std::size_t c = 0; c < 3; ++c) out(c, t, v, k) = static_cast<float>(at(order[k], t, v, c));
    return out;
}

/// Step 2: EfficientGCN's three branches from positions [3, T, V, M]: [3 (J, V, B), 6, T, V, M].
inline xt::xtensor<float, 5> efficientgcn_branches(const xt::xtensor<float, 4>& pos, const skeleton_input_params& p = {}) {
    constexpr const char* where = "ferx::efficientgcn_branches";
    detail::check_skeleton_input_params(p, where);
    const auto& sh = pos.shape();
    detail::require(sh[0] == 3 && sh[2] == static_cast<std::size_t>(p.joints), where,
            "positions must be [3, T, " + std::to_string(p.joints) + ", M], got [" + std::to_string(sh[0]) + ", " +
                std::to_string(sh[1]) + ", " + std::to_string(sh[2]) + ", " + std::to_string(sh[3]) + "]");
    const std::size_t T = sh[1], V = sh[2], M = sh[3], centre = static_cast<std::size_t>(p.centre_joint);
    xt::xtensor<float, 5> out = xt::zeros<float>({std::size_t{3}, std::size_t{6}, T, V, M});
    auto x = [&](std::size_t c, std::size_t t, std::size_t v, std::size_t m) { return static_cast<double>(pos(c, t, v, m)); };
    for (std::size_t t = 0; t < T; ++t)
        for (std::size_t v = 0; v < V; ++v)
            for (std::size_t m = 0; m < M; ++m) {
                const std::size_t par = static_cast<std::size_t>(p.parents[v]);
                double bone[3], len2 = 0;
                for (std::size_t c = 0; c < 3; ++c) {
                    out(0, c, t, v, m) = static_cast<float>(x(c, t, v, m));
                    out(0, 3 + c, t, v, m) = static_cast<float>(x(c, t, v, m) - x(c, t, centre, m));
                    if (t + 2 < T) {
                        out(1, c, t, v, m) = static_cast<float>(x(c, t + 1, v, m) - x(c, t, v, m));
                        out(1, 3 + c, t, v, m) = static_cast<float>(x(c, t + 2, v, m) - x(c, t, v, m));
                    }
                    bone[c] = x(c, t, v, m) - x(c, t, par, m);
                    len2 += bone[c] * bone[c];
                }
                const double len = std::sqrt(len2) + 1e-4;
                for (std::size_t c = 0; c < 3; ++c) {
                    out(2, c, t, v, m) = static_cast<float>(bone[c]);
                    out(2, 3 + c, t, v, m) = static_cast<float>(std::acos(bone[c] / len));
                }
            }
    return out;
}

/// Both steps: a skeleton file's input tensor for EfficientGCN, [3, 6, T, V, M] (one sample;
/// a batch [N, 3, 6, T, V, M] is N of these one after the other).
inline xt::xtensor<float, 5> efficientgcn_input(const ntu_skeleton& s, const skeleton_input_params& p = {}) {
    return efficientgcn_branches(skeleton_positions(s, p), p);
}

FERX_NAMESPACE_END
