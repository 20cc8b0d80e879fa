/// \file ferx/nn/ops/einsum.hpp
/// The ONNX op Einsum in the session for one or two operands: explicit ("nkctv,kvw->nctw") and
/// implicit outputs (the letters that appear once, in alphabetical order), batch letters (in
/// both operands and the output), contracted letters (in both, not in the output), letters
/// summed over within one operand, transposes ("ij->ji"). A two-operand Einsum is one batched
/// matrix product: each operand is gathered into [batch, kept, contracted] order (skipped
/// where it already is), multiplied with ferx's gemm, and the product put into the output's
/// order. Refused with a ferx::error naming the node: more than two operands, an ellipsis
/// ("..."), a letter repeated within one operand (diagonals), extents that disagree.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/nn/detail/node_reader.hpp>
#include <ferx/nn/detail/op_def.hpp>
#include <ferx/nn/gemm.hpp>
#include <ferx/nn/ir.hpp>
#include <ferx/nn/tensor_ref.hpp>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {
namespace detail {

struct einsum_op {
    struct params {
        std::vector<std::string> operands;  // the letters of each operand
        std::string output;                 // the output's letters
    };
    static constexpr bool keeps_batch = false;

    static void parse(const node_reader& r, nn_step& s) {
        r.need_inputs(1, 2);
        if (!r.has("equation")) r.fail("the equation attribute is required");
        std::string eq;
        for (char c : r.attr_string("equation", "")) if (!std::isspace(static_cast<unsigned char>(c))) eq += c;
        params p;
        const std::size_t arrow = eq.find("->");
        const std::string lhs = eq.substr(0, arrow);
        if (eq.find("...") != std::string::npos) r.fail("equation '" + eq + "': an ellipsis (...) is not supported");
        std::size_t start = 0;
        for (;;) {
            const std::size_t comma = lhs.find(',', start);
            p.operands.push_back(lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
        std::size_t given = r.get().inputs.size();
        while (given > 0 && r.get().inputs[given - 1].empty()) --given;
        if (p.operands.size() != given)
            r.fail("equation '" + eq + "' has " + std::to_string(p.operands.size()) + " operand(s) for " + std::to_string(given) + " input(s)");
        std::map<char, int> count;
        for (const auto& o : p.operands)
            for (char c : o) {
                if (!std::isalpha(static_cast<unsigned char>(c))) r.fail("equation '" + eq + "': '" + std::string(1, c) + "' is not a letter");
                if (std::count(o.begin(), o.end(), c) > 1)
                    r.fail("equation '" + eq + "': letter '" + std::string(1, c) + "' repeats within one operand (diagonals are not supported)");
                ++count[c];
            }
        if (arrow != std::string::npos) {
            p.output = eq.substr(arrow + 2);
            for (char c : p.output) {
                if (!count.count(c)) r.fail("equation '" + eq + "': output letter '" + std::string(1, c) + "' is in no operand");
                if (std::count(p.output.begin(), p.output.end(), c) > 1)
                    r.fail("equation '" + eq + "': output letter '" + std::string(1, c) + "' repeats");
            }
        } else {
            for (const auto& [c, n] : count)  // std::map: alphabetical (upper case first, as ASCII)
                if (n == 1) p.output += c;
        }
        s.kind = step_kind::extension;
        s.params = std::make_shared<const params>(std::move(p));
    }

    // A gather plan in s.widths: [dst_dims, sum_dims, (extent, source stride) per dst dim, then
    // per summed dim]; dst is row-major over its dims.
    static void add_plan(std::vector<std::int64_t>& w, const std::string& src, const std::string& dst, const std::string& sum,
                         const std::map<char, std::int64_t>& ext) {
        std::map<char, std::int64_t> stride;
        std::int64_t st = 1;
        for (std::size_t k = src.size(); k-- > 0;) stride[src[k]] = st, st *= ext.at(src[k]);
        w.push_back(static_cast<std::int64_t>(dst.size()));
        w.push_back(static_cast<std::int64_t>(sum.size()));
        for (char c : dst) w.push_back(ext.at(c)), w.push_back(stride.count(c) ? stride[c] : 0);
        for (char c : sum) w.push_back(ext.at(c)), w.push_back(stride[c]);
    }

    // Geometry: s.d0..d2 = M, N, K of the product, s.batches its batch count; s.ints flags
    // (gather A, gather B, scatter the product); s.widths the gather plans (A, B, output).
    static shape_t infer(nn_step& s, const std::vector<const shape_t*>& in, const std::string& source) {
        const params& p = *static_cast<const params*>(s.params.get());
        std::map<char, std::int64_t> ext;
        for (std::size_t i = 0; i < p.operands.size(); ++i) {
            const shape_t& x = *in[i];
            if (x.size() != p.operands[i].size())
                fail_step(s, "operand " + std::to_string(i) + " has rank " + std::to_string(x.size()) + ", the equation gives it " +
                                 std::to_string(p.operands[i].size()) + " letters ('" + p.operands[i] + "')", source);
            for (std::size_t k = 0; k < x.size(); ++k) {
                const char c = p.operands[i][k];
                const auto it = ext.find(c);
                if (it != ext.end() && it->second != x[k])
                    fail_step(s, "letter '" + std::string(1, c) + "' has extents " + std::to_string(it->second) + " and " + std::to_string(x[k]), source);
                ext[c] = x[k];
            }
        }
        shape_t out;
        for (char c : p.output) out.push_back(ext[c]);
        const auto has = [](const std::string& t, char c) { return t.find(c) != std::string::npos; };
        s.widths.clear();
        if (p.operands.size() == 1) {
            std::string sum;
            for (char c : p.operands[0]) if (!has(p.output, c)) sum += c;
            add_plan(s.widths, p.operands[0], p.output, sum, ext);
            s.ints = {1, 0, 0};
            return out;
        }
        const std::string &a = p.operands[0], &b = p.operands[1];
        std::string batch, kept_a, kept_b, contract, sum_a, sum_b;
        for (char c : a) {
            if (has(b, c)) (has(p.output, c) ? batch : contract) += c;
            else (has(p.output, c) ? kept_a : sum_a) += c;
        }
        for (char c : b)
            if (!has(a, c)) (has(p.output, c) ? kept_b : sum_b) += c;
        const auto prod = [&](const std::string& t) {
            std::int64_t n = 1;
            for (char c : t) n *= ext[c];
            return n;
        };
        s.batches = prod(batch), s.d0 = prod(kept_a), s.d1 = prod(kept_b), s.d2 = prod(contract);
        const std::string a_order = batch + kept_a + contract, b_order = batch + contract + kept_b, c_order = batch + kept_a + kept_b;
        // An operand already in product order (nothing summed) is read in place.
        s.ints = {sum_a.empty() && a == a_order ? 0 : 1, sum_b.empty() && b == b_order ? 0 : 1, c_order == p.output ? 0 : 1};
        add_plan(s.widths, a, a_order, sum_a, ext);
        add_plan(s.widths, b, b_order, sum_b, ext);
        add_plan(s.widths, c_order, p.output, "", ext);
        return out;
    }

    static std::size_t scratch_floats(const nn_step& s) {
        if (s.ints.size() < 3 || s.widths.empty()) return 0;
        if (static_cast<const params*>(s.params.get())->operands.size() == 1) return 0;
        const std::int64_t bt = s.batches, m = s.d0, n = s.d1, k = s.d2;
        return static_cast<std::size_t>((s.ints[0] ? bt * m * k : 0) + (s.ints[1] ? bt * k * n : 0) + (s.ints[2] ? bt * m * n : 0));
    }

    // dst[i] = sum over the summed dims of src at i's position, by the plan at w.
    template <class Policy>
    static const std::int64_t* gather(const Policy& policy, const std::int64_t* w, const float* src, float* dst) {
        const std::int64_t nd = w[0], ns = w[1];
        const std::int64_t* dims = w + 2;
        const std::int64_t* sums = dims + 2 * nd;
        std::int64_t n = 1, nsum = 1;
        for (std::int64_t k = 0; k < nd; ++k) n *= dims[2 * k];
        for (std::int64_t k = 0; k < ns; ++k) nsum *= sums[2 * k];
        ferx::detail::for_each_range(policy, n, 4096, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
            for (std::ptrdiff_t i = lo; i < hi; ++i) {
                std::int64_t rem = i, off = 0;
                for (std::int64_t k = nd; k-- > 0;) off += (rem % dims[2 * k]) * dims[2 * k + 1], rem /= dims[2 * k];
                if (ns == 0) {
                    dst[i] = src[off];
                    continue;
                }
                double acc = 0;
                for (std::int64_t j = 0; j < nsum; ++j) {
                    std::int64_t r2 = j, o2 = off;
                    for (std::int64_t k = ns; k-- > 0;) o2 += (r2 % sums[2 * k]) * sums[2 * k + 1], r2 /= sums[2 * k];
                    acc += src[o2];
                }
                dst[i] = static_cast<float>(acc);
            }
        });
        return sums + 2 * ns;  // the next plan
    }

    template <class Policy>
    static void run(const Policy& policy, const op_args& a) {
        const nn_step& s = a.step;
        const params& p = *static_cast<const params*>(s.params.get());
        const std::int64_t* w = s.widths.data();
        if (p.operands.size() == 1) {
            gather(policy, w, a.inputs[0], a.output);
            return;
        }
        const std::int64_t bt = s.batches, m = s.d0, n = s.d1, k = s.d2;
        float* scratch = a.scratch;
        const auto skip = [](const std::int64_t* plan) { return plan + 2 + 2 * (plan[0] + plan[1]); };
        const float* ap = a.inputs[0];
        if (s.ints[0]) {
            w = gather(policy, w, a.inputs[0], scratch);
            ap = scratch, scratch += bt * m * k;
        } else {
            w = skip(w);
        }
        const float* bp = a.inputs[1];
        if (s.ints[1]) {
            w = gather(policy, w, a.inputs[1], scratch);
            bp = scratch, scratch += bt * k * n;
        } else {
            w = skip(w);
        }
        float* c = s.ints[2] ? scratch : a.output;
        for (std::int64_t i = 0; i < bt; ++i) {
            if (k == 0) std::fill(c + i * m * n, c + (i + 1) * m * n, 0.f);
            else gemm(policy, m, n, k, ap + i * m * k, k, bp + i * k * n, n, c + i * m * n, n);
        }
        if (s.ints[2]) gather(policy, w, c, a.output);
    }
};

}  // namespace detail
}  // namespace nn
FERX_NAMESPACE_END
