#!/usr/bin/env python3
"""Builds one-op ONNX graphs with onnx.helper (random weights, odd sizes) and ONNX Runtime's outputs.

For every case NAME it writes, into --out: NAME.onnx, NAME.txt (one line per tensor:
"in|out <name> <dims...>", graph inputs in their order, then the outputs ONNX Runtime gave) and
NAME.<tensor>.f32 (little-endian float32, row-major). tests/onnx/test_op_parity.cpp runs each
graph through ferx's importer and session (seq and par) and compares. --list prints the names.
Each case has its own seed, so a case's data does not depend on which others are built.
"""
import argparse
import os
import sys
import zlib

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def floats(rng, shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def model(nodes, inputs, outputs, inits, opset):
    graph = helper.make_graph(
        nodes, "op_case",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(a.shape)) for n, a in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs],
        initializer=inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="ferx op cases")
    m.ir_version = 8
    # Outputs carry no shape (ferx infers them), which the checker wants: ONNX Runtime checks the graph.
    return m


def init(name, array, dtype=TensorProto.FLOAT):
    return helper.make_tensor(name, dtype, list(array.shape), array.flatten().tolist())


# --- recurrent layers ------------------------------------------------------------------------

def recurrent(rng, op, seq=5, batch=3, inp=7, hidden=6, direction="forward", layout=0, bias=True, lens=None,
              h0=False, c0=False, peep=False, outputs=("Y", "Y_h", "Y_c"), opset=14, **attrs):
    gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[op]
    d = 2 if direction == "bidirectional" else 1
    x = floats(rng, (seq, batch, inp) if layout == 0 else (batch, seq, inp))
    inits = [init("W", floats(rng, (d, gates * hidden, inp), 0.5)), init("R", floats(rng, (d, gates * hidden, hidden), 0.5))]
    names = ["X", "W", "R"]
    inputs = [("X", x)]
    if bias:
        inits.append(init("B", floats(rng, (d, 2 * gates * hidden), 0.5)))
    names.append("B" if bias else "")
    if lens is not None:
        inits.append(init("lens", np.array(lens, dtype=np.int32), TensorProto.INT32))
    names.append("lens" if lens is not None else "")
    state = (d, batch, hidden) if layout == 0 else (batch, d, hidden)
    if h0:
        inputs.append(("h0", floats(rng, state)))  # a runtime input
    names.append("h0" if h0 else "")
    if op == "LSTM":
        if c0:
            inputs.append(("c0", floats(rng, state)))
        names.append("c0" if c0 else "")
        if peep:
            inits.append(init("P", floats(rng, (d, 3 * hidden), 0.5)))
        names.append("P" if peep else "")
    while names and names[-1] == "":
        names.pop()
    outs = [o if o in outputs else "" for o in (("Y", "Y_h", "Y_c") if op == "LSTM" else ("Y", "Y_h"))]
    while outs and outs[-1] == "":
        outs.pop()
    kw = dict(hidden_size=hidden, direction=direction, **attrs)
    if layout:
        kw["layout"] = layout
    node = helper.make_node(op, names, outs, name=op.lower(), **kw)
    m = model([node], inputs, [o for o in outs if o], inits, opset)
    if layout == 0:
        return m, inputs, None
    # ONNX Runtime refuses layout 1 ("batchwise recurrent operations"): its reference is the
    # layout-0 graph on the transposed inputs, with the outputs transposed back.
    kw.pop("layout")
    ref = model([helper.make_node(op, names, outs, name=op.lower(), **kw)],
                [(n, a.transpose(1, 0, 2)) for n, a in inputs], [o for o in outs if o], inits, opset)
    got = run_ort(ref, [(n, a.transpose(1, 0, 2)) for n, a in inputs])
    back = {"Y": (2, 0, 1, 3), "Y_h": (1, 0, 2), "Y_c": (1, 0, 2)}
    return m, inputs, [(n, v.transpose(back[n])) for n, v in got]


def run_ort(m, inputs):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(m.SerializeToString(), options, providers=["CPUExecutionProvider"])
    values = session.run(None, {n: a for n, a in inputs})
    return [(o.name, v) for o, v in zip(session.get_outputs(), values)]


@case
def lstm_forward(rng):
    return recurrent(rng, "LSTM")


@case
def lstm_reverse_no_bias(rng):
    return recurrent(rng, "LSTM", direction="reverse", bias=False, seq=4, batch=2, inp=5, hidden=3)


