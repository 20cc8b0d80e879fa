/// \file ferx/pipeline/pipeline.hpp
/// The classical FER pipeline, trained in one call, run on crops, images or video frames, and
/// saved to one model file:
///
///     ferx::pipeline_spec spec = ferx::parse_spec("hog+lbp_u2:std:rbf(C=10)");
///     ferx::pipeline_model m = ferx::fit(ferx::exec::par, spec, crops, labels, classes);  // crops [n, 48, 48]
///     ferx::save_pipeline(m, "model.ferx");
///     auto m2 = ferx::load_pipeline("model.ferx");
///     ferx::prediction p = ferx::predict(ferx::exec::par, m2, crops);    // p.labels, p.scores [n, K]
///     auto det = ferx::load_face_detector();
///     auto faces = ferx::predict_faces(ferx::exec::par, m2, det, ferx::view<std::uint8_t>(grey_frame));
///
/// Stages: preprocess (ferx/pipeline/preprocess.hpp) -> the descriptors of the spec, each
/// computed for the whole batch (the std::variant is visited once per batch, so the per-image
/// loop is the descriptor's own typed code) and concatenated in order -> standard or min-max
/// scaler -> PCA -> linear SVM (fit_linear_svm) or kernel C-SVC (fit_svc with the kernel type
/// chosen by the spec). Scores per class [n, K]: Platt probabilities when the SVM was fitted
/// with prob=1; else one-vs-rest decision values; else (one-vs-one) votes plus a confidence in
/// (-1/3, 1/3) from the summed decision values. Labels are always the SVM's own prediction
/// (LIBSVM voting, ties to the lower class), which for one-vs-one ties may differ from the
/// argmax of the scores.
///
/// Model file (ferx/learn/model_io.hpp format, one file): a `pipeline` section with the
/// canonical spec string (every parameter), the class names and the feature length, then the
/// scaler, PCA and SVM sections. A malformed, truncated or inconsistent file gives a ferx::error
/// naming the file.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/core/view.hpp>
#include <ferx/features/descriptor.hpp>
#include <ferx/detect/face_tracker.hpp>
#include <ferx/learn/kernel_svm.hpp>
#include <ferx/learn/linear_svm.hpp>
#include <ferx/learn/model_io.hpp>
#include <ferx/learn/pca.hpp>
#include <ferx/learn/scaling.hpp>
#include <ferx/pipeline/preprocess.hpp>
#include <ferx/pipeline/spec.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

FERX_NAMESPACE_BEGIN

/// The fitted classifier, its kernel a type.
using classifier_model =
    std::variant<linear_svm_model, svc_model<rbf_kernel, float>, svc_model<poly_kernel, float>,
                 svc_model<sigmoid_kernel, float>, svc_model<chi2_kernel, float>, svc_model<intersection_kernel, float>>;

/// The fitted scaler (none, standard or min-max).
using scaler_model = std::variant<std::monostate, standard_scaler, minmax_scaler>;

/// A trained pipeline: its spec and every fitted stage.
struct pipeline_model {
    pipeline_spec spec;                ///< every parameter (gamma=scale is resolved in the SVM)
    std::vector<std::string> classes;  ///< K class names, index = label
    std::size_t feature_dim = 0;       ///< length of the concatenated descriptors
    index_t clip_frames = 0;           ///< clip pipelines: frames T of the volumes it was fitted on (0: a frame pipeline)
    scaler_model scaler;
    std::optional<pca_model> pca;
    classifier_model classifier;

    int n_classes() const { return static_cast<int>(classes.size()); }
};

/// Labels and per-class scores of a batch.
struct prediction {
    label_vector labels;           ///< n labels
    xt::xtensor<double, 2> scores;  ///< [n, K]
};

/// Seconds spent in each stage (accumulated by the calls given a pointer to one).
struct stage_times {
    double detect = 0, preprocess = 0, describe = 0, classify = 0;
    double total() const { return detect + preprocess + describe + classify; }
};

/// Options of fit.
struct fit_options {
    progress_callback progress;     ///< optional: binary SVM tasks done / total
    const face_detector* detector = nullptr;  ///< needed when spec.preprocess.source is not crop
};

