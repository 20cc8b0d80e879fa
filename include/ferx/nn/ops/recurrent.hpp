/// \file ferx/nn/ops/recurrent.hpp
/// The ONNX ops LSTM, GRU and RNN in the session: parsing of their attributes, shapes, and the
/// host kernel of ferx/nn/recurrent.hpp. Their outputs (Y, Y_h and, for LSTM, Y_c) are computed
/// together into one packed value, from which the session copies each output the graph names
/// (ferx/nn/detail/op_def.hpp, `multi_output_op`).
///
/// Inputs, in ONNX's order: X, W, R, B, sequence_lens, initial_h, initial_c (LSTM), P (LSTM).
/// Refused with a ferx::error naming the node: `input_forget` = 1, an unknown activation, a
/// direction other than forward / reverse / bidirectional, shapes that contradict hidden_size.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/nn/detail/node_reader.hpp>
#include <ferx/nn/detail/op_def.hpp>
#include <ferx/nn/ir.hpp>
#include <ferx/nn/recurrent.hpp>
#include <ferx/nn/tensor_ref.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {
namespace detail {

struct recurrent_op {
    static constexpr bool keeps_batch = false;

    static void parse(const node_reader& r, nn_step& s) {
        recurrent_params p;
        const std::string& op = r.op();
        p.cell = op == "LSTM" ? rnn_cell::lstm : (op == "GRU" ? rnn_cell::gru : rnn_cell::rnn);
        r.need_inputs(3, p.cell == rnn_cell::lstm ? 8 : 6);
        s.kind = step_kind::extension;
        if (!r.has("hidden_size")) r.fail("hidden_size is required");
        p.hidden = r.attr_int("hidden_size", 0);
        if (p.hidden <= 0 || p.hidden > (std::int64_t(1) << 24)) r.fail("hidden_size " + std::to_string(p.hidden) + " is not a positive size");
        const std::string dir = r.attr_string("direction", "forward");
        if (dir == "bidirectional") p.directions = 2;
        else if (dir == "reverse") p.reverse = true;
        else if (dir != "forward") r.fail("unknown direction '" + dir + "' (forward, reverse or bidirectional)");
        const std::int64_t layout = r.attr_int("layout", 0);
        if (layout != 0 && layout != 1) r.fail("layout must be 0 or 1, got " + std::to_string(layout));
        if (layout == 1 && r.opset() < 14) r.fail("the layout attribute needs opset 14");
        p.layout = static_cast<int>(layout);
        p.clip = r.attr_float("clip", 0.f);
        if (r.has("clip") && !(p.clip > 0.f)) r.fail("clip must be positive");
        if (p.cell == rnn_cell::lstm && r.attr_int("input_forget", 0) != 0) r.fail("input_forget = 1 is not supported");
        if (p.cell == rnn_cell::gru) p.linear_before_reset = r.attr_int("linear_before_reset", 0) != 0;
        const std::size_t per = rnn_activation_count(p.cell);
        if (const auto* names = r.attr<std::vector<std::string>>("activations")) {
            if (names->size() != per * static_cast<std::size_t>(p.directions))
                r.fail(std::to_string(names->size()) + " activations; " + op + " with " + std::to_string(p.directions) +
                       " direction(s) takes " + std::to_string(per * static_cast<std::size_t>(p.directions)));
            const auto alphas = r.attr<std::vector<float>>("activation_alpha");
            const auto betas = r.attr<std::vector<float>>("activation_beta");
            std::size_t ai = 0, bi = 0;
            for (const auto& n : *names) {
                rnn_activation a;
                if (!rnn_activation::from_name(n, a)) r.fail("unknown activation '" + n + "'");
                if (a.uses_alpha() && alphas && ai < alphas->size()) a.alpha = (*alphas)[ai++];
                if (a.uses_beta() && betas && bi < betas->size()) a.beta = (*betas)[bi++];
                p.activations.push_back(a);
            }
        } else if (r.has("activation_alpha") || r.has("activation_beta")) {
            r.fail("activation_alpha / activation_beta without activations");
        }
        s.params = std::make_shared<const recurrent_params>(std::move(p));
    }

