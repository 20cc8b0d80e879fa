/// \file ferx/nn/detail/node_reader.hpp
/// `detail::node_reader`: typed access to one graph node's attributes and constant inputs while
/// a session compiles it, every fault raised as ferx::error naming the node, its op and the
/// graph's source. The op parsers (ferx/nn/detail/builtin_ops.hpp, and each op file a registry
/// entry names) read their node through it.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/error.hpp>
#include <ferx/nn/graph.hpp>
#include <ferx/nn/ir.hpp>
#include <ferx/nn/plan.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {
namespace detail {

class node_reader {
public:
    node_reader(const node& n, const compiled_plan& plan) : n_(n), plan_(plan) {}

    const node& get() const noexcept { return n_; }
    const std::string& op() const noexcept { return n_.op_type; }
    std::int64_t opset() const noexcept { return plan_.opset; }

    [[noreturn]] void fail(const std::string& why) const {
        throw error(session_where, "node '" + n_.name + "' (" + n_.op_type + "): " + why, plan_.source);
    }

    /// Checks the number of given inputs (trailing empty names are omitted optional inputs) is
    /// within [lo, hi] and the first lo are named.
    void need_inputs(std::size_t lo, std::size_t hi) const {
        std::size_t given = n_.inputs.size();
        while (given > 0 && n_.inputs[given - 1].empty()) --given;
        if (given < lo || given > hi)
            fail("takes " + std::to_string(lo) + (hi > lo ? ".." + std::to_string(hi) : "") + " inputs, got " + std::to_string(given));
        for (std::size_t i = 0; i < lo; ++i)
            if (n_.inputs[i].empty()) fail("input " + std::to_string(i) + " is required");
    }

    bool has(const char* name) const { return n_.attributes.count(name) != 0; }
    template <class T>
    const T* attr(const char* name) const {
        const auto it = n_.attributes.find(name);
        if (it == n_.attributes.end()) return nullptr;
        const T* v = std::get_if<T>(&it->second);
        if (!v) fail(std::string("attribute '") + name + "' has the wrong type");
        return v;
    }
    std::int64_t attr_int(const char* name, std::int64_t def) const {
        const auto* v = attr<std::int64_t>(name);
        return v ? *v : def;
    }
    float attr_float(const char* name, float def) const {
        const auto it = n_.attributes.find(name);
        if (it == n_.attributes.end()) return def;
        if (const auto* i = std::get_if<std::int64_t>(&it->second)) return static_cast<float>(*i);
        const auto* f = std::get_if<float>(&it->second);
        if (!f) fail(std::string("attribute '") + name + "' has the wrong type");
        return *f;
    }
    std::vector<std::int64_t> attr_ints(const char* name) const {
        const auto* v = attr<std::vector<std::int64_t>>(name);
        return v ? *v : std::vector<std::int64_t>{};
    }
    std::string attr_string(const char* name, const std::string& def) const {
        const auto* v = attr<std::string>(name);
        return v ? *v : def;
    }

    /// Whether input i names a constant (an initializer or a folded value).
    bool is_constant(std::size_t i) const {
        return i < n_.inputs.size() && !n_.inputs[i].empty() && plan_.weight_ids.count(n_.inputs[i]) != 0;
    }
    /// Constant input i, or nullptr when absent / omitted; a runtime input is an error.
    const dense_tensor* constant_input(std::size_t i) const {
        if (i >= n_.inputs.size() || n_.inputs[i].empty()) return nullptr;
        const auto it = plan_.weight_ids.find(n_.inputs[i]);
        if (it == plan_.weight_ids.end())
            fail("input " + std::to_string(i) + " ('" + n_.inputs[i] + "') must be a constant (an initializer)");
        return &plan_.weights[static_cast<std::size_t>(it->second)];
    }
    std::vector<std::int64_t> constant_ints(std::size_t i) const {
        const dense_tensor* t = constant_input(i);
        std::vector<std::int64_t> out;
        if (!t) return out;
        for (float f : t->data) out.push_back(static_cast<std::int64_t>(std::llround(f)));
        return out;
    }

    /// A 2-D window (kernel_shape, strides, dilations, pads, auto_pad, ceil_mode); kh x kw
    /// where kernel_shape is absent.
    window_params window(std::int64_t kh, std::int64_t kw) const {
        window_params w;
        auto ks = attr_ints("kernel_shape");
        if (!ks.empty()) {
            if (ks.size() != 2) fail("only 2-D windows are supported (kernel_shape has " + std::to_string(ks.size()) + " axes)");
            kh = ks[0], kw = ks[1];
        }
        w.kernel_h = kh, w.kernel_w = kw;
        auto st = attr_ints("strides");
        if (!st.empty()) {
            if (st.size() != 2) fail("strides must have 2 values");
            w.stride_h = st[0], w.stride_w = st[1];
        }
        auto di = attr_ints("dilations");
        if (!di.empty()) {
            if (di.size() != 2) fail("dilations must have 2 values");
            w.dilation_h = di[0], w.dilation_w = di[1];
        }
        auto pa = attr_ints("pads");
        if (!pa.empty()) {
            if (pa.size() != 4) fail("pads must have 4 values (top, left, bottom, right)");
            w.pad_top = pa[0], w.pad_left = pa[1], w.pad_bottom = pa[2], w.pad_right = pa[3];
        }
        const std::string ap = attr_string("auto_pad", "NOTSET");
        if (ap == "SAME_UPPER") w.padding = auto_pad::same_upper;
        else if (ap == "SAME_LOWER") w.padding = auto_pad::same_lower;
        else if (ap == "VALID") w.padding = auto_pad::valid;
        else if (ap != "NOTSET" && !ap.empty()) fail("unknown auto_pad '" + ap + "'");
        w.ceil_mode = attr_int("ceil_mode", 0) != 0;
        return w;
    }

    /// The value of a Constant node (value, value_float(s), value_int(s)).
    dense_tensor constant_value() const {
        if (const auto* t = attr<dense_tensor>("value")) return *t;
        if (has("value_float")) return {{}, {attr_float("value_float", 0.f)}};
        if (const auto* f = attr<std::vector<float>>("value_floats")) return {{static_cast<std::int64_t>(f->size())}, *f};
        if (has("value_int")) return {{}, {static_cast<float>(attr_int("value_int", 0))}};
        if (const auto* v = attr<std::vector<std::int64_t>>("value_ints")) {
            dense_tensor t{{static_cast<std::int64_t>(v->size())}, {}};
            for (auto i : *v) t.data.push_back(static_cast<float>(i));
            return t;
        }
        fail("has no value attribute ferx can read (value, value_float(s), value_int(s))");
    }

private:
    const node& n_;
    const compiled_plan& plan_;
};

}  // namespace detail
}  // namespace nn
FERX_NAMESPACE_END