namespace detail {

inline constexpr const char* pipeline_where = "ferx::pipeline";

class stage_clock {
public:
    explicit stage_clock(double* slot) : slot_(slot), t0_(std::chrono::steady_clock::now()) {}
    ~stage_clock() {
        if (slot_) *slot_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    }
    stage_clock(const stage_clock&) = delete;
    stage_clock& operator=(const stage_clock&) = delete;

private:
    double* slot_;
    std::chrono::steady_clock::time_point t0_;
};

inline double* slot(stage_times* t, double stage_times::*m) { return t ? &(t->*m) : nullptr; }

/// The crops of faces `found` in a frame, with their eyes levelled when p.align_eyes, equalised
/// as p says. `times` (optional) gets the eye search (as detection) and the cropping. ferx::error
/// (at `where`) for alignment without an eye cascade.
template <class Policy>
preprocessed crop_found_faces(const Policy& policy, const preprocess_params& p, const face_detector& det,
                              const image_view<const std::uint8_t>& frame, const std::vector<detection>& found,
                              stage_times* times, const char* where) {
    std::vector<std::optional<eye_pair>> eyes(found.size());
    if (p.align_eyes) {
        stage_clock c(slot(times, &stage_times::detect));
        if (!det.eyes) throw error(where, "the model aligns eyes but the detector has no eye cascade");
        for (std::size_t i = 0; i < found.size(); ++i) eyes[i] = locate_eyes(policy, *det.eyes, frame, found[i].box);
    }
    stage_clock c(slot(times, &stage_times::preprocess));
    std::vector<face_box> boxes;
    std::vector<image<std::uint8_t>> crops;
    for (std::size_t i = 0; i < found.size(); ++i) {
        crops.push_back(crop_face(frame, found[i].box, {p.pad, p.width, p.height}, eyes[i] ? &*eyes[i] : nullptr));
        equalize_crop(exec::seq, p, view(crops.back()));
        boxes.push_back(face_box{0, found[i].box, found[i].neighbors, eyes[i].has_value()});
    }
    return stack_crops(p, std::move(boxes), std::move(crops));
}

/// The faces of a frame, detected with p.detect and selected by `source` (largest, most
/// confident or all), then cropped as crop_found_faces does. `times` (optional) gets the
/// detection (with the eye search) and the cropping.
template <class Policy>
preprocessed frame_faces(const Policy& policy, const preprocess_params& p, const face_detector& det,
                         const image_view<const std::uint8_t>& frame, face_source source, stage_times* times,
                         const char* where) {
    std::vector<detection> found;
    {
        stage_clock c(slot(times, &stage_times::detect));
        found = detect_multiscale(policy, det.face, frame, p.detect);
        if (source != face_source::all) {
            const auto best = source == face_source::largest ? largest_face(found) : most_confident_face(found);
            found.assign(best ? 1 : 0, best ? *best : detection{});
        }
    }
    return crop_found_faces(policy, p, det, frame, found, times, where);
}

/// Length of one descriptor: a frame descriptor on rows x cols crops, a clip descriptor on
/// frames x rows x cols volumes (frames 0: a frame pipeline, where a clip descriptor is an error).
inline index_t one_descriptor_length(const descriptor_spec& d, index_t frames, index_t rows, index_t cols) {
    return std::visit(
        [&](const auto& p) -> index_t {
            using P = std::decay_t<decltype(p)>;
            if constexpr (is_clip_descriptor_v<P>) {
                if (frames <= 0)
                    throw error(pipeline_where, "a clip descriptor (" + std::string(descriptor_traits<P>::name) +
                                                    ") needs clips: use a clip pipeline (fit_clips, predict_clips)");
                return clip_descriptor_length(p, frames, rows, cols);
            } else {
                return descriptor_length(p, rows, cols);
            }
        },
        d);
}

/// Total length of the spec's descriptors on rows x cols crops, or with `frames` > 0 on clips of
/// that many frames (ferx::error for bad parameters).
inline std::size_t spec_feature_length(const pipeline_spec& s, index_t rows, index_t cols, index_t frames = 0) {
    if (s.descriptors.empty()) throw error(pipeline_where, "the pipeline has no descriptor");
    std::size_t len = 0;
    for (const auto& d : s.descriptors) len += static_cast<std::size_t>(one_descriptor_length(d, frames, rows, cols));
    return len;
}

/// Frame-pipeline entry points refuse clip pipelines.
inline void require_frame_pipeline(const pipeline_spec& s, const char* where) {
    if (s.clip) throw error(where, "the pipeline is a clip pipeline (it has a clip stage or a clip descriptor): use fit_clips / predict_clips");
}

/// Describes crops of pixel type T into the columns [offset, offset + len) of `out`.
template <class Policy, class T>
void describe_into(const Policy& policy, const volume_view<const T>& crops, const descriptor_spec& d,
                   xt::xtensor<float, 2>& out, std::size_t& offset) {
    std::visit(
        [&](const auto& p) {
            using P = std::decay_t<decltype(p)>;
            if constexpr (is_clip_descriptor_v<P>) {
                throw error(pipeline_where, "a clip descriptor (" + std::string(descriptor_traits<P>::name) +
                                                ") needs clips: use a clip pipeline (fit_clips, predict_clips)");
            } else {
                const index_t len = descriptor_length(p, crops.rows(), crops.cols());
                const tensor_view<float, 2> cols(out.data() + offset, {crops.shape(0), len},
                                                 {static_cast<index_t>(out.shape(1)), 1});
                describe(policy, crops, p, cols);
                offset += static_cast<std::size_t>(len);
            }
        },
        d);
}

/// Per-class scores [n, K] from decision values [n, P] (see the file comment).
inline xt::xtensor<double, 2> class_scores(const xt::xtensor<double, 2>& dec, const std::vector<binary_task>& tasks,
                                           int n_classes) {
    const std::size_t n = dec.shape(0), k = static_cast<std::size_t>(n_classes), p_count = tasks.size();
    xt::xtensor<double, 2> out({n, k}, 0.0);
    const bool ovr = p_count > 1 && tasks[0].negative < 0;
    std::vector<double> conf(k);
    for (std::size_t i = 0; i < n; ++i) {
        const double* d = dec.data() + i * p_count;
        double* o = out.data() + i * k;
        if (ovr) {
            for (std::size_t p = 0; p < p_count; ++p) o[static_cast<std::size_t>(tasks[p].positive)] = d[p];
            continue;
        }
        std::fill(conf.begin(), conf.end(), 0.0);
        for (std::size_t p = 0; p < p_count; ++p) {
            const auto pos = static_cast<std::size_t>(tasks[p].positive), neg = static_cast<std::size_t>(tasks[p].negative);
            o[d[p] > 0 ? pos : neg] += 1.0;
            conf[pos] += d[p];
            conf[neg] -= d[p];
        }
        for (std::size_t c = 0; c < k; ++c) o[c] += conf[c] / (3.0 * (std::abs(conf[c]) + 1.0));
    }
    return out;
}

template <class Policy>
prediction classify(const Policy& policy, const pipeline_model& m, const xt::xtensor<float, 2>& features) {
    xt::xtensor<float, 2> x = features;
    if (const auto* s = std::get_if<standard_scaler>(&m.scaler)) x = transform(policy, *s, x);
    else if (const auto* s2 = std::get_if<minmax_scaler>(&m.scaler)) x = transform(policy, *s2, x);
    if (m.pca) x = transform(policy, *m.pca, x);
    return std::visit(
        [&](const auto& svm) {
            prediction out;
            const xt::xtensor<double, 2> dec = decision_function(policy, svm, x);
            out.labels = labels_from_decisions(dec, svm.tasks, svm.n_classes);
            using S = std::decay_t<decltype(svm)>;
            bool probabilities = false;
            if constexpr (!std::is_same<S, linear_svm_model>::value) probabilities = !svm.sigmoids.empty();
            if constexpr (!std::is_same<S, linear_svm_model>::value) {
                if (probabilities) {
                    out.scores = probabilities_from_decisions(dec, svm.tasks, svm.sigmoids, svm.n_classes);
                }
            }
            if (!probabilities) out.scores = class_scores(dec, svm.tasks, svm.n_classes);
            if (out.scores.shape(1) < m.classes.size()) {  // classes after the last trained one score lowest
                xt::xtensor<double, 2> wide({out.scores.shape(0), m.classes.size()}, -1e300);
                for (std::size_t i = 0; i < out.scores.shape(0); ++i)
                    for (std::size_t c = 0; c < out.scores.shape(1); ++c) wide(i, c) = out.scores(i, c);
                out.scores = std::move(wide);
            }
            return out;
        },
        m.classifier);
}

template <class Kernel, class Policy>
classifier_model fit_kernel_svm(const Policy& policy, Kernel kernel, const classifier_spec& c, const xt::xtensor<float, 2>& x,
                                const label_vector& y, const progress_callback& progress) {
    svc_params prm;
    prm.C = c.C;
    prm.strategy = c.strategy;
    prm.probability = c.probability;
    prm.progress = progress;
    return fit_svc(policy, kernel, x, y, prm);
}

/// gamma = 1 / (d * variance of all entries of x), the "scale" rule.
inline double scale_gamma(const xt::xtensor<float, 2>& x) {
    double sum = 0, sq = 0;
    for (float v : x) sum += v;
    const double mean = sum / static_cast<double>(x.size());
    for (float v : x) sq += (v - mean) * (v - mean);
    const double var = sq / static_cast<double>(x.size());
    if (!(var > 0)) throw error(pipeline_where, "gamma=scale: the features have zero variance; give gamma");
    return 1.0 / (static_cast<double>(x.shape(1)) * var);
}

template <class Policy>
classifier_model fit_classifier(const Policy& policy, const classifier_spec& c, const xt::xtensor<float, 2>& x,
                                const label_vector& y, const progress_callback& progress) {
    const double gamma = c.gamma > 0 ? c.gamma : (c.kind == classifier_kind::linear || c.kind == classifier_kind::intersection ? 1.0 : scale_gamma(x));
    switch (c.kind) {
        case classifier_kind::linear: {
            linear_svm_params prm;
            prm.C = c.C;
            prm.strategy = c.strategy;
            prm.progress = progress;
            return fit_linear_svm(policy, x, y, prm);
        }
        case classifier_kind::rbf: return fit_kernel_svm(policy, rbf_kernel{gamma}, c, x, y, progress);
        case classifier_kind::poly: {
            poly_kernel k;
            k.gamma = gamma;
            k.coef0 = c.coef0;
            k.degree = c.degree;
            return fit_kernel_svm(policy, k, c, x, y, progress);
        }
        case classifier_kind::sigmoid: {
            sigmoid_kernel k;
            k.gamma = gamma;
            k.coef0 = c.coef0;
            return fit_kernel_svm(policy, k, c, x, y, progress);
        }
        case classifier_kind::chi2: return fit_kernel_svm(policy, chi2_kernel{gamma}, c, x, y, progress);
        case classifier_kind::intersection: return fit_kernel_svm(policy, intersection_kernel{}, c, x, y, progress);
    }
    throw error(pipeline_where, "unknown classifier kind");
}

inline void check_class_names(const std::vector<std::string>& classes, const char* where) {
    if (classes.empty()) throw error(where, "no class names given");
    for (const auto& c : classes)
        if (c.empty() || c.find_first_of(" \t\r\n") != std::string::npos)
            throw error(where, "class names must be non-empty and without spaces, got '" + c + "'");
}

/// The stages after the descriptors, fitted on features x [n, feature_dim] and labels y: scaler,
/// PCA, classifier (into m, whose spec is set).
template <class Policy>
void fit_after_descriptors(const Policy& policy, pipeline_model& m, xt::xtensor<float, 2> x, const label_vector& y,
                           const progress_callback& progress) {
    const pipeline_spec& spec = m.spec;
    m.feature_dim = x.shape(1);
    if (spec.scaler == scaler_kind::standard) {
        const auto s = fit_standard_scaler(x);
        x = transform(policy, s, x);
        m.scaler = s;
    } else if (spec.scaler == scaler_kind::minmax) {
        const auto s = fit_minmax_scaler(x);
        x = transform(policy, s, x);
        m.scaler = s;
    }
    if (spec.pca.components > 0) {
        m.pca = fit_pca(x, spec.pca.components, spec.pca.whiten);
        x = transform(policy, *m.pca, x);
    }
    m.classifier = fit_classifier(policy, spec.classifier, x, y, progress);
}

}  // namespace detail

