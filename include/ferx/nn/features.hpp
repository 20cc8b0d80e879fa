/// \file ferx/nn/features.hpp
/// CNN features for transfer learning: run a session over a batch of images in chunks and read
/// a named intermediate value (e.g. the global-average-pool output, or the last block's output
/// pooled here), one feature row per image, for an SVM or a dense head (ferx/learn).
///
///     ferx::nn::graph g = ferx::nn::load_onnx("fer2013_mini_XCEPTION.119-0.65_48x48.onnx");
///     auto input = ferx::nn::grey_input(batch.images);               // [n, 1, 48, 48], (x/255 - 0.5) * 2
///     auto f = ferx::nn::extract_features(ferx::exec::par, g, "add_4", input,
///                                         {64, ferx::nn::feature_pooling::global_average});  // [n, 128]
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/nn/graph.hpp>
#include <ferx/nn/session.hpp>

#include <xtensor/xtensor.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {

/// How a value of more than two dimensions [b, c, ...] becomes one row per image.
enum class feature_pooling {
    flatten,         ///< all of it, row-major: c * h * w features
    global_average,  ///< the mean over every axis after the channel: c features
};

/// Options of extract_features.
struct feature_options {
    std::size_t batch_size = 64;                       ///< images per session run, > 0
    feature_pooling pooling = feature_pooling::flatten;
};

/// Grey images [n, rows, cols] (0..255) as a network input [n, 1, rows, cols] with pixels
/// x * scale + shift; the default is the mini-Xception preprocessing (x / 255 - 0.5) * 2.
inline xt::xtensor<float, 4> grey_input(const xt::xtensor<std::uint8_t, 3>& images, float scale = 2.0f / 255.0f,
                                        float shift = -1.0f) {
    xt::xtensor<float, 4> out({images.shape(0), 1, images.shape(1), images.shape(2)});
    for (std::size_t i = 0; i < images.size(); ++i) out.data()[i] = static_cast<float>(images.data()[i]) * scale + shift;
    return out;
}

/// Runs `s` on `input` [n, ...] (its only graph input) in chunks of options.batch_size images
/// and returns the value `layer` of each image as a row of a [n, d] matrix. `layer` must be
/// readable after a run: a graph output or a name in session_options::keep. Throws ferx::error
/// for a session with other than one input, an empty or non-finite input, a batch size of 0, or
/// a layer the session does not keep (the session's error, naming the model file).
template <class Policy>
xt::xtensor<float, 2> extract_features(const Policy& policy, session& s, const std::string& layer,
                                       const xt::xtensor<float, 4>& input, const feature_options& options = {}) {
    constexpr const char* where = "ferx::nn::extract_features";
    ferx::detail::require(s.input_names().size() == 1, where,
                    "the model has " + std::to_string(s.input_names().size()) + " inputs; feature extraction feeds one");
    ferx::detail::require(input.shape(0) > 0 && input.size() > 0, where, "no images");
    ferx::detail::require(options.batch_size > 0, where, "batch_size must be positive");
    for (std::size_t i = 0; i < input.size(); ++i)
        ferx::detail::require(std::isfinite(input.data()[i]), where,
                        "input value " + std::to_string(i) + " (image " + std::to_string(i / (input.size() / input.shape(0))) +
                            ") is not finite");
    const std::size_t n = input.shape(0), per_image = input.size() / n;
    xt::xtensor<float, 2> out;
    for (std::size_t start = 0; start < n; start += options.batch_size) {
        const std::size_t b = std::min(options.batch_size, n - start);
        const shape_t shape{static_cast<std::int64_t>(b), static_cast<std::int64_t>(input.shape(1)),
                            static_cast<std::int64_t>(input.shape(2)), static_cast<std::int64_t>(input.shape(3))};
        s.run(policy, {tensor_ref{input.data() + start * per_image, shape}});
        const tensor_ref v = s.value(layer);
        ferx::detail::require(!v.shape.empty() && v.shape[0] == static_cast<std::int64_t>(b), where,
                        "value '" + layer + "' does not have the batch as its first axis");
        const std::size_t row = static_cast<std::size_t>(v.element_count()) / b;
        const std::size_t channels = v.shape.size() > 1 ? static_cast<std::size_t>(v.shape[1]) : 1;
        const bool pool = options.pooling == feature_pooling::global_average && v.shape.size() > 2;
        const std::size_t d = pool ? channels : row;
        if (start == 0) out = xt::xtensor<float, 2>({n, d});
        for (std::size_t i = 0; i < b; ++i) {
            const float* src = v.data + i * row;
            float* dst = out.data() + (start + i) * d;
            if (!pool) {
                std::copy(src, src + row, dst);
                continue;
            }
            const std::size_t area = row / channels;
            for (std::size_t c = 0; c < channels; ++c) {
                double sum = 0;
                for (std::size_t a = 0; a < area; ++a) sum += src[c * area + a];
                dst[c] = static_cast<float>(sum / static_cast<double>(area));
            }
        }
    }
    return out;
}

/// As above, on a session made here from `g` that keeps `layer`. A name that no node of `g`
/// produces gives a ferx::error naming the model and listing the node outputs (the candidates).
template <class Policy>
xt::xtensor<float, 2> extract_features(const Policy& policy, const graph& g, const std::string& layer,
                                       const xt::xtensor<float, 4>& input, const feature_options& options = {}) {
    std::vector<std::string> names;
    for (const auto& nd : g.nodes)
        for (const auto& o : nd.outputs)
            if (!o.empty()) names.push_back(o);
    if (std::find(names.begin(), names.end(), layer) == names.end()) {
        std::string list;
        for (const auto& nm : names) list += (list.empty() ? "" : ", ") + nm;
        throw error("ferx::nn::extract_features", "the model has no layer output '" + layer + "'; its node outputs are: " + list,
                    g.source);
    }
    session_options so;
    so.keep = {layer};
    session s(g, so);
    return extract_features(policy, s, layer, input, options);
}

}  // namespace nn
FERX_NAMESPACE_END
