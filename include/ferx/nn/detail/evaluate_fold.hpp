/// \file ferx/nn/detail/evaluate_fold.hpp
/// `detail::evaluate_fold`: one shape computation (ferx/nn/shape_ops.hpp) evaluated on host
/// values, at compile time (the shape-folding pass) or at plan time (shape inference).
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/nn/ir.hpp>
#include <ferx/nn/shape_ops.hpp>

#include <cstdint>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {
namespace detail {

// One shape computation on host values; in[k] is the step's input k (nullptr: omitted). For
// Shape only in[0]->shape is read; a Reshape's target is `ints` or in[1].
inline folded_tensor evaluate_fold(const nn_step& s, const std::vector<const folded_tensor*>& in, const std::string& source) {
    const fold_context ctx{session_where, "node '" + s.node + "' (" + s.op + ")", source};
    const auto& f = s.fold;
    auto ints_of = [&](std::size_t k, const char* what) {
        return k < in.size() && in[k] ? folded_ints(*in[k], what, ctx) : std::vector<std::int64_t>{};
    };
    auto given = [&](std::size_t k) { return k < in.size() && in[k] != nullptr; };
    switch (f.op) {
    case shape_op::shape: return fold_shape(in[0]->shape, f.start, f.end);
    case shape_op::gather: return fold_gather(*in[0], *in[1], f.axis, ctx);
    case shape_op::unsqueeze: {
        folded_tensor out = *in[0];
        out.shape = unsqueeze_shape(out.shape, f.axes_attribute ? f.axes : ints_of(1, "axes"), ctx);
        return out;
    }
    case shape_op::squeeze: {
        folded_tensor out = *in[0];
        const bool listed = f.axes_attribute || given(1);
        out.shape = squeeze_shape(out.shape, f.axes_attribute ? f.axes : ints_of(1, "axes"), !listed, ctx);
        return out;
    }
    case shape_op::concat: return fold_concat(in, f.axis, ctx);
    case shape_op::cast: return fold_cast(*in[0], f.to, ctx);
    case shape_op::slice:
        if (f.axes_attribute) return fold_slice(*in[0], f.starts, f.ends, f.axes, {}, ctx);
        return fold_slice(*in[0], ints_of(1, "starts"), ints_of(2, "ends"), ints_of(3, "axes"), ints_of(4, "steps"), ctx);
    case shape_op::constant_of_shape: return fold_constant_of_shape(*in[0], f.value, false, ctx);
    case shape_op::reshape: {
        folded_tensor out = *in[0];
        out.shape = reshape_shape(out.shape, given(1) ? ints_of(1, "the shape") : s.ints, ctx);
        return out;
    }
    case shape_op::identity: return *in[0];
    case shape_op::binary: return fold_binary(*in[0], *in[1], f.arithmetic, ctx);
    }
    return *in[0];
}


}  // namespace detail
}  // namespace nn
FERX_NAMESPACE_END