/// The concatenated descriptors [n, feature length] of preprocessed crops [n, rows, cols]
/// (intensity-normalised first when the spec asks).
template <class Policy>
xt::xtensor<float, 2> describe_crops(const Policy& policy, const pipeline_spec& spec, const xt::xtensor<std::uint8_t, 3>& crops) {
    static_assert(is_host_policy_v<Policy>, "ferx::describe_crops runs on the host: exec::seq or exec::par");
    if (crops.shape(0) == 0) throw error(detail::pipeline_where, "no crops to describe");
    const index_t rows = static_cast<index_t>(crops.shape(1)), cols = static_cast<index_t>(crops.shape(2));
    xt::xtensor<float, 2> out({crops.shape(0), detail::spec_feature_length(spec, rows, cols)});
    std::size_t offset = 0;
    if (spec.preprocess.normalize == intensity_norm::none) {
        const volume_view<const std::uint8_t> v = view(crops);
        for (const auto& d : spec.descriptors) detail::describe_into(policy, v, d, out, offset);
    } else {
        const xt::xtensor<float, 3> f = normalize_intensity(policy, crops, spec.preprocess.normalize);
        const volume_view<const float> v = view(f);
        for (const auto& d : spec.descriptors) detail::describe_into(policy, v, d, out, offset);
    }
    return out;
}

