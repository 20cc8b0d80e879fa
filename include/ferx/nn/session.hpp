/// \file ferx/nn/session.hpp
/// `ferx::nn::session`: a compiled, runnable network. Construction validates a `nn::graph`
/// (known ops, present initializers and values, no cycle, weight ranks), sorts it, folds
/// BatchNormalization into the preceding Conv, fuses a following activation into Conv, and
/// infers shapes from the declared input shape. `run(policy, inputs)` then executes a batch:
///
///     ferx::nn::session s(g);                               // g: a ferx::nn::graph
///     auto out = s.run(ferx::exec::par, {{pixels, {n, 1, 64, 64}}});
///     // out[0]: tensor_ref {data, {n, 7}} into the session's arena, valid until the next run
///
/// Axis 0 of every graph input is the batch and is dynamic, whatever the graph declares; the
/// other declared extents are checked (-1 or 0 = any). Activations live in one arena planned by
/// liveness (values whose lifetimes do not overlap share memory); Reshape, Flatten, Identity and
/// Dropout alias their input. The arena is planned again only when the input shapes change, so
/// repeated runs of one batch size allocate nothing. Any value named in `session_options::keep`
/// (and every graph output) stays readable after a run through `value(name)`.
///
/// NaN inputs propagate through every op to the outputs (no check, no crash).
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/nn/activation.hpp>
#include <ferx/nn/conv.hpp>
#include <ferx/nn/elementwise.hpp>
#include <ferx/nn/gemm.hpp>
#include <ferx/nn/graph.hpp>
#include <ferx/nn/layout.hpp>
#include <ferx/nn/pool.hpp>
#include <ferx/nn/shape_ops.hpp>
#include <ferx/nn/softmax.hpp>
#include <ferx/nn/tensor_ref.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace nn {

/// Storage precision of a session's `exec::cuda` runs (see `session_options::precision`).
enum class precision {
    fp32,  ///< float32 everywhere (the default; every policy)
    fp16   ///< CUDA only: weights and activations stored in half on the device, computed in float
};

/// How a session compiles its graph.
struct session_options {
    /// Fold an inference BatchNormalization into the Conv that feeds it (when that Conv's output
    /// feeds nothing else and is not kept); otherwise it runs as a per-channel affine.
    bool fold_batch_norm = true;
    /// Fuse Relu, LeakyRelu, Sigmoid, Tanh and Clip into the Conv or affine that feeds them.
    bool fuse_activations = true;
    /// Intermediate values to keep readable after `run` through `value(name)` (e.g. the global
    /// average pool's output, for features). Kept values are never fused away or overwritten.
    std::vector<std::string> keep;
    /// Images per pass through the network on the CPU. A large batch is run as a sequence of
    /// micro-batches, each through every layer, so that a micro-batch's activations stay in the
    /// core's cache instead of every layer streaming the whole batch through memory; under
    /// `exec::par` each thread runs its own micro-batches. 0 (the default) chooses the size
    /// from the activations per image (about `micro_batch_bytes` per micro-batch), > 0 fixes
    /// it, < 0 runs the whole batch as one pass. Results are identical whatever the size.
    /// Micro-batching applies only to graphs whose every value keeps the batch on axis 0 and
    /// whose ops never mix images (checked when a batch size is first planned); others run
    /// whole. The CUDA path always runs whole batches.
    std::int64_t micro_batch = 0;
    /// Activation bytes a micro-batch aims at when `micro_batch` is 0 (about a core's L2).
    std::size_t micro_batch_bytes = std::size_t{1} << 20;
    /// `precision::fp16` (CUDA only): on `run(exec::cuda, ...)` the weights are converted to half
    /// once on upload, activations are stored in half in the device arena (half the memory),
    /// Conv / Gemm / MatMul run cuBLAS on half inputs with fp32 accumulation, and the other ops
    /// read and write half while computing in float. Inputs, outputs and kept values stay float32
    /// on the host. Results equal fp32's within about 1e-2 of the output range (docs/nn.md). A
    /// host run (`exec::seq`, `exec::par`) of an fp16 session throws ferx::error.
    nn::precision precision = nn::precision::fp32;
};

/// Memory a session holds, in bytes.
struct memory_report {
    std::size_t weights_bytes = 0;   ///< constant tensors after folding (host copy)
    std::size_t arena_bytes = 0;     ///< activations of the current plan (inputs included)
    std::size_t scratch_bytes = 0;   ///< im2col / transpose scratch of the last run
    std::int64_t batch = 0;          ///< batch size the arena is planned for (0: not yet)
    std::int64_t micro_batch = 0;    ///< images per pass (0: the whole batch in one pass)
    std::size_t results_bytes = 0;   ///< whole-batch copies of the readable values (micro-batching)
    std::size_t device_bytes = 0;    ///< weights, arena and scratch on the device after an exec::cuda run (0 before one)
};

/// The ops a session runs: ONNX default-domain names (see docs/nn.md for the attributes).
inline const std::set<std::string>& supported_ops() {
    static const std::set<std::string> ops = {
        "Conv", "BatchNormalization", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "MaxPool",
        "AveragePool", "GlobalAveragePool", "Add", "Sub", "Mul", "Div", "Concat", "Gemm", "MatMul",
        "Flatten", "Reshape", "Transpose", "Pad", "Softmax", "Dropout", "Identity", "Constant",
        // shape computations (ferx/nn/shape_ops.hpp), folded at compile or plan time
        "Shape", "Gather", "Unsqueeze", "Squeeze", "Cast", "Slice", "ConstantOfShape"};
    return ops;
}

namespace detail {

enum class step_kind {
    conv, affine, unary, max_pool, average_pool, global_average_pool, binary, concat, gemm, matmul,
    transpose, pad, softmax, alias
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

struct nn_value {
    std::string name;
    int weight = -1;   // index into the weights, or -1
    int input = -1;    // index of the graph input, or -1
    int storage = -1;  // arena storage (per plan)
    shape_t shape;
    bool batched = false;  // axis 0 is the inputs' batch axis (per plan)
};

inline std::int64_t norm_axis(std::int64_t axis, std::int64_t rank, const std::string& where, const std::string& what) {
    if (axis < -rank || axis >= rank + (what == "Flatten" ? 1 : 0))
        throw error("ferx::nn::session", where + ": axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
    return axis < 0 ? axis + rank : axis;
}

}  // namespace detail

/// A compiled network that runs batches on a host policy (and on `exec::cuda` in .cu files).
class session {
public:
    /// Validates and compiles `g`; throws ferx::error naming the node, op and `g.source` for an
    /// unsupported op, a missing initializer or value, a cycle, or inconsistent shapes.
    explicit session(const graph& g, session_options options = {}) : options_(std::move(options)) {
        source_ = g.source;
        compile(g);
    }

    /// Runs one batch. `inputs` follow the graph's input order; each is a contiguous row-major
    /// tensor whose axis 0 is the batch. Returns the graph outputs, in order, as views into the
    /// session (valid until the next run or the session's end). Throws ferx::error for a wrong
    /// number of inputs or a wrong shape.
    template <class Policy>
    std::vector<tensor_ref> run(const Policy& policy, const std::vector<tensor_ref>& inputs) {
        static_assert(is_host_policy_v<Policy>,
                      "ferx::nn::session::run: exec::seq or exec::par here; exec::cuda needs a .cu file");
        if (options_.precision != precision::fp32)
            throw error(where_, "session_options::precision is fp16, a CUDA-only option: run this session with exec::cuda (in a .cu "
                                "file), or make it with precision::fp32 for exec::seq / exec::par", source_);
        prepare(inputs, true);
        for (std::size_t i = 0; i < inputs.size(); ++i)
            if (!inputs[i].data && inputs[i].element_count() > 0)
                throw error(where_, "input '" + input_names_[i] + "' has no data");
        if (chunk_ > 0) {
            run_micro_batches(policy, inputs);
            return outputs();
        }
        for (std::size_t i = 0; i < inputs.size(); ++i)
            std::memcpy(host_ptr(input_ids_[i]), inputs[i].data, static_cast<std::size_t>(inputs[i].element_count()) * sizeof(float));
        std::size_t scratch = 0;
        for (const auto& s : steps_) scratch = std::max(scratch, scratch_floats(policy, s));
        if (scratch_.size() < scratch) scratch_.resize(scratch);
        if (ptrs_.empty()) ptrs_.resize(1);
        const host_context ctx{arena_.data(), scratch_.data(), &ptrs_[0]};
        for (auto& s : steps_) run_step(policy, s, ctx);
        return outputs();
    }

    /// The graph outputs of the last run (views, valid until the next run).
    std::vector<tensor_ref> outputs() const {
        std::vector<tensor_ref> out;
        for (int id : output_ids_) out.push_back(ref(id));
        return out;
    }

    /// A graph output, a kept intermediate value (`session_options::keep`), a graph input or an
    /// initializer the session still holds (not one folded or transposed into another weight),
    /// by name, after a run. Throws ferx::error for an unknown or not kept name.
    tensor_ref value(const std::string& name) const {
        const auto it = ids_.find(name);
        if (it == ids_.end()) {
            if (initializer_names_.count(name))
                throw error(where_, "initializer '" + name + "' is no longer held: it was folded or transposed into another weight (or is unused)", source_);
            if (all_names_.count(name))
                throw error(where_, "value '" + name + "' is not kept: name it in session_options::keep", source_);
            throw error(where_, "the graph has no value named '" + name + "'", source_);
        }
        const auto& v = values_[static_cast<std::size_t>(it->second)];
        if (v.weight < 0 && planned_.empty()) throw error(where_, "value '" + name + "' is not computed yet: call run first", source_);
        if (v.weight < 0 && !readable_.count(it->second))
            throw error(where_, "value '" + name + "' is not kept: name it in session_options::keep", source_);
        return ref(it->second);
    }

    /// Names of the graph inputs and outputs, in order.
    const std::vector<std::string>& input_names() const noexcept { return input_names_; }
    const std::vector<std::string>& output_names() const noexcept { return output_names_; }

    /// Shape of a value for the current plan (after a run), or as inferred for batch 1 at
    /// construction where the inputs' other extents are declared.
    const shape_t& shape_of(const std::string& name) const {
        const auto it = ids_.find(name);
        if (it == ids_.end()) throw error(where_, "no value named '" + name + "' in the compiled graph", source_);
        return shp_full(it->second);
    }

