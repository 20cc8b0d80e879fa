#!/usr/bin/env python3
"""ONNX Runtime beside bench_cnn: the same models, batches, input and names,
cnn/onnxruntime/<model>/<batch>, timed the way Google Benchmark does it (one untimed warm-up
run, then repeated runs until --min-time seconds have passed; the mean wall time per run).

  python3 benchmarks/bench_cnn_onnxruntime.py [--shared ../shared] [--threads N] [--json out.json]

--threads defaults to the CPU count (ferx_par's default pool and opencv_dnn use the same); the
session runs with intra_op_num_threads = N, inter_op_num_threads = 1, the CPU provider and its
default graph optimisations. The shipped files declare batch 1; the input and output batch
extent is made symbolic in memory so that one session runs batches of 16 and 256.
Needs the PyPI packages onnx, onnxruntime and numpy.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort

MODELS = {
    "mini_xception": "fer2013_mini_XCEPTION.102-0.66.onnx",
    "big_xception": "fer2013_big_XCEPTION.54-0.66.onnx",
}
BATCHES = (1, 16, 256)


def dynamic_batch(path):
    model = onnx.load(path)
    for v in list(model.graph.input) + list(model.graph.output):
        v.type.tensor_type.shape.dim[0].dim_param = "N"
    return model.SerializeToString()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=os.path.join(here, "..", "..", "shared"))
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--min-time", type=float, default=0.5, help="seconds per case (2 for batch 256)")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()

    model_dir = os.path.join(args.shared, "models", "mini_xception")
    results = []
    print(f"onnxruntime {ort.__version__}, {args.threads} threads")
    print(f"{'Benchmark':<40}{'Time':>14}{'images_per_s':>16}")
    for name, file in MODELS.items():
        path = os.path.join(model_dir, file)
        if not os.path.isfile(path):
            print(f"cnn/onnxruntime/{name}: model not found: {path} (../shared absent)", file=sys.stderr)
            continue
        options = ort.SessionOptions()
        options.intra_op_num_threads = args.threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(dynamic_batch(path), options, providers=["CPUExecutionProvider"])
        input_name = session.get_inputs()[0].name
        for batch in BATCHES:
            rng = np.random.default_rng(42)
            x = rng.uniform(-1, 1, (batch, 1, 64, 64)).astype(np.float32)
            session.run(None, {input_name: x})  # warm-up
            min_time = max(args.min_time, 2.0) if batch >= 256 else args.min_time
            runs, start = 0, time.perf_counter()
            while True:
                session.run(None, {input_name: x})
                runs += 1
                elapsed = time.perf_counter() - start
                if elapsed >= min_time and runs >= 3:
                    break
            ms = elapsed / runs * 1e3
            case = f"cnn/onnxruntime/{name}/{batch}"
            results.append({"name": case, "real_time_ms": ms, "iterations": runs,
                            "images_per_s": batch * runs / elapsed, "threads": args.threads})
            print(f"{case:<40}{ms:>11.3f} ms{batch * runs / elapsed:>16.1f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"context": {"onnxruntime": ort.__version__, "threads": args.threads},
                       "benchmarks": results}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
