/// \file ferx/pipeline/cnn_pipeline.hpp
/// The deep FER pipeline: face crop -> resize to the network's input -> the network's pixel
/// normalisation -> ferx::nn::session -> per-class scores, on crops, batches of crops or video
/// frames with several faces. Results use the classical pipeline's types (ferx::prediction,
/// ferx::face_prediction, ferx::stage_times), so ferx/pipeline/video_vote.hpp and code written for
/// ferx::pipeline_model compose with it.
///
///     ferx::nn::graph g = ferx::nn::load_onnx("fer2013_mini_XCEPTION.102-0.66.onnx");  // ferx::onnx
///     ferx::cnn_pipeline net(g, ferx::fer2013_classes(), ferx::cnn_normalization::mini_xception());
///     ferx::prediction p = net.predict(ferx::exec::par, crops);        // crops [n, rows, cols] grey
///     auto det = ferx::load_face_detector();
///     auto faces = net.predict_faces(ferx::exec::par, det, ferx::view<std::uint8_t>(grey_frame));
///
/// Stages:
///  1. crops: ferx::preprocess with the given preprocess_params, its width and height replaced by
///     the network's input (the graph's declared [N, 1, H, W]); the default params take the input
///     as a crop, resize it bilinearly (cv::INTER_LINEAR_EXACT's arithmetic, see ferx::crop_face)
///     and do not equalise. For frames, faces are detected with the params' detect settings.
///  2. normalisation: every 8-bit pixel x becomes x * scale + offset (cnn_normalization), packed
///     NCHW float32;
///  3. the network (ferx::nn::session), run in chunks of at most `max_batch` crops;
///  4. labels: the argmax of each score row (ties go to the lower class).
/// Timings (stage_times, optional): detect = face search (and eye search), preprocess = crop and
/// resize (and equalisation), describe = normalisation and packing, classify = the network.
///
/// The network must take one input [N, 1, H, W] (8-bit grey crops; the batch extent may be
/// dynamic) and give one output [N, K] with K the number of class names. One object runs one
/// batch at a time (predict and predict_faces are not safe to call concurrently on one object).
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/core/view.hpp>
#include <ferx/nn/graph.hpp>
#include <ferx/nn/session.hpp>
#include <ferx/pipeline/pipeline.hpp>
#include <ferx/pipeline/preprocess.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

FERX_NAMESPACE_BEGIN

/// A network's pixel normalisation: an 8-bit pixel x enters the network as x * scale + offset.
struct cnn_normalization {
    float scale = 1.f / 255.f;  ///< default: x / 255, in [0, 1]
    float offset = 0.f;

    /// mini-Xception (../shared/models/mini_xception): (x / 255 - 0.5) * 2 = x * 2/255 - 1, in [-1, 1].
    static cnn_normalization mini_xception() { return {2.f / 255.f, -1.f}; }
    /// x / 255, in [0, 1].
    static cnn_normalization unit_range() { return {1.f / 255.f, 0.f}; }
};

/// The preprocessing the deep pipeline uses by default: the input is a crop, no equalisation
/// (networks are trained on the raw crops), faces of 30x30 pixels and more when detecting.
inline preprocess_params cnn_preprocess_defaults() {
    preprocess_params p;
    p.source = face_source::crop;
    p.equalize = equalization::none;
    return p;
}

/// A trained network wrapped as a FER pipeline (see the file comment).
class cnn_pipeline {
public:
    /// Compiles `g` (ferx::nn::session) and checks it: one input [N, 1, H, W] with H, W declared
    /// (8..1024), one output [N, K] with K == classes.size() (>= 2 names). ferx::error otherwise,
    /// naming the graph's source. `pre` gives face source, padding, alignment, equalisation and
    /// detection; its width and height are replaced by the network's W and H. `max_batch` (>= 1)
    /// bounds the crops given to the network at once (memory grows with it).
    cnn_pipeline(const nn::graph& g, std::vector<std::string> classes, cnn_normalization norm = {},
                 preprocess_params pre = cnn_preprocess_defaults(), nn::session_options options = {},
                 std::size_t max_batch = 256)
        : classes_(std::move(classes)), norm_(norm), pre_(pre), max_batch_(max_batch) {
        constexpr const char* where = "ferx::cnn_pipeline";
        if (classes_.size() < 2) throw error(where, "a FER network needs at least two class names", g.source);
        if (max_batch_ < 1) throw error(where, "max_batch must be at least 1", g.source);
        if (!std::isfinite(norm_.scale) || !std::isfinite(norm_.offset) || norm_.scale == 0.f)
            throw error(where, "the normalisation's scale must be finite and non-zero, its offset finite", g.source);
        if (g.inputs.size() != 1 || g.outputs.size() != 1)
            throw error(where, "the network must have one input and one output, it has " + std::to_string(g.inputs.size()) +
                                   " and " + std::to_string(g.outputs.size()), g.source);
        const auto& in = g.inputs[0].shape;
        if (in.size() != 4)
            throw error(where, "the network input '" + g.inputs[0].name + "' must be [N, C, H, W], it has " +
                                   std::to_string(in.size()) + " dimensions", g.source);
        if (in[1] != 1)
            throw error(where, "the network input '" + g.inputs[0].name + "' takes " + std::to_string(in[1]) +
                                   " channels; the deep pipeline gives 8-bit grey crops (1 channel)", g.source);
        if (in[2] < 8 || in[2] > 1024 || in[3] < 8 || in[3] > 1024)
            throw error(where, "the network input '" + g.inputs[0].name + "' must declare H and W of 8..1024 pixels, got " +
                                   std::to_string(in[2]) + "x" + std::to_string(in[3]), g.source);
        height_ = static_cast<int>(in[2]);
        width_ = static_cast<int>(in[3]);
        pre_.width = width_;
        pre_.height = height_;
        check_preprocess_params(pre_);
        session_ = std::make_unique<nn::session>(g, std::move(options));
        const nn::shape_t& out = session_->shape_of(session_->output_names()[0]);
        if (out.size() != 2 || out[1] != static_cast<std::int64_t>(classes_.size()))
            throw error(where, "the network output '" + session_->output_names()[0] + "' must be [N, " +
                                   std::to_string(classes_.size()) + "] (one score per class name), it is " +
                                   shape_text(out), g.source);
        source_ = g.source;
    }