/// Labels and scores of descriptor rows [n, feature_dim] (as describe_crops gives them): the
/// scaler, PCA and SVM of the model. ferx::error for another width or non-finite features.
template <class Policy>
prediction classify_features(const Policy& policy, const pipeline_model& m, const xt::xtensor<float, 2>& features) {
    static_assert(is_host_policy_v<Policy>, "ferx::classify_features runs on the host: exec::seq or exec::par");
    if (features.shape(1) != m.feature_dim)
        throw error("ferx::classify_features", "the features have " + std::to_string(features.shape(1)) +
                                                   " columns, the model takes " + std::to_string(m.feature_dim));
    return detail::classify(policy, m, features);
}

/// Trains the pipeline `spec` on 8-bit grey images of any sizes (face crops for
/// face_source::crop, resized to the crop size; for other sources, photographs in which the
/// detector of `opt` finds the faces: images without a face are left out, and face_source::all
/// is refused) with labels 0..K-1 and K class names (no spaces). Throws ferx::error for
/// mismatched counts, bad labels or names, or any stage's bad input.
template <class Policy>
pipeline_model fit(const Policy& policy, const pipeline_spec& spec, const std::vector<image_view<const std::uint8_t>>& images,
                   const label_vector& labels, const std::vector<std::string>& classes, const fit_options& opt = {}) {
    static_assert(is_host_policy_v<Policy>, "ferx::fit(pipeline_spec) runs on the host: exec::seq or exec::par");
    constexpr const char* where = "ferx::fit(pipeline)";
    detail::check_class_names(classes, where);
    detail::require_frame_pipeline(spec, where);
    if (images.empty()) throw error(where, "no training images");
    if (labels.size() != images.size())
        throw error(where, std::to_string(images.size()) + " images but " + std::to_string(labels.size()) + " labels");
    for (int l : labels)
        if (l < 0 || l >= static_cast<int>(classes.size()))
            throw error(where, "label " + std::to_string(l) + " is outside 0.." + std::to_string(classes.size() - 1));
    if (spec.preprocess.source == face_source::all)
        throw error(where, "face_source::all gives a varying number of faces per training image; use crop, largest or confident");
    const preprocessed pre = preprocess(policy, spec.preprocess, images, opt.detector);
    label_vector y;
    y.reserve(pre.size());
    for (const auto& f : pre.faces) y.push_back(labels[f.image]);
    if (pre.size() == 0) throw error(where, "no face was found in any training image");

    pipeline_model m;
    m.spec = spec;
    m.classes = classes;
    detail::fit_after_descriptors(policy, m, describe_crops(policy, spec, pre.crops), y, opt.progress);
    return m;
}

