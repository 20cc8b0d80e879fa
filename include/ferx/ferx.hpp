/// \file ferx/ferx.hpp
/// The umbrella header: everything in ferx that compiles without nvcc. CUDA headers
/// (ferx/cuda/*.cuh) are included separately, from translation units compiled by nvcc, and
/// ferx/pipeline/instances.hpp (the pipeline compiled once) is included where it is wanted.
#pragma once

#include <ferx/fwd.hpp>

#include <ferx/core/config.hpp>
#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/file_io.hpp>
#include <ferx/core/lapack.hpp>
#include <ferx/core/opencv.hpp>
#include <ferx/core/progress.hpp>
#include <ferx/core/rounding.hpp>
#include <ferx/core/samples.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/core/thread_pool.hpp>
#include <ferx/core/view.hpp>

#include <ferx/imgproc/clahe.hpp>
#include <ferx/imgproc/equalize_hist.hpp>
#include <ferx/imgproc/pyramid_resize.hpp>

#include <ferx/detect/cascade.hpp>
#include <ferx/detect/detect_multiscale.hpp>
#include <ferx/detect/face_crop.hpp>
#include <ferx/detect/face_tracker.hpp>
#include <ferx/detect/group_rectangles.hpp>
#include <ferx/detect/integral.hpp>
#include <ferx/detect/rect.hpp>

#include <ferx/features/clip_descriptor.hpp>
#include <ferx/features/descriptor.hpp>
#include <ferx/features/fhog.hpp>
#include <ferx/features/hog.hpp>
#include <ferx/features/lbp.hpp>
#include <ferx/features/lbp_top.hpp>
#include <ferx/features/lpq.hpp>
#include <ferx/features/lpq_top.hpp>
#include <ferx/features/vlpq.hpp>

#include <ferx/flow/encode.hpp>
#include <ferx/flow/farneback.hpp>
#include <ferx/flow/field.hpp>
#include <ferx/flow/hof.hpp>
#include <ferx/flow/io.hpp>
#include <ferx/flow/metrics.hpp>
#include <ferx/flow/sequence.hpp>
#include <ferx/flow/tvl1.hpp>

#include <ferx/data/ckplus.hpp>
#include <ferx/data/clips.hpp>
#include <ferx/data/fer2013.hpp>
#include <ferx/data/image_folder.hpp>
#include <ferx/data/image_list.hpp>
#include <ferx/data/labels.hpp>
#include <ferx/data/ntu_skeleton.hpp>
#include <ferx/data/skeleton_input.hpp>

#include <ferx/learn/dataset.hpp>
#include <ferx/learn/dense_head.hpp>
#include <ferx/learn/evaluate.hpp>
#include <ferx/learn/evaluation_report.hpp>
#include <ferx/learn/grid_search.hpp>
#include <ferx/learn/kernel_svm.hpp>
#include <ferx/learn/kernels.hpp>
#include <ferx/learn/linear_svm.hpp>
#include <ferx/learn/metrics.hpp>
#include <ferx/learn/model_io.hpp>
#include <ferx/learn/pca.hpp>
#include <ferx/learn/scaling.hpp>
#include <ferx/learn/sequence_head.hpp>
#include <ferx/learn/splits.hpp>

#include <ferx/nn/activation.hpp>
#include <ferx/nn/blas_policy.hpp>
#include <ferx/nn/builder.hpp>
#include <ferx/nn/conv.hpp>
#include <ferx/nn/elementwise.hpp>
#include <ferx/nn/features.hpp>
#include <ferx/nn/gemm.hpp>
#include <ferx/nn/graph.hpp>
#include <ferx/nn/graph_conv.hpp>
#include <ferx/nn/layout.hpp>
#include <ferx/nn/pool.hpp>
#include <ferx/nn/recurrent.hpp>
#include <ferx/nn/session.hpp>
#include <ferx/nn/shape_ops.hpp>
#include <ferx/nn/softmax.hpp>
#include <ferx/nn/tensor_ref.hpp>

#include <ferx/pipeline/clip_pipeline.hpp>
#include <ferx/pipeline/cnn_pipeline.hpp>
#include <ferx/pipeline/pipeline.hpp>
#include <ferx/pipeline/preprocess.hpp>
#include <ferx/pipeline/spec.hpp>
#include <ferx/pipeline/video_vote.hpp>
