/// \file ferx/fwd.hpp
/// Forward declarations of ferx's public types, with their default template arguments, for
/// headers that only name them.
#pragma once

#include <ferx/core/config.hpp>

#include <cstddef>

struct CUstream_st;

FERX_NAMESPACE_BEGIN

class error;
class thread_pool;

/// Where a view's memory lives. Algorithms take host views with `seq`/`par` and device views
/// with `cuda`; mixing them is a compile-time error, never a crash.
enum class memory_space { host, device };

template <std::size_t N>
struct extents;
template <class T, std::size_t N, memory_space M = memory_space::host>
class tensor_view;

namespace exec {
struct sequenced_policy;
class parallel_policy;
class cuda_policy;
}  // namespace exec

template <class S, class Q, std::size_t N>
struct integral_images;
enum class integral_parts;

// Image primitives (ferx/imgproc/).
struct clahe_params;

// Face detection (ferx/detect/).
struct rect;
struct detection;
struct cascade;
enum class cascade_feature;
struct detect_params;
struct face_crop_params;
struct eye_pair;

// Appearance descriptors (ferx/features/).
struct patch_size;
template <class Params>
struct descriptor_traits;
enum class hist_norm;
struct grid_spec;
struct hog_l2hys;
struct hog_l2;
struct hog_l1;
template <class Norm = hog_l2hys>
struct hog_params;
struct fhog_params;
struct lbp_none;
struct lbp_u2;
struct lbp_riu2;
template <class Mapping = lbp_u2>
struct lbp_params;
template <class Mapping = lbp_u2>
struct lbp_multiscale_params;
struct lpq_params;
struct clip_grid;
template <class Mapping = lbp_u2>
struct lbp_top_params;
struct lpq_top_params;
struct vlpq_params;

// Dense optical flow (ferx/flow/).
struct flow_vector;
struct masked_flow;
struct flow_error;
struct tsn_flow_images;
struct hof_params;
struct farneback_params;
struct tvl1_params;
class farneback_flow;
template <class Derived>
class flow_sequence;
class farneback_sequence;
class tvl1_flow;
class tvl1_sequence;

// Datasets (ferx/data/).
struct image_list;
struct clip_source;
struct clip_list;
struct clip_batch;
struct frame_selection;
struct image_batch;
struct load_options;
struct label_map;
enum class fer2013_split;

// Classical pipeline (ferx/pipeline/).
enum class face_source;
enum class equalization;
enum class intensity_norm;
struct preprocess_params;
struct face_detector;
struct face_box;
struct preprocessed;
enum class scaler_kind;
enum class classifier_kind;
struct pca_spec;
struct classifier_spec;
struct pipeline_spec;
struct pipeline_model;
struct prediction;
struct stage_times;
struct fit_options;
struct face_prediction;
struct frame_range;
struct clip_decision;
FERX_NAMESPACE_END