@case
def lstm_bidirectional_states_peepholes(rng):
    return recurrent(rng, "LSTM", direction="bidirectional", h0=True, c0=True, peep=True, seq=6, batch=2, inp=4, hidden=5)


@case
def lstm_bidirectional_lengths(rng):
    return recurrent(rng, "LSTM", direction="bidirectional", lens=[5, 2, 4], seq=5, batch=3, inp=3, hidden=4)


@case
def lstm_layout1_lengths_states(rng):
    return recurrent(rng, "LSTM", layout=1, lens=[3, 7], h0=True, c0=True, seq=7, batch=2, inp=9, hidden=5)


@case
def lstm_clip_activations(rng):
    return recurrent(rng, "LSTM", clip=0.7, activations=["HardSigmoid", "LeakyRelu", "Tanh"],
                     activation_alpha=[0.3, 0.2], activation_beta=[0.45], seq=4, batch=2, inp=3, hidden=4)


@case
def lstm_only_final_state(rng):
    return recurrent(rng, "LSTM", outputs=("Y_h",), seq=8, batch=1, inp=6, hidden=7)


@case
def lstm_hidden108_40_steps(rng):
    return recurrent(rng, "LSTM", seq=40, batch=4, inp=64, hidden=108)


@case
def gru_forward(rng):
    return recurrent(rng, "GRU")


@case
def gru_linear_before_reset_bidirectional(rng):
    return recurrent(rng, "GRU", direction="bidirectional", linear_before_reset=1, h0=True, seq=5, batch=2, inp=4, hidden=6)


@case
def gru_reverse_lengths_layout1(rng):
    return recurrent(rng, "GRU", direction="reverse", layout=1, lens=[2, 6, 1], seq=6, batch=3, inp=5, hidden=3)


@case
def gru_lbr_lengths_clip(rng):
    return recurrent(rng, "GRU", linear_before_reset=1, lens=[4, 1], clip=1.5, seq=4, batch=2, inp=3, hidden=5)


@case
def rnn_bidirectional_relu(rng):
    return recurrent(rng, "RNN", direction="bidirectional", activations=["Relu", "Tanh"], h0=True, seq=5, batch=2, inp=3, hidden=4)


@case
def rnn_forward_lengths(rng):
    return recurrent(rng, "RNN", lens=[3, 1, 4], seq=4, batch=3, inp=6, hidden=5)


# --- elementwise, reductions, contractions, data movement -----------------------------------

def single(rng, op, x_shape, opset=17, extra_inits=(), node_inputs=None, scale=1.0, **attrs):
    x = floats(rng, x_shape, scale)
    inits = [init(n, a, t) for n, a, t in extra_inits]
    node = helper.make_node(op, node_inputs or ["X"], ["Y"], name=op.lower(), **attrs)
    return model([node], [("X", x)], ["Y"], inits, opset), [("X", x)], None


@case
def hard_swish(rng):
    return single(rng, "HardSwish", (2, 3, 5, 7), scale=4.0)


@case
def hard_sigmoid_attributes(rng):
    return single(rng, "HardSigmoid", (3, 11), scale=4.0, alpha=0.3, beta=0.4)


@case
def reduce_mean_axes_attribute(rng):
    return single(rng, "ReduceMean", (2, 3, 5, 7), axes=[3], keepdims=1)


@case
def reduce_mean_two_axes_negative_no_keepdims(rng):
    return single(rng, "ReduceMean", (2, 4, 3, 6), axes=[-1, 1], keepdims=0)


@case
def reduce_mean_all_axes(rng):
    return single(rng, "ReduceMean", (3, 4, 5))


@case
def reduce_mean_axes_input_opset18(rng):
    return single(rng, "ReduceMean", (2, 3, 4, 5), opset=18, node_inputs=["X", "axes"],
                  extra_inits=[("axes", np.array([0, 2], dtype=np.int64), TensorProto.INT64)], keepdims=1)


@case
def reduce_sum_axes_input(rng):
    return single(rng, "ReduceSum", (4, 3, 6), opset=13, node_inputs=["X", "axes"],
                  extra_inits=[("axes", np.array([1], dtype=np.int64), TensorProto.INT64)], keepdims=0)


@case
def reduce_sum_noop_with_empty_axes(rng):
    return single(rng, "ReduceSum", (2, 5), opset=13, noop_with_empty_axes=1)


@case
def reduce_max_axes(rng):
    return single(rng, "ReduceMax", (3, 5, 4, 2), axes=[1, 2], keepdims=1)


