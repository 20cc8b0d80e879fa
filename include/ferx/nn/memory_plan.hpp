/// \file ferx/nn/memory_plan.hpp
/// Planning a compiled plan for input shapes: the inputs checked against the declared shapes,
/// shapes inferred (ferx/nn/shape_inference.hpp), the micro-batch size chosen for host runs
/// (`session_options::micro_batch`), and the arena laid out by liveness — each value a step
/// writes owns a storage that its aliases share, and storages whose lifetimes do not overlap
/// share memory. The executors allocate `arena_floats` elements per pass (host) or once
/// (device) and address values at `offsets`.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/error.hpp>
#include <ferx/nn/ir.hpp>
#include <ferx/nn/plan.hpp>
#include <ferx/nn/shape_inference.hpp>
#include <ferx/nn/tensor_ref.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {
namespace detail {

// Arena offsets by liveness: each value that a step writes (or a graph input) owns a
// storage that aliases (Reshape, Flatten, Identity, Dropout) share; storages whose
// [first write, last read] intervals are disjoint may share memory (first fit).
// Sets the offsets; returns the floats of one pass's arena.
inline std::size_t plan_arena(compiled_plan& p) {
    struct storage {
        std::size_t floats = 0;
        std::int64_t first = 0, last = 0;
        std::size_t offset = 0;
    };
    std::vector<storage> st;
    for (auto& v : p.values) v.storage = -1;
    const std::int64_t forever = std::numeric_limits<std::int64_t>::max();
    auto new_storage = [&](int id, std::int64_t at) {
        storage s;
        s.floats = static_cast<std::size_t>((element_count(p.shape(id)) + 15) / 16 * 16);
        s.first = s.last = at;
        st.push_back(s);
        p.values[static_cast<std::size_t>(id)].storage = static_cast<int>(st.size()) - 1;
    };
    for (int id : p.input_ids) new_storage(id, -1);
    for (std::size_t i = 0; i < p.steps.size(); ++i) {
        const auto& s = p.steps[i];
        const std::int64_t at = static_cast<std::int64_t>(i);
        for (int id : s.in)
            if (id >= 0 && p.values[static_cast<std::size_t>(id)].storage >= 0)
                st[static_cast<std::size_t>(p.values[static_cast<std::size_t>(id)].storage)].last = at;
        auto& out = p.values[static_cast<std::size_t>(s.out)];
        if (s.kind == step_kind::alias) {
            const auto& src = p.values[static_cast<std::size_t>(s.in[0])];
            if (src.weight >= 0) out.weight = src.weight;  // a constant stays a constant
            else out.storage = src.storage;
        } else {
            new_storage(s.out, at);
        }
    }
    for (int id : p.readable) {
        const int sid = p.values[static_cast<std::size_t>(id)].storage;
        if (sid >= 0) st[static_cast<std::size_t>(sid)].last = forever;
    }
    std::vector<std::size_t> order(st.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return st[a].floats > st[b].floats; });
    std::vector<std::size_t> placed;
    std::size_t total = 0;
    for (std::size_t i : order) {
        // Intervals of placed storages alive at the same time, sorted by offset.
        std::vector<std::pair<std::size_t, std::size_t>> busy;
        for (std::size_t j : placed)
            if (!(st[j].last < st[i].first || st[i].last < st[j].first)) busy.emplace_back(st[j].offset, st[j].offset + st[j].floats);
        std::sort(busy.begin(), busy.end());
        std::size_t at = 0;
        for (const auto& [lo, hi] : busy) {
            if (lo >= at + st[i].floats) break;
            at = std::max(at, hi);
        }
        st[i].offset = at;
        total = std::max(total, at + st[i].floats);
        placed.push_back(i);
    }
    p.offsets.resize(st.size());
    for (std::size_t i = 0; i < st.size(); ++i) p.offsets[i] = st[i].offset;
    return total;
}

// Whether the current plan (batch b) keeps images apart: every computed value that is not
// an alias of a constant keeps the batch on axis 0 (`nn_value::batched`, which already
// refuses a Transpose moving axis 0, Concat on it, Gemm with transA and Flatten at 0), and
// Softmax does not normalise across it.
inline bool batch_separable(const compiled_plan& p, std::int64_t b) {
    std::vector<bool> constant(p.values.size());
    for (std::size_t i = 0; i < p.values.size(); ++i) constant[i] = p.values[i].weight >= 0;
    for (const auto& s : p.steps) {
        const auto out = static_cast<std::size_t>(s.out);
        constant[out] = s.kind == step_kind::alias && s.in[0] >= 0 && constant[static_cast<std::size_t>(s.in[0])];
        if (!constant[out] && !p.values[out].batched) return false;
        if (s.kind == step_kind::softmax && (s.d0 < b || s.d0 % b != 0)) return false;
    }
    return true;
}

