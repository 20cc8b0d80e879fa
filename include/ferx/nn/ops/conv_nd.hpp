/// \file ferx/nn/ops/conv_nd.hpp
/// Conv, MaxPool and AveragePool over 1-D ([N, C, T]: temporal convolution) and 3-D
/// ([N, C, D, H, W]) inputs, with ONNX's attributes: kernel_shape, strides, dilations, pads,
/// auto_pad, group (Conv), ceil_mode and count_include_pad (pools). The 2-D ones stay on the
/// built-in kinds (ferx/nn/conv.hpp, pool.hpp); these are extension steps that the Conv and
/// pool parsers hand a node to when its weights or kernel have one or three spatial axes. A
/// 1-D window is run as a 3-D one with unit depth and height. Conv gathers each group's input
/// windows into columns (im2col) and multiplies them with ferx's gemm, as the 2-D kernel does.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/nn/conv.hpp>
#include <ferx/nn/detail/node_reader.hpp>
#include <ferx/nn/detail/op_def.hpp>
#include <ferx/nn/gemm.hpp>
#include <ferx/nn/ir.hpp>
#include <ferx/nn/tensor_ref.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {
namespace detail {

/// A window over up to three spatial axes (depth, height, width; a 1-D window uses width only).
struct nd_window {
    std::size_t spatial = 3;  // 1 or 3: the axes the node has
    std::int64_t k[3] = {1, 1, 1}, stride[3] = {1, 1, 1}, dil[3] = {1, 1, 1}, pad_lo[3] = {0, 0, 0}, pad_hi[3] = {0, 0, 0};
    auto_pad padding = auto_pad::notset;
    bool ceil_mode = false;
};

// Reads an n-axis window (n = 1 or 3) from the node's attributes; `kernel` where kernel_shape
// is absent (Conv: the weights' extents).
inline nd_window read_nd_window(const node_reader& r, std::size_t n, const std::vector<std::int64_t>& kernel) {
    nd_window w;
    w.spatial = n;
    const std::size_t off = 3 - n;  // a 1-D window fills the width
    const auto take = [&](const char* name, std::int64_t* dst, std::size_t count, std::int64_t lowest) {
        const auto v = r.attr_ints(name);
        if (v.empty()) return;
        if (v.size() != count) r.fail(std::string(name) + " must have " + std::to_string(count) + " values for a " + std::to_string(n) + "-D window");
        for (std::size_t i = 0; i < count; ++i) {
            if (v[i] < lowest) r.fail(std::string(name) + " has the value " + std::to_string(v[i]));
            dst[off + i] = v[i];
        }
    };
    auto ks = r.attr_ints("kernel_shape");
    if (ks.empty()) ks = kernel;
    if (ks.size() != n) r.fail("kernel_shape must have " + std::to_string(n) + " values");
    if (!kernel.empty() && ks != kernel) r.fail("kernel_shape differs from the weights");
    for (std::size_t i = 0; i < n; ++i) {
        if (ks[i] < 1) r.fail("kernel_shape has the value " + std::to_string(ks[i]));
        w.k[off + i] = ks[i];
    }
    take("strides", w.stride + 0, n, 1);
    take("dilations", w.dil + 0, n, 1);
    const auto pads = r.attr_ints("pads");
    if (!pads.empty()) {
        if (pads.size() != 2 * n) r.fail("pads must have " + std::to_string(2 * n) + " values");
        for (std::size_t i = 0; i < n; ++i) {
            if (pads[i] < 0 || pads[n + i] < 0) r.fail("pads must not be negative");
            w.pad_lo[off + i] = pads[i], w.pad_hi[off + i] = pads[n + i];
        }
    }
    const std::string ap = r.attr_string("auto_pad", "NOTSET");
    if (ap == "SAME_UPPER") w.padding = auto_pad::same_upper;
    else if (ap == "SAME_LOWER") w.padding = auto_pad::same_lower;
    else if (ap == "VALID") w.padding = auto_pad::valid;
    else if (ap != "NOTSET" && !ap.empty()) r.fail("unknown auto_pad '" + ap + "'");
    w.ceil_mode = r.attr_int("ceil_mode", 0) != 0;
    return w;
}

// The resolved geometry of one N-D window step, kept in s.widths: n, c, in[3], m, out[3], then
// the window with resolved pads (k, stride, dil, pad_lo per axis).
struct nd_geometry {
    std::int64_t n = 0, c = 0, in[3] = {1, 1, 1}, m = 0, out[3] = {1, 1, 1};
    nd_window w;
    std::int64_t in_size() const { return in[0] * in[1] * in[2]; }
    std::int64_t out_size() const { return out[0] * out[1] * out[2]; }
    void store(std::vector<std::int64_t>& v) const {
        v = {n, c, in[0], in[1], in[2], m, out[0], out[1], out[2]};
        for (int a = 0; a < 3; ++a) v.insert(v.end(), {w.k[a], w.stride[a], w.dil[a], w.pad_lo[a], w.pad_hi[a]});
    }
    static nd_geometry load(const std::vector<std::int64_t>& v) {
        nd_geometry g;
        g.n = v[0], g.c = v[1], g.in[0] = v[2], g.in[1] = v[3], g.in[2] = v[4], g.m = v[5], g.out[0] = v[6], g.out[1] = v[7], g.out[2] = v[8];
        for (int a = 0; a < 3; ++a) {
            const std::int64_t* p = v.data() + 9 + 5 * a;
            g.w.k[a] = p[0], g.w.stride[a] = p[1], g.w.dil[a] = p[2], g.w.pad_lo[a] = p[3], g.w.pad_hi[a] = p[4];
        }
        return g;
    }
};

// The geometry for input shape x (rank 2 + spatial) and m output channels; the output shape.
inline shape_t resolve_nd(const nn_step& s, const nd_window& w, const shape_t& x, std::int64_t m, nd_geometry& g, const std::string& source) {
    if (x.size() != 2 + w.spatial)
        fail_step(s, "the input has rank " + std::to_string(x.size()) + "; a " + std::to_string(w.spatial) + "-D window takes rank " +
                         std::to_string(2 + w.spatial), source);
    g = {};
    g.w = w;
    g.n = x[0], g.c = x[1], g.m = m;
    const std::size_t off = 3 - w.spatial;
    for (std::size_t i = 0; i < w.spatial; ++i) g.in[off + i] = x[2 + i];
    shape_t out = {x[0], m};
    for (std::size_t a = 0; a < 3; ++a) {
        std::int64_t lo = w.pad_lo[a], hi = w.pad_hi[a];
        g.out[a] = window_output(g.in[a], w.k[a], w.stride[a], w.dil[a], a < off ? auto_pad::notset : w.padding, w.ceil_mode, lo, hi);
        g.w.pad_lo[a] = lo, g.w.pad_hi[a] = hi;
        if (a >= off) out.push_back(g.out[a]);
    }
    return out;
}

struct conv_nd_op {
    struct params {
        nd_window w;
        std::int64_t group = 1;
    };
    static constexpr bool keeps_batch = true;

