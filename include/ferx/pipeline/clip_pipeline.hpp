/// \file ferx/pipeline/clip_pipeline.hpp
/// The classical pipeline on clips (dynamic FER): a clip's selected frames -> one face box per
/// clip -> crops [T, height, width], equalised per frame -> clip descriptors of the volume and
/// frame descriptors of its reference frame, concatenated -> scaler -> PCA -> SVM.
///
///     auto spec = ferx::parse_spec("lbp_top(grid=2)+hog(cell=6,block=12,stride=6)+lbp_u2:clip(frames=all,ref=last):std:linear(C=0.01)");
///     ferx::clip_list clips = ferx::ckplus48_clips(root);
///     ferx::pipeline_model m = ferx::fit_clips(ferx::exec::par, spec, clips);        // clip labels and classes
///     ferx::save_pipeline(m, "clips.ferx");                                           // the same model file
///     ferx::prediction p = ferx::predict_clips(ferx::exec::par, ferx::load_pipeline("clips.ferx"), clips);
///
/// A clip pipeline is a pipeline_spec with a clip stage (`clip(...)`; implied by a clip
/// descriptor, with its defaults):
///  - frames: the selection (ferx::select_frames) of the clip's frames: all, half (the second
///    half), uniform (n frames), tsn (n segments, each segment's centre frame: the same frames in
///    training and testing). Every clip a model sees must give the same number of frames T (the
///    model records it: `pipeline_model::clip_frames`); all and half need clips of one length.
///  - ref: the reference frame of the selected frames (last, the default: the peak of
///    onset-to-apex sequences such as CK+'s; middle; first). Frame descriptors (hog, lbp, lpq)
///    describe the reference frame's crop only; clip descriptors (lbp_top, lpq_top, vlpq)
///    describe the whole volume.
///  - one crop box per clip, so that the volume stays aligned: with pre(source=crop) (the
///    default: CK+48's frames are already face crops) the whole frame; with source=largest or
///    confident, the face detected on the reference frame (detect=ref, the default) or on every
///    selected frame (detect=each) with the boxes combined into one (box=median: the median of
///    the boxes' centres, widths and heights; box=union: the smallest box holding them all).
///    With align=1 the eyes are found once, on the reference frame in that box, and every frame
///    is rotated by the same angle. Every frame is then cropped with that box and pad, resized to
///    the crop size and equalised (pre's eq) as the frame pipeline does; norm applies to the
///    whole volume. A clip in which no face is found is left out of training and predicted as
///    label -1 (scores 0).
/// Errors name the clip (its video file or its first frame's file) where the clip is known: a clip
/// that does not give T frames, or too few frames or too small frames for a descriptor.
#pragma once

// pipeline.hpp leaves the extern instantiations (ferx/pipeline/instances.hpp) to the end of this file.
#define FERX_DETAIL_IN_CLIP_PIPELINE 1

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/core/view.hpp>
#include <ferx/data/clips.hpp>
#include <ferx/features/clip_descriptor.hpp>
#include <ferx/pipeline/pipeline.hpp>
#include <ferx/pipeline/preprocess.hpp>
#include <ferx/pipeline/spec.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN

