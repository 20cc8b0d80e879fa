#!/usr/bin/env python3
"""ONNX Runtime beside bench_temporal: the same LSTM / GRU layers and EfficientGCN-B0 files,
<component>/onnxruntime/<case>, timed the way Google Benchmark does it (one untimed warm-up run,
then repeated runs until --min-time seconds and 3 runs have passed; the mean wall time per run).

  python3 benchmarks/bench_temporal_onnxruntime.py [--shared ../shared] [--threads N] [--json out.json]

--threads defaults to the CPU count (ferx_par's default pool uses the same); the session runs
with intra_op_num_threads = N, inter_op_num_threads = 1, the CPU provider and its default graph
optimisations. Needs the PyPI packages onnx, onnxruntime and numpy.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper

# name, hidden, steps, batch, input, bidirectional: as bench_temporal.cpp's rnn_cases()
RNN_CASES = [("h108_t40_b1", 108, 40, 1, 128, False), ("h108_t40_b64", 108, 40, 64, 128, False),
             ("bi256_t300_b1", 256, 300, 1, 256, True)]
# name, in channels, out channels, frames, batch, stride: as bench_temporal.cpp's unit_cases()
UNIT_CASES = [("c64_t300_b1", 64, 64, 300, 1, 1), ("c64_t300_b16", 64, 64, 300, 16, 1),
              ("c64to128_s2_t300_b1", 64, 128, 300, 1, 2)]
EFFGCN = {"effgcn": "effgcn_b0_ntu60_xsub_einsum_dynbatch.onnx", "effgcn_plain": "effgcn_b0_ntu60_xsub_plain_dynbatch.onnx"}


def rnn_model(op, hidden, steps, batch, inp, bidirectional):
    gates = 4 if op == "LSTM" else 3
    d = 2 if bidirectional else 1
    rng = np.random.default_rng(1)
    inits = [helper.make_tensor(n, TensorProto.FLOAT, s, (rng.standard_normal(s) * 0.1).astype(np.float32).flatten().tolist())
             for n, s in (("W", [d, gates * hidden, inp]), ("R", [d, gates * hidden, hidden]), ("B", [d, 2 * gates * hidden]))]
    node = helper.make_node(op, ["X", "W", "R", "B"], ["Y", "Y_h"], hidden_size=hidden,
                            direction="bidirectional" if bidirectional else "forward")
    graph = helper.make_graph([node], "rnn", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [steps, batch, inp])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None),
                               helper.make_tensor_value_info("Y_h", TensorProto.FLOAT, None)], initializer=inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    m.ir_version = 8
    return m.SerializeToString()


def timed(session, feed, min_time):
    session.run(None, feed)  # warm-up
    runs, start = 0, time.perf_counter()
    while True:
        session.run(None, feed)
        runs += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time and runs >= 3:
            return elapsed / runs, runs


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=os.path.join(here, "..", "..", "shared"))
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--min-time", type=float, default=0.5)
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    results = []
    print(f"onnxruntime {ort.__version__}, {args.threads} threads")
    print(f"{'Benchmark':<40}{'Time':>14}{'sequences_per_s':>18}")

    def report(name, seconds, runs, batch):
        results.append({"name": name, "real_time_ms": seconds * 1e3, "iterations": runs,
                        "sequences_per_s": batch / seconds, "threads": args.threads})
        print(f"{name:<40}{seconds * 1e3:>11.3f} ms{batch / seconds:>18.1f}")

    for op in ("LSTM", "GRU"):
        for name, hidden, steps, batch, inp, bi in RNN_CASES:
            s = ort.InferenceSession(rnn_model(op, hidden, steps, batch, inp, bi), options, providers=["CPUExecutionProvider"])
            x = np.random.default_rng(4).standard_normal((steps, batch, inp)).astype(np.float32)
            sec, runs = timed(s, {"X": x}, args.min_time)
            report(f"{op.lower()}/onnxruntime/{name}", sec, runs, batch)
    for comp, file in EFFGCN.items():
        path = os.path.join(args.shared, "models", "efficientgcn", file)
        if not os.path.isfile(path):
            print(f"{comp}/onnxruntime: model not found: {path} (../shared absent)", file=sys.stderr)
            continue
        s = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        for batch in ((1, 16) if comp == "effgcn" else (1,)):
            x = (np.random.default_rng(5).standard_normal((batch, 3, 6, 288, 25, 2)) * 0.3).astype(np.float32)
            sec, runs = timed(s, {"input": x}, args.min_time)
            report(f"{comp}/onnxruntime/{batch}", sec, runs, batch)
    # The ST-GCN unit as the ONNX tests build it (tests/onnx/make_op_cases.py: the same ops as
    # ferx::nn::append_stgcn_unit writes), random weights.
    sys.path.insert(0, os.path.join(here, "..", "tests", "onnx"))
    import make_op_cases
    for name, c_in, c_out, frames, batch, stride in UNIT_CASES:
        residual = "identity" if c_in == c_out and stride == 1 else "conv"
        m, inputs, _ = make_op_cases.stgcn_unit_case(np.random.default_rng(6), c_in, c_out, 9, stride, residual, n=batch, t=frames)
        s = ort.InferenceSession(m.SerializeToString(), options, providers=["CPUExecutionProvider"])
        sec, runs = timed(s, {"X": inputs[0][1]}, args.min_time)
        report(f"stgcn_unit/onnxruntime/{name}", sec, runs, batch)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"context": {"onnxruntime": ort.__version__, "threads": args.threads}, "benchmarks": results}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