    // Called by parse_conv for weights of rank 3 or 5.
    static void parse(const node_reader& r, nn_step& s) {
        const dense_tensor* w = r.constant_input(1);
        const std::size_t n = w->shape.size() - 2;
        params p;
        p.w = read_nd_window(r, n, std::vector<std::int64_t>(w->shape.begin() + 2, w->shape.end()));
        if (p.w.ceil_mode) r.fail("ceil_mode is a pooling attribute");
        p.group = r.attr_int("group", 1);
        if (p.group < 1 || w->shape[0] % p.group != 0) r.fail("group " + std::to_string(p.group) + " does not divide the output channels");
        if (const dense_tensor* b = r.constant_input(2))
            if (b->element_count() != w->shape[0])
                r.fail("bias has " + std::to_string(b->element_count()) + " values for " + std::to_string(w->shape[0]) + " output channels");
        s.kind = step_kind::extension;
        s.params = std::make_shared<const params>(p);
    }

    static shape_t infer(nn_step& s, const std::vector<const shape_t*>& in, const std::string& source) {
        const params& p = *static_cast<const params*>(s.params.get());
        const shape_t& x = *in[0];
        const shape_t& w = *in[1];
        nd_geometry g;
        const shape_t out = resolve_nd(s, p.w, x, w[0], g, source);
        if (x[1] != w[1] * p.group)
            fail_step(s, "the input has " + std::to_string(x[1]) + " channels; the weights take " + std::to_string(w[1]) + " per group x " +
                             std::to_string(p.group) + " groups", source);
        g.store(s.widths);
        s.group = p.group;
        return out;
    }