def einsum(rng, equation, *shapes, opset=17):
    names = [f"X{i}" for i in range(len(shapes))]
    inputs = [(n, floats(rng, sh)) for n, sh in zip(names, shapes)]
    node = helper.make_node("Einsum", names, ["Y"], name="einsum", equation=equation)
    return model([node], inputs, ["Y"], [], opset), inputs, None


@case
def einsum_graph_conv(rng):
    return einsum(rng, "nkctv,kvw->nctw", (2, 3, 4, 5, 7), (3, 7, 7))


@case
def einsum_batched_matmul(rng):
    return einsum(rng, "bij,bjk->bik", (3, 4, 5), (3, 5, 6))


@case
def einsum_attention_scores(rng):
    return einsum(rng, "nhqd,nhkd->nhqk", (2, 3, 5, 4), (2, 3, 6, 4))


@case
def einsum_implicit_output_and_sum(rng):
    return einsum(rng, "ij,jk", (4, 5), (5, 3))


@case
def einsum_transpose_and_reduce(rng):
    return einsum(rng, "abc->ca", (3, 4, 5))


@case
def einsum_outer_product_summed_letter(rng):
    return einsum(rng, "ia,jb->ji", (4, 3), (5, 2))


def live(rng, nodes, x_shape, inits, opset=17):
    x = floats(rng, x_shape)
    # A Relu first: the data is a node output (a live tensor), not a graph input.
    return model([helper.make_node("Relu", ["X"], ["Xr"], name="relu")] + nodes, [("X", x)], ["Y"], inits, opset), [("X", x)], None


def i64(name, values):
    return init(name, np.array(values, dtype=np.int64), TensorProto.INT64)


@case
def slice_live_data(rng):
    return live(rng, [helper.make_node("Slice", ["Xr", "s", "e", "a"], ["Y"], name="slice")], (2, 9, 5, 4),
                [i64("s", [2, -3]), i64("e", [7, 100]), i64("a", [1, 2])])


@case
def slice_live_negative_steps(rng):
    return live(rng, [helper.make_node("Slice", ["Xr", "s", "e", "a", "st"], ["Y"], name="slice")], (3, 8, 6),
                [i64("s", [-1, 1]), i64("e", [-100, 6]), i64("a", [1, 2]), i64("st", [-2, 2])])


@case
def gather_live_data(rng):
    return live(rng, [helper.make_node("Gather", ["Xr", "i"], ["Y"], name="gather", axis=2)], (2, 3, 7, 4),
                [i64("i", [[6, 0], [-1, 3], [2, 2]])])


@case
def gather_live_scalar_index(rng):
    return live(rng, [helper.make_node("Gather", ["Xr", "i"], ["Y"], name="gather", axis=0)], (5, 3),
                [init("i", np.array(3, dtype=np.int64), TensorProto.INT64)])


@case
def slice_live_bounds_from_shape(rng):
    # x[:, c // 2 : c] with c read from the tensor's shape, as exporters write it for a dynamic batch.
    nodes = [helper.make_node("Shape", ["Xr"], ["shape"], name="shape"),
             helper.make_node("Gather", ["shape", "one"], ["c"], name="gather_c", axis=0),
             helper.make_node("Div", ["c", "two"], ["half"], name="half"),
             helper.make_node("Unsqueeze", ["half", "zero"], ["start"], name="start"),
             helper.make_node("Unsqueeze", ["c", "zero"], ["end"], name="end"),
             helper.make_node("Slice", ["Xr", "start", "end", "axis1"], ["Y"], name="slice")]
    return live(rng, nodes, (2, 9, 4), [i64("one", 1), i64("two", 2), i64("zero", [0]), i64("axis1", [1])])


def conv(rng, x_shape, w_shape, bias=True, opset=17, **attrs):
    x = floats(rng, x_shape)
    inits = [init("W", floats(rng, w_shape, 0.5))]
    names = ["X", "W"]
    if bias:
        inits.append(init("B", floats(rng, (w_shape[0],))))
        names.append("B")
    node = helper.make_node("Conv", names, ["Y"], name="conv", **attrs)
    return model([node], [("X", x)], ["Y"], inits, opset), [("X", x)], None


@case
def conv1d_temporal_dilated_padded(rng):
    return conv(rng, (2, 6, 17), (8, 6, 9), pads=[4, 4], dilations=[2])


@case
def conv1d_groups_strided(rng):
    return conv(rng, (1, 6, 20), (9, 2, 3), group=3, strides=[2], pads=[1, 0], bias=False)


@case
def conv1d_same_upper(rng):
    return conv(rng, (2, 3, 11), (4, 3, 4), auto_pad="SAME_UPPER", strides=[2])