namespace detail {

inline constexpr const char* clip_where = "ferx::clip_pipeline";

inline const clip_params& require_clip_pipeline(const pipeline_spec& s, const char* where) {
    if (!s.clip) throw error(where, "the pipeline is a frame pipeline (no clip stage, no clip descriptor): use fit / predict");
    return *s.clip;
}

/// Index of the reference frame among t selected frames.
inline index_t reference_frame(clip_reference r, index_t t) {
    return r == clip_reference::last ? t - 1 : r == clip_reference::middle ? (t - 1) / 2 : 0;
}

/// One box from per-frame boxes (non-empty list).
inline rect combine_boxes(std::vector<rect> boxes, clip_box how) {
    if (how == clip_box::union_) {
        int x0 = boxes[0].x, y0 = boxes[0].y, x1 = boxes[0].x + boxes[0].width, y1 = boxes[0].y + boxes[0].height;
        for (const rect& b : boxes) {
            x0 = std::min(x0, b.x);
            y0 = std::min(y0, b.y);
            x1 = std::max(x1, b.x + b.width);
            y1 = std::max(y1, b.y + b.height);
        }
        return rect{x0, y0, x1 - x0, y1 - y0};
    }
    const auto median = [&](auto key) {
        std::vector<double> v;
        for (const rect& b : boxes) v.push_back(key(b));
        std::sort(v.begin(), v.end());
        const std::size_t n = v.size();
        return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    };
    const double cx = median([](const rect& b) { return b.x + 0.5 * b.width; });
    const double cy = median([](const rect& b) { return b.y + 0.5 * b.height; });
    const double w = median([](const rect& b) { return double(b.width); });
    const double h = median([](const rect& b) { return double(b.height); });
    const int iw = std::max(1, static_cast<int>(std::lround(w))), ih = std::max(1, static_cast<int>(std::lround(h)));
    return rect{static_cast<int>(std::lround(cx - 0.5 * iw)), static_cast<int>(std::lround(cy - 0.5 * ih)), iw, ih};
}

/// The face of one frame the source asks for (largest or most confident), if any.
template <class Policy>
std::optional<detection> frame_face(const Policy& policy, const preprocess_params& p, const face_detector& det,
                                    const image_view<const std::uint8_t>& frame) {
    const std::vector<detection> found = detect_multiscale(policy, det.face, frame, p.detect);
    return p.source == face_source::largest ? largest_face(found) : most_confident_face(found);
}

/// Checks that a clip of `frames` frames fits the spec's descriptors (and the model's T, when
/// `want` > 0); ferx::error naming `name` otherwise.
inline void check_clip_frames(const pipeline_spec& spec, index_t frames, index_t want, const std::string& name) {
    if (want > 0 && frames != want)
        throw error(clip_where, "the clip gives " + std::to_string(frames) + " frames under the clip stage's selection, the pipeline takes " +
                                    std::to_string(want) + " (use frames=uniform or frames=tsn for clips of different lengths)",
                    name);
    try {
        spec_feature_length(spec, spec.preprocess.height, spec.preprocess.width, frames);
    } catch (const error& e) {
        throw error(clip_where, "the clip (" + std::to_string(frames) + " frames) does not fit the descriptors: " + e.reason(), name);
    }
}

/// Stacks preprocessed clips of one shape into [n, T, rows, cols].
inline xt::xtensor<std::uint8_t, 4> stack_clips(const std::vector<const volume<std::uint8_t>*>& clips) {
    const auto& s = clips.at(0)->shape();
    xt::xtensor<std::uint8_t, 4> out(std::array<std::size_t, 4>{clips.size(), s[0], s[1], s[2]});
    const std::size_t sz = s[0] * s[1] * s[2];
    for (std::size_t i = 0; i < clips.size(); ++i) std::copy_n(clips[i]->data(), sz, out.data() + i * sz);
    return out;
}

}  // namespace detail

/// The frames of a clip that the spec's clip stage selects, decoded as 8-bit grey [T, rows, cols]
/// at the clip's own size (ferx::error naming the file for an unreadable clip).
inline volume<std::uint8_t> load_clip_frames(const pipeline_spec& spec, const clip_source& c) {
    const clip_params& cp = detail::require_clip_pipeline(spec, "ferx::load_clip_frames");
    return load_clip(c, cp.selection());
}