// Images per micro-batch for these input shapes (the current inference), or 0 to run the
// batch whole. Leaves the inference at batch 1 when it returns > 0, else at `shapes`.
inline std::int64_t choose_micro_batch(compiled_plan& p, const std::vector<shape_t>& shapes) {
    const std::int64_t n = shapes.empty() || shapes[0].empty() ? 0 : shapes[0][0];
    if (p.options.micro_batch < 0 || n < 2 || !batch_separable(p, n)) return 0;
    for (const auto& sh : shapes)
        if (sh.empty() || sh[0] != n) return 0;
    std::vector<shape_t> full(p.values.size());
    for (std::size_t i = 0; i < p.values.size(); ++i) full[i] = p.values[i].shape;
    std::vector<shape_t> one = shapes;
    for (auto& sh : one) sh[0] = 1;
    bool ok = true;
    try {
        infer_shapes(p, one);
    } catch (const error&) {
        ok = false;
    }
    // The other extents must not depend on the batch.
    auto same_extents = [&](int id) {
        const auto& v = p.values[static_cast<std::size_t>(id)];
        const auto& f = full[static_cast<std::size_t>(id)];
        return v.weight >= 0 || (!f.empty() && v.shape.size() == f.size() && std::equal(f.begin() + 1, f.end(), v.shape.begin() + 1));
    };
    for (const auto& s : p.steps) ok = ok && same_extents(s.out);
    std::int64_t c = 0;
    if (ok && batch_separable(p, 1)) {
        const std::size_t per_image = std::max<std::size_t>(1, plan_arena(p) * sizeof(float));
        // Automatic: only where the whole batch's activations would leave the caches, and the
        // per-pass copies (inputs in, readable values out) are small beside them.
        std::size_t copied = 0;
        for (int id : p.readable)
            if (p.values[static_cast<std::size_t>(id)].weight < 0)
                copied += static_cast<std::size_t>(element_count(p.shape(id))) * sizeof(float);
        const bool worth = per_image * static_cast<std::size_t>(n) > 4 * p.options.micro_batch_bytes && 2 * copied <= per_image;
        if (p.options.micro_batch == 0 && !worth) {
            infer_shapes(p, shapes);
            return 0;
        }
        c = p.options.micro_batch > 0 ? p.options.micro_batch
                                     : static_cast<std::int64_t>(std::max<std::size_t>(1, p.options.micro_batch_bytes / per_image));
        // Automatic: as few passes as that allows, evened out (the last pass is zero-filled
        // past the batch's end, so 8 images at most 7 per pass run as 4 + 4, not 7 + 7).
        if (p.options.micro_batch == 0 && c < n) {
            const std::int64_t passes = (n + c - 1) / c;
            c = (n + passes - 1) / passes;
        }
    }
    if (c <= 0 || c >= n) {
        infer_shapes(p, shapes);
        return 0;
    }
    p.full_shapes = std::move(full);
    p.planned_batch = n;
    return c;
}

// Validates the inputs and plans the arena for their shapes, again only when they change;
// returns whether it planned. `micro` (host runs): run a large batch as micro-batches where
// the graph allows it.
inline bool plan_for(compiled_plan& p, const std::vector<tensor_ref>& inputs, bool micro = false) {
    if (inputs.size() != p.input_ids.size())
        throw error(session_where, "the graph takes " + std::to_string(p.input_ids.size()) + " inputs, " +
                                std::to_string(inputs.size()) + " were given", p.source);
    bool same = p.planned.size() == inputs.size();
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const shape_t& decl = p.input_decl[i];
        const shape_t& got = inputs[i].shape;
        bool ok = decl.empty() || got.size() == decl.size();
        for (std::size_t a = 1; ok && a < decl.size(); ++a) ok = decl[a] <= 0 || decl[a] == got[a];
        for (auto d : got) ok = ok && d >= 0;
        if (!ok || got.empty())
            throw error(session_where, "input '" + p.input_names[i] + "' has shape " + shape_string(got) + ", the graph expects " +
                                    shape_string(decl) + " (axis 0, the batch, may be any size)", p.source);
        same = same && p.planned[i] == got;
    }
    if (same && (micro || p.chunk == 0)) return false;
    std::vector<shape_t> shapes;
    for (const auto& in : inputs) shapes.push_back(in.shape);
    p.planned.clear();  // a failed inference leaves no plan behind
    p.chunk = 0;
    p.full_shapes.clear();
    infer_shapes(p, shapes);
    const std::int64_t c = micro ? choose_micro_batch(p, shapes) : 0;
    if (c > 0) {
        p.chunk = c;
        for (auto& sh : shapes) sh[0] = c;
        infer_shapes(p, shapes);
        for (auto& sh : shapes) sh[0] = p.planned_batch;
    }
    p.arena_floats = plan_arena(p);
    p.planned = shapes;
    return true;
}

}  // namespace detail
}  // namespace nn
FERX_NAMESPACE_END
