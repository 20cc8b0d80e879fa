/// \file ferx/detect/face_tracker.hpp
/// Faces followed through a video: a full cascade scan every k frames, and in between a local
/// scan around each face's predicted box, which is what makes Viola-Jones real-time on video:
///
///     ferx::face_tracker tracker({/*detect_every=*/5});
///     for (const auto& frame : video) {
///         for (const ferx::face_track& t : tracker.update(ferx::exec::par, face_cascade, frame))
///             if (t.misses == 0) draw(t.id, t.box);          // found in this frame
///     }
///
/// Each frame, update() does one of two things:
/// - a **full detection** (detect_multiscale over the whole frame) on the first frame, every
///   `detect_every` frames, on the frame after a track was dropped (re-detection on loss), and
///   after the frame size changed. Detections are associated with the tracks greedily by IoU
///   with each track's predicted box (pairs of highest IoU first, at least `match_iou`); a
///   matched track takes the detection's box, an unmatched detection starts a new track (a new
///   id), an unmatched track counts a miss;
/// - otherwise a **local search** per track: the cascade scans only the track's predicted box
///   grown by `search_pad` of its size on each side, at window sizes within a factor
///   `search_scale` of the track's size (so a handful of small pyramid levels), with
///   `search_neighbors` as min_neighbors; of the detections there that overlap the prediction by
///   at least `match_iou`, the one with the most neighbours updates the track; with none, the
///   track counts a miss.
/// A track's prediction is its last found box moved by its velocity and scaled by its growth
/// (centre motion and log size ratio per frame, averaged over updates); a track missed more than
/// `max_misses` frames in a row is dropped.
/// Two tracks whose boxes overlap by more than `duplicate_iou` are one face: the younger one is
/// dropped (if only it was found in this frame, it carries on under the older id). Ids are never
/// reused, so a face that leaves and comes back gets a new id.
///
/// A change of frame size ends every track (new ids follow) and starts with a full detection:
/// the documented recovery for a stream whose resolution changes. Empty frames and bad
/// parameters give ferx::error. The local scans are small (a few hundred windows), so they run
/// one thread per track: under `par` several tracks are scanned in parallel, and the full
/// detection uses the policy as detect_multiscale does; results of seq and par are equal.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/view.hpp>
#include <ferx/detect/cascade.hpp>
#include <ferx/detect/detect_multiscale.hpp>
#include <ferx/detect/face_crop.hpp>
#include <ferx/detect/rect.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

FERX_NAMESPACE_BEGIN

/// Parameters of face_tracker.
struct tracker_params {
    int detect_every = 5;         ///< a full detection every this many frames (1: every frame)
    double match_iou = 0.3;       ///< least IoU of a detection with a track's predicted box, in (0, 1]
    double search_pad = 0.5;      ///< local search region: the predicted box grown by this ratio of its size per side
    double search_scale = 1.3;    ///< local windows from size / s to size * s, s > 1
    int search_step = 0;          ///< window stride of the local scans in level pixels (0: the detector's rule)
    int search_neighbors = 1;     ///< min_neighbors of the local scans (a track is a face already: less evidence)
    int max_misses = 2;           ///< consecutive missed frames after which a track is dropped, >= 0
    double duplicate_iou = 0.5;   ///< two tracks overlapping more than this are merged (older kept)
    detect_params detect;         ///< the cascade's scan (full detections; the local ones narrow the sizes)
};

/// One face followed through the frames.
struct face_track {
    int id = -1;          ///< unique within the tracker, never reused
    rect box;             ///< the last box found, or while missed the predicted one
    rect last_found;      ///< the box of the last detection
    int neighbors = 0;    ///< neighbour count of the last detection
    int age = 0;          ///< frames since the track began (0 in its first frame)
    int hits = 0;         ///< frames in which the face was found
    int misses = 0;       ///< consecutive frames it was not found (0: found in this frame)
    double vx = 0, vy = 0;  ///< centre velocity, pixels per frame
    double vs = 0;          ///< growth of the box size: log of its ratio per frame
};