/// The spec's frame selection applied to a clip already in memory (all its frames [n, rows, cols]).
inline volume<std::uint8_t> select_clip_frames(const pipeline_spec& spec, const volume_view<const std::uint8_t>& all) {
    const clip_params& cp = detail::require_clip_pipeline(spec, "ferx::select_clip_frames");
    if (all.data() == nullptr || all.size() == 0) throw error("ferx::select_clip_frames", "the clip is empty");
    const auto idx = select_frames(all.shape(0), cp.selection());
    volume<std::uint8_t> out(std::array<std::size_t, 3>{idx.size(), std::size_t(all.rows()), std::size_t(all.cols())});
    for (std::size_t i = 0; i < idx.size(); ++i)
        for (index_t y = 0; y < all.rows(); ++y)
            for (index_t x = 0; x < all.cols(); ++x) out(i, std::size_t(y), std::size_t(x)) = all(idx[i], y, x);
    return out;
}

/// Preprocesses the selected frames [T, rows, cols] of one clip into crops [T, height, width]
/// (see the file comment): one box for the whole clip, every frame cropped, resized and
/// equalised. std::nullopt when the detector finds no face. `det` may be null for source=crop.
template <class Policy>
std::optional<volume<std::uint8_t>> preprocess_clip(const Policy& policy, const pipeline_spec& spec,
                                                    const volume_view<const std::uint8_t>& frames,
                                                    const face_detector* det = nullptr) {
    static_assert(is_host_policy_v<Policy>, "ferx::preprocess_clip runs on the host: exec::seq or exec::par");
    constexpr const char* where = "ferx::preprocess_clip";
    const clip_params& cp = detail::require_clip_pipeline(spec, where);
    const preprocess_params& p = spec.preprocess;
    check_preprocess_params(p);
    if (frames.data() == nullptr || frames.size() == 0) throw error(where, "the clip is empty");
    detail::require_packed_rows(frames, where, "the clip");
    if (p.source == face_source::all) throw error(where, "a clip takes one face (source crop, largest or confident), not all");
    const index_t t = frames.shape(0), ref = detail::reference_frame(cp.reference, t);
    rect box{0, 0, static_cast<int>(frames.cols()), static_cast<int>(frames.rows())};
    std::optional<eye_pair> eyes;
    const bool crop_source = p.source == face_source::crop;
    if (!crop_source) {
        if (det == nullptr) throw error(where, "face detection was asked for (source is not crop) but no detector was given");
        if (p.align_eyes && !det->eyes) throw error(where, "eye alignment was asked for but the detector has no eye cascade");
        if (cp.detect == clip_detect::reference) {
            const auto f = detail::frame_face(policy, p, *det, frames[ref]);
            if (!f) return std::nullopt;
            box = f->box;
        } else {
            std::vector<rect> boxes;
            for (index_t i = 0; i < t; ++i)
                if (const auto f = detail::frame_face(policy, p, *det, frames[i])) boxes.push_back(f->box);
            if (boxes.empty()) return std::nullopt;
            box = detail::combine_boxes(boxes, cp.box);
        }
        if (p.align_eyes) eyes = locate_eyes(exec::seq, *det->eyes, frames[ref], box);
    }
    volume<std::uint8_t> out(std::array<std::size_t, 3>{std::size_t(t), std::size_t(p.height), std::size_t(p.width)});
    const std::size_t px = static_cast<std::size_t>(p.height * p.width);
    for (index_t i = 0; i < t; ++i) {
        const image_view<const std::uint8_t> f = frames[i];
        image<std::uint8_t> c;
        if (crop_source && f.rows() == p.height && f.cols() == p.width)
            c = detail::to_owning(f);
        else
            c = crop_face(f, box, {crop_source ? 0.0 : p.pad, p.width, p.height}, eyes ? &*eyes : nullptr);
        detail::equalize_crop(exec::seq, p, view(c));
        std::copy(c.begin(), c.end(), out.data() + std::size_t(i) * px);
    }
    return out;
}

