/// \file ferx/nn/ops/reduce.hpp
/// The ONNX ops ReduceMean, ReduceSum and ReduceMax in the session: any set of axes (negative
/// ones counted from the end), given as the `axes` attribute (ReduceMean and ReduceMax before
/// opset 18, ReduceSum before 13) or as a constant second input (from those opsets on);
/// `keepdims`; `noop_with_empty_axes` (no axes: every axis, or with it the identity). Sums are
/// accumulated in double; ReduceMax propagates NaN. A reduction over an empty axis is refused
/// for ReduceMax and gives 0 (sum) / NaN (mean) as ONNX does.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/nn/detail/node_reader.hpp>
#include <ferx/nn/detail/op_def.hpp>
#include <ferx/nn/ir.hpp>
#include <ferx/nn/tensor_ref.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {
namespace detail {

struct reduce_op {
    enum class kind { mean, sum, max };
    struct params {
        kind k = kind::mean;
        std::vector<std::int64_t> axes;  // as given (may be negative); empty: see noop
        bool keepdims = true;
        bool noop_with_empty_axes = false;
    };
    static constexpr bool keeps_batch = false;

    static void parse(const node_reader& r, nn_step& s) {
        params p;
        const std::string& op = r.op();
        p.k = op == "ReduceMean" ? kind::mean : (op == "ReduceSum" ? kind::sum : kind::max);
        const std::int64_t input_from = op == "ReduceSum" ? 13 : 18;  // the opset where axes became an input
        if (r.opset() >= input_from) {
            r.need_inputs(1, 2);
            if (r.has("axes")) r.fail("axes is an input from opset " + std::to_string(input_from) + " on, not an attribute");
            p.axes = r.constant_ints(1);  // an error naming the node when it is not a constant
        } else {
            r.need_inputs(1, 1);
            p.axes = r.attr_ints("axes");
        }
        p.keepdims = r.attr_int("keepdims", 1) != 0;
        p.noop_with_empty_axes = r.attr_int("noop_with_empty_axes", 0) != 0;
        s.kind = step_kind::extension;
        s.in_names.resize(1);
        s.params = std::make_shared<const params>(std::move(p));
    }

    // Geometry (per plan), so that a run allocates nothing: s.d1 kept axes, s.d2 reduced elements
    // per output; s.widths holds the kept axes' extents, then their input strides, then the input
    // offsets of one output's reduced elements (row-major).
    static shape_t infer(nn_step& s, const std::vector<const shape_t*>& in, const std::string& source) {
        const params& p = *static_cast<const params*>(s.params.get());
        const shape_t& x = *in[0];
        const std::int64_t rank = static_cast<std::int64_t>(x.size());
        std::vector<bool> reduced(x.size(), p.axes.empty() && !p.noop_with_empty_axes);
        for (std::int64_t a : p.axes) {
            if (a < -rank || a >= rank)
                fail_step(s, "axis " + std::to_string(a) + " is out of range for rank " + std::to_string(rank), source);
            const std::size_t k = static_cast<std::size_t>(a < 0 ? a + rank : a);
            if (reduced[k]) fail_step(s, "axis " + std::to_string(a) + " is given twice", source);
            reduced[k] = true;
        }
        shape_t out;
        std::vector<std::int64_t> strides(x.size()), kept_ext, kept_stride, red_ext, red_stride;
        std::int64_t stride = 1;
        for (std::size_t k = x.size(); k-- > 0;) strides[k] = stride, stride *= x[k];
        for (std::size_t k = 0; k < x.size(); ++k) {
            if (reduced[k] && x[k] == 0 && p.k == kind::max) fail_step(s, "ReduceMax over an empty axis", source);
            if (reduced[k]) red_ext.push_back(x[k]), red_stride.push_back(strides[k]);
            else kept_ext.push_back(x[k]), kept_stride.push_back(strides[k]);
            if (!reduced[k]) out.push_back(x[k]);
            else if (p.keepdims) out.push_back(1);
        }
        std::int64_t n_red = 1;
        for (auto e : red_ext) n_red *= e;
        s.d1 = static_cast<std::int64_t>(kept_ext.size());
        s.d2 = n_red;
        s.widths = kept_ext;
        s.widths.insert(s.widths.end(), kept_stride.begin(), kept_stride.end());
        for (std::int64_t i = 0; i < n_red; ++i) {
            std::int64_t rem = i, off = 0;
            for (std::size_t k = red_ext.size(); k-- > 0;) off += (rem % red_ext[k]) * red_stride[k], rem /= red_ext[k];
            s.widths.push_back(off);
        }
        return out;
    }

    static std::size_t scratch_floats(const nn_step&) { return 0; }

    template <class Policy>
    static void run(const Policy& policy, const op_args& a) {
        const params& p = *static_cast<const params*>(a.step.params.get());
        const std::size_t nk = static_cast<std::size_t>(a.step.d1);
        const std::int64_t n_red = a.step.d2;
        const std::int64_t* kept_ext = a.step.widths.data();
        const std::int64_t* kept_stride = kept_ext + nk;
        const std::int64_t* red_off = kept_stride + nk;
        std::int64_t n_out = 1;
        for (std::size_t k = 0; k < nk; ++k) n_out *= kept_ext[k];
        const float* x = a.inputs[0];
        float* y = a.output;
        ferx::detail::for_each_range(policy, n_out, std::max<std::int64_t>(1, 65536 / std::max<std::int64_t>(1, n_red)),
                                     [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
            for (std::ptrdiff_t o = lo; o < hi; ++o) {
                std::int64_t rem = o, base = 0;
                for (std::size_t k = nk; k-- > 0;) base += (rem % kept_ext[k]) * kept_stride[k], rem /= kept_ext[k];
                const float* xb = x + base;
                if (p.k == kind::max) {
                    float m = -std::numeric_limits<float>::infinity();
                    bool nan = false;
                    for (std::int64_t r = 0; r < n_red; ++r) {
                        const std::int64_t off = red_off[r];
                        const float v = xb[off];
                        nan = nan || std::isnan(v);
                        m = v > m ? v : m;
                    }
                    y[o] = nan ? std::numeric_limits<float>::quiet_NaN() : m;
                } else {
                    double acc = 0;
                    for (std::int64_t r = 0; r < n_red; ++r) acc += xb[red_off[r]];
                    y[o] = static_cast<float>(p.k == kind::mean ? acc / static_cast<double>(n_red) : acc);
                }
            }
        });
    }
};

}  // namespace detail
}  // namespace nn
FERX_NAMESPACE_END