/// What the tracker did, summed over the frames since construction or reset().
struct tracker_stats {
    std::size_t frames = 0;           ///< frames given to update()
    std::size_t full_detections = 0;  ///< frames scanned whole
    std::size_t local_searches = 0;   ///< local scans (one per track per tracked frame)
    std::size_t tracks_started = 0;
    std::size_t tracks_dropped = 0;
};

/// Validates tracker parameters (ferx::error naming the bad one).
inline void check_tracker_params(const tracker_params& p, const char* where = "ferx::face_tracker") {
    if (p.detect_every < 1)
        throw error(where, "detect_every must be >= 1, got " + std::to_string(p.detect_every));
    if (!(p.match_iou > 0.0 && p.match_iou <= 1.0))
        throw error(where, "match_iou must be in (0, 1], got " + std::to_string(p.match_iou));
    if (!(p.search_pad >= 0.0 && p.search_pad <= 4.0))
        throw error(where, "search_pad must be in [0, 4], got " + std::to_string(p.search_pad));
    if (!(p.search_scale > 1.0 && p.search_scale <= 4.0))
        throw error(where, "search_scale must be in (1, 4], got " + std::to_string(p.search_scale));
    if (p.search_step < 0 || p.search_step > 8)
        throw error(where, "search_step must be in [0, 8], got " + std::to_string(p.search_step));
    if (p.search_neighbors < 0)
        throw error(where, "search_neighbors must be >= 0, got " + std::to_string(p.search_neighbors));
    if (p.max_misses < 0) throw error(where, "max_misses must be >= 0, got " + std::to_string(p.max_misses));
    if (!(p.duplicate_iou > 0.0 && p.duplicate_iou <= 1.0))
        throw error(where, "duplicate_iou must be in (0, 1], got " + std::to_string(p.duplicate_iou));
}

/// Detection every k frames and local tracking in between (see the file comment).
class face_tracker {
public:
    explicit face_tracker(const tracker_params& p = {}) : p_(p) { check_tracker_params(p_); }

    /// Processes the next frame of the video with cascade `c` and returns the live tracks: those
    /// found in this frame have misses == 0. The reference stays valid until the next call.
    template <class Policy>
    const std::vector<face_track>& update(const Policy& policy, const cascade& c,
                                          const image_view<const std::uint8_t>& frame) {
        static_assert(is_host_policy_v<Policy>, "ferx::face_tracker runs on the host: exec::seq or exec::par");
        constexpr const char* where = "ferx::face_tracker::update";
        if (frame.data() == nullptr || frame.rows() <= 0 || frame.cols() <= 0) throw error(where, "the frame is empty");
        detail::require_packed_rows(frame, where, "the frame");
        if (frame.rows() != rows_ || frame.cols() != cols_) {
            reset();
            rows_ = frame.rows();
            cols_ = frame.cols();
        }
        ++stats_.frames;
        for (face_track& t : tracks_) ++t.age;
        const bool full = force_full_ || since_full_ + 1 >= p_.detect_every;
        force_full_ = false;
        if (full) {
            since_full_ = 0;
            ++stats_.full_detections;
            associate(detect_multiscale(policy, c, frame, p_.detect));
        } else {
            ++since_full_;
            search_locally(policy, c, frame);
        }
        finish();
        return tracks_;
    }

    /// The live tracks after the last update().
    const std::vector<face_track>& tracks() const noexcept { return tracks_; }

    /// The tracks found in the last frame, as detections (box and neighbour count).
    std::vector<detection> found() const {
        std::vector<detection> out;
        for (const face_track& t : tracks_)
            if (t.misses == 0) out.push_back(detection{t.box, t.neighbors});
        return out;
    }

    /// Forgets every track (ids keep counting up); the next frame gets a full detection.
    void reset() {
        stats_.tracks_dropped += tracks_.size();
        tracks_.clear();
        force_full_ = true;
    }