/// The concatenated descriptors [n, feature length] of preprocessed clips [n, T, rows, cols]:
/// clip descriptors on each volume, frame descriptors on each reference frame, in the spec's
/// order (intensity-normalised first when the spec asks).
template <class Policy>
xt::xtensor<float, 2> describe_clips(const Policy& policy, const pipeline_spec& spec, const xt::xtensor<std::uint8_t, 4>& clips) {
    static_assert(is_host_policy_v<Policy>, "ferx::describe_clips runs on the host: exec::seq or exec::par");
    const clip_params& cp = detail::require_clip_pipeline(spec, "ferx::describe_clips");
    if (clips.shape(0) == 0) throw error(detail::clip_where, "no clips to describe");
    const index_t n = index_t(clips.shape(0)), t = index_t(clips.shape(1)), rows = index_t(clips.shape(2)),
                  cols = index_t(clips.shape(3));
    xt::xtensor<float, 2> out({clips.shape(0), detail::spec_feature_length(spec, rows, cols, t)});
    const index_t ref = detail::reference_frame(cp.reference, t);
    const auto run = [&](const auto* data) {
        using T = std::remove_const_t<std::remove_pointer_t<decltype(data)>>;
        const std::size_t px = std::size_t(rows * cols);
        xt::xtensor<T, 3> refs(std::array<std::size_t, 3>{std::size_t(n), std::size_t(rows), std::size_t(cols)});
        for (index_t i = 0; i < n; ++i) std::copy_n(data + std::size_t(i * t + ref) * px, px, refs.data() + std::size_t(i) * px);
        const batch_view<const T> volumes(data, {n, t, rows, cols});
        const volume_view<const T> frames(refs.data(), {n, rows, cols});
        std::size_t offset = 0;
        for (const auto& d : spec.descriptors) {
            std::visit(
                [&](const auto& p) {
                    using P = std::decay_t<decltype(p)>;
                    const index_t len = detail::one_descriptor_length(d, t, rows, cols);
                    const tensor_view<float, 2> dst(out.data() + offset, {n, len}, {static_cast<index_t>(out.shape(1)), 1});
                    if constexpr (is_clip_descriptor_v<P>) describe(policy, volumes, p, dst);
                    else describe(policy, frames, p, dst);
                    offset += static_cast<std::size_t>(len);
                },
                d);
        }
    };
    if (spec.preprocess.normalize == intensity_norm::none) {
        run(clips.data());
    } else {
        const xt::xtensor<std::uint8_t, 3> flat = xt::xtensor<std::uint8_t, 3>(
            xt::adapt(clips.data(), clips.size(), xt::no_ownership(),
                      std::array<std::size_t, 3>{std::size_t(n * t), std::size_t(rows), std::size_t(cols)}));
        const xt::xtensor<float, 3> f = normalize_intensity(policy, flat, spec.preprocess.normalize);
        run(f.data());
    }
    return out;
}

namespace detail {

/// Preprocesses selected clips (in parallel under par, one clip a task); kept[i]: clip i gave a face.
template <class Policy>
std::vector<std::optional<volume<std::uint8_t>>> preprocess_clips(const Policy& policy, const pipeline_spec& spec,
                                                                  const std::vector<volume<std::uint8_t>>& clips,
                                                                  const face_detector* det) {
    std::vector<std::optional<volume<std::uint8_t>>> out(clips.size());
    for_each_range(policy, static_cast<std::ptrdiff_t>(clips.size()), 1, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
        for (std::ptrdiff_t i = lo; i < hi; ++i) {
            const auto& c = clips[static_cast<std::size_t>(i)];
            out[static_cast<std::size_t>(i)] = preprocess_clip(exec::seq, spec, volume_view<const std::uint8_t>(view(c)), det);
        }
    });
    return out;
}

inline std::string clip_name(const std::vector<std::string>* names, std::size_t i) {
    return names && i < names->size() ? (*names)[i] : "clip " + std::to_string(i);
}