    static std::size_t scratch_floats(const nn_step& s) {
        const nd_geometry g = nd_geometry::load(s.widths);
        return static_cast<std::size_t>(g.c / s.group * g.w.k[0] * g.w.k[1] * g.w.k[2] * g.out_size());
    }

    template <class Policy>
    static void run(const Policy& policy, const op_args& a) {
        const nd_geometry g = nd_geometry::load(a.step.widths);
        const std::int64_t groups = a.step.group, cg = g.c / groups, mg = g.m / groups;
        const std::int64_t kk = g.w.k[0] * g.w.k[1] * g.w.k[2], rows = cg * kk, cols = g.out_size();
        const float* x = a.inputs[0];
        const float* wt = a.inputs[1];
        const float* bias = a.step.in.size() > 2 ? a.inputs[2] : nullptr;
        float* col = a.scratch;
        for (std::int64_t n = 0; n < g.n; ++n)
            for (std::int64_t grp = 0; grp < groups; ++grp) {
                const float* xg = x + (n * g.c + grp * cg) * g.in_size();
                // im2col: row (c, kd, kh, kw), column (od, oh, ow); outside the input: 0.
                ferx::detail::for_each_range(policy, rows, 1, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
                    for (std::ptrdiff_t r = lo; r < hi; ++r) {
                        const std::int64_t c = r / kk, kr = r % kk;
                        const std::int64_t kd = kr / (g.w.k[1] * g.w.k[2]), kh = (kr / g.w.k[2]) % g.w.k[1], kw = kr % g.w.k[2];
                        float* dst = col + r * cols;
                        const float* xc = xg + c * g.in_size();
                        for (std::int64_t od = 0; od < g.out[0]; ++od) {
                            const std::int64_t id = od * g.w.stride[0] - g.w.pad_lo[0] + kd * g.w.dil[0];
                            for (std::int64_t oh = 0; oh < g.out[1]; ++oh) {
                                const std::int64_t ih = oh * g.w.stride[1] - g.w.pad_lo[1] + kh * g.w.dil[1];
                                const bool row_in = id >= 0 && id < g.in[0] && ih >= 0 && ih < g.in[1];
                                for (std::int64_t ow = 0; ow < g.out[2]; ++ow) {
                                    const std::int64_t iw = ow * g.w.stride[2] - g.w.pad_lo[2] + kw * g.w.dil[2];
                                    *dst++ = row_in && iw >= 0 && iw < g.in[2] ? xc[(id * g.in[1] + ih) * g.in[2] + iw] : 0.f;
                                }
                            }
                        }
                    }
                });
                float* y = a.output + (n * g.m + grp * mg) * cols;
                gemm(policy, mg, cols, rows, wt + grp * mg * rows, rows, col, cols, y, cols);
                if (bias)
                    for (std::int64_t o = 0; o < mg; ++o) {
                        const float b = bias[grp * mg + o];
                        for (std::int64_t j = 0; j < cols; ++j) y[o * cols + j] += b;
                    }
            }
    }
};

struct pool_nd_op {
    struct params {
        nd_window w;
        bool max = true;
        bool count_include_pad = false;
    };
    static constexpr bool keeps_batch = true;