    /// Weights, arena and scratch held now.
    memory_report memory() const {
        memory_report r;
        for (const auto& w : weights_) r.weights_bytes += w.data.size() * sizeof(float);
        r.arena_bytes = std::max(arena_floats_, arena_.size()) * sizeof(float);
        r.scratch_bytes = scratch_.size() * sizeof(float);
        r.batch = planned_.empty() ? 0 : planned_[0].empty() ? 0 : planned_[0][0];
        r.micro_batch = chunk_;
        for (const auto& [id, buf] : results_) r.results_bytes += buf.size() * sizeof(float);
        r.device_bytes = device_bytes_;
        return r;
    }

    /// Floating-point operations of one run of the current plan, counting 2 per multiply-add of
    /// the Conv (im2col, pointwise and depthwise alike), Gemm and MatMul steps; elementwise ops,
    /// pools and softmax are not counted. After a run it is the planned batch's count; before
    /// one, batch 1's where the inputs' other extents are declared (0 where they are not).
    /// Divide by a run's time for the achieved FLOP/s.
    std::int64_t flops() const {
        std::int64_t macs = 0;
        for (const auto& s : steps_) {
            if (s.kind == detail::step_kind::conv) macs += s.conv.n * s.conv.m * s.conv.oh * s.conv.ow * s.conv.k();
            else if (s.kind == detail::step_kind::gemm) macs += s.d0 * s.d1 * s.d2;
            else if (s.kind == detail::step_kind::matmul) macs += s.batches * s.d0 * s.d1 * s.d2;
        }
        // Micro-batched: the steps are planned for chunk_ images; the count is per image times the batch.
        return chunk_ > 0 ? 2 * macs / chunk_ * planned_batch_ : 2 * macs;
    }

    /// Number of steps that run (after folding and fusion), and of each op kind, for tests/logs.
    std::size_t step_count() const noexcept { return steps_.size(); }
    std::size_t count_op(const std::string& op) const {
        return static_cast<std::size_t>(std::count_if(steps_.begin(), steps_.end(), [&](const auto& s) { return s.op == op; }));
    }

#if defined(__CUDACC__)
    /// Runs one batch on the device (defined in ferx/cuda/dispatch/nn_session.cuh): host inputs
    /// are copied in, weights are uploaded on the first call, the outputs and kept values are
    /// copied back to the host, where the returned views and `value` read them.
    std::vector<tensor_ref> run(const exec::cuda_policy& policy, const std::vector<tensor_ref>& inputs);
#endif

private:
    static constexpr const char* where_ = "ferx::nn::session";

    // ----- compile -------------------------------------------------------------------------
    [[noreturn]] void fail_node(const node& n, const std::string& why) const {
        throw error(where_, "node '" + n.name + "' (" + n.op_type + "): " + why, source_);
    }
    [[noreturn]] void fail_step(const detail::nn_step& s, const std::string& why) const {
        throw error(where_, "node '" + s.node + "' (" + s.op + "): " + why, source_);
    }

    template <class T>
    const T* attr(const node& n, const char* name) const {
        const auto it = n.attributes.find(name);
        if (it == n.attributes.end()) return nullptr;
        const T* v = std::get_if<T>(&it->second);
        if (!v) fail_node(n, std::string("attribute '") + name + "' has the wrong type");
        return v;
    }
    std::int64_t attr_int(const node& n, const char* name, std::int64_t def) const {
        const auto* v = attr<std::int64_t>(n, name);
        return v ? *v : def;
    }
    float attr_float(const node& n, const char* name, float def) const {
        const auto it = n.attributes.find(name);
        if (it == n.attributes.end()) return def;
        if (const auto* i = std::get_if<std::int64_t>(&it->second)) return static_cast<float>(*i);
        const auto* f = std::get_if<float>(&it->second);
        if (!f) fail_node(n, std::string("attribute '") + name + "' has the wrong type");
        return *f;
    }
    std::vector<std::int64_t> attr_ints(const node& n, const char* name) const {
        const auto* v = attr<std::vector<std::int64_t>>(n, name);
        return v ? *v : std::vector<std::int64_t>{};
    }
    std::string attr_string(const node& n, const char* name, const std::string& def) const {
        const auto* v = attr<std::string>(n, name);
        return v ? *v : def;
    }

    // Constant input of a node (an initializer), or nullptr when absent / omitted.
    const dense_tensor* constant_input(const node& n, std::size_t i) const {
        if (i >= n.inputs.size() || n.inputs[i].empty()) return nullptr;
        const auto it = weight_ids_.find(n.inputs[i]);
        if (it == weight_ids_.end())
            fail_node(n, "input " + std::to_string(i) + " ('" + n.inputs[i] + "') must be a constant (an initializer)");
        return &weights_[static_cast<std::size_t>(it->second)];
    }
    std::vector<std::int64_t> constant_ints(const node& n, std::size_t i) const {
        const dense_tensor* t = constant_input(n, i);
        std::vector<std::int64_t> out;
        if (!t) return out;
        for (float f : t->data) out.push_back(static_cast<std::int64_t>(std::llround(f)));
        return out;
    }
    int add_weight(const std::string& name, dense_tensor t) {
        if (static_cast<std::int64_t>(t.data.size()) != t.element_count())
            throw error(where_, "initializer '" + name + "' has " + std::to_string(t.data.size()) + " values for shape " +
                                    shape_string(t.shape), source_);
        weights_.push_back(std::move(t));
        weight_ids_[name] = static_cast<int>(weights_.size()) - 1;
        return static_cast<int>(weights_.size()) - 1;
    }

    window_params parse_window(const node& n, std::int64_t kh, std::int64_t kw) const {
        window_params w;
        auto ks = attr_ints(n, "kernel_shape");
        if (!ks.empty()) {
            if (ks.size() != 2) fail_node(n, "only 2-D windows are supported (kernel_shape has " + std::to_string(ks.size()) + " axes)");
            kh = ks[0], kw = ks[1];
        }
        w.kernel_h = kh, w.kernel_w = kw;
        auto st = attr_ints(n, "strides");
        if (!st.empty()) {
            if (st.size() != 2) fail_node(n, "strides must have 2 values");
            w.stride_h = st[0], w.stride_w = st[1];
        }
        auto di = attr_ints(n, "dilations");
        if (!di.empty()) {
            if (di.size() != 2) fail_node(n, "dilations must have 2 values");
            w.dilation_h = di[0], w.dilation_w = di[1];
        }
        auto pa = attr_ints(n, "pads");
        if (!pa.empty()) {
            if (pa.size() != 4) fail_node(n, "pads must have 4 values (top, left, bottom, right)");
            w.pad_top = pa[0], w.pad_left = pa[1], w.pad_bottom = pa[2], w.pad_right = pa[3];
        }
        const std::string ap = attr_string(n, "auto_pad", "NOTSET");
        if (ap == "SAME_UPPER") w.padding = auto_pad::same_upper;
        else if (ap == "SAME_LOWER") w.padding = auto_pad::same_lower;
        else if (ap == "VALID") w.padding = auto_pad::valid;
        else if (ap != "NOTSET" && !ap.empty()) fail_node(n, "unknown auto_pad '" + ap + "'");
        w.ceil_mode = attr_int(n, "ceil_mode", 0) != 0;
        return w;
    }

    void compile(const graph& g) {
        opset_ = g.opset_version;
        // Values known before any node: initializers and graph inputs.
        for (const auto& [name, t] : g.initializers) {
            add_weight(name, t);
            initializer_names_.insert(name);
        }
        std::set<std::string> defined;
        for (const auto& [name, t] : g.initializers) defined.insert(name);
        for (const auto& in : g.inputs) {
            if (weight_ids_.count(in.name)) continue;  // an initializer listed as input (old IR)
            if (defined.count(in.name)) throw error(where_, "graph input '" + in.name + "' is declared twice", source_);
            defined.insert(in.name);
            input_names_.push_back(in.name);
            input_decl_.push_back(in.shape);
        }
        if (input_names_.empty()) throw error(where_, "the graph has no runtime input", source_);
        // The batch the graph was exported (traced) for: a Reshape that hard-codes it keeps the
        // batch axis at other batch sizes (see infer_step).
        traced_batch_ = !input_decl_[0].empty() && input_decl_[0][0] > 0 ? input_decl_[0][0] : 1;
        if (g.outputs.empty()) throw error(where_, "the graph has no output", source_);
        // Unknown ops first (reported even in a graph that also has other faults), then Constant
        // nodes become initializers.
        std::vector<const node*> nodes;
        for (const auto& n : g.nodes) {
            if (!supported_ops().count(n.op_type))
                throw error(where_, "unsupported op '" + n.op_type + "' in node '" + n.name + "'", source_);
            if (n.outputs.empty() || n.outputs[0].empty()) fail_node(n, "has no output");
            for (std::size_t o = 0; o < n.outputs.size(); ++o) {
                if (n.outputs[o].empty()) continue;
                if (defined.count(n.outputs[o])) fail_node(n, "output '" + n.outputs[o] + "' is already defined elsewhere");
                defined.insert(n.outputs[o]);
                if (o > 0 && n.op_type != "Dropout" && n.op_type != "BatchNormalization")
                    fail_node(n, "has more outputs than ferx supports");
            }
            if (n.op_type == "Constant") {
                add_weight(n.outputs[0], constant_value(n));
                continue;
            }
            nodes.push_back(&n);
        }
        for (const auto* n : nodes)
            for (std::size_t i = 0; i < n->inputs.size(); ++i)
                if (!n->inputs[i].empty() && !defined.count(n->inputs[i]))
                    fail_node(*n, "input " + std::to_string(i) + " '" + n->inputs[i] +
                                      "' is neither an initializer, a graph input nor a node output (missing initializer?)");
        for (const auto& o : g.outputs)
            if (!defined.count(o.name)) throw error(where_, "graph output '" + o.name + "' is never produced", source_);
        for (const auto& k : options_.keep)
            if (!defined.count(k)) throw error(where_, "kept value '" + k + "' is not in the graph", source_);
        all_names_ = defined;
        // Only the first output of a node may be consumed (Dropout's mask, BN's training outputs).
        std::set<std::string> secondary;
        for (const auto* n : nodes)
            for (std::size_t o = 1; o < n->outputs.size(); ++o) secondary.insert(n->outputs[o]);
        for (const auto* n : nodes)
            for (const auto& in : n->inputs)
                if (secondary.count(in)) fail_node(*n, "uses '" + in + "', an output ferx does not compute");
        for (const auto& o : g.outputs)
            if (secondary.count(o.name)) throw error(where_, "graph output '" + o.name + "' is an output ferx does not compute", source_);

        const std::vector<const node*> order = topological_order(nodes);
        for (const auto* n : order) steps_.push_back(parse(*n));
        for (const auto& o : g.outputs) output_names_.push_back(o.name);
        prune();
        fold_shape_steps();
        if (options_.fold_batch_norm) fold_batch_norms();
        lower_batch_norms();
        if (options_.fuse_activations) fuse_activations();
        steps_.erase(std::remove_if(steps_.begin(), steps_.end(), [](const auto& s) { return s.dead; }), steps_.end());
        // Shape computations that depend on runtime shapes leave the executed steps: planning
        // evaluates them (in this topological order) when a Reshape needs their value.
        for (auto& st : steps_)
            if (st.host_fold) {
                planned_producer_[st.out_name] = shape_steps_.size();
                shape_steps_.push_back(std::move(st));
            }
        steps_.erase(std::remove_if(steps_.begin(), steps_.end(), [](const auto& s) { return s.host_fold; }), steps_.end());
        pretranspose_gemm_weights();
        assign_values();
        // Shapes for batch 1 now, where the inputs' other extents are declared: wrong weight
        // shapes then fail at construction.
        // A dynamic batch is taken as 1; a graph whose shapes only work for other batch sizes
        // (a Reshape to a fixed batch) then reports its error at run time instead.
        bool known = true, guessed = false;
        std::vector<shape_t> shapes;
        for (auto s : input_decl_) {
            if (s.empty()) known = false;
            for (std::size_t i = 1; i < s.size(); ++i) known = known && s[i] > 0;
            if (!s.empty() && s[0] <= 0) s[0] = 1, guessed = true;
            shapes.push_back(s);
        }
        if (!known) return;
        try {
            infer(shapes);
        } catch (const error&) {
            if (!guessed) throw;
        }
    }

