/// \file ferx/nn/ir.hpp
/// The intermediate representation a session compiles a `nn::graph` into: steps (one
/// executable operation each, with its parsed attributes and, per plan, its resolved geometry)
/// over values (graph inputs, weights and step outputs, addressed by id). The passes
/// (ferx/nn/passes.hpp) rewrite the steps, shape inference (ferx/nn/shape_inference.hpp) fills
/// the geometry, and both executors read the result through `nn::compiled_plan`.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/error.hpp>
#include <ferx/nn/activation.hpp>
#include <ferx/nn/conv.hpp>
#include <ferx/nn/elementwise.hpp>
#include <ferx/nn/layout.hpp>
#include <ferx/nn/pool.hpp>
#include <ferx/nn/shape_ops.hpp>
#include <ferx/nn/tensor_ref.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {

struct op_def;  // ferx/nn/op_registry.hpp

namespace detail {

/// Where every compile and plan error of a session is reported from.
inline constexpr const char* session_where = "ferx::nn::session";

/// What a step does. The built-in kinds are those the passes and the CUDA executor reason
/// about; `extension` is an op that brings its own shape inference and host kernels through its
/// `op_def` (see "Adding an op" in docs/nn.md).
enum class step_kind {
    conv, affine, unary, max_pool, average_pool, global_average_pool, binary, concat, gemm, matmul,
    transpose, pad, softmax, alias, extension
};

/// One executable operation, with its parsed attributes and (per plan) its resolved geometry.
struct nn_step {
    step_kind kind = step_kind::alias;
    std::string node, op;
    std::vector<std::string> in_names;
    std::string out_name;
    std::vector<int> in;  // value ids (-1: omitted optional input)
    int out = -1;
    bool dead = false;
    // attributes
    window_params win;
    std::int64_t group = 1;
    bool count_include_pad = false;
    unary_op act;   // unary: the function; conv / affine: fused on the output
    binary_kind bin = binary_kind::add;
    std::int64_t axis = 0;
    float alpha = 1.f, beta = 1.f;
    bool trans_a = false, trans_b = false;
    std::vector<std::int64_t> ints;  // perm, pads, reshape target
    pad_mode pmode = pad_mode::constant;
    float pvalue = 0.f;
    // extension ops: their definition, and attributes of their own (set by their parse)
    const op_def* def = nullptr;
    std::shared_ptr<const void> params;
    // extension ops: values computed from tensor shapes that they read (Slice's bounds), each
    // evaluated for the plan into shape_values before their infer runs
    std::vector<std::string> shape_inputs;
    std::vector<std::vector<std::int64_t>> shape_values;
    // geometry (per plan)
    conv_geometry conv;
    pool_geometry pool;
    broadcast_geometry bc;
    transpose_geometry tr;
    pad_geometry pd;
    std::int64_t d0 = 0, d1 = 0, d2 = 0, batches = 0;
    broadcast_geometry batch_bc;  // matmul: broadcasting of the batch axes
    std::vector<std::int64_t> widths;
    // shape computations: evaluated on the host at compile or plan time, never run
    bool host_fold = false;
    shape_op_params fold;
    std::string shape_input;  // Reshape: the value holding the target ("": the constant `ints`)
};

/// A value: a graph input, a weight, or a step's output.
struct nn_value {
    std::string name;
    int weight = -1;   // index into the weights, or -1
    int input = -1;    // index of the graph input, or -1
    int storage = -1;  // arena storage (per plan)
    shape_t shape;
    bool batched = false;  // axis 0 is the inputs' batch axis (per plan)
};

/// Throws ferx::error naming the step's node and op (after folding: "conv+bn+relu").
[[noreturn]] inline void fail_step(const nn_step& s, const std::string& why, const std::string& source) {
    throw error(session_where, "node '" + s.node + "' (" + s.op + "): " + why, source);
}

inline std::int64_t norm_axis(std::int64_t axis, std::int64_t rank, const std::string& where, const std::string& what) {
    if (axis < -rank || axis >= rank + (what == "Flatten" ? 1 : 0))
        throw error("ferx::nn::session", where + ": axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
    return axis < 0 ? axis + rank : axis;
}

}  // namespace detail
}  // namespace nn
FERX_NAMESPACE_END
