/// \file ferx/pipeline/instances.hpp
/// The classical pipeline compiled once instead of in every translation unit that calls it.
///
/// The pipeline's entry points (fit, predict, predict_faces, describe_crops, classify_features,
/// preprocess, and the clip pipeline's fit_clips, predict_clips, describe_clips, preprocess_clip)
/// are templates on the execution policy, and each call instantiates every descriptor
/// and classifier a model file may name: about 30 s of -O3 compile time per translation unit. A
/// program (or a test suite) with several such units can compile them once:
///
///  - every translation unit is compiled with `FERX_PIPELINE_EXTERN` defined (CMake:
///    `target_compile_definitions(app PRIVATE FERX_PIPELINE_EXTERN)`): ferx/pipeline/pipeline.hpp then
///    declares the `exec::seq` and `exec::par` instantiations `extern`, and the unit calls them
///    without compiling them;
///  - one translation unit defines them (or four, one a bit, to build them in parallel):
///
///        #define FERX_PIPELINE_INSTANTIATE 15  // bits: 1 seq inference, 2 par inference,
///        #include <ferx/pipeline/instances.hpp>  //       4 seq training (fit), 8 par training
///
/// Results are the same code either way (the instantiations are compiled with the same flags);
/// without `FERX_PIPELINE_EXTERN` ferx stays purely header-only. ferx's own tests, examples and
/// benchmarks build this way (cmake/ferxInstances.cmake). Other
/// policies (a `par.on(pool)` is still `exec::parallel_policy`) need nothing.
#pragma once

#include <ferx/pipeline/clip_pipeline.hpp>
#include <ferx/pipeline/pipeline.hpp>
#include <ferx/pipeline/preprocess.hpp>

#include <cstdint>
#include <string>
#include <vector>

/// The instantiations for one policy type P, each preceded by `KW` (`extern template` or
/// `template`): inference (what a program that only classifies needs) and training. List macros:
/// explicit instantiations can only be spelled out.
#define FERX_DETAIL_PIPELINE_INFER_INSTANCES(KW, P)                                                               \
    KW std::vector<face_prediction> predict_faces<P>(const P&, const pipeline_model&, const face_detector&,      \
                                                     const image_view<const std::uint8_t>&, face_source,          \
                                                     stage_times*);                                               \
    KW std::vector<face_prediction> predict_faces<P>(const P&, const pipeline_model&, const face_detector&,      \
                                                     face_tracker&, const image_view<const std::uint8_t>&,        \
                                                     stage_times*);                                               \
    KW prediction predict<P>(const P&, const pipeline_model&, const xt::xtensor<std::uint8_t, 3>&, stage_times*); \
    KW xt::xtensor<float, 2> describe_crops<P>(const P&, const pipeline_spec&, const xt::xtensor<std::uint8_t, 3>&); \
    KW prediction classify_features<P>(const P&, const pipeline_model&, const xt::xtensor<float, 2>&);          \
    KW preprocessed preprocess<P>(const P&, const preprocess_params&,                                            \
                                  const std::vector<image_view<const std::uint8_t>>&, const face_detector*);     \
    KW preprocessed preprocess<P>(const P&, const preprocess_params&, const image_view<const std::uint8_t>&,     \
                                  const face_detector*);                                                          \
    KW preprocessed preprocess<P>(const P&, const preprocess_params&, const volume_view<const std::uint8_t>&,    \
                                  const face_detector*);                                                          \
    KW prediction predict_clips<P>(const P&, const pipeline_model&, const std::vector<volume<std::uint8_t>>&,    \
                                   const face_detector*, stage_times*);                                           \
    KW prediction predict_clips<P>(const P&, const pipeline_model&, const clip_list&, const face_detector*,      \
                                   stage_times*);                                                                 \
    KW xt::xtensor<float, 2> describe_clips<P>(const P&, const pipeline_spec&, const xt::xtensor<std::uint8_t, 4>&); \
    KW std::optional<volume<std::uint8_t>> preprocess_clip<P>(const P&, const pipeline_spec&,                    \
                                                              const volume_view<const std::uint8_t>&,             \
                                                              const face_detector*);
#define FERX_DETAIL_PIPELINE_FIT_INSTANCES(KW, P)                                                                 \
    KW pipeline_model fit<P>(const P&, const pipeline_spec&, const std::vector<image_view<const std::uint8_t>>&, \
                             const label_vector&, const std::vector<std::string>&, const fit_options&);           \
    KW pipeline_model fit<P>(const P&, const pipeline_spec&, const xt::xtensor<std::uint8_t, 3>&,                \
                             const label_vector&, const std::vector<std::string>&, const fit_options&);           \
    KW pipeline_model fit_clips<P>(const P&, const pipeline_spec&, const std::vector<volume<std::uint8_t>>&,     \
                                   const label_vector&, const std::vector<std::string>&, const fit_options&);     \
    KW pipeline_model fit_clips<P>(const P&, const pipeline_spec&, const clip_list&, const fit_options&);

#if !defined(FERX_PIPELINE_INSTANTIATE)
#define FERX_DETAIL_PIPELINE_HERE 0
#else
#define FERX_DETAIL_PIPELINE_HERE (FERX_PIPELINE_INSTANTIATE)
#endif

FERX_NAMESPACE_BEGIN

// Each group is defined where its bit of FERX_PIPELINE_INSTANTIATE is set, declared extern elsewhere.
#if FERX_DETAIL_PIPELINE_HERE & 1
FERX_DETAIL_PIPELINE_INFER_INSTANCES(template, exec::sequenced_policy)
#else
FERX_DETAIL_PIPELINE_INFER_INSTANCES(extern template, exec::sequenced_policy)
#endif
#if FERX_DETAIL_PIPELINE_HERE & 2
FERX_DETAIL_PIPELINE_INFER_INSTANCES(template, exec::parallel_policy)
#else
FERX_DETAIL_PIPELINE_INFER_INSTANCES(extern template, exec::parallel_policy)
#endif
#if FERX_DETAIL_PIPELINE_HERE & 4
FERX_DETAIL_PIPELINE_FIT_INSTANCES(template, exec::sequenced_policy)
#else
FERX_DETAIL_PIPELINE_FIT_INSTANCES(extern template, exec::sequenced_policy)
#endif
#if FERX_DETAIL_PIPELINE_HERE & 8
FERX_DETAIL_PIPELINE_FIT_INSTANCES(template, exec::parallel_policy)
#else
FERX_DETAIL_PIPELINE_FIT_INSTANCES(extern template, exec::parallel_policy)
#endif

FERX_NAMESPACE_END