    // Called by parse_pool for a kernel_shape of 1 or 3 values.
    static void parse(const node_reader& r, nn_step& s) {
        params p;
        const std::size_t n = r.attr_ints("kernel_shape").size();
        p.w = read_nd_window(r, n, {});
        p.max = r.op() == "MaxPool";
        p.count_include_pad = r.attr_int("count_include_pad", 0) != 0;
        if (p.max && r.attr_int("storage_order", 0) != 0) r.fail("storage_order 1 is not supported");
        if (!p.max && r.has("dilations")) {
            for (auto d : r.attr_ints("dilations"))
                if (d != 1) r.fail("AveragePool with dilations is not supported");
        }
        s.kind = step_kind::extension;
        s.params = std::make_shared<const params>(p);
    }

    static shape_t infer(nn_step& s, const std::vector<const shape_t*>& in, const std::string& source) {
        const params& p = *static_cast<const params*>(s.params.get());
        nd_geometry g;
        const shape_t out = resolve_nd(s, p.w, *in[0], (*in[0]).size() > 1 ? (*in[0])[1] : 0, g, source);
        g.store(s.widths);
        return out;
    }

    static std::size_t scratch_floats(const nn_step&) { return 0; }

    template <class Policy>
    static void run(const Policy& policy, const op_args& a) {
        const params& p = *static_cast<const params*>(a.step.params.get());
        const nd_geometry g = nd_geometry::load(a.step.widths);
        const float* x = a.inputs[0];
        ferx::detail::for_each_range(policy, g.n * g.c, 1, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
            for (std::ptrdiff_t plane = lo; plane < hi; ++plane) {
                const float* xp = x + plane * g.in_size();
                float* y = a.output + plane * g.out_size();
                for (std::int64_t od = 0; od < g.out[0]; ++od)
                    for (std::int64_t oh = 0; oh < g.out[1]; ++oh)
                        for (std::int64_t ow = 0; ow < g.out[2]; ++ow) {
                            const std::int64_t o[3] = {od, oh, ow};
                            std::int64_t b[3], e[3], pe[3];  // window bounds in the input, and with the pads
                            for (int ax = 0; ax < 3; ++ax) {
                                const std::int64_t start = o[ax] * g.w.stride[ax] - g.w.pad_lo[ax];
                                b[ax] = start;
                                e[ax] = start + (g.w.k[ax] - 1) * g.w.dil[ax] + 1;
                                pe[ax] = std::min(e[ax], g.in[ax] + g.w.pad_hi[ax]);
                            }
                            float m = -std::numeric_limits<float>::infinity();
                            double sum = 0;
                            std::int64_t count = 0;
                            for (std::int64_t id = b[0]; id < e[0]; id += g.w.dil[0])
                                for (std::int64_t ih = b[1]; ih < e[1]; ih += g.w.dil[1])
                                    for (std::int64_t iw = b[2]; iw < e[2]; iw += g.w.dil[2]) {
                                        if (id < 0 || ih < 0 || iw < 0 || id >= g.in[0] || ih >= g.in[1] || iw >= g.in[2]) continue;
                                        const float v = xp[(id * g.in[1] + ih) * g.in[2] + iw];
                                        m = (v > m || v != v) ? v : m;
                                        sum += v;
                                        ++count;
                                    }
                            float& out = y[(od * g.out[1] + oh) * g.out[2] + ow];
                            if (p.max) {
                                out = m;
                            } else {
                                // count_include_pad counts the pads (not what ceil_mode adds past them).
                                std::int64_t n = count;
                                if (p.count_include_pad) n = (pe[0] - b[0]) * (pe[1] - b[1]) * (pe[2] - b[2]);
                                out = n > 0 ? static_cast<float>(sum / static_cast<double>(n)) : 0.f;
                            }
                        }
            }
        });
    }
};

inline const op_def& conv_nd_def() { return extension_op_def<conv_nd_op>("Conv"); }
inline const op_def& pool_nd_def() { return extension_op_def<pool_nd_op>("Pool"); }

}  // namespace detail
}  // namespace nn
FERX_NAMESPACE_END
