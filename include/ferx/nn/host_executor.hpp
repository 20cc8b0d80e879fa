/// \file ferx/nn/host_executor.hpp
/// The host executor of a compiled plan (`exec::seq`, `exec::par`): `detail::host_executor`
/// owns the host arena, scratch and (micro-batching) the whole-batch copies of the readable
/// values, and runs the plan's steps with the host ops of ferx/nn/ (conv2d, gemm, pools, ...),
/// the whole batch in one pass or as micro-batches (one arena per thread). An extension step
/// runs the host kernel its `op_def` names. Nothing here allocates once a batch size has run.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/nn/activation.hpp>
#include <ferx/nn/conv.hpp>
#include <ferx/nn/elementwise.hpp>
#include <ferx/nn/gemm.hpp>
#include <ferx/nn/ir.hpp>
#include <ferx/nn/layout.hpp>
#include <ferx/nn/op_registry.hpp>
#include <ferx/nn/plan.hpp>
#include <ferx/nn/pool.hpp>
#include <ferx/nn/softmax.hpp>
#include <ferx/nn/tensor_ref.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <type_traits>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {
namespace detail {

/// Floats of host scratch a step needs under `policy` (im2col, Gemm transposes).
template <class Policy>
std::size_t step_scratch_floats(const Policy& policy, const nn_step& s) {
    if (s.kind == step_kind::extension) return s.def->scratch_floats(s);
    if (s.kind == step_kind::conv) return conv2d_scratch_floats(policy, s.conv);
    if (s.kind == step_kind::gemm)
        return static_cast<std::size_t>((s.trans_a ? s.d0 * s.d2 : 0) + (s.trans_b ? s.d2 * s.d1 : 0));
    return 0;
}

/// One pass of the plan over one arena: its scratch, and its pointer list (Concat, extensions).
struct host_pass {
    const compiled_plan& p;
    float* arena;
    float* scratch;
    std::vector<const float*>* ptrs;

    const float* host_cptr(int id) const {
        if (id < 0) return nullptr;
        const auto& v = p.value(id);
        if (v.weight >= 0) return p.weights[static_cast<std::size_t>(v.weight)].data.data();
        return arena + p.offsets[static_cast<std::size_t>(v.storage)];
    }
    float* host_ptr(int id) const { return arena + p.offset(id); }

    template <class Policy>
    void run_step(const Policy& policy, const nn_step& s) const {
        const float* x = host_cptr(s.in[0]);
        switch (s.kind) {
        case step_kind::alias: return;
        case step_kind::conv:
            return conv2d(policy, s.conv, x, host_cptr(s.in[1]), s.in.size() > 2 ? host_cptr(s.in[2]) : nullptr,
                          host_ptr(s.out), scratch, s.act);
        case step_kind::affine:
            return channel_affine(policy, s.d0, s.d1, s.d2, host_cptr(s.in[1]), host_cptr(s.in[2]), x, host_ptr(s.out), s.act);
        case step_kind::unary: return unary(policy, s.act, x, host_ptr(s.out), s.d0);
        case step_kind::max_pool: return max_pool(policy, s.pool, x, host_ptr(s.out));
        case step_kind::average_pool: return average_pool(policy, s.pool, x, host_ptr(s.out));
        case step_kind::global_average_pool: return global_average_pool(policy, s.d0, s.d1, x, host_ptr(s.out));
        case step_kind::binary: return binary(policy, s.bin, s.bc, x, host_cptr(s.in[1]), host_ptr(s.out));
        case step_kind::concat: {
            auto& ptrs = *this->ptrs;
            ptrs.resize(s.in.size());  // grows once per pass slot, then reuses its capacity
            for (std::size_t i = 0; i < s.in.size(); ++i) ptrs[i] = host_cptr(s.in[i]);
            return concat(policy, s.d0, ptrs, s.widths, host_ptr(s.out));
        }
        case step_kind::extension: {
            auto& ptrs = *this->ptrs;
            ptrs.resize(s.in.size());
            for (std::size_t i = 0; i < s.in.size(); ++i) ptrs[i] = host_cptr(s.in[i]);
            const op_args args{s, ptrs.data(), host_ptr(s.out), scratch};
            if constexpr (std::is_same<std::decay_t<Policy>, exec::parallel_policy>::value) return s.def->run_par(policy, args);
            else return s.def->run_seq(exec::seq, args);
        }
        case step_kind::transpose: return transpose(policy, s.tr, x, host_ptr(s.out));
        case step_kind::pad: return pad(policy, s.pd, x, host_ptr(s.out));
        case step_kind::softmax: return softmax(policy, s.d0, s.d1, s.d2, x, host_ptr(s.out));
        case step_kind::gemm: return run_gemm(policy, s);
        case step_kind::matmul: {
            const std::int64_t m = s.d0, n = s.d1, k = s.d2;
            const float* bp = host_cptr(s.in[1]);
            float* y = host_ptr(s.out);
            for (std::int64_t i = 0; i < s.batches; ++i) {
                std::int64_t ao, bo;
                broadcast_offsets(s.batch_bc, s.batch_bc.rank, i, ao, bo);
                gemm(policy, m, n, k, x + ao * m * k, k, bp + bo * k * n, n, y + i * m * n, n);
            }
            return;
        }
        }
    }

