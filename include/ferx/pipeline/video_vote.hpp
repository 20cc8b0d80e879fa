/// \file ferx/pipeline/video_vote.hpp
/// One decision for a clip from per-frame results, as the video FER theses do: a majority vote
/// of the frame labels, or the argmax of the mean per-class scores, over a chosen range of frames
/// (e.g. the second half, where the expression is near its apex). Independent of how the frame
/// results were made (classical pipeline or a network).
///
///     ferx::frame_range second_half = ferx::frame_range::fractions(0.5, 1.0);
///     ferx::clip_decision v = ferx::majority_vote(labels, 7, second_half);   // labels[i] = -1: no face
///     ferx::clip_decision s = ferx::mean_score(labels, scores, second_half);  // scores [frames, K]
///
/// And TSN's: the consensus of K segments' scores, and the late fusion of several streams.
///
///     std::vector<double> clip = ferx::consensus(segment_scores);            // [K, classes]
///     auto fused = ferx::late_fusion({rgb, flow, skeleton}, {2, 2, 1});      // [clips, classes] each
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/tensor.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

FERX_NAMESPACE_BEGIN

/// A range of frames: fractions [begin, end) of the clip's length, or frame indices [begin, end).
struct frame_range {
    bool by_fraction = true;
    double begin = 0.0, end = 1.0;

    /// Frames [floor(begin * n), floor(end * n)) of n; 0 <= begin < end <= 1.
    static frame_range fractions(double begin, double end) { return {true, begin, end}; }
    /// Frames [begin, end) (end clipped to the clip's length).
    static frame_range indices(std::size_t begin, std::size_t end) {
        return {false, static_cast<double>(begin), static_cast<double>(end)};
    }
    static frame_range all() { return {true, 0.0, 1.0}; }
    static frame_range second_half() { return {true, 0.5, 1.0}; }

    /// [first, last) of a clip of n frames; ferx::error when the range is invalid or empty.
    std::pair<std::size_t, std::size_t> resolve(std::size_t n) const {
        constexpr const char* where = "ferx::frame_range";
        if (!std::isfinite(begin) || !std::isfinite(end) || begin < 0 || !(begin < end))
            throw error(where, "the range needs 0 <= begin < end, got [" + std::to_string(begin) + ", " + std::to_string(end) + ")");
        std::size_t b, e;
        if (by_fraction) {
            if (end > 1) throw error(where, "fractions must be within [0, 1], got end " + std::to_string(end));
            b = static_cast<std::size_t>(std::floor(begin * static_cast<double>(n)));
            e = static_cast<std::size_t>(std::floor(end * static_cast<double>(n)));
        } else {
            if (begin != std::floor(begin) || end != std::floor(end)) throw error(where, "frame indices must be whole numbers");
            b = static_cast<std::size_t>(begin);
            e = std::min(static_cast<std::size_t>(end), n);
        }
        if (b >= e)
            throw error(where, "the range selects no frame of the " + std::to_string(n) + "-frame clip");
        return {b, e};
    }
};

/// A clip's decision.
struct clip_decision {
    int label = -1;                ///< the decided class; -1 when no frame of the range had a face
    std::vector<double> support;   ///< per class: votes (majority_vote) or mean score (mean_score)
    std::size_t frames_used = 0;   ///< frames of the range with a result (label >= 0)
    std::size_t first = 0, last = 0;  ///< the range, [first, last)
};

/// Majority vote of labels[first, last) over n_classes classes; frames labelled -1 (no face) are
/// skipped; ties go to the lower class. ferx::error for a label outside -1..n_classes-1.
inline clip_decision majority_vote(const std::vector<int>& labels, int n_classes, const frame_range& range = frame_range::all()) {
    constexpr const char* where = "ferx::majority_vote";
    if (n_classes < 1) throw error(where, "n_classes must be positive");
    clip_decision d;
    std::tie(d.first, d.last) = range.resolve(labels.size());
    d.support.assign(static_cast<std::size_t>(n_classes), 0.0);
    for (std::size_t i = d.first; i < d.last; ++i) {
        if (labels[i] < -1 || labels[i] >= n_classes)
            throw error(where, "frame " + std::to_string(i) + " has label " + std::to_string(labels[i]) + ", outside -1.." +
                                   std::to_string(n_classes - 1));
        if (labels[i] < 0) continue;
        d.support[static_cast<std::size_t>(labels[i])] += 1.0;
        ++d.frames_used;
    }
    if (d.frames_used > 0)
        d.label = static_cast<int>(std::max_element(d.support.begin(), d.support.end()) - d.support.begin());
    return d;
}

/// Argmax of the mean scores [frames, K] over the frames of the range whose label is not -1
/// (labels gives, per frame, whether it had a result); ties go to the lower class. ferx::error
/// when labels and scores differ in length, or a used score is not finite.
inline clip_decision mean_score(const std::vector<int>& labels, const xt::xtensor<double, 2>& scores,
                                const frame_range& range = frame_range::all()) {
    constexpr const char* where = "ferx::mean_score";
    if (scores.shape(0) != labels.size())
        throw error(where, std::to_string(labels.size()) + " frame labels but " + std::to_string(scores.shape(0)) + " score rows");
    if (scores.shape(1) == 0) throw error(where, "the scores have no class column");
    clip_decision d;
    std::tie(d.first, d.last) = range.resolve(labels.size());
    const std::size_t k = scores.shape(1);
    d.support.assign(k, 0.0);
    for (std::size_t i = d.first; i < d.last; ++i) {
        if (labels[i] < 0) continue;
        for (std::size_t c = 0; c < k; ++c) {
            if (!std::isfinite(scores(i, c)))
                throw error(where, "frame " + std::to_string(i) + " has a non-finite score for class " + std::to_string(c));
            d.support[c] += scores(i, c);
        }
        ++d.frames_used;
    }
    if (d.frames_used == 0) return d;
    for (auto& s : d.support) s /= static_cast<double>(d.frames_used);
    d.label = static_cast<int>(std::max_element(d.support.begin(), d.support.end()) - d.support.begin());
    return d;
}