    dense_tensor constant_value(const node& n) const {
        if (const auto* t = attr<dense_tensor>(n, "value")) return *t;
        if (n.attributes.count("value_float")) return {{}, {attr_float(n, "value_float", 0.f)}};
        if (const auto* f = attr<std::vector<float>>(n, "value_floats"))
            return {{static_cast<std::int64_t>(f->size())}, *f};
        if (n.attributes.count("value_int")) return {{}, {static_cast<float>(attr_int(n, "value_int", 0))}};
        if (const auto* v = attr<std::vector<std::int64_t>>(n, "value_ints")) {
            dense_tensor t{{static_cast<std::int64_t>(v->size())}, {}};
            for (auto i : *v) t.data.push_back(static_cast<float>(i));
            return t;
        }
        fail_node(n, "has no value attribute ferx can read (value, value_float(s), value_int(s))");
    }

    std::vector<const node*> topological_order(const std::vector<const node*>& nodes) const {
        std::map<std::string, std::size_t> producer;
        for (std::size_t i = 0; i < nodes.size(); ++i)
            for (const auto& o : nodes[i]->outputs)
                if (!o.empty()) producer[o] = i;
        std::vector<std::vector<std::size_t>> users(nodes.size());
        std::vector<std::size_t> pending(nodes.size(), 0);
        for (std::size_t i = 0; i < nodes.size(); ++i)
            for (const auto& in : nodes[i]->inputs) {
                const auto it = producer.find(in);
                if (it == producer.end()) continue;
                users[it->second].push_back(i);
                ++pending[i];
            }
        std::vector<std::size_t> ready, order;
        for (std::size_t i = nodes.size(); i-- > 0;)
            if (pending[i] == 0) ready.push_back(i);
        while (!ready.empty()) {
            // Lowest index first: a graph already in order keeps its order.
            const auto lowest = std::min_element(ready.begin(), ready.end());
            const std::size_t i = *lowest;
            ready.erase(lowest);
            order.push_back(i);
            for (std::size_t u : users[i])
                if (--pending[u] == 0) ready.push_back(u);
        }
        if (order.size() != nodes.size()) {
            for (std::size_t i = 0; i < nodes.size(); ++i)
                if (pending[i] > 0) fail_node(*nodes[i], "is part of a cycle (the graph is not a DAG)");
        }
        std::vector<const node*> out;
        for (std::size_t i : order) out.push_back(nodes[i]);
        return out;
    }

    detail::nn_step parse(const node& n) {
        detail::nn_step s;
        s.node = n.name, s.op = n.op_type;
        s.in_names = n.inputs;
        s.out_name = n.outputs[0];
        const std::string& op = n.op_type;
        auto need_inputs = [&](std::size_t lo, std::size_t hi) {
            std::size_t given = n.inputs.size();
            while (given > 0 && n.inputs[given - 1].empty()) --given;
            if (given < lo || given > hi)
                fail_node(n, "takes " + std::to_string(lo) + (hi > lo ? ".." + std::to_string(hi) : "") + " inputs, got " +
                                 std::to_string(given));
            for (std::size_t i = 0; i < lo; ++i)
                if (n.inputs[i].empty()) fail_node(n, "input " + std::to_string(i) + " is required");
        };
        if (op == "Conv") {
            need_inputs(2, 3);
            const dense_tensor* w = constant_input(n, 1);
            if (w->shape.size() != 4)
                fail_node(n, "weights of rank " + std::to_string(w->shape.size()) + ": only 2-D convolutions (OIHW weights) are supported");
            s.kind = detail::step_kind::conv;
            s.win = parse_window(n, w->shape[2], w->shape[3]);
            if (s.win.kernel_h != w->shape[2] || s.win.kernel_w != w->shape[3]) fail_node(n, "kernel_shape differs from the weights");
            s.group = attr_int(n, "group", 1);
            if (const dense_tensor* b = constant_input(n, 2))
                if (b->element_count() != w->shape[0]) fail_node(n, "bias has " + std::to_string(b->element_count()) + " values for " + std::to_string(w->shape[0]) + " output channels");
        } else if (op == "BatchNormalization") {
            need_inputs(5, 5);
            if (attr_int(n, "training_mode", 0) != 0) fail_node(n, "training_mode is not supported (inference only)");
            s.kind = detail::step_kind::affine;  // lowered or folded below
            s.alpha = attr_float(n, "epsilon", 1e-5f);
            for (std::size_t i = 1; i < 5; ++i) constant_input(n, i);
        } else if (op == "Relu" || op == "LeakyRelu" || op == "Sigmoid" || op == "Tanh" || op == "Clip") {
            need_inputs(1, op == "Clip" ? 3 : 1);
            s.kind = detail::step_kind::unary;
            if (op == "Relu") s.act.kind = unary_kind::relu;
            if (op == "LeakyRelu") s.act = {unary_kind::leaky_relu, attr_float(n, "alpha", 0.01f), 0.f};
            if (op == "Sigmoid") s.act.kind = unary_kind::sigmoid;
            if (op == "Tanh") s.act.kind = unary_kind::tanh;
            if (op == "Clip") {
                s.act = {unary_kind::clip, attr_float(n, "min", -std::numeric_limits<float>::max()),
                         attr_float(n, "max", std::numeric_limits<float>::max())};
                for (std::size_t i = 1; i < 3; ++i)
                    if (const dense_tensor* b = constant_input(n, i)) {
                        if (b->element_count() != 1) fail_node(n, "min and max must be scalars");
                        (i == 1 ? s.act.alpha : s.act.beta) = b->data[0];
                    }
            }
        } else if (op == "MaxPool" || op == "AveragePool") {
            need_inputs(1, 1);
            if (n.outputs.size() > 1 && !n.outputs[1].empty()) fail_node(n, "the Indices output is not supported");
            if (!n.attributes.count("kernel_shape")) fail_node(n, "kernel_shape is required");
            s.kind = op == "MaxPool" ? detail::step_kind::max_pool : detail::step_kind::average_pool;
            s.win = parse_window(n, 1, 1);
            if (attr_int(n, "storage_order", 0) != 0) fail_node(n, "storage_order 1 is not supported");
            s.count_include_pad = attr_int(n, "count_include_pad", 0) != 0;
        } else if (op == "GlobalAveragePool") {
            need_inputs(1, 1);
            s.kind = detail::step_kind::global_average_pool;
        } else if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
            need_inputs(2, 2);
            s.kind = detail::step_kind::binary;
            s.bin = op == "Add" ? binary_kind::add : op == "Sub" ? binary_kind::sub : op == "Mul" ? binary_kind::mul : binary_kind::div;
            s.fold.op = detail::shape_op::binary;
            s.fold.arithmetic = op == "Add" ? '+' : op == "Sub" ? '-' : op == "Mul" ? '*' : '/';
        } else if (op == "Concat") {
            need_inputs(1, 1u << 20);
            if (!n.attributes.count("axis")) fail_node(n, "axis is required");
            for (const auto& in : n.inputs)
                if (in.empty()) fail_node(n, "has an empty input name");
            s.kind = detail::step_kind::concat;
            s.axis = attr_int(n, "axis", 0);
            s.fold.op = detail::shape_op::concat;
            s.fold.axis = s.axis;
        } else if (op == "Gemm") {
            need_inputs(2, 3);
            s.kind = detail::step_kind::gemm;
            s.alpha = attr_float(n, "alpha", 1.f), s.beta = attr_float(n, "beta", 1.f);
            s.trans_a = attr_int(n, "transA", 0) != 0, s.trans_b = attr_int(n, "transB", 0) != 0;
        } else if (op == "MatMul") {
            need_inputs(2, 2);
            s.kind = detail::step_kind::matmul;
        } else if (op == "Flatten") {
            need_inputs(1, 1);
            s.kind = detail::step_kind::alias;
            s.axis = attr_int(n, "axis", 1);
        } else if (op == "Reshape") {
            need_inputs(2, 2);
            s.kind = detail::step_kind::alias;
            s.fold.op = detail::shape_op::reshape;
            if (weight_ids_.count(n.inputs[1])) s.ints = constant_ints(n, 1);
            else s.shape_input = n.inputs[1];  // computed by shape ops: resolved when folding
            if (attr_int(n, "allowzero", 0) != 0) fail_node(n, "allowzero = 1 is not supported");
            if (std::count(s.ints.begin(), s.ints.end(), -1) > 1) fail_node(n, "the shape has more than one -1");
        } else if (op == "Identity" || op == "Dropout") {
            need_inputs(1, 3);
            s.kind = detail::step_kind::alias;
            s.fold.op = detail::shape_op::identity;
        } else if (op == "Shape" || op == "Gather" || op == "Unsqueeze" || op == "Squeeze" || op == "Cast" ||
                   op == "Slice" || op == "ConstantOfShape") {
            parse_shape_op(n, s, need_inputs);
        } else if (op == "Transpose") {
            need_inputs(1, 1);
            s.kind = detail::step_kind::transpose;
            s.ints = attr_ints(n, "perm");
        } else if (op == "Pad") {
            need_inputs(1, 3);
            s.kind = detail::step_kind::pad;
            const std::string mode = attr_string(n, "mode", "constant");
            if (mode == "constant") s.pmode = pad_mode::constant;
            else if (mode == "reflect") s.pmode = pad_mode::reflect;
            else if (mode == "edge") s.pmode = pad_mode::edge;
            else fail_node(n, "unsupported mode '" + mode + "'");
            if (n.attributes.count("pads")) {  // opset < 11
                s.ints = attr_ints(n, "pads");
                s.pvalue = attr_float(n, "value", 0.f);
            } else {
                if (n.inputs.size() < 2 || n.inputs[1].empty()) fail_node(n, "has no pads (attribute or input)");
                s.ints = constant_ints(n, 1);
                if (const dense_tensor* v = constant_input(n, 2)) {
                    if (v->element_count() != 1) fail_node(n, "constant_value must be a scalar");
                    s.pvalue = v->data[0];
                }
            }
            if (n.inputs.size() > 3) fail_node(n, "the axes input is not supported");
            s.in_names.resize(1);
        } else if (op == "Softmax") {
            need_inputs(1, 1);
            s.kind = detail::step_kind::softmax;
            s.axis = attr_int(n, "axis", opset_ >= 13 ? -1 : 1);
        }
        if (op == "Reshape" || op == "Clip") s.in_names.resize(1);
        if (op == "Dropout" || op == "Identity" || op == "Flatten") s.in_names.resize(1);
        if (op == "BatchNormalization") s.in_names.resize(5);
        return s;
    }