@case
def conv3d_1x1x1_classifier(rng):
    return conv(rng, (2, 16, 1, 1, 1), (10, 16, 1, 1, 1))


@case
def conv3d_kernel_3_strides_pads(rng):
    return conv(rng, (1, 3, 5, 6, 7), (4, 3, 3, 2, 3), strides=[1, 2, 2], pads=[1, 0, 1, 1, 1, 0], dilations=[1, 1, 2])


def pool(rng, op, x_shape, opset=17, **attrs):
    return single(rng, op, x_shape, opset=opset, **attrs)


@case
def maxpool1d(rng):
    return pool(rng, "MaxPool", (2, 3, 13), kernel_shape=[3], strides=[2], pads=[1, 1])


@case
def avgpool1d_count_include_pad_ceil(rng):
    return pool(rng, "AveragePool", (2, 3, 12), kernel_shape=[4], strides=[3], pads=[1, 2], count_include_pad=1, ceil_mode=1)


@case
def maxpool3d_dilated(rng):
    return pool(rng, "MaxPool", (1, 2, 6, 7, 5), kernel_shape=[2, 3, 2], strides=[2, 1, 2], dilations=[1, 2, 1], pads=[0, 1, 1, 1, 1, 0])


@case
def avgpool3d(rng):
    return pool(rng, "AveragePool", (2, 2, 4, 5, 6), kernel_shape=[2, 2, 3], strides=[2, 2, 1], pads=[1, 0, 1, 0, 1, 1])


# --- an ST-GCN unit ----------------------------------------------------------------------------
# The unit of ST-GCN (Yan et al., AAAI 2018; the reference code's st_gcn block at inference) on
# NTU RGB+D's 25 joints: Conv1x1 to K*C_out -> Reshape [N, K, C_out, T, V] -> Einsum
# nkctv,kvw->nctw with A * importance -> BN -> Relu -> Conv (kt x 1, pad (kt-1)/2, stride) -> BN
# -> + residual -> Relu. A is the spatial partition computed here as the reference code's Graph
# does (hop distances cut at max_hop, normalize_digraph); tests/onnx/test_graph_conv_unit.cpp
# checks it against ferx's graph_adjacency, takes every initializer as the weights of ferx's C++
# builder (ferx::nn::append_stgcn_unit) and compares the outputs with ONNX Runtime's.

NTU25_EDGES_1BASED = [(1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7), (9, 21), (10, 9),
                      (11, 10), (12, 11), (13, 1), (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18),
                      (20, 19), (22, 23), (23, 8), (24, 25), (25, 12)]


def stgcn_spatial_adjacency(num_node, edges, center, max_hop=1):
    """ST-GCN's Graph(strategy='spatial', max_hop, dilation=1): [K, V, V], float32."""
    a = np.zeros((num_node, num_node))
    for i, j in edges:
        a[j, i] = a[i, j] = 1
    hop_dis = np.zeros((num_node, num_node)) + np.inf
    arrive = np.stack([np.linalg.matrix_power(a, d) for d in range(max_hop + 1)]) > 0
    for d in range(max_hop, -1, -1):
        hop_dis[arrive[d]] = d
    adjacency = np.zeros((num_node, num_node))
    for hop in range(max_hop + 1):
        adjacency[hop_dis == hop] = 1
    degree = adjacency.sum(0)
    norm = adjacency @ np.diag(np.where(degree > 0, 1.0 / np.maximum(degree, 1e-300), 0.0))
    out = []
    for hop in range(max_hop + 1):
        root, close, further = (np.zeros((num_node, num_node)) for _ in range(3))
        for i in range(num_node):
            for j in range(num_node):
                if hop_dis[j, i] == hop:
                    if hop_dis[j, center] == hop_dis[i, center]:
                        root[j, i] = norm[j, i]
                    elif hop_dis[j, center] > hop_dis[i, center]:
                        close[j, i] = norm[j, i]
                    else:
                        further[j, i] = norm[j, i]
        if hop == 0:
            out.append(root)
        else:
            out.extend([root + close, further])
    return np.stack(out).astype(np.float32)