    /// Labels and scores of face crops [n, rows, cols] (8-bit grey, any size: each is resized to
    /// the network's input). `times` (optional) accumulates per-stage seconds.
    template <class Policy>
    prediction predict(const Policy& policy, const xt::xtensor<std::uint8_t, 3>& crops, stage_times* times = nullptr) {
        static_assert(is_host_policy_v<Policy>, "ferx::cnn_pipeline::predict runs on the host: exec::seq or exec::par");
        if (crops.size() == 0) throw error("ferx::cnn_pipeline::predict", "the batch of crops is empty", source_);
        preprocess_params p = pre_;
        p.source = face_source::crop;
        preprocessed pre;
        {
            detail::stage_clock c(detail::slot(times, &stage_times::preprocess));
            pre = preprocess(policy, p, volume_view<const std::uint8_t>(view(crops)));
        }
        return classify_crops(policy, pre.crops, times);
    }

    /// The same on crops of various sizes (8-bit grey views with packed rows).
    template <class Policy>
    prediction predict(const Policy& policy, const std::vector<image_view<const std::uint8_t>>& crops,
                       stage_times* times = nullptr) {
        static_assert(is_host_policy_v<Policy>, "ferx::cnn_pipeline::predict runs on the host: exec::seq or exec::par");
        if (crops.empty()) throw error("ferx::cnn_pipeline::predict", "the batch of crops is empty", source_);
        preprocess_params p = pre_;
        p.source = face_source::crop;
        preprocessed pre;
        {
            detail::stage_clock c(detail::slot(times, &stage_times::preprocess));
            pre = preprocess(policy, p, crops);
        }
        return classify_crops(policy, pre.crops, times);
    }

    /// Labels and scores of crops already at the network's size [n, H, W], as they are (no
    /// resize, no equalisation): the network stages alone.
    template <class Policy>
    prediction classify_crops(const Policy& policy, const xt::xtensor<std::uint8_t, 3>& crops, stage_times* times = nullptr) {
        static_assert(is_host_policy_v<Policy>, "ferx::cnn_pipeline runs on the host: exec::seq or exec::par");
        constexpr const char* where = "ferx::cnn_pipeline::classify_crops";
        if (crops.shape(1) != static_cast<std::size_t>(height_) || crops.shape(2) != static_cast<std::size_t>(width_))
            throw error(where, "the crops are " + std::to_string(crops.shape(1)) + "x" + std::to_string(crops.shape(2)) +
                                   ", the network takes " + std::to_string(height_) + "x" + std::to_string(width_), source_);
        const std::size_t n = crops.shape(0), k = classes_.size(), px = static_cast<std::size_t>(height_ * width_);
        prediction out;
        out.labels.assign(n, -1);
        out.scores = xt::xtensor<double, 2>({n, k});
        for (std::size_t first = 0; first < n; first += max_batch_) {
            const std::size_t m = std::min(max_batch_, n - first);
            {
                detail::stage_clock c(detail::slot(times, &stage_times::describe));
                input_.resize(m * px);
                normalize_into(policy, crops.data() + first * px, m * px, input_.data());
            }
            detail::stage_clock c(detail::slot(times, &stage_times::classify));
            const auto res = session_->run(
                policy, {{input_.data(), {static_cast<std::int64_t>(m), 1, static_cast<std::int64_t>(height_),
                                          static_cast<std::int64_t>(width_)}}});
            if (res.size() != 1 || res[0].shape != nn::shape_t{static_cast<std::int64_t>(m), static_cast<std::int64_t>(k)})
                throw error(where, "the network gave scores of shape " + shape_text(res[0].shape) + " for " +
                                       std::to_string(m) + " crops", source_);
            for (std::size_t i = 0; i < m; ++i) {
                const float* row = res[0].data + i * k;
                std::copy(row, row + k, out.scores.data() + (first + i) * k);
                out.labels[first + i] = static_cast<int>(std::max_element(row, row + k) - row);
            }
        }
        return out;
    }