    // Shape computations: their attributes; where they run is decided by fold_shape_steps.
    template <class NeedInputs>
    void parse_shape_op(const node& n, detail::nn_step& s, const NeedInputs& need_inputs) const {
        const std::string& op = n.op_type;
        s.host_fold = true;
        auto& f = s.fold;
        if (op == "Shape") {
            need_inputs(1, 1);
            f.op = detail::shape_op::shape;
            f.start = attr_int(n, "start", 0);
            f.end = attr_int(n, "end", std::numeric_limits<std::int64_t>::max());
        } else if (op == "Gather") {
            need_inputs(2, 2);
            f.op = detail::shape_op::gather;
            f.axis = attr_int(n, "axis", 0);
        } else if (op == "Unsqueeze" || op == "Squeeze") {
            f.op = op == "Unsqueeze" ? detail::shape_op::unsqueeze : detail::shape_op::squeeze;
            f.axes_attribute = opset_ < 13;
            if (opset_ < 13) {
                need_inputs(1, 1);
                if (op == "Unsqueeze" && !n.attributes.count("axes")) fail_node(n, "axes is required");
                f.axes = attr_ints(n, "axes");
                f.axes_attribute = n.attributes.count("axes") != 0;  // Squeeze without axes: every extent 1
            } else {
                need_inputs(op == "Unsqueeze" ? 2 : 1, 2);
            }
        } else if (op == "Cast") {
            need_inputs(1, 1);
            if (!n.attributes.count("to")) fail_node(n, "attribute 'to' is required");
            f.op = detail::shape_op::cast;
            f.to = attr_int(n, "to", 1);
        } else if (op == "Slice") {
            f.op = detail::shape_op::slice;
            if (opset_ < 10) {
                need_inputs(1, 1);
                if (!n.attributes.count("starts") || !n.attributes.count("ends")) fail_node(n, "starts and ends are required");
                f.axes_attribute = true;
                f.starts = attr_ints(n, "starts"), f.ends = attr_ints(n, "ends"), f.axes = attr_ints(n, "axes");
            } else {
                need_inputs(3, 5);
            }
        } else {  // ConstantOfShape
            need_inputs(1, 1);
            f.op = detail::shape_op::constant_of_shape;
            if (const auto* v = attr<dense_tensor>(n, "value")) {
                if (v->data.size() != 1) fail_node(n, "value must hold one element");
                f.value = v->data[0];
            }
        }
    }

    // Where each shape computation runs (ferx/nn/shape_ops.hpp). A step whose inputs are all
    // constants is evaluated now and becomes a weight. A Shape of a runtime tensor, and whatever
    // is computed from it, is evaluated at every plan (it may hold the batch extent) and may feed
    // only other shape computations and Reshape's shape input. Unsqueeze, Squeeze, Identity and
    // Cast to float of a runtime tensor are no-copy aliases; Reshape, Concat and Add/Sub/Mul/Div
    // of runtime tensors run as usual. Anything else is refused with the node's name.
    void fold_shape_steps() {
        std::map<std::string, std::size_t> planned;  // value -> index in steps_
        for (std::size_t i = 0; i < steps_.size(); ++i) {
            auto& s = steps_[i];
            if (s.dead) continue;
            const bool foldable = s.host_fold || s.fold.op != detail::shape_op::identity || s.op == "Identity" || s.op == "Dropout";
            bool runtime = false, from_shapes = false;
            const std::size_t data_inputs = s.op == "Dropout" || s.op == "Identity" ? 1 : s.in_names.size();
            for (std::size_t k = 0; k < s.in_names.size(); ++k) {
                const std::string& in = s.in_names[k];
                if (in.empty() || weight_ids_.count(in)) continue;
                if (planned.count(in)) from_shapes = true;
                else if (k < data_inputs) runtime = true;
            }
            if (!foldable) {
                for (const auto& in : s.in_names)
                    if (planned.count(in))
                        fail_step(s, "reads '" + in + "', a value computed from tensor shapes, which only shape computations "
                                     "(Shape, Gather, Concat, ...) and Reshape's shape input may use");
                continue;
            }
            if (s.op == "Reshape" && !s.shape_input.empty()) {
                if (weight_ids_.count(s.shape_input)) {
                    const auto& w = weight(s.shape_input);
                    s.ints.clear();
                    for (float v : w.data) s.ints.push_back(static_cast<std::int64_t>(std::llround(v)));
                    s.shape_input.clear();
                } else if (!planned.count(s.shape_input)) {
                    fail_step(s, "the shape input '" + s.shape_input + "' is a runtime tensor; it must be a constant or "
                                 "computed from tensor shapes (Shape, Gather, Concat, ...)");
                } else if (!runtime) {
                    from_shapes = true;
                }
            }
            if (s.op == "Shape" && runtime) from_shapes = true, runtime = false;
            if (runtime && from_shapes)
                fail_step(s, "mixes a runtime tensor with a value computed from tensor shapes");
            if (!runtime) {
                s.host_fold = true;
                if (from_shapes) planned[s.out_name] = i;
                else fold_now(s);
                continue;
            }
            // A runtime tensor: Reshape, Concat, the binary ops, Identity and Dropout run as usual.
            s.host_fold = false;
            if (s.fold.op == detail::shape_op::unsqueeze || s.fold.op == detail::shape_op::squeeze) {
                if (!s.fold.axes_attribute && s.in_names.size() > 1 && !s.in_names[1].empty()) {
                    if (!weight_ids_.count(s.in_names[1])) fail_step(s, "the axes input must be a constant");
                    for (float v : weight(s.in_names[1]).data) s.fold.axes.push_back(static_cast<std::int64_t>(std::llround(v)));
                    s.fold.axes_attribute = true;
                }
                s.kind = detail::step_kind::alias;
                s.in_names.resize(1);
            } else if (s.fold.op == detail::shape_op::cast) {
                if (s.fold.to != 1)
                    fail_step(s, "casts a runtime tensor to data type " + std::to_string(s.fold.to) +
                                     "; ferx networks compute in float32 (only Cast to FLOAT is an identity)");
                s.kind = detail::step_kind::alias;
            } else if (s.fold.op == detail::shape_op::gather || s.fold.op == detail::shape_op::slice || s.fold.op == detail::shape_op::constant_of_shape) {
                fail_step(s, "runs on a runtime tensor ('" + s.in_names[0] + "'); ferx evaluates " + s.op +
                                 " only on constants and on values computed from tensor shapes");
            }
        }
        for (const auto& o : output_names_)
            if (planned.count(o)) throw error(where_, "graph output '" + o + "' is computed from tensor shapes only; ferx outputs float tensors the network computes", source_);
        for (const auto& k : options_.keep)
            if (planned.count(k)) throw error(where_, "kept value '" + k + "' is computed from tensor shapes only and cannot be kept", source_);
    }

    // Evaluates an all-constant shape computation now: its output becomes a weight.
    void fold_now(detail::nn_step& s) {
        std::vector<detail::folded_tensor> held;
        held.reserve(s.in_names.size() + 1);
        std::vector<const detail::folded_tensor*> in;
        auto add = [&](const std::string& name) {
            if (name.empty()) return in.push_back(nullptr);
            const dense_tensor& w = weight(name);
            held.push_back(detail::fold_constant(w.shape, w.data));
            in.push_back(&held.back());
        };
        for (const auto& name : s.in_names) add(name);
        const detail::folded_tensor out = evaluate_fold(s, in);
        dense_tensor t{out.shape, {}};
        for (double v : out.data) {
            if (out.integer && std::fabs(v) > 16777216.0)
                fail_step(s, "folds to the integer " + std::to_string(v) + ", which float32 cannot hold exactly");
            t.data.push_back(static_cast<float>(v));
        }
        add_weight(s.out_name, std::move(t));
        s.dead = true;
    }