/// The same on a batch of images [n, rows, cols] (e.g. ferx::image_batch::images).
template <class Policy>
pipeline_model fit(const Policy& policy, const pipeline_spec& spec, const xt::xtensor<std::uint8_t, 3>& images,
                   const label_vector& labels, const std::vector<std::string>& classes, const fit_options& opt = {}) {
    std::vector<image_view<const std::uint8_t>> views;
    views.reserve(images.shape(0));
    const volume_view<const std::uint8_t> v = view(images);
    for (index_t i = 0; i < v.shape(0); ++i) views.push_back(v[i]);
    return fit(policy, spec, views, labels, classes, opt);
}

/// Labels and scores of images [n, rows, cols] taken as face crops (resized to the crop size if
/// needed, then equalised as the spec says). `times` (optional) accumulates per-stage seconds.
template <class Policy>
prediction predict(const Policy& policy, const pipeline_model& m, const xt::xtensor<std::uint8_t, 3>& crops,
                   stage_times* times = nullptr) {
    static_assert(is_host_policy_v<Policy>, "ferx::predict(pipeline_model) runs on the host: exec::seq or exec::par");
    detail::require_frame_pipeline(m.spec, "ferx::predict");
    preprocess_params p = m.spec.preprocess;
    p.source = face_source::crop;
    preprocessed pre;
    {
        detail::stage_clock c(detail::slot(times, &stage_times::preprocess));
        pre = preprocess(policy, p, volume_view<const std::uint8_t>(view(crops)));
    }
    xt::xtensor<float, 2> x;
    {
        detail::stage_clock c(detail::slot(times, &stage_times::describe));
        x = describe_crops(policy, m.spec, pre.crops);
    }
    detail::stage_clock c(detail::slot(times, &stage_times::classify));
    return classify_features(policy, m, x);
}