    template <class Policy>
    void run_gemm(const Policy& policy, const nn_step& s) const {
        const std::int64_t m = s.d0, n = s.d1, k = s.d2;
        const float* a = host_cptr(s.in[0]);
        const float* b = host_cptr(s.in[1]);
        float* tmp = scratch;
        if (s.trans_a) {  // A is k x m: transpose into scratch
            for (std::int64_t i = 0; i < m; ++i)
                for (std::int64_t q = 0; q < k; ++q) tmp[i * k + q] = a[q * m + i];
            a = tmp;
            tmp += m * k;
        }
        if (s.trans_b) {  // B is n x k
            for (std::int64_t q = 0; q < k; ++q)
                for (std::int64_t j = 0; j < n; ++j) tmp[q * n + j] = b[j * k + q];
            b = tmp;
        }
        float* y = host_ptr(s.out);
        gemm(policy, m, n, k, a, k, b, n, y, n);
        const float* c = s.in.size() > 2 ? host_cptr(s.in[2]) : nullptr;
        ferx::detail::for_each_range(policy, m, 16, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
            for (std::ptrdiff_t i = lo; i < hi; ++i)
                for (std::int64_t j = 0; j < n; ++j) {
                    float v = s.alpha * y[i * n + j];
                    if (c) v += s.beta * c[i * s.bc.a_stride[0] + j * s.bc.a_stride[1]];
                    y[i * n + j] = v;
                }
        });
    }
};

/// The host buffers of a session and the runs over them.
class host_executor {
public:
    /// Sizes the buffers for a new plan of `p` (called after planning).
    void planned(const compiled_plan& p) {
        results_.clear();
        if (p.chunk > 0)
            for (int id : p.readable)
                if (p.value(id).weight < 0) results_[id].resize(static_cast<std::size_t>(element_count(p.full_shapes[static_cast<std::size_t>(id)])));
        if (arena_.size() < p.arena_floats) arena_.resize(p.arena_floats);
    }
    /// Forgets the whole-batch results (a failed plan).
    void clear_results() { results_.clear(); }

    /// Runs the planned batch: `inputs` follow the graph's input order and match the plan.
    template <class Policy>
    void run(const Policy& policy, const compiled_plan& p, const std::vector<tensor_ref>& inputs) {
        if (p.chunk > 0) return run_micro_batches(policy, p, inputs);
        for (std::size_t i = 0; i < inputs.size(); ++i)
            std::memcpy(host_ptr(p, p.input_ids[i]), inputs[i].data, static_cast<std::size_t>(inputs[i].element_count()) * sizeof(float));
        std::size_t scratch = 0;
        for (const auto& s : p.steps) scratch = std::max(scratch, step_scratch_floats(policy, s));
        if (scratch_.size() < scratch) scratch_.resize(scratch);
        if (ptrs_.empty()) ptrs_.resize(1);
        const host_pass pass_ctx{p, arena_.data(), scratch_.data(), &ptrs_[0]};
        for (const auto& s : p.steps) pass_ctx.run_step(policy, s);
    }