    // One shape computation on host values; in[k] is the step's input k (nullptr: omitted). For
    // Shape only in[0]->shape is read; a Reshape's target is `ints` or in[1].
    detail::folded_tensor evaluate_fold(const detail::nn_step& s, const std::vector<const detail::folded_tensor*>& in) const {
        const detail::fold_context ctx{where_, "node '" + s.node + "' (" + s.op + ")", source_};
        const auto& f = s.fold;
        auto ints_of = [&](std::size_t k, const char* what) {
            return k < in.size() && in[k] ? detail::folded_ints(*in[k], what, ctx) : std::vector<std::int64_t>{};
        };
        auto given = [&](std::size_t k) { return k < in.size() && in[k] != nullptr; };
        switch (f.op) {
        case detail::shape_op::shape: return detail::fold_shape(in[0]->shape, f.start, f.end);
        case detail::shape_op::gather: return detail::fold_gather(*in[0], *in[1], f.axis, ctx);
        case detail::shape_op::unsqueeze: {
            detail::folded_tensor out = *in[0];
            out.shape = detail::unsqueeze_shape(out.shape, f.axes_attribute ? f.axes : ints_of(1, "axes"), ctx);
            return out;
        }
        case detail::shape_op::squeeze: {
            detail::folded_tensor out = *in[0];
            const bool listed = f.axes_attribute || given(1);
            out.shape = detail::squeeze_shape(out.shape, f.axes_attribute ? f.axes : ints_of(1, "axes"), !listed, ctx);
            return out;
        }
        case detail::shape_op::concat: return detail::fold_concat(in, f.axis, ctx);
        case detail::shape_op::cast: return detail::fold_cast(*in[0], f.to, ctx);
        case detail::shape_op::slice:
            if (f.axes_attribute) return detail::fold_slice(*in[0], f.starts, f.ends, f.axes, {}, ctx);
            return detail::fold_slice(*in[0], ints_of(1, "starts"), ints_of(2, "ends"), ints_of(3, "axes"), ints_of(4, "steps"), ctx);
        case detail::shape_op::constant_of_shape: return detail::fold_constant_of_shape(*in[0], f.value, false, ctx);
        case detail::shape_op::reshape: {
            detail::folded_tensor out = *in[0];
            out.shape = detail::reshape_shape(out.shape, given(1) ? ints_of(1, "the shape") : s.ints, ctx);
            return out;
        }
        case detail::shape_op::identity: return *in[0];
        case detail::shape_op::binary: return detail::fold_binary(*in[0], *in[1], f.arithmetic, ctx);
        }
        return *in[0];
    }

    // Removes steps whose results reach no output and no kept value.
    void prune() {
        std::set<std::string> needed(output_names_.begin(), output_names_.end());
        needed.insert(options_.keep.begin(), options_.keep.end());
        for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) {
            if (!needed.count(it->out_name)) {
                it->dead = true;
                continue;
            }
            for (const auto& in : it->in_names)
                if (!in.empty()) needed.insert(in);
            if (!it->shape_input.empty()) needed.insert(it->shape_input);
        }
    }

    std::map<std::string, int> consumers() const {
        std::map<std::string, int> c;
        for (const auto& s : steps_)
            if (!s.dead)
                for (const auto& in : s.in_names) ++c[in];
        for (const auto& o : output_names_) c[o] += 1000;
        for (const auto& k : options_.keep) c[k] += 1000;
        return c;
    }
    detail::nn_step* producer(const std::string& name) {
        for (auto& s : steps_)
            if (!s.dead && s.out_name == name) return &s;
        return nullptr;
    }
    const dense_tensor& weight(const std::string& name) const {
        return weights_[static_cast<std::size_t>(weight_ids_.at(name))];
    }
    // BN scale s = gamma / sqrt(var + eps) and shift = beta - mean * s, in double.
    void bn_coefficients(const detail::nn_step& bn, std::int64_t channels, std::vector<double>& scale,
                         std::vector<double>& shift) const {
        const dense_tensor &g = weight(bn.in_names[1]), &b = weight(bn.in_names[2]), &m = weight(bn.in_names[3]),
                           &v = weight(bn.in_names[4]);
        for (const dense_tensor* t : {&g, &b, &m, &v})
            if (t->element_count() != channels)
                fail_step(bn, "parameters have " + std::to_string(t->element_count()) + " values for " + std::to_string(channels) + " channels");
        scale.resize(static_cast<std::size_t>(channels));
        shift.resize(static_cast<std::size_t>(channels));
        for (std::size_t c = 0; c < scale.size(); ++c) {
            scale[c] = double(g.data[c]) / std::sqrt(double(v.data[c]) + double(bn.alpha));
            shift[c] = double(b.data[c]) - double(m.data[c]) * scale[c];
        }
    }

    void fold_batch_norms() {
        for (auto& bn : steps_) {
            if (bn.dead || bn.op != "BatchNormalization") continue;
            detail::nn_step* conv = producer(bn.in_names[0]);
            if (!conv || conv->kind != detail::step_kind::conv || consumers()[bn.in_names[0]] != 1) continue;
            const dense_tensor& w = weight(conv->in_names[1]);
            const std::int64_t m = w.shape[0], per = w.element_count() / std::max<std::int64_t>(1, m);
            std::vector<double> scale, shift;
            bn_coefficients(bn, m, scale, shift);
            dense_tensor fw = w, fb{{m}, std::vector<float>(static_cast<std::size_t>(m), 0.f)};
            const bool has_bias = conv->in_names.size() > 2 && !conv->in_names[2].empty();
            for (std::int64_t o = 0; o < m; ++o) {
                for (std::int64_t i = 0; i < per; ++i)
                    fw.data[static_cast<std::size_t>(o * per + i)] = static_cast<float>(double(w.data[static_cast<std::size_t>(o * per + i)]) * scale[static_cast<std::size_t>(o)]);
                const double b0 = has_bias ? double(weight(conv->in_names[2]).data[static_cast<std::size_t>(o)]) : 0.0;
                fb.data[static_cast<std::size_t>(o)] = static_cast<float>(b0 * scale[static_cast<std::size_t>(o)] + shift[static_cast<std::size_t>(o)]);
            }
            const std::string base = "ferx_folded/" + bn.node;
            add_weight(base + "/W", std::move(fw));
            add_weight(base + "/B", std::move(fb));
            conv->in_names.resize(3);
            conv->in_names[1] = base + "/W";
            conv->in_names[2] = base + "/B";
            conv->out_name = bn.out_name;
            conv->node += "+" + bn.node;
            bn.dead = true;
        }
    }

    // Unfolded BatchNormalization: a per-channel affine with precomputed scale and shift.
    void lower_batch_norms() {
        for (auto& bn : steps_) {
            if (bn.dead || bn.op != "BatchNormalization") continue;
            const std::int64_t c = weight(bn.in_names[1]).element_count();
            std::vector<double> scale, shift;
            bn_coefficients(bn, c, scale, shift);
            dense_tensor ts{{c}, {}}, tb{{c}, {}};
            for (std::size_t i = 0; i < scale.size(); ++i) {
                ts.data.push_back(static_cast<float>(scale[i]));
                tb.data.push_back(static_cast<float>(shift[i]));
            }
            const std::string base = "ferx_affine/" + bn.node;
            add_weight(base + "/scale", std::move(ts));
            add_weight(base + "/shift", std::move(tb));
            bn.in_names = {bn.in_names[0], base + "/scale", base + "/shift"};
        }
    }

    void fuse_activations() {
        for (auto& a : steps_) {
            if (a.dead || a.kind != detail::step_kind::unary) continue;
            detail::nn_step* p = producer(a.in_names[0]);
            if (!p || (p->kind != detail::step_kind::conv && p->kind != detail::step_kind::affine) ||
                p->act.kind != unary_kind::identity || consumers()[a.in_names[0]] != 1)
                continue;
            p->act = a.act;
            p->out_name = a.out_name;
            p->node += "+" + a.node;
            a.dead = true;
        }
    }

    // Gemm with transA / transB on a constant operand: transpose the constant once here instead
    // of on every run.
    void pretranspose_gemm_weights() {
        for (auto& st : steps_) {
            if (st.kind != detail::step_kind::gemm) continue;
            for (std::size_t i = 0; i < 2; ++i) {
                bool& trans = i == 0 ? st.trans_a : st.trans_b;
                const auto it = weight_ids_.find(st.in_names[i]);
                if (!trans || it == weight_ids_.end()) continue;
                const dense_tensor& w = weights_[static_cast<std::size_t>(it->second)];
                if (w.shape.size() != 2) fail_step(st, std::string(i == 0 ? "A" : "B") + " has shape " + shape_string(w.shape) + ", expected rank 2");
                const std::int64_t r = w.shape[0], c = w.shape[1];
                dense_tensor t{{c, r}, std::vector<float>(w.data.size())};
                for (std::int64_t y = 0; y < r; ++y)
                    for (std::int64_t x = 0; x < c; ++x) t.data[static_cast<std::size_t>(x * r + y)] = w.data[static_cast<std::size_t>(y * c + x)];
                const std::string name = "ferx_transposed/" + st.node + "/" + (i == 0 ? "A" : "B");
                add_weight(name, std::move(t));
                st.in_names[i] = name;
                trans = false;
            }
        }
    }

