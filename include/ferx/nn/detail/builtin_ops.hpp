/// \file ferx/nn/detail/builtin_ops.hpp
/// The parsers of the built-in ops (those ferx/nn/op_registry.hpp lists with a built-in step
/// kind): each checks its node's inputs and attributes and fills a step. The step's node, op,
/// input and output names are set before the parser runs; the parser drops the inputs the step
/// does not read at run time (constant attributes given as inputs).
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/nn/detail/node_reader.hpp>
#include <ferx/nn/ir.hpp>
#include <ferx/nn/ops/conv_nd.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

FERX_NAMESPACE_BEGIN
namespace nn {
namespace detail {

inline void parse_conv(const node_reader& r, nn_step& s) {
    r.need_inputs(2, 3);
    const dense_tensor* w = r.constant_input(1);
    if (w->shape.size() == 3 || w->shape.size() == 5) {  // 1-D and 3-D: ferx/nn/ops/conv_nd.hpp
        conv_nd_op::parse(r, s);
        s.def = &conv_nd_def();
        return;
    }
    if (w->shape.size() != 4)
        r.fail("weights of rank " + std::to_string(w->shape.size()) + ": 1-D, 2-D and 3-D convolutions (weights of rank 3, 4, 5) are supported");
    s.kind = step_kind::conv;
    s.win = r.window(w->shape[2], w->shape[3]);
    if (s.win.kernel_h != w->shape[2] || s.win.kernel_w != w->shape[3]) r.fail("kernel_shape differs from the weights");
    s.group = r.attr_int("group", 1);
    if (const dense_tensor* b = r.constant_input(2))
        if (b->element_count() != w->shape[0])
            r.fail("bias has " + std::to_string(b->element_count()) + " values for " + std::to_string(w->shape[0]) + " output channels");
}

/// Inference BatchNormalization: folded into its Conv or lowered to a channel affine (passes).
inline void parse_batch_norm(const node_reader& r, nn_step& s) {
    r.need_inputs(5, 5);
    if (r.attr_int("training_mode", 0) != 0) r.fail("training_mode is not supported (inference only)");
    s.kind = step_kind::affine;
    s.alpha = r.attr_float("epsilon", 1e-5f);
    for (std::size_t i = 1; i < 5; ++i) r.constant_input(i);
    s.in_names.resize(5);
}

/// Relu, LeakyRelu, Sigmoid, Tanh, Clip, HardSigmoid, HardSwish.
inline void parse_activation(const node_reader& r, nn_step& s) {
    const std::string& op = r.op();
    r.need_inputs(1, op == "Clip" ? 3 : 1);
    s.kind = step_kind::unary;
    if (op == "Relu") s.act.kind = unary_kind::relu;
    if (op == "LeakyRelu") s.act = {unary_kind::leaky_relu, r.attr_float("alpha", 0.01f), 0.f};
    if (op == "Sigmoid") s.act.kind = unary_kind::sigmoid;
    if (op == "Tanh") s.act.kind = unary_kind::tanh;
    if (op == "HardSigmoid") s.act = {unary_kind::hard_sigmoid, r.attr_float("alpha", 0.2f), r.attr_float("beta", 0.5f)};
    if (op == "HardSwish") s.act = {unary_kind::hard_swish, 1.f / 6.f, 0.5f};
    if (op == "Clip") {
        s.act = {unary_kind::clip, r.attr_float("min", -std::numeric_limits<float>::max()),
                 r.attr_float("max", std::numeric_limits<float>::max())};
        for (std::size_t i = 1; i < 3; ++i)
            if (const dense_tensor* b = r.constant_input(i)) {
                if (b->element_count() != 1) r.fail("min and max must be scalars");
                (i == 1 ? s.act.alpha : s.act.beta) = b->data[0];
            }
        s.in_names.resize(1);
    }
}

/// MaxPool, AveragePool.
inline void parse_pool(const node_reader& r, nn_step& s) {
    r.need_inputs(1, 1);
    const auto& outs = r.get().outputs;
    if (outs.size() > 1 && !outs[1].empty()) r.fail("the Indices output is not supported");
    if (!r.has("kernel_shape")) r.fail("kernel_shape is required");
    const std::size_t axes = r.attr_ints("kernel_shape").size();
    if (axes == 1 || axes == 3) {  // 1-D and 3-D: ferx/nn/ops/conv_nd.hpp
        pool_nd_op::parse(r, s);
        s.def = &pool_nd_def();
        return;
    }
    s.kind = r.op() == "MaxPool" ? step_kind::max_pool : step_kind::average_pool;
    s.win = r.window(1, 1);
    if (r.attr_int("storage_order", 0) != 0) r.fail("storage_order 1 is not supported");
    s.count_include_pad = r.attr_int("count_include_pad", 0) != 0;
}

inline void parse_global_average_pool(const node_reader& r, nn_step& s) {
    r.need_inputs(1, 1);
    s.kind = step_kind::global_average_pool;
}

/// Add, Sub, Mul, Div (also shape computations when their inputs are).
inline void parse_binary(const node_reader& r, nn_step& s) {
    const std::string& op = r.op();
    r.need_inputs(2, 2);
    s.kind = step_kind::binary;
    s.bin = op == "Add" ? binary_kind::add : op == "Sub" ? binary_kind::sub : op == "Mul" ? binary_kind::mul : binary_kind::div;
    s.fold.op = shape_op::binary;
    s.fold.arithmetic = op == "Add" ? '+' : op == "Sub" ? '-' : op == "Mul" ? '*' : '/';
}

inline void parse_concat(const node_reader& r, nn_step& s) {
    r.need_inputs(1, 1u << 20);
    if (!r.has("axis")) r.fail("axis is required");
    for (const auto& in : r.get().inputs)
        if (in.empty()) r.fail("has an empty input name");
    s.kind = step_kind::concat;
    s.axis = r.attr_int("axis", 0);
    s.fold.op = shape_op::concat;
    s.fold.axis = s.axis;
}

inline void parse_gemm(const node_reader& r, nn_step& s) {
    r.need_inputs(2, 3);
    s.kind = step_kind::gemm;
    s.alpha = r.attr_float("alpha", 1.f), s.beta = r.attr_float("beta", 1.f);
    s.trans_a = r.attr_int("transA", 0) != 0, s.trans_b = r.attr_int("transB", 0) != 0;
}

inline void parse_matmul(const node_reader& r, nn_step& s) {
    r.need_inputs(2, 2);
    s.kind = step_kind::matmul;
}

inline void parse_flatten(const node_reader& r, nn_step& s) {
    r.need_inputs(1, 1);
    s.kind = step_kind::alias;
    s.axis = r.attr_int("axis", 1);
    s.in_names.resize(1);
}

inline void parse_reshape(const node_reader& r, nn_step& s) {
    r.need_inputs(2, 2);
    s.kind = step_kind::alias;
    s.fold.op = shape_op::reshape;
    if (r.is_constant(1)) s.ints = r.constant_ints(1);
    else s.shape_input = r.get().inputs[1];  // computed by shape ops: resolved when folding
    if (r.attr_int("allowzero", 0) != 0) r.fail("allowzero = 1 is not supported");
    if (std::count(s.ints.begin(), s.ints.end(), -1) > 1) r.fail("the shape has more than one -1");
    s.in_names.resize(1);
}

/// Identity, Dropout (inference: the identity).
inline void parse_identity(const node_reader& r, nn_step& s) {
    r.need_inputs(1, 3);
    s.kind = step_kind::alias;
    s.fold.op = shape_op::identity;
    s.in_names.resize(1);
}

inline void parse_transpose(const node_reader& r, nn_step& s) {
    r.need_inputs(1, 1);
    s.kind = step_kind::transpose;
    s.ints = r.attr_ints("perm");
}

inline void parse_pad(const node_reader& r, nn_step& s) {
    r.need_inputs(1, 3);
    s.kind = step_kind::pad;
    const std::string mode = r.attr_string("mode", "constant");
    if (mode == "constant") s.pmode = pad_mode::constant;
    else if (mode == "reflect") s.pmode = pad_mode::reflect;
    else if (mode == "edge") s.pmode = pad_mode::edge;
    else r.fail("unsupported mode '" + mode + "'");
    const auto& inputs = r.get().inputs;
    if (r.has("pads")) {  // opset < 11
        s.ints = r.attr_ints("pads");
        s.pvalue = r.attr_float("value", 0.f);
    } else {
        if (inputs.size() < 2 || inputs[1].empty()) r.fail("has no pads (attribute or input)");
        s.ints = r.constant_ints(1);
        if (const dense_tensor* v = r.constant_input(2)) {
            if (v->element_count() != 1) r.fail("constant_value must be a scalar");
            s.pvalue = v->data[0];
        }
    }
    if (inputs.size() > 3) r.fail("the axes input is not supported");
    s.in_names.resize(1);
}

inline void parse_softmax(const node_reader& r, nn_step& s) {
    r.need_inputs(1, 1);
    s.kind = step_kind::softmax;
    s.axis = r.attr_int("axis", r.opset() >= 13 ? -1 : 1);
}

/// Shape computations (Shape, Gather, Unsqueeze, Squeeze, Cast, Slice, ConstantOfShape): their
/// attributes; where they run is decided by the shape-folding pass (ferx/nn/passes.hpp).
inline void parse_shape_op(const node_reader& r, nn_step& s) {
    const std::string& op = r.op();
    const std::int64_t opset = r.opset();
    s.host_fold = true;
    auto& f = s.fold;
    if (op == "Shape") {
        r.need_inputs(1, 1);
        f.op = shape_op::shape;
        f.start = r.attr_int("start", 0);
        f.end = r.attr_int("end", std::numeric_limits<std::int64_t>::max());
    } else if (op == "Gather") {
        r.need_inputs(2, 2);
        f.op = shape_op::gather;
        f.axis = r.attr_int("axis", 0);
    } else if (op == "Unsqueeze" || op == "Squeeze") {
        f.op = op == "Unsqueeze" ? shape_op::unsqueeze : shape_op::squeeze;
        f.axes_attribute = opset < 13;
        if (opset < 13) {
            r.need_inputs(1, 1);
            if (op == "Unsqueeze" && !r.has("axes")) r.fail("axes is required");
            f.axes = r.attr_ints("axes");
            f.axes_attribute = r.has("axes");  // Squeeze without axes: every extent 1
        } else {
            r.need_inputs(op == "Unsqueeze" ? 2 : 1, 2);
        }
    } else if (op == "Cast") {
        r.need_inputs(1, 1);
        if (!r.has("to")) r.fail("attribute 'to' is required");
        f.op = shape_op::cast;
        f.to = r.attr_int("to", 1);
    } else if (op == "Slice") {
        f.op = shape_op::slice;
        if (opset < 10) {
            r.need_inputs(1, 1);
            if (!r.has("starts") || !r.has("ends")) r.fail("starts and ends are required");
            f.axes_attribute = true;
            f.starts = r.attr_ints("starts"), f.ends = r.attr_ints("ends"), f.axes = r.attr_ints("axes");
        } else {
            r.need_inputs(3, 5);
        }
    } else {  // ConstantOfShape
        r.need_inputs(1, 1);
        f.op = shape_op::constant_of_shape;
        if (const auto* v = r.attr<dense_tensor>("value")) {
            if (v->data.size() != 1) r.fail("value must hold one element");
            f.value = v->data[0];
        }
    }
}

}  // namespace detail
}  // namespace nn
FERX_NAMESPACE_END