    /// A computed value in the (first pass's) host arena, and that arena.
    float* host_ptr(const compiled_plan& p, int id) { return arena_.data() + p.offset(id); }
    float* arena() noexcept { return arena_.data(); }
    /// A value after a run: the whole-batch copy when micro-batched, else the arena or the weight.
    tensor_ref ref(const compiled_plan& p, int id) const {
        if (p.chunk > 0) {
            const auto it = results_.find(id);
            if (it != results_.end()) return {it->second.data(), p.full_shape(id)};
        }
        const auto& v = p.value(id);
        const float* data = v.weight >= 0 ? p.weights[static_cast<std::size_t>(v.weight)].data.data() : arena_.data() + p.offset(id);
        return {data, p.shape(id)};
    }

    std::size_t arena_floats() const noexcept { return arena_.size(); }
    std::size_t scratch_floats() const noexcept { return scratch_.size(); }
    std::size_t results_floats() const noexcept {
        std::size_t n = 0;
        for (const auto& [id, buf] : results_) n += buf.size();
        return n;
    }

private:
    // Runs the planned batch as micro-batches of `chunk` images: each thread of `policy` takes
    // the next micro-batch, copies its images into its own arena (zero-filled past the batch's
    // end), runs every step with exec::seq and copies the readable values out.
    template <class Policy>
    void run_micro_batches(const Policy& policy, const compiled_plan& p, const std::vector<tensor_ref>& inputs) {
        const std::int64_t n = p.planned_batch, c = p.chunk;
        const std::int64_t passes = (n + c - 1) / c;
        const std::size_t threads = std::min<std::size_t>(ferx::detail::concurrency(policy), static_cast<std::size_t>(passes));
        std::size_t scratch = 0;
        for (const auto& s : p.steps) scratch = std::max(scratch, step_scratch_floats(exec::seq, s));
        if (arena_.size() < threads * p.arena_floats) arena_.resize(threads * p.arena_floats);
        if (scratch_.size() < threads * scratch) scratch_.resize(threads * scratch);
        if (ptrs_.size() < threads) ptrs_.resize(threads);
        for (std::size_t i = 0; i < inputs.size(); ++i) {
            auto& r = results_[p.input_ids[i]];
            std::memcpy(r.data(), inputs[i].data, r.size() * sizeof(float));
        }
        std::atomic<std::int64_t> next{0};
        auto worker = [&](std::size_t t) {
            const host_pass pass_ctx{p, arena_.data() + t * p.arena_floats, scratch_.data() + t * scratch, &ptrs_[t]};
            for (std::int64_t pass = next++; pass < passes; pass = next++) {
                const std::int64_t b0 = pass * c, nb = std::min(c, n - b0);
                for (std::size_t i = 0; i < inputs.size(); ++i) {
                    const int id = p.input_ids[i];
                    const std::size_t per = static_cast<std::size_t>(element_count(p.shape(id)) / c);
                    float* dst = pass_ctx.host_ptr(id);
                    std::memcpy(dst, inputs[i].data + static_cast<std::size_t>(b0) * per, static_cast<std::size_t>(nb) * per * sizeof(float));
                    std::fill(dst + static_cast<std::size_t>(nb) * per, dst + static_cast<std::size_t>(c) * per, 0.f);
                }
                for (const auto& s : p.steps) pass_ctx.run_step(exec::seq, s);
                for (auto& [id, buf] : results_) {
                    if (p.values[static_cast<std::size_t>(id)].input >= 0) continue;
                    const std::size_t per = buf.size() / static_cast<std::size_t>(n);
                    std::memcpy(buf.data() + static_cast<std::size_t>(b0) * per, pass_ctx.host_cptr(id),
                                static_cast<std::size_t>(nb) * per * sizeof(float));
                }
            }
        };
        if constexpr (std::is_same<std::decay_t<Policy>, exec::parallel_policy>::value) {
            if (threads > 1) {
                policy.pool().run(threads, worker);
                return;
            }
        }
        worker(0);
    }

    std::vector<float> arena_, scratch_;
    std::vector<std::vector<const float*>> ptrs_;  // Concat's input list, per pass slot
    std::map<int, std::vector<float>> results_;   // micro-batching: whole-batch readable values
};

}  // namespace detail
}  // namespace nn
FERX_NAMESPACE_END