    // Value ids for every name the steps, inputs and outputs use.
    void assign_values() {
        auto id_of = [&](const std::string& name) -> int {
            const auto it = ids_.find(name);
            if (it != ids_.end()) return it->second;
            detail::nn_value v;
            v.name = name;
            const auto w = weight_ids_.find(name);
            if (w != weight_ids_.end()) v.weight = w->second;
            values_.push_back(v);
            ids_[name] = static_cast<int>(values_.size()) - 1;
            return static_cast<int>(values_.size()) - 1;
        };
        for (std::size_t i = 0; i < input_names_.size(); ++i) {
            input_ids_.push_back(id_of(input_names_[i]));
            values_.back().input = static_cast<int>(i);
        }
        for (auto& s : steps_) {
            s.in.clear();
            for (const auto& in : s.in_names) s.in.push_back(in.empty() ? -1 : id_of(in));
            s.out = id_of(s.out_name);
        }
        for (const auto& o : output_names_) output_ids_.push_back(id_of(o));
        for (const auto& k : options_.keep) id_of(k);
        for (const auto& st : shape_steps_)  // constants they read, runtime tensors whose shape they take
            for (const auto& in : st.in_names)
                if (!in.empty() && !planned_producer_.count(in)) id_of(in);
        // Keep only the weights that some step reads (folding replaced the originals).
        std::vector<dense_tensor> used;
        std::map<std::string, int> used_ids;
        for (auto& v : values_)
            if (v.weight >= 0) {
                used.push_back(std::move(weights_[static_cast<std::size_t>(v.weight)]));
                used_ids[v.name] = v.weight = static_cast<int>(used.size()) - 1;
            }
        weights_ = std::move(used);
        weight_ids_ = std::move(used_ids);
        for (int id : output_ids_) readable_.insert(id);
        for (const auto& k : options_.keep) readable_.insert(ids_[k]);
        for (int id : input_ids_) readable_.insert(id);
    }

    // ----- planning ------------------------------------------------------------------------
    // Validates the inputs and plans the arena for their shapes (again only when they change).
    // `micro` (host runs): run a large batch as micro-batches where the graph allows it.
    void prepare(const std::vector<tensor_ref>& inputs, bool micro = false) {
        if (inputs.size() != input_ids_.size())
            throw error(where_, "the graph takes " + std::to_string(input_ids_.size()) + " inputs, " +
                                    std::to_string(inputs.size()) + " were given", source_);
        bool same = planned_.size() == inputs.size();
        for (std::size_t i = 0; i < inputs.size(); ++i) {
            const shape_t& decl = input_decl_[i];
            const shape_t& got = inputs[i].shape;
            bool ok = decl.empty() || got.size() == decl.size();
            for (std::size_t a = 1; ok && a < decl.size(); ++a) ok = decl[a] <= 0 || decl[a] == got[a];
            for (auto d : got) ok = ok && d >= 0;
            if (!ok || got.empty())
                throw error(where_, "input '" + input_names_[i] + "' has shape " + shape_string(got) + ", the graph expects " +
                                        shape_string(decl) + " (axis 0, the batch, may be any size)", source_);
            same = same && planned_[i] == got;
        }
        if (same && (micro || chunk_ == 0)) return;
        std::vector<shape_t> shapes;
        for (const auto& in : inputs) shapes.push_back(in.shape);
        planned_.clear();  // a failed inference leaves no plan behind
        chunk_ = 0;
        results_.clear();
        full_shapes_.clear();
        infer(shapes);
        const std::int64_t c = micro ? choose_micro_batch(shapes) : 0;
        if (c > 0) {
            chunk_ = c;
            for (auto& sh : shapes) sh[0] = c;
            infer(shapes);
            for (auto& sh : shapes) sh[0] = planned_batch_;
        }
        plan_arena();
        if (chunk_ > 0)
            for (int id : readable_)
                if (values_[static_cast<std::size_t>(id)].weight < 0)
                    results_[id].resize(static_cast<std::size_t>(element_count(full_shapes_[static_cast<std::size_t>(id)])));
        planned_ = shapes;
    }

    // Whether the current plan (batch b) keeps images apart: every computed value that is not
    // an alias of a constant keeps the batch on axis 0 (`nn_value::batched`, which already
    // refuses a Transpose moving axis 0, Concat on it, Gemm with transA and Flatten at 0), and
    // Softmax does not normalise across it.
    bool batch_separable(std::int64_t b) const {
        std::vector<bool> constant(values_.size());
        for (std::size_t i = 0; i < values_.size(); ++i) constant[i] = values_[i].weight >= 0;
        for (const auto& s : steps_) {
            const auto out = static_cast<std::size_t>(s.out);
            constant[out] = s.kind == detail::step_kind::alias && s.in[0] >= 0 && constant[static_cast<std::size_t>(s.in[0])];
            if (!constant[out] && !values_[out].batched) return false;
            if (s.kind == detail::step_kind::softmax && (s.d0 < b || s.d0 % b != 0)) return false;
        }
        return true;
    }

    // Images per micro-batch for these input shapes (the current inference), or 0 to run the
    // batch whole. Leaves the inference at batch 1 when it returns > 0, else at `shapes`.
    std::int64_t choose_micro_batch(const std::vector<shape_t>& shapes) {
        const std::int64_t n = shapes.empty() || shapes[0].empty() ? 0 : shapes[0][0];
        if (options_.micro_batch < 0 || n < 2 || !batch_separable(n)) return 0;
        for (const auto& sh : shapes)
            if (sh.empty() || sh[0] != n) return 0;
        std::vector<shape_t> full(values_.size());
        for (std::size_t i = 0; i < values_.size(); ++i) full[i] = values_[i].shape;
        std::vector<shape_t> one = shapes;
        for (auto& sh : one) sh[0] = 1;
        bool ok = true;
        try {
            infer(one);
        } catch (const error&) {
            ok = false;
        }
        // The other extents must not depend on the batch.
        auto same_extents = [&](int id) {
            const auto& v = values_[static_cast<std::size_t>(id)];
            const auto& f = full[static_cast<std::size_t>(id)];
            return v.weight >= 0 || (!f.empty() && v.shape.size() == f.size() && std::equal(f.begin() + 1, f.end(), v.shape.begin() + 1));
        };
        for (const auto& s : steps_) ok = ok && same_extents(s.out);
        std::int64_t c = 0;
        if (ok && batch_separable(1)) {
            const std::size_t per_image = std::max<std::size_t>(1, plan_arena(false) * sizeof(float));
            // Automatic: only where the whole batch's activations would leave the caches, and the
            // per-pass copies (inputs in, readable values out) are small beside them.
            std::size_t copied = 0;
            for (int id : readable_)
                if (values_[static_cast<std::size_t>(id)].weight < 0)
                    copied += static_cast<std::size_t>(element_count(shp(id))) * sizeof(float);
            const bool worth = per_image * static_cast<std::size_t>(n) > 4 * options_.micro_batch_bytes && 2 * copied <= per_image;
            if (options_.micro_batch == 0 && !worth) {
                infer(shapes);
                return 0;
            }
            c = options_.micro_batch > 0 ? options_.micro_batch
                                         : static_cast<std::int64_t>(std::max<std::size_t>(1, options_.micro_batch_bytes / per_image));
            // Automatic: as few passes as that allows, evened out (the last pass is zero-filled
            // past the batch's end, so 8 images at most 7 per pass run as 4 + 4, not 7 + 7).
            if (options_.micro_batch == 0 && c < n) {
                const std::int64_t passes = (n + c - 1) / c;
                c = (n + passes - 1) / passes;
            }
        }
        if (c <= 0 || c >= n) {
            infer(shapes);
            return 0;
        }
        full_shapes_ = std::move(full);
        planned_batch_ = n;
        return c;
    }