template <class Policy>
pipeline_model fit_clips_named(const Policy& policy, const pipeline_spec& spec, const std::vector<volume<std::uint8_t>>& clips,
                               const label_vector& labels, const std::vector<std::string>& classes, const fit_options& opt,
                               const std::vector<std::string>* names) {
    static_assert(is_host_policy_v<Policy>, "ferx::fit_clips runs on the host: exec::seq or exec::par");
    constexpr const char* where = "ferx::fit_clips";
    require_clip_pipeline(spec, where);
    check_class_names(classes, where);
    if (clips.empty()) throw error(where, "no training clips");
    if (labels.size() != clips.size())
        throw error(where, std::to_string(clips.size()) + " clips but " + std::to_string(labels.size()) + " labels");
    for (int l : labels)
        if (l < 0 || l >= static_cast<int>(classes.size()))
            throw error(where, "label " + std::to_string(l) + " is outside 0.." + std::to_string(classes.size() - 1));
    const index_t t = static_cast<index_t>(clips[0].shape()[0]);
    for (std::size_t i = 0; i < clips.size(); ++i)
        check_clip_frames(spec, static_cast<index_t>(clips[i].shape()[0]), t, clip_name(names, i));
    const auto pre = preprocess_clips(policy, spec, clips, opt.detector);
    std::vector<const volume<std::uint8_t>*> kept;
    label_vector y;
    for (std::size_t i = 0; i < pre.size(); ++i)
        if (pre[i]) {
            kept.push_back(&*pre[i]);
            y.push_back(labels[i]);
        }
    if (kept.empty()) throw error(where, "no face was found in any training clip");
    pipeline_model m;
    m.spec = spec;
    m.classes = classes;
    m.clip_frames = t;
    fit_after_descriptors(policy, m, describe_clips(policy, spec, stack_clips(kept)), y, opt.progress);
    return m;
}

template <class Policy>
prediction predict_clips_named(const Policy& policy, const pipeline_model& m, const std::vector<volume<std::uint8_t>>& clips,
                               const face_detector* det, stage_times* times, const std::vector<std::string>* names) {
    static_assert(is_host_policy_v<Policy>, "ferx::predict_clips runs on the host: exec::seq or exec::par");
    constexpr const char* where = "ferx::predict_clips";
    require_clip_pipeline(m.spec, where);
    if (clips.empty()) throw error(where, "no clips to predict");
    for (std::size_t i = 0; i < clips.size(); ++i)
        check_clip_frames(m.spec, static_cast<index_t>(clips[i].shape()[0]), m.clip_frames, clip_name(names, i));
    std::vector<std::optional<volume<std::uint8_t>>> pre;
    {
        stage_clock c(slot(times, &stage_times::preprocess));
        pre = preprocess_clips(policy, m.spec, clips, det);
    }
    std::vector<const volume<std::uint8_t>*> kept;
    std::vector<std::size_t> at;
    for (std::size_t i = 0; i < pre.size(); ++i)
        if (pre[i]) {
            kept.push_back(&*pre[i]);
            at.push_back(i);
        }
    prediction out;
    out.labels.assign(clips.size(), -1);
    out.scores = xt::xtensor<double, 2>({clips.size(), m.classes.size()}, 0.0);
    if (kept.empty()) return out;
    xt::xtensor<float, 2> x;
    {
        stage_clock c(slot(times, &stage_times::describe));
        x = describe_clips(policy, m.spec, stack_clips(kept));
    }
    stage_clock c(slot(times, &stage_times::classify));
    const prediction pr = classify_features(policy, m, x);
    for (std::size_t k = 0; k < at.size(); ++k) {
        out.labels[at[k]] = pr.labels[k];
        for (std::size_t j = 0; j < m.classes.size(); ++j) out.scores(at[k], j) = pr.scores(k, j);
    }
    return out;
}