/// One face found in a frame, with its label and per-class scores.
struct face_prediction {
    face_box face;
    int label = -1;
    std::vector<double> scores;  ///< K
    int track = -1;              ///< the face's track id (predict_faces with a face_tracker), else -1
};

namespace detail {

/// Checks of both predict_faces: a frame pipeline and a non-empty frame with packed rows.
inline void check_predict_faces(const pipeline_model& m, const image_view<const std::uint8_t>& frame,
                                const char* where) {
    require_frame_pipeline(m.spec, where);
    if (frame.data() == nullptr || frame.rows() <= 0 || frame.cols() <= 0) throw error(where, "the frame is empty");
    require_packed_rows(frame, where, "the frame");
}

/// Describes and classifies preprocessed faces, one face_prediction each.
template <class Policy>
std::vector<face_prediction> classify_found(const Policy& policy, const pipeline_model& m, const preprocessed& found,
                                            stage_times* times) {
    std::vector<face_prediction> out(found.size());
    if (found.size() == 0) return out;
    for (std::size_t i = 0; i < found.size(); ++i) out[i].face = found.faces[i];
    xt::xtensor<float, 2> x;
    {
        stage_clock c(slot(times, &stage_times::describe));
        x = describe_crops(policy, m.spec, found.crops);
    }
    prediction pr;
    {
        stage_clock c(slot(times, &stage_times::classify));
        pr = classify(policy, m, x);
    }
    for (std::size_t i = 0; i < found.size(); ++i) {
        out[i].label = pr.labels[i];
        out[i].scores.assign(pr.scores.data() + i * pr.scores.shape(1), pr.scores.data() + (i + 1) * pr.scores.shape(1));
    }
    return out;
}

/// The faces `tracker` finds in the next frame (tracks with misses == 0) as detections, their
/// track ids in `ids`; `times` gets the tracking as detection.
template <class Policy>
std::vector<detection> tracked_faces(const Policy& policy, const face_detector& det, face_tracker& tracker,
                                     const image_view<const std::uint8_t>& frame, stage_times* times,
                                     std::vector<int>& ids) {
    stage_clock c(slot(times, &stage_times::detect));
    std::vector<detection> found;
    ids.clear();
    for (const face_track& t : tracker.update(policy, det.face, frame))
        if (t.misses == 0) {
            found.push_back(detection{t.box, t.neighbors});
            ids.push_back(t.id);
        }
    return found;
}

}  // namespace detail