    const tracker_stats& stats() const noexcept { return stats_; }
    const tracker_params& params() const noexcept { return p_; }

private:
    // The predicted box of a track: its box moved by its velocity over the frames since it was
    // last seen, clipped to the frame.
    rect predict(const face_track& t) const {
        const double k = static_cast<double>(t.misses + 1);
        const double g = std::exp(std::clamp(t.vs * k, -0.5, 0.5));
        const rect& b = t.last_found;
        const double cx = b.x + 0.5 * b.width + t.vx * k, cy = b.y + 0.5 * b.height + t.vy * k;
        const double w = b.width * g, h = b.height * g;
        const rect r{static_cast<int>(std::lround(cx - 0.5 * w)), static_cast<int>(std::lround(cy - 0.5 * h)),
                     static_cast<int>(std::lround(w)), static_cast<int>(std::lround(h))};
        const rect clipped = intersect(r, rect{0, 0, static_cast<int>(cols_), static_cast<int>(rows_)});
        return clipped.area() > 0 ? clipped : b;
    }

    // A track found at `d`: box, velocities (mean of the old and the new per-frame motion and
    // growth) from the box it was last found at, counters.
    static void hit(face_track& t, const detection& d) {
        const rect last = t.last_found;
        const double k = static_cast<double>(t.misses + 1);
        const double dx = (d.box.x + 0.5 * d.box.width - last.x - 0.5 * last.width) / k;
        const double dy = (d.box.y + 0.5 * d.box.height - last.y - 0.5 * last.height) / k;
        const double ds = std::log(static_cast<double>(std::max(1, d.box.width)) / std::max(1, last.width)) / k;
        if (t.hits > 0) {
            t.vx = 0.5 * (t.vx + dx);
            t.vy = 0.5 * (t.vy + dy);
            t.vs = 0.5 * (t.vs + ds);
        }
        t.box = t.last_found = d.box;
        t.neighbors = d.neighbors;
        ++t.hits;
        t.misses = 0;
    }

    // Greedy IoU association of a full detection's boxes with the tracks.
    void associate(const std::vector<detection>& found) {
        struct pair_iou {
            double iou;
            std::size_t track, det;
        };
        std::vector<pair_iou> pairs;
        std::vector<rect> pred(tracks_.size());
        for (std::size_t t = 0; t < tracks_.size(); ++t) pred[t] = predict(tracks_[t]);
        for (std::size_t t = 0; t < tracks_.size(); ++t)
            for (std::size_t d = 0; d < found.size(); ++d) {
                const double v = iou(pred[t], found[d].box);
                if (v >= p_.match_iou) pairs.push_back({v, t, d});
            }
        std::stable_sort(pairs.begin(), pairs.end(),
                         [](const pair_iou& a, const pair_iou& b) { return a.iou > b.iou; });
        std::vector<char> track_done(tracks_.size(), 0), det_done(found.size(), 0);
        for (const pair_iou& q : pairs) {
            if (track_done[q.track] || det_done[q.det]) continue;
            track_done[q.track] = det_done[q.det] = 1;
            hit(tracks_[q.track], found[q.det]);
        }
        for (std::size_t t = 0; t < tracks_.size(); ++t)
            if (!track_done[t]) miss(tracks_[t], pred[t]);
        for (std::size_t d = 0; d < found.size(); ++d) {
            if (det_done[d]) continue;
            face_track t;
            t.id = next_id_++;
            t.box = t.last_found = found[d].box;
            t.neighbors = found[d].neighbors;
            t.hits = 1;
            tracks_.push_back(t);
            ++stats_.tracks_started;
        }
    }

    void miss(face_track& t, const rect& predicted) {
        t.box = predicted;
        ++t.misses;
    }