/// How TSN joins its segments' scores into the clip's: the mean, the maximum per class, or a
/// weighted mean (weights per segment, normalised by their sum).
enum class segment_consensus { average, max, weighted };

/// TSN's segmental consensus of `scores` [segments, K] (one row per sampled snippet: see
/// ferx::select_frames with frame_selection::tsn for the sampling); `weights` (one per segment,
/// non-negative, not all 0) only for `weighted`. ferx::error for no segment or class, a
/// non-finite score, or weights that do not fit.
inline std::vector<double> consensus(const xt::xtensor<double, 2>& scores, segment_consensus how = segment_consensus::average,
                                     const std::vector<double>& weights = {}) {
    constexpr const char* where = "ferx::consensus";
    const std::size_t n = scores.shape(0), k = scores.shape(1);
    if (n == 0 || k == 0) throw error(where, "the scores have no segment or no class");
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t c = 0; c < k; ++c)
            if (!std::isfinite(scores(i, c)))
                throw error(where, "segment " + std::to_string(i) + " has a non-finite score for class " + std::to_string(c));
    std::vector<double> w(n, 1.0);
    if (how == segment_consensus::weighted) {
        if (weights.size() != n)
            throw error(where, std::to_string(weights.size()) + " weights for " + std::to_string(n) + " segments");
        double sum = 0;
        for (double v : weights) {
            if (!(v >= 0) || !std::isfinite(v)) throw error(where, "a segment weight is negative or not finite");
            sum += v;
        }
        if (sum <= 0) throw error(where, "the segment weights are all 0");
        w = weights;
    } else if (!weights.empty()) {
        throw error(where, "weights are given, but the consensus is not the weighted one");
    }
    std::vector<double> out(k, how == segment_consensus::max ? -std::numeric_limits<double>::infinity() : 0.0);
    double total = 0;
    for (std::size_t i = 0; i < n; ++i) {
        total += w[i];
        for (std::size_t c = 0; c < k; ++c) {
            if (how == segment_consensus::max) out[c] = std::max(out[c], scores(i, c));
            else out[c] += w[i] * scores(i, c);
        }
    }
    if (how != segment_consensus::max)
        for (auto& v : out) v /= total;
    return out;
}

/// Late fusion of the class scores of several streams (e.g. RGB, flow and skeleton networks,
/// each [clips, K]): the weighted sum sum_s w_s * scores_s / sum_s w_s, as the two-stream and
/// TSN papers fuse them (e.g. weights 2 : 2 : 1). With `softmax`, each stream's rows are turned
/// into probabilities first (streams whose scores have other scales). ferx::error when the
/// streams differ in shape, a weight is negative or all are 0, or a score is not finite.
inline xt::xtensor<double, 2> late_fusion(const std::vector<xt::xtensor<double, 2>>& streams, const std::vector<double>& weights,
                                          bool softmax = false) {
    constexpr const char* where = "ferx::late_fusion";
    if (streams.empty()) throw error(where, "no stream to fuse");
    if (weights.size() != streams.size())
        throw error(where, std::to_string(weights.size()) + " weights for " + std::to_string(streams.size()) + " streams");
    const auto shape = streams[0].shape();
    if (shape[0] == 0 || shape[1] == 0) throw error(where, "the scores have no clip or no class");
    double sum = 0;
    for (std::size_t s = 0; s < streams.size(); ++s) {
        if (streams[s].shape() != shape)
            throw error(where, "stream " + std::to_string(s) + " has " + std::to_string(streams[s].shape(0)) + " x " +
                                   std::to_string(streams[s].shape(1)) + " scores, stream 0 " + std::to_string(shape[0]) + " x " +
                                   std::to_string(shape[1]));
        if (!(weights[s] >= 0) || !std::isfinite(weights[s])) throw error(where, "the weight of stream " + std::to_string(s) + " is negative or not finite");
        sum += weights[s];
        for (double v : streams[s])
            if (!std::isfinite(v)) throw error(where, "stream " + std::to_string(s) + " has a non-finite score");
    }
    if (sum <= 0) throw error(where, "the stream weights are all 0");
    xt::xtensor<double, 2> out = xt::zeros<double>({shape[0], shape[1]});
    std::vector<double> row(shape[1]);
    for (std::size_t s = 0; s < streams.size(); ++s)
        for (std::size_t i = 0; i < shape[0]; ++i) {
            for (std::size_t c = 0; c < shape[1]; ++c) row[c] = streams[s](i, c);
            if (softmax) {
                const double m = *std::max_element(row.begin(), row.end());
                double z = 0;
                for (auto& v : row) z += (v = std::exp(v - m));
                for (auto& v : row) v /= z;
            }
            for (std::size_t c = 0; c < shape[1]; ++c) out(i, c) += weights[s] / sum * row[c];
        }
    return out;
}

FERX_NAMESPACE_END