def stgcn_unit_case(rng, c_in, c_out, kt, stride, residual, n=2, t=12):
    a = stgcn_spatial_adjacency(25, [(i - 1, j - 1) for i, j in NTU25_EDGES_1BASED], 21 - 1)
    k, v = a.shape[0], a.shape[1]
    x = floats(rng, (n, c_in, t, v))
    inits = [init("A", a), init("importance", (1.0 + 0.3 * rng.standard_normal(a.shape)).astype(np.float32))]
    nodes = [helper.make_node("Mul", ["A", "importance"], ["A_importance"], name="A_importance")]

    def conv(name, inp, w_shape, **attrs):
        bound = 1.0 / np.sqrt(np.prod(w_shape[1:]))
        inits.append(init(name + ".weight", rng.uniform(-bound, bound, w_shape).astype(np.float32)))
        inits.append(init(name + ".bias", rng.uniform(-bound, bound, (w_shape[0],)).astype(np.float32)))
        nodes.append(helper.make_node("Conv", [inp, name + ".weight", name + ".bias"], [name], name=name, **attrs))
        return name

    def bn(name, inp, c):
        for part, lo, hi in (("scale", 0.5, 1.5), ("bias", -0.5, 0.5), ("mean", -0.5, 0.5), ("var", 0.5, 1.5)):
            inits.append(init(f"{name}.{part}", rng.uniform(lo, hi, (c,)).astype(np.float32)))
        nodes.append(helper.make_node("BatchNormalization", [inp] + [f"{name}.{p}" for p in ("scale", "bias", "mean", "var")],
                                      [name], name=name, epsilon=1e-5))
        return name

    g = conv("gcn", "X", (k * c_out, c_in, 1, 1), kernel_shape=[1, 1])
    inits.append(init("gcn.shape", np.array([0, k, c_out, -1, v], dtype=np.int64), TensorProto.INT64))
    nodes.append(helper.make_node("Reshape", [g, "gcn.shape"], ["gcn.split"], name="gcn.split"))
    nodes.append(helper.make_node("Einsum", ["gcn.split", "A_importance"], ["gcn.out"], name="gcn.out",
                                  equation="nkctv,kvw->nctw"))
    nodes.append(helper.make_node("Relu", [bn("bn1", "gcn.out", c_out)], ["relu1"], name="relu1"))
    pad = (kt - 1) // 2
    y = bn("bn2", conv("tcn", "relu1", (c_out, c_out, kt, 1), kernel_shape=[kt, 1], pads=[pad, 0, pad, 0],
                       strides=[stride, 1]), c_out)
    if residual == "identity":
        nodes.append(helper.make_node("Add", [y, "X"], ["add"], name="add"))
        y = "add"
    elif residual == "conv":
        r = bn("res_bn", conv("res", "X", (c_out, c_in, 1, 1), kernel_shape=[1, 1], strides=[stride, 1]), c_out)
        nodes.append(helper.make_node("Add", [y, r], ["add"], name="add"))
        y = "add"
    nodes.append(helper.make_node("Relu", [y], ["Y"], name="out"))
    return model(nodes, [("X", x)], ["Y"], inits, 17), [("X", x)], None


@case
def stgcn_unit(rng):
    # Channels and frames change: the residual is a strided 1x1 Conv + BN.
    return stgcn_unit_case(rng, c_in=4, c_out=8, kt=9, stride=2, residual="conv")


@case
def stgcn_unit_identity(rng):
    return stgcn_unit_case(rng, c_in=6, c_out=6, kt=5, stride=1, residual="identity", n=3, t=10)


def write(path, array):
    np.ascontiguousarray(array, dtype="<f4").tofile(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out")
    ap.add_argument("--cases", default="")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()
    if args.list:
        print("\n".join(CASES))
        return 0
    if not args.out:
        ap.error("--out is required")
    os.makedirs(args.out, exist_ok=True)
    wanted = [c for c in args.cases.split(",") if c] or list(CASES)
    for name in wanted:
        if name not in CASES:
            print(f"make_op_cases.py: unknown case '{name}'", file=sys.stderr)
            return 2
        rng = np.random.default_rng(zlib.crc32(name.encode()))
        m, inputs, expected = CASES[name](rng)
        onnx.save_model(m, os.path.join(args.out, name + ".onnx"))
        if expected is None:
            expected = run_ort(m, inputs)
        lines = []
        for n, a in inputs:
            write(os.path.join(args.out, f"{name}.{n}.f32"), a)
            lines.append("in " + n + " " + " ".join(map(str, a.shape)))
        for o, v in expected:
            write(os.path.join(args.out, f"{name}.{o}.f32"), v)
            lines.append("out " + o + " " + " ".join(map(str, v.shape)))
        with open(os.path.join(args.out, name + ".txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
    print(f"make_op_cases.py: {len(wanted)} case(s), onnxruntime {ort.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