/// Finds the faces of an 8-bit grey image or video frame (face_source::all by default: several
/// faces per frame) and classifies each. No face: an empty result. `times` (optional)
/// accumulates the seconds of detection (with the eye search), cropping + equalisation,
/// description and classification.
template <class Policy>
std::vector<face_prediction> predict_faces(const Policy& policy, const pipeline_model& m, const face_detector& det,
                                           const image_view<const std::uint8_t>& frame,
                                           face_source source = face_source::all, stage_times* times = nullptr) {
    static_assert(is_host_policy_v<Policy>, "ferx::predict_faces runs on the host: exec::seq or exec::par");
    constexpr const char* where = "ferx::predict_faces";
    if (source == face_source::crop) throw error(where, "predict_faces detects faces; for crops call ferx::predict");
    detail::check_predict_faces(m, frame, where);
    preprocess_params p = m.spec.preprocess;
    p.source = source;
    check_preprocess_params(p);
    return detail::classify_found(policy, m, detail::frame_faces(policy, p, det, frame, source, times, where), times);
}

/// The same for the next frame of a video, with faces followed by `tracker` (ferx/detect/
/// face_tracker.hpp: a full detection with det.face every few frames, local searches between):
/// every face found in this frame is classified, and carries its track id. The tracker's own
/// detection parameters are used (set them from m.spec.preprocess.detect to match the model's
/// training). `times` gets the tracking as detection.
template <class Policy>
std::vector<face_prediction> predict_faces(const Policy& policy, const pipeline_model& m, const face_detector& det,
                                           face_tracker& tracker, const image_view<const std::uint8_t>& frame,
                                           stage_times* times = nullptr) {
    static_assert(is_host_policy_v<Policy>, "ferx::predict_faces runs on the host: exec::seq or exec::par");
    constexpr const char* where = "ferx::predict_faces";
    detail::check_predict_faces(m, frame, where);
    preprocess_params p = m.spec.preprocess;
    p.source = face_source::all;
    check_preprocess_params(p);
    std::vector<int> ids;
    const std::vector<detection> found = detail::tracked_faces(policy, det, tracker, frame, times, ids);
    auto out = detail::classify_found(policy, m, detail::crop_found_faces(policy, p, det, frame, found, times, where), times);
    for (std::size_t i = 0; i < out.size(); ++i) out[i].track = ids[i];
    return out;
}

/// Writes the pipeline to one model file (ferx::error naming it when that fails).
inline void save_pipeline(const pipeline_model& m, const std::string& path) {
    detail::check_class_names(m.classes, "ferx::save_pipeline");
    model_writer w;
    std::ostream& o = w.begin_section("pipeline");
    o << "spec " << format_spec(m.spec) << "\nclasses " << m.classes.size();
    for (const auto& c : m.classes) o << ' ' << c;
    o << "\nfeature_dim " << m.feature_dim << "\nscaler "
      << (std::holds_alternative<standard_scaler>(m.scaler) ? "standard"
          : std::holds_alternative<minmax_scaler>(m.scaler) ? "minmax" : "none")
      << "\npca " << (m.pca ? 1 : 0) << '\n';
    if (m.spec.clip) o << "frames " << m.clip_frames << '\n';
    if (const auto* s = std::get_if<standard_scaler>(&m.scaler)) w.add(*s);
    if (const auto* s = std::get_if<minmax_scaler>(&m.scaler)) w.add(*s);
    if (m.pca) w.add(*m.pca);
    std::visit([&](const auto& svm) { w.add(svm); }, m.classifier);
    w.save(path);
}