    /// Finds the faces of an 8-bit grey image or video frame (face_source::all by default) and
    /// classifies each; no face gives an empty result. ferx::error for an empty frame, a crop
    /// source, or eye alignment asked for without an eye cascade.
    template <class Policy>
    std::vector<face_prediction> predict_faces(const Policy& policy, const face_detector& det,
                                               const image_view<const std::uint8_t>& frame,
                                               face_source source = face_source::all, stage_times* times = nullptr) {
        static_assert(is_host_policy_v<Policy>, "ferx::cnn_pipeline::predict_faces runs on the host: exec::seq or exec::par");
        constexpr const char* where = "ferx::cnn_pipeline::predict_faces";
        if (source == face_source::crop)
            throw error(where, "predict_faces detects faces; for crops call cnn_pipeline::predict", source_);
        if (frame.data() == nullptr || frame.rows() <= 0 || frame.cols() <= 0) throw error(where, "the frame is empty", source_);
        detail::require_packed_rows(frame, where, "the frame");
        preprocess_params p = pre_;
        p.source = source;
        return classify_found(policy, detail::frame_faces(policy, p, det, frame, source, times, where), times);
    }

    /// The same for the next frame of a video, with the faces followed by `tracker`
    /// (ferx/detect/face_tracker.hpp): every face found in this frame is classified and carries
    /// its track id (face_prediction::track). `times` gets the tracking as detection.
    template <class Policy>
    std::vector<face_prediction> predict_faces(const Policy& policy, const face_detector& det, face_tracker& tracker,
                                               const image_view<const std::uint8_t>& frame,
                                               stage_times* times = nullptr) {
        static_assert(is_host_policy_v<Policy>, "ferx::cnn_pipeline::predict_faces runs on the host: exec::seq or exec::par");
        constexpr const char* where = "ferx::cnn_pipeline::predict_faces";
        if (frame.data() == nullptr || frame.rows() <= 0 || frame.cols() <= 0) throw error(where, "the frame is empty", source_);
        detail::require_packed_rows(frame, where, "the frame");
        std::vector<int> ids;
        const std::vector<detection> found = detail::tracked_faces(policy, det, tracker, frame, times, ids);
        auto out = classify_found(policy, detail::crop_found_faces(policy, pre_, det, frame, found, times, where), times);
        for (std::size_t i = 0; i < out.size(); ++i) out[i].track = ids[i];
        return out;
    }

    const std::vector<std::string>& classes() const noexcept { return classes_; }
    int n_classes() const noexcept { return static_cast<int>(classes_.size()); }
    int input_height() const noexcept { return height_; }
    int input_width() const noexcept { return width_; }
    const cnn_normalization& normalization() const noexcept { return norm_; }
    /// The preprocessing used (width and height are the network's).
    const preprocess_params& preprocessing() const noexcept { return pre_; }
    /// The session, e.g. for kept intermediate values (session_options::keep) after a predict.
    nn::session& session() noexcept { return *session_; }
    const nn::session& session() const noexcept { return *session_; }

private:
    // The network's labels and scores for preprocessed faces, one face_prediction each.
    template <class Policy>
    std::vector<face_prediction> classify_found(const Policy& policy, const preprocessed& found, stage_times* times) {
        std::vector<face_prediction> out(found.size());
        if (found.size() == 0) return out;
        const prediction pr = classify_crops(policy, found.crops, times);
        const std::size_t k = classes_.size();
        for (std::size_t i = 0; i < found.size(); ++i) {
            out[i].face = found.faces[i];
            out[i].label = pr.labels[i];
            out[i].scores.assign(pr.scores.data() + i * k, pr.scores.data() + (i + 1) * k);
        }
        return out;
    }

    static std::string shape_text(const nn::shape_t& s) {
        std::string t = "[";
        for (std::size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
        return t + "]";
    }

    template <class Policy>
    void normalize_into(const Policy& policy, const std::uint8_t* src, std::size_t count, float* dst) const {
        const float scale = norm_.scale, offset = norm_.offset;
        detail::for_each_range(policy, static_cast<std::ptrdiff_t>(count), 1 << 14, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
            for (std::ptrdiff_t i = lo; i < hi; ++i) dst[i] = static_cast<float>(src[i]) * scale + offset;
        });
    }

    std::vector<std::string> classes_;
    cnn_normalization norm_;
    preprocess_params pre_;
    std::size_t max_batch_;
    int height_ = 0, width_ = 0;
    std::string source_;
    std::unique_ptr<nn::session> session_;
    std::vector<float> input_;
};

FERX_NAMESPACE_END