    // Runs the planned batch as micro-batches of chunk_ images: each thread of `policy` takes
    // the next micro-batch, copies its images into its own arena (zero-filled past the batch's
    // end), runs every step with exec::seq and copies the readable values out.
    template <class Policy>
    void run_micro_batches(const Policy& policy, const std::vector<tensor_ref>& inputs) {
        const std::int64_t n = planned_batch_, c = chunk_;
        const std::int64_t passes = (n + c - 1) / c;
        const std::size_t threads = std::min<std::size_t>(ferx::detail::concurrency(policy), static_cast<std::size_t>(passes));
        std::size_t scratch = 0;
        for (const auto& s : steps_) scratch = std::max(scratch, scratch_floats(exec::seq, s));
        if (arena_.size() < threads * arena_floats_) arena_.resize(threads * arena_floats_);
        if (scratch_.size() < threads * scratch) scratch_.resize(threads * scratch);
        if (ptrs_.size() < threads) ptrs_.resize(threads);
        for (std::size_t i = 0; i < inputs.size(); ++i) {
            auto& r = results_[input_ids_[i]];
            std::memcpy(r.data(), inputs[i].data, r.size() * sizeof(float));
        }
        std::atomic<std::int64_t> next{0};
        auto worker = [&](std::size_t t) {
            const host_context ctx{arena_.data() + t * arena_floats_, scratch_.data() + t * scratch, &ptrs_[t]};
            for (std::int64_t pass = next++; pass < passes; pass = next++) {
                const std::int64_t b0 = pass * c, nb = std::min(c, n - b0);
                for (std::size_t i = 0; i < inputs.size(); ++i) {
                    const int id = input_ids_[i];
                    const std::size_t per = static_cast<std::size_t>(element_count(shp(id)) / c);
                    float* dst = host_ptr(id, ctx);
                    std::memcpy(dst, inputs[i].data + static_cast<std::size_t>(b0) * per, static_cast<std::size_t>(nb) * per * sizeof(float));
                    std::fill(dst + static_cast<std::size_t>(nb) * per, dst + static_cast<std::size_t>(c) * per, 0.f);
                }
                for (auto& s : steps_) run_step(exec::seq, s, ctx);
                for (auto& [id, buf] : results_) {
                    if (values_[static_cast<std::size_t>(id)].input >= 0) continue;
                    const std::size_t per = buf.size() / static_cast<std::size_t>(n);
                    std::memcpy(buf.data() + static_cast<std::size_t>(b0) * per, host_cptr(id, ctx),
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

    const shape_t& shp(int id) const { return values_[static_cast<std::size_t>(id)].shape; }

    // Shapes and geometry of every step for these input shapes.
    void infer(const std::vector<shape_t>& input_shapes) {
        for (std::size_t i = 0; i < input_ids_.size(); ++i) values_[static_cast<std::size_t>(input_ids_[i])].shape = input_shapes[i];
        for (auto& v : values_) {
            if (v.weight >= 0) v.shape = weights_[static_cast<std::size_t>(v.weight)].shape;
            v.batched = v.input >= 0;
        }
        planned_values_.clear();
        planned_cursor_ = 0;
        for (auto& s : steps_) {
            auto& out = values_[static_cast<std::size_t>(s.out)];
            out.shape = infer_step(s);
            out.batched = batched_output(s, out.shape);
        }
    }

    // Whether a step's output keeps the batch on axis 0: an input's axis 0 is the batch and the
    // output's axis 0 has its extent, and the op does not move or merge axis 0.
    bool batched_output(const detail::nn_step& s, const shape_t& out) const {
        if (out.empty()) return false;
        if (s.kind == detail::step_kind::transpose && (s.ints.empty() ? out.size() > 1 : s.ints[0] != 0)) return false;
        if (s.kind == detail::step_kind::concat && (s.axis == 0 || s.axis == -static_cast<std::int64_t>(out.size()))) return false;
        if (s.kind == detail::step_kind::gemm && s.trans_a) return false;
        if (s.op == "Flatten" && s.axis == 0) return false;
        for (int id : s.in)
            if (id >= 0 && values_[static_cast<std::size_t>(id)].batched && !shp(id).empty() && shp(id)[0] == out[0]) return true;
        return false;
    }

    // The value of a shape computation for the current plan: evaluates the shape steps in order
    // up to the one producing `name` (their runtime inputs precede the asking step, so their
    // shapes are inferred already).
    const detail::folded_tensor& planned_value(const std::string& name) {
        const std::size_t last = planned_producer_.at(name);
        for (; planned_cursor_ <= last; ++planned_cursor_) {
            const detail::nn_step& s = shape_steps_[planned_cursor_];
            std::vector<std::string> names = s.in_names;
            if (!s.shape_input.empty()) names.push_back(s.shape_input);
            std::vector<detail::folded_tensor> held;
            held.reserve(names.size());
            std::vector<const detail::folded_tensor*> in;
            for (const auto& v : names) {
                if (v.empty()) {
                    in.push_back(nullptr);
                } else if (planned_producer_.count(v)) {
                    in.push_back(&planned_values_.at(v));
                } else {
                    const auto& val = values_[static_cast<std::size_t>(ids_.at(v))];
                    if (val.weight >= 0) held.push_back(detail::fold_constant(val.shape, weights_[static_cast<std::size_t>(val.weight)].data));
                    else held.push_back({val.shape, {}, false});  // a runtime tensor: only Shape reads it
                    in.push_back(&held.back());
                }
            }
            planned_values_[s.out_name] = evaluate_fold(s, in);
        }
        return planned_values_.at(name);
    }

    shape_t infer_step(detail::nn_step& s) {
        const shape_t& x = shp(s.in[0]);
        auto need_rank = [&](const shape_t& t, std::size_t r, const char* what) {
            if (t.size() != r)
                fail_step(s, std::string(what) + " has shape " + shape_string(t) + ", expected rank " + std::to_string(r));
        };
        const std::string where = std::string(where_) + ": node '" + s.node + "' (" + s.op + ")";
        switch (s.kind) {
        case detail::step_kind::conv: {
            need_rank(x, 4, "the input");
            const shape_t& w = shp(s.in[1]);
            s.conv = make_conv_geometry(x[0], x[1], x[2], x[3], w[0], w[1], s.win, s.group, where);
            return {x[0], w[0], s.conv.oh, s.conv.ow};
        }
        case detail::step_kind::affine: {
            if (x.size() < 2) fail_step(s, "the input needs a channel axis, got " + shape_string(x));
            if (x[1] != shp(s.in[1])[0]) fail_step(s, "the input has " + std::to_string(x[1]) + " channels, the parameters " + std::to_string(shp(s.in[1])[0]));
            s.d0 = x[0], s.d1 = x[1], s.d2 = element_count(x) / std::max<std::int64_t>(1, x[0] * x[1]);
            return x;
        }
        case detail::step_kind::unary: s.d0 = element_count(x); return x;
        case detail::step_kind::max_pool:
        case detail::step_kind::average_pool: {
            need_rank(x, 4, "the input");
            s.pool = make_pool_geometry(x[0], x[1], x[2], x[3], s.win, s.count_include_pad, where);
            return {x[0], x[1], s.pool.oh, s.pool.ow};
        }
        case detail::step_kind::global_average_pool: {
            if (x.size() < 3) fail_step(s, "the input needs spatial axes, got " + shape_string(x));
            shape_t out = x;
            for (std::size_t i = 2; i < out.size(); ++i) out[i] = 1;
            s.d0 = x[0] * x[1], s.d1 = element_count(x) / std::max<std::int64_t>(1, s.d0);
            return out;
        }
        case detail::step_kind::binary: {
            shape_t out;
            s.bc = make_broadcast_geometry(x, shp(s.in[1]), out, where);
            return out;
        }
        case detail::step_kind::concat: {
            const std::int64_t r = static_cast<std::int64_t>(x.size());
            const std::int64_t axis = detail::norm_axis(s.axis, r, "node '" + s.node + "'", s.op);
            shape_t out = x;
            out[static_cast<std::size_t>(axis)] = 0;
            s.widths.clear();
            s.d0 = 1;
            for (std::int64_t a = 0; a < axis; ++a) s.d0 *= x[static_cast<std::size_t>(a)];
            for (int id : s.in) {
                const shape_t& t = shp(id);
                if (t.size() != x.size()) fail_step(s, "inputs differ in rank");
                for (std::size_t a = 0; a < t.size(); ++a)
                    if (static_cast<std::int64_t>(a) != axis && t[a] != x[a])
                        fail_step(s, "shapes " + shape_string(x) + " and " + shape_string(t) + " differ off the axis");
                out[static_cast<std::size_t>(axis)] += t[static_cast<std::size_t>(axis)];
                s.widths.push_back(s.d0 ? element_count(t) / s.d0 : 0);
            }
            return out;
        }
        case detail::step_kind::gemm: {
            const shape_t& b = shp(s.in[1]);
            need_rank(x, 2, "A");
            need_rank(b, 2, "B");
            const std::int64_t m = s.trans_a ? x[1] : x[0], k = s.trans_a ? x[0] : x[1];
            const std::int64_t kb = s.trans_b ? b[1] : b[0], n = s.trans_b ? b[0] : b[1];
            if (k != kb) fail_step(s, "A " + shape_string(x) + " and B " + shape_string(b) + " do not chain");
            s.d0 = m, s.d1 = n, s.d2 = k;
            if (s.in.size() > 2 && s.in[2] >= 0) {
                shape_t out;
                s.bc = make_broadcast_geometry(shp(s.in[2]), {m, n}, out, where);
                if (out != shape_t{m, n}) fail_step(s, "C " + shape_string(shp(s.in[2])) + " does not broadcast to " + shape_string({m, n}));
            }
            return {m, n};
        }
        case detail::step_kind::matmul: {
            const shape_t& b = shp(s.in[1]);
            if (x.size() < 2 || b.size() < 2) fail_step(s, "1-D operands are not supported (got " + shape_string(x) + " and " + shape_string(b) + ")");
            const std::int64_t m = x[x.size() - 2], k = x.back(), n = b.back();
            if (b[b.size() - 2] != k) fail_step(s, "A " + shape_string(x) + " and B " + shape_string(b) + " do not chain");
            shape_t batch_out;
            s.batch_bc = make_broadcast_geometry(shape_t(x.begin(), x.end() - 2), shape_t(b.begin(), b.end() - 2), batch_out, where);
            s.d0 = m, s.d1 = n, s.d2 = k, s.batches = element_count(batch_out);
            batch_out.push_back(m);
            batch_out.push_back(n);
            return batch_out;
        }
        case detail::step_kind::transpose: {
            shape_t out;
            s.tr = make_transpose_geometry(x, s.ints, out, where);
            return out;
        }
        case detail::step_kind::pad: {
            shape_t out;
            s.pd = make_pad_geometry(x, s.ints, s.pmode, s.pvalue, out, where);
            return out;
        }
        case detail::step_kind::softmax: {
            const std::int64_t r = static_cast<std::int64_t>(x.size());
            const std::int64_t axis = detail::norm_axis(s.axis, r, "node '" + s.node + "'", s.op);
            s.d0 = 1, s.d1 = 1, s.d2 = 1;
            for (std::int64_t a = 0; a < r; ++a) {
                const std::int64_t d = x[static_cast<std::size_t>(a)];
                if (a < axis) s.d0 *= d;
                else if (a == axis || opset_ < 13) s.d1 *= d;
                else s.d2 *= d;
            }
            return x;
        }
        case detail::step_kind::alias: {
            if (s.op == "Flatten") {
                const std::int64_t r = static_cast<std::int64_t>(x.size());
                const std::int64_t axis = detail::norm_axis(s.axis, r, "node '" + s.node + "'", s.op);
                std::int64_t outer = 1;
                for (std::int64_t a = 0; a < axis; ++a) outer *= x[static_cast<std::size_t>(a)];
                return {outer, outer ? element_count(x) / outer : 0};
            }
            const detail::fold_context ctx{where_, "node '" + s.node + "' (" + s.op + ")", source_};
            if (s.op == "Reshape") {
                std::vector<std::int64_t> target =
                    s.shape_input.empty() ? s.ints : detail::folded_ints(planned_value(s.shape_input), "the shape", ctx);
                // A target whose axis 0 is the batch the graph was traced for, applied to a tensor
                // whose axis 0 is the batch, keeps the batch: an export for batch 1 writes
                // [1, -1] where it means [N, -1].
                if (values_[static_cast<std::size_t>(s.in[0])].batched && !x.empty() && !target.empty() &&
                    target[0] == traced_batch_ && x[0] != traced_batch_)
                    target[0] = x[0];
                return detail::reshape_shape(x, target, ctx);
            }
            if (s.op == "Unsqueeze") return detail::unsqueeze_shape(x, s.fold.axes, ctx);
            if (s.op == "Squeeze") return detail::squeeze_shape(x, s.fold.axes, !s.fold.axes_attribute, ctx);
            return x;
        }
        }
        return x;
    }

    // Arena offsets by liveness: each value that a step writes (or a graph input) owns a
    // storage that aliases (Reshape, Flatten, Identity, Dropout) share; storages whose
    // [first write, last read] intervals are disjoint may share memory (first fit).
    // Returns the arena's floats; `allocate` false only measures (offsets are still set).
    std::size_t plan_arena(bool allocate = true) {
        struct storage {
            std::size_t floats = 0;
            std::int64_t first = 0, last = 0;
            std::size_t offset = 0;
        };
        std::vector<storage> st;
        for (auto& v : values_) v.storage = -1;
        const std::int64_t forever = std::numeric_limits<std::int64_t>::max();
        auto new_storage = [&](int id, std::int64_t at) {
            storage s;
            s.floats = static_cast<std::size_t>((element_count(shp(id)) + 15) / 16 * 16);
            s.first = s.last = at;
            st.push_back(s);
            values_[static_cast<std::size_t>(id)].storage = static_cast<int>(st.size()) - 1;
        };
        for (int id : input_ids_) new_storage(id, -1);
        for (std::size_t i = 0; i < steps_.size(); ++i) {
            const auto& s = steps_[i];
            const std::int64_t at = static_cast<std::int64_t>(i);
            for (int id : s.in)
                if (id >= 0 && values_[static_cast<std::size_t>(id)].storage >= 0)
                    st[static_cast<std::size_t>(values_[static_cast<std::size_t>(id)].storage)].last = at;
            auto& out = values_[static_cast<std::size_t>(s.out)];
            if (s.kind == detail::step_kind::alias) {
                const auto& src = values_[static_cast<std::size_t>(s.in[0])];
                if (src.weight >= 0) out.weight = src.weight;  // a constant stays a constant
                else out.storage = src.storage;
            } else {
                new_storage(s.out, at);
            }
        }
        for (int id : readable_) {
            const int sid = values_[static_cast<std::size_t>(id)].storage;
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
        offsets_.resize(st.size());
        for (std::size_t i = 0; i < st.size(); ++i) offsets_[i] = st[i].offset;
        if (!allocate) return total;
        arena_floats_ = total;
        if (arena_.size() < total) arena_.resize(total);
        return total;
    }

    // ----- execution -----------------------------------------------------------------------
    // Where one pass runs: its arena, its scratch, and its pointer list (Concat).
    struct host_context {
        float* arena;
        float* scratch;
        std::vector<const float*>* ptrs;
    };
    const float* host_cptr(int id, const host_context& ctx) const {
        if (id < 0) return nullptr;
        const auto& v = values_[static_cast<std::size_t>(id)];
        if (v.weight >= 0) return weights_[static_cast<std::size_t>(v.weight)].data.data();
        return ctx.arena + offsets_[static_cast<std::size_t>(v.storage)];
    }
    float* host_ptr(int id, const host_context& ctx) const {
        return ctx.arena + offsets_[static_cast<std::size_t>(values_[static_cast<std::size_t>(id)].storage)];
    }
    const float* host_cptr(int id) const {
        if (id < 0) return nullptr;
        const auto& v = values_[static_cast<std::size_t>(id)];
        if (v.weight >= 0) return weights_[static_cast<std::size_t>(v.weight)].data.data();
        return arena_.data() + offsets_[static_cast<std::size_t>(v.storage)];
    }
    float* host_ptr(int id) { return arena_.data() + offsets_[static_cast<std::size_t>(values_[static_cast<std::size_t>(id)].storage)]; }
    // A value's shape for the whole planned batch.
    const shape_t& shp_full(int id) const {
        return chunk_ > 0 && values_[static_cast<std::size_t>(id)].weight < 0 ? full_shapes_[static_cast<std::size_t>(id)] : shp(id);
    }
    tensor_ref ref(int id) const {
        if (chunk_ > 0) {
            const auto it = results_.find(id);
            if (it != results_.end()) return {it->second.data(), shp_full(id)};
        }
        return {host_cptr(id), shp(id)};
    }

    template <class Policy>
    std::size_t scratch_floats(const Policy& policy, const detail::nn_step& s) const {
        if (s.kind == detail::step_kind::conv) return conv2d_scratch_floats(policy, s.conv);
        if (s.kind == detail::step_kind::gemm)
            return static_cast<std::size_t>((s.trans_a ? s.d0 * s.d2 : 0) + (s.trans_b ? s.d2 * s.d1 : 0));
        return 0;
    }

    template <class Policy>
    void run_step(const Policy& policy, const detail::nn_step& s, const host_context& ctx) const {
        auto host_cptr = [&](int id) { return this->host_cptr(id, ctx); };
        auto host_ptr = [&](int id) { return this->host_ptr(id, ctx); };
        const float* x = host_cptr(s.in[0]);
        switch (s.kind) {
        case detail::step_kind::alias: return;
        case detail::step_kind::conv:
            return conv2d(policy, s.conv, x, host_cptr(s.in[1]), s.in.size() > 2 ? host_cptr(s.in[2]) : nullptr,
                          host_ptr(s.out), ctx.scratch, s.act);
        case detail::step_kind::affine:
            return channel_affine(policy, s.d0, s.d1, s.d2, host_cptr(s.in[1]), host_cptr(s.in[2]), x, host_ptr(s.out), s.act);
        case detail::step_kind::unary: return unary(policy, s.act, x, host_ptr(s.out), s.d0);
        case detail::step_kind::max_pool: return max_pool(policy, s.pool, x, host_ptr(s.out));
        case detail::step_kind::average_pool: return average_pool(policy, s.pool, x, host_ptr(s.out));
        case detail::step_kind::global_average_pool: return global_average_pool(policy, s.d0, s.d1, x, host_ptr(s.out));
        case detail::step_kind::binary: return binary(policy, s.bin, s.bc, x, host_cptr(s.in[1]), host_ptr(s.out));
        case detail::step_kind::concat: {
            auto& ptrs = *ctx.ptrs;
            ptrs.resize(s.in.size());  // grows once per pass slot, then reuses its capacity
            for (std::size_t i = 0; i < s.in.size(); ++i) ptrs[i] = host_cptr(s.in[i]);
            return concat(policy, s.d0, ptrs, s.widths, host_ptr(s.out));
        }
        case detail::step_kind::transpose: return transpose(policy, s.tr, x, host_ptr(s.out));
        case detail::step_kind::pad: return pad(policy, s.pd, x, host_ptr(s.out));
        case detail::step_kind::softmax: return softmax(policy, s.d0, s.d1, s.d2, x, host_ptr(s.out));
        case detail::step_kind::gemm: return run_gemm(policy, s, ctx);
        case detail::step_kind::matmul: {
            const std::int64_t m = s.d0, n = s.d1, k = s.d2;
            const float* bp = host_cptr(s.in[1]);
            float* y = host_ptr(s.out);
            for (std::int64_t i = 0; i < s.batches; ++i) {
                std::int64_t ao, bo;
                detail::broadcast_offsets(s.batch_bc, s.batch_bc.rank, i, ao, bo);
                gemm(policy, m, n, k, x + ao * m * k, k, bp + bo * k * n, n, y + i * m * n, n);
            }
            return;
        }
        }
    }

    template <class Policy>
    void run_gemm(const Policy& policy, const detail::nn_step& s, const host_context& ctx) const {
        const std::int64_t m = s.d0, n = s.d1, k = s.d2;
        const float* a = host_cptr(s.in[0], ctx);
        const float* b = host_cptr(s.in[1], ctx);
        float* tmp = ctx.scratch;
        if (s.trans_a) {  // A is k x m: transpose into scratch
            for (std::int64_t i = 0; i < m; ++i)
                for (std::int64_t p = 0; p < k; ++p) tmp[i * k + p] = a[p * m + i];
            a = tmp;
            tmp += m * k;
        }
        if (s.trans_b) {  // B is n x k
            for (std::int64_t p = 0; p < k; ++p)
                for (std::int64_t j = 0; j < n; ++j) tmp[p * n + j] = b[j * k + p];
            b = tmp;
        }
        float* y = host_ptr(s.out, ctx);
        gemm(policy, m, n, k, a, k, b, n, y, n);
        const float* c = s.in.size() > 2 ? host_cptr(s.in[2], ctx) : nullptr;
        ferx::detail::for_each_range(policy, m, 16, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
            for (std::ptrdiff_t i = lo; i < hi; ++i)
                for (std::int64_t j = 0; j < n; ++j) {
                    float v = s.alpha * y[i * n + j];
                    if (c) v += s.beta * c[i * s.bc.a_stride[0] + j * s.bc.a_stride[1]];
                    y[i * n + j] = v;
                }
        });
    }

    session_options options_;
    std::string source_;
    std::int64_t opset_ = 13;
    std::vector<dense_tensor> weights_;
    std::map<std::string, int> weight_ids_;
    std::vector<detail::nn_step> steps_;
    // shape computations evaluated at plan time (ferx/nn/shape_ops.hpp)
    std::vector<detail::nn_step> shape_steps_;
    std::map<std::string, std::size_t> planned_producer_;
    std::map<std::string, detail::folded_tensor> planned_values_;
    std::size_t planned_cursor_ = 0;
    std::int64_t traced_batch_ = 1;
    std::vector<detail::nn_value> values_;
    std::map<std::string, int> ids_;
    std::set<std::string> all_names_, initializer_names_;
    std::set<int> readable_;
    std::vector<std::string> input_names_, output_names_;
    std::vector<shape_t> input_decl_;
    std::vector<int> input_ids_, output_ids_;
    std::vector<shape_t> planned_;
    std::vector<std::size_t> offsets_;
    std::size_t arena_floats_ = 0;
    std::vector<float> arena_, scratch_;
    std::vector<std::vector<const float*>> ptrs_;  // Concat's input list, per pass slot
    // Micro-batching (chunk_ > 0): images per pass, the whole batch, whole-batch shapes of every
    // value, and whole-batch copies of the readable values.
    std::int64_t chunk_ = 0, planned_batch_ = 0;
    std::vector<shape_t> full_shapes_;
    std::map<int, std::vector<float>> results_;
#if defined(__CUDACC__)
    friend struct cuda_session_access;
#endif
    std::shared_ptr<void> device_;  // the CUDA state (ferx/cuda/dispatch/nn_session.cuh)
    std::size_t device_bytes_ = 0;  // its size, for memory()
};

}  // namespace nn
FERX_NAMESPACE_END

#if defined(__CUDACC__)
#include <ferx/cuda/dispatch/nn_session.cuh>
#endif