/// Reads a pipeline written by save_pipeline. A missing, truncated, corrupted or inconsistent
/// file (stage dimensions that do not chain, a spec that does not parse) gives a ferx::error
/// naming the file.
inline pipeline_model load_pipeline(const std::string& path) {
    model_reader r(path);
    pipeline_model m;
    r.begin_section("pipeline");
    r.expect("spec");
    const std::string spec = r.word();
    try {
        m.spec = parse_spec(spec);
    } catch (const error& e) {
        r.fail("the pipeline spec does not parse: " + e.reason());
    }
    r.expect("classes");
    m.classes.resize(r.count(1u << 16));
    for (auto& c : m.classes) c = r.word();
    if (m.classes.size() < 2) r.fail("a pipeline needs at least two classes");
    r.expect("feature_dim");
    m.feature_dim = r.count();
    r.expect("scaler");
    const std::string scaler = r.word();
    r.expect("pca");
    const bool has_pca = r.integer() != 0;
    if (m.spec.clip) {
        r.expect("frames");
        m.clip_frames = static_cast<index_t>(r.count(1u << 20));
        if (m.clip_frames < 1) r.fail("a clip pipeline needs frames >= 1");
    }
    std::size_t dim = m.feature_dim;
    const auto want = [&](std::size_t got, const char* what) {
        if (got != dim) r.fail(std::string(what) + " expects " + std::to_string(got) + " features, the stage before gives " + std::to_string(dim));
    };
    if (scaler == "standard") {
        m.scaler = r.read<standard_scaler>();
        want(std::get<standard_scaler>(m.scaler).dim(), "the scaler");
    } else if (scaler == "minmax") {
        m.scaler = r.read<minmax_scaler>();
        want(std::get<minmax_scaler>(m.scaler).dim(), "the scaler");
    } else if (scaler != "none") {
        r.fail("unknown scaler '" + scaler + "'");
    }
    if ((scaler == "standard") != (m.spec.scaler == scaler_kind::standard) ||
        (scaler == "minmax") != (m.spec.scaler == scaler_kind::minmax))
        r.fail("the scaler section does not match the spec");
    if (has_pca != (m.spec.pca.components > 0)) r.fail("the PCA section does not match the spec");
    if (has_pca) {
        m.pca = r.read<pca_model>();
        want(m.pca->dim(), "the PCA");
        if (m.pca->n_components() != m.spec.pca.components) r.fail("the PCA's components differ from the spec's");
        dim = m.pca->n_components();
    }
    switch (m.spec.classifier.kind) {
        case classifier_kind::linear: m.classifier = r.read<linear_svm_model>(); break;
        case classifier_kind::rbf: m.classifier = r.read<svc_model<rbf_kernel, float>>(); break;
        case classifier_kind::poly: m.classifier = r.read<svc_model<poly_kernel, float>>(); break;
        case classifier_kind::sigmoid: m.classifier = r.read<svc_model<sigmoid_kernel, float>>(); break;
        case classifier_kind::chi2: m.classifier = r.read<svc_model<chi2_kernel, float>>(); break;
        case classifier_kind::intersection: m.classifier = r.read<svc_model<intersection_kernel, float>>(); break;
    }
    std::visit(
        [&](const auto& svm) {
            want(svm.dim, "the SVM");
            if (svm.n_classes > m.n_classes()) r.fail("the SVM has more classes than the class names");
        },
        m.classifier);
    if (!r.done()) r.fail("unexpected sections after the classifier");
    std::size_t expected = 0;
    try {
        expected = detail::spec_feature_length(m.spec, m.spec.preprocess.height, m.spec.preprocess.width, m.clip_frames);
    } catch (const error& e) {
        r.fail("the spec's descriptors do not fit its crop size: " + e.reason());
    }
    if (expected != m.feature_dim)
        r.fail("feature_dim " + std::to_string(m.feature_dim) + " differs from the spec's descriptors (" +
               std::to_string(expected) + ")");
    return m;
}

FERX_NAMESPACE_END

// With FERX_PIPELINE_EXTERN, the exec::seq / exec::par entry points above are compiled once, in
// the translation unit that defines FERX_PIPELINE_INSTANTIATE (see ferx/pipeline/instances.hpp).
// (ferx/pipeline/clip_pipeline.hpp, when it includes this file, includes instances.hpp at its own end.)
#if (defined(FERX_PIPELINE_EXTERN) || defined(FERX_PIPELINE_INSTANTIATE)) && !defined(FERX_DETAIL_IN_CLIP_PIPELINE)
#include <ferx/pipeline/instances.hpp>
#endif