template <class Policy>
std::vector<volume<std::uint8_t>> load_clip_list(const Policy& policy, const pipeline_spec& spec,
                                                 const std::vector<clip_source>& clips) {
    require_clip_pipeline(spec, "ferx::load_clip_frames");
    std::vector<volume<std::uint8_t>> out(clips.size());
    for_each_range(policy, static_cast<std::ptrdiff_t>(clips.size()), 1, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
        for (std::ptrdiff_t i = lo; i < hi; ++i)
            out[static_cast<std::size_t>(i)] = load_clip_frames(spec, clips[static_cast<std::size_t>(i)]);
    });
    return out;
}

inline std::vector<std::string> clip_names(const std::vector<clip_source>& clips) {
    std::vector<std::string> names;
    for (const auto& c : clips) names.push_back(!c.video.empty() ? c.video : c.frames.empty() ? std::string() : c.frames[0]);
    return names;
}

}  // namespace detail

/// Checks clips (their selected frames) against a clip pipeline before any work: each gives
/// `frames` frames (0: as many as the first), and the descriptors take that many frames of the
/// crop size. ferx::error naming names[i] (the clip's file) otherwise.
inline void check_clips(const pipeline_spec& spec, const std::vector<volume<std::uint8_t>>& clips,
                        const std::vector<std::string>& names, index_t frames = 0) {
    detail::require_clip_pipeline(spec, "ferx::check_clips");
    if (clips.empty()) throw error("ferx::check_clips", "no clips");
    const index_t t = frames > 0 ? frames : static_cast<index_t>(clips[0].shape()[0]);
    for (std::size_t i = 0; i < clips.size(); ++i)
        detail::check_clip_frames(spec, static_cast<index_t>(clips[i].shape()[0]), t, detail::clip_name(&names, i));
}

/// Trains a clip pipeline on clips given as their selected frames (load_clip_frames or
/// select_clip_frames: [T, rows, cols] 8-bit grey each, one T for all, any frame size), labels
/// 0..K-1 and K class names. `opt.detector` is needed for source=largest or confident. Throws
/// ferx::error for a frame pipeline, mismatched counts, bad labels or names, clips of another T,
/// or clips too short or too small for the descriptors.
template <class Policy>
pipeline_model fit_clips(const Policy& policy, const pipeline_spec& spec, const std::vector<volume<std::uint8_t>>& clips,
                         const label_vector& labels, const std::vector<std::string>& classes, const fit_options& opt = {}) {
    return detail::fit_clips_named(policy, spec, clips, labels, classes, opt, nullptr);
}

/// Trains a clip pipeline on a clip list (its clips, labels and classes), reading each clip's
/// selected frames; errors about a clip name its file (the video, or its first frame).
template <class Policy>
pipeline_model fit_clips(const Policy& policy, const pipeline_spec& spec, const clip_list& list, const fit_options& opt = {}) {
    const auto names = detail::clip_names(list.clips);
    return detail::fit_clips_named(policy, spec, detail::load_clip_list(policy, spec, list.clips), list.labels, list.classes,
                                   opt, &names);
}

/// Labels and scores [n, K] of clips given as their selected frames; a clip with no face found
/// gets label -1 and zero scores. ferx::error for a clip of another T than the model's.
template <class Policy>
prediction predict_clips(const Policy& policy, const pipeline_model& m, const std::vector<volume<std::uint8_t>>& clips,
                         const face_detector* det = nullptr, stage_times* times = nullptr) {
    return detail::predict_clips_named(policy, m, clips, det, times, nullptr);
}

/// Labels and scores of the clips of a list (read from their files; errors name the file).
template <class Policy>
prediction predict_clips(const Policy& policy, const pipeline_model& m, const clip_list& list,
                         const face_detector* det = nullptr, stage_times* times = nullptr) {
    const auto names = detail::clip_names(list.clips);
    return detail::predict_clips_named(policy, m, detail::load_clip_list(policy, m.spec, list.clips), det, times, &names);
}

FERX_NAMESPACE_END

#if defined(FERX_PIPELINE_EXTERN) || defined(FERX_PIPELINE_INSTANTIATE)
#include <ferx/pipeline/instances.hpp>
#endif
