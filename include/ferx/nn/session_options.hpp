/// \file ferx/nn/session_options.hpp
/// How a `ferx::nn::session` compiles its graph (`session_options`, `precision`) and what it
/// reports about the memory it holds (`memory_report`).
#pragma once

#include <ferx/core/config.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {

/// Storage precision of a session's `exec::cuda` runs (see `session_options::precision`).
enum class precision {
    fp32,  ///< float32 everywhere (the default; every policy)
    fp16   ///< CUDA only: weights and activations stored in half on the device, computed in float
};

/// How a session compiles its graph.
struct session_options {
    /// Fold an inference BatchNormalization into the Conv that feeds it (when that Conv's output
    /// feeds nothing else and is not kept); otherwise it runs as a per-channel affine.
    bool fold_batch_norm = true;
    /// Fuse Relu, LeakyRelu, Sigmoid, Tanh and Clip into the Conv or affine that feeds them.
    bool fuse_activations = true;
    /// Intermediate values to keep readable after `run` through `value(name)` (e.g. the global
    /// average pool's output, for features). Kept values are never fused away or overwritten.
    std::vector<std::string> keep;
    /// Images per pass through the network on the CPU. A large batch is run as a sequence of
    /// micro-batches, each through every layer, so that a micro-batch's activations stay in the
    /// core's cache instead of every layer streaming the whole batch through memory; under
    /// `exec::par` each thread runs its own micro-batches. 0 (the default) chooses the size
    /// from the activations per image (about `micro_batch_bytes` per micro-batch), > 0 fixes
    /// it, < 0 runs the whole batch as one pass. Results are identical whatever the size.
    /// Micro-batching applies only to graphs whose every value keeps the batch on axis 0 and
    /// whose ops never mix images (checked when a batch size is first planned); others run
    /// whole. The CUDA path always runs whole batches.
    std::int64_t micro_batch = 0;
    /// Activation bytes a micro-batch aims at when `micro_batch` is 0 (about a core's L2).
    std::size_t micro_batch_bytes = std::size_t{1} << 20;
    /// `precision::fp16` (CUDA only): on `run(exec::cuda, ...)` the weights are converted to half
    /// once on upload, activations are stored in half in the device arena (half the memory),
    /// Conv / Gemm / MatMul run cuBLAS on half inputs with fp32 accumulation, and the other ops
    /// read and write half while computing in float. Inputs, outputs and kept values stay float32
    /// on the host. Results equal fp32's within about 1e-2 of the output range (docs/nn.md). A
    /// host run (`exec::seq`, `exec::par`) of an fp16 session throws ferx::error.
    nn::precision precision = nn::precision::fp32;
};

/// Memory a session holds, in bytes.
struct memory_report {
    std::size_t weights_bytes = 0;   ///< constant tensors after folding (host copy)
    std::size_t arena_bytes = 0;     ///< activations of the current plan (inputs included)
    std::size_t scratch_bytes = 0;   ///< im2col / transpose scratch of the last run
    std::int64_t batch = 0;          ///< batch size the arena is planned for (0: not yet)
    std::int64_t micro_batch = 0;    ///< images per pass (0: the whole batch in one pass)
    std::size_t results_bytes = 0;   ///< whole-batch copies of the readable values (micro-batching)
    std::size_t device_bytes = 0;    ///< weights, arena and scratch on the device after an exec::cuda run (0 before one)
};

}  // namespace nn
FERX_NAMESPACE_END