    static const recurrent_params& params_of(const nn_step& s) { return *static_cast<const recurrent_params*>(s.params.get()); }

    /// Y, Y_h (and Y_c) from the inputs' shapes; checks every input against X, W and hidden_size.
    static std::vector<shape_t> output_shapes(const nn_step& s, const std::vector<const shape_t*>& in, const std::string& source) {
        const recurrent_params& p = params_of(s);
        const auto need = [&](bool ok, const std::string& why) {
            if (!ok) fail_step(s, why, source);
        };
        const auto show = [](const shape_t& v) {
            std::string t = "[";
            for (std::size_t i = 0; i < v.size(); ++i) t += (i ? ", " : "") + std::to_string(v[i]);
            return t + "]";
        };
        need(in.size() >= 3 && in[0] && in[1] && in[2], "X, W and R are required");
        const shape_t& x = *in[0];
        need(x.size() == 3, "X must be [seq, batch, input] (layout 1: [batch, seq, input]), got " + show(x));
        const std::int64_t T = p.layout == 0 ? x[0] : x[1], B = p.layout == 0 ? x[1] : x[0], I = x[2];
        const std::int64_t D = p.directions, H = p.hidden, GH = p.gates() * H;
        need(I > 0, "X has no input features");
        const auto expect = [&](std::size_t i, const shape_t& want, const char* name) {
            if (i < in.size() && in[i]) need(*in[i] == want, std::string(name) + " has shape " + show(*in[i]) + ", expected " + show(want));
        };
        expect(1, {D, GH, I}, "W");
        expect(2, {D, GH, H}, "R");
        expect(3, {D, 2 * GH}, "B");
        expect(4, {B}, "sequence_lens");
        const shape_t state = p.layout == 0 ? shape_t{D, B, H} : shape_t{B, D, H};
        expect(5, state, "initial_h");
        if (p.cell == rnn_cell::lstm) {
            expect(6, state, "initial_c");
            expect(7, {D, 3 * H}, "P");
        }
        std::vector<shape_t> out;
        out.push_back(p.layout == 0 ? shape_t{T, D, B, H} : shape_t{B, T, D, H});
        out.push_back(state);
        if (p.cell == rnn_cell::lstm) out.push_back(state);
        return out;
    }

    static shape_t infer(nn_step& s, const std::vector<const shape_t*>& in, const std::string& source) {
        const auto shapes = output_shapes(s, in, source);
        const recurrent_params& p = params_of(s);
        const shape_t& x = *in[0];
        s.d0 = p.layout == 0 ? x[0] : x[1];  // seq
        s.d1 = p.layout == 0 ? x[1] : x[0];  // batch
        s.d2 = x[2];                         // input
        std::int64_t total = 0;
        for (const auto& o : shapes) total += element_count(o);
        return {total};
    }

    static std::size_t scratch_floats(const nn_step& s) { return recurrent_scratch_floats(params_of(s), {s.d0, s.d1, s.d2}); }

    template <class Policy>
    static void run(const Policy& policy, const op_args& a) {
        const recurrent_params& p = params_of(a.step);
        const recurrent_shape sh{a.step.d0, a.step.d1, a.step.d2};
        const auto input = [&](std::size_t i) { return i < a.step.in.size() ? a.inputs[i] : nullptr; };
        recurrent_inputs in;
        in.x = input(0), in.w = input(1), in.r = input(2), in.b = input(3), in.lens = input(4), in.h0 = input(5);
        if (p.cell == rnn_cell::lstm) in.c0 = input(6), in.peep = input(7);
        const std::int64_t D = p.directions, H = p.hidden;
        recurrent_outputs out;
        out.y = a.output;
        out.y_h = out.y + sh.seq * D * sh.batch * H;
        if (p.cell == rnn_cell::lstm) out.y_c = out.y_h + D * sh.batch * H;
        try {
            recurrent(policy, p, sh, in, out, a.scratch);
        } catch (const error& e) {
            fail_step(a.step, e.reason(), "");
        }
    }
};

}  // namespace detail
}  // namespace nn
FERX_NAMESPACE_END