    // The local scan of track t: region, size bounds, best detection (or none).
    bool search_one(const cascade& c, const image_view<const std::uint8_t>& frame, const rect& pred,
                    detection& best) const {
        const rect region = pad_box(pred, p_.search_pad, rows_, cols_);
        if (region.width < c.window_width || region.height < c.window_height) return false;
        const image_view<const std::uint8_t> roi(frame.data() + region.y * frame.stride(0) + region.x,
                                                 {region.height, region.width}, {frame.stride(0), 1});
        detect_params dp = p_.detect;
        const int size = std::max(pred.width, pred.height);
        dp.min_width = std::max(dp.min_width, static_cast<int>(std::floor(size / p_.search_scale)));
        dp.min_height = dp.min_width;
        const int hi = static_cast<int>(std::ceil(size * p_.search_scale));
        dp.max_width = dp.max_width > 0 ? std::min(dp.max_width, hi) : hi;
        dp.max_height = dp.max_height > 0 ? std::min(dp.max_height, hi) : hi;
        if (dp.max_width < dp.min_width) return false;
        dp.step = p_.search_step;
        dp.min_neighbors = p_.search_neighbors;
        // Of the detections overlapping the prediction enough, the strongest (most neighbours;
        // ties: higher IoU). Nearest-to-prediction would prefer a part of a face growing fast.
        bool any = false;
        double best_iou = 0.0;
        for (detection d : detect_multiscale(exec::seq, c, roi, dp)) {
            d.box.x += region.x;
            d.box.y += region.y;
            const double v = iou(pred, d.box);
            if (v < p_.match_iou) continue;
            if (!any || d.neighbors > best.neighbors || (d.neighbors == best.neighbors && v > best_iou)) {
                best_iou = v;
                best = d;
                any = true;
            }
        }
        return any;
    }

    template <class Policy>
    void search_locally(const Policy& policy, const cascade& c, const image_view<const std::uint8_t>& frame) {
        const std::size_t n = tracks_.size();
        stats_.local_searches += n;
        predicted_.resize(n);
        results_.assign(n, detection{});
        found_.assign(n, 0);
        for (std::size_t t = 0; t < n; ++t) predicted_[t] = predict(tracks_[t]);
        const auto one = [&](std::size_t t) { found_[t] = search_one(c, frame, predicted_[t], results_[t]) ? 1 : 0; };
        if constexpr (std::is_same<Policy, exec::parallel_policy>::value) {
            policy.pool().run(n, one);  // one track (or none) runs inline
        } else {
            (void)policy;
            for (std::size_t t = 0; t < n; ++t) one(t);
        }
        for (std::size_t t = 0; t < n; ++t) {
            if (found_[t]) hit(tracks_[t], results_[t]);
            else miss(tracks_[t], predicted_[t]);
        }
    }

    // Drops lost tracks, and one of two overlapping ones: the younger, unless only it was found
    // in this frame (then it carries on under the older id).
    void finish() {
        std::vector<face_track> keep;
        keep.reserve(tracks_.size());
        for (const face_track& t : tracks_) {
            if (t.misses > p_.max_misses) {
                ++stats_.tracks_dropped;
                force_full_ = true;  // re-detect on loss: the next frame is scanned whole
                continue;
            }
            face_track* dup = nullptr;
            for (face_track& k : keep)
                if (!dup && iou(k.box, t.box) > p_.duplicate_iou) dup = &k;
            if (!dup) {
                keep.push_back(t);
                continue;
            }
            ++stats_.tracks_dropped;
            if (dup->misses > 0 && t.misses == 0) {
                const int id = dup->id, age = dup->age, hits = dup->hits;
                *dup = t;
                dup->id = id;
                dup->age = age;
                dup->hits = hits + 1;
            }
        }
        tracks_.swap(keep);  // tracks_ stays in id order: older first
    }

    tracker_params p_;
    std::vector<face_track> tracks_;
    std::vector<rect> predicted_;
    std::vector<detection> results_;
    std::vector<char> found_;
    tracker_stats stats_;
    index_t rows_ = -1, cols_ = -1;
    int next_id_ = 0;
    int since_full_ = 0;
    bool force_full_ = true;
};

FERX_NAMESPACE_END
