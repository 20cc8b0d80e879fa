#!/usr/bin/env python3
"""Runs an ONNX file with ONNX Runtime: the oracle of the tests that export graphs from ferx.

  run_onnxruntime.py --model M.onnx --input NAME=FILE.f32:D0xD1x... [--input ...] --out DIR

Checks the file with onnx.checker (full check, with shape inference) first; then feeds each
input from its little-endian float32 file with the shape given, and writes every graph output
to DIR/<output name>.f32 (float32, little-endian) and its shape to DIR/<output name>.shape
(extents separated by spaces). One thread, so that results do not depend on the machine.
Exits non-zero, with a message, on any failure.
"""
import argparse
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--input", action="append", default=[], help="NAME=FILE:D0xD1x...")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    onnx.checker.check_model(onnx.load(args.model), full_check=True)
    feeds = {}
    for spec in args.input:
        name, rest = spec.split("=", 1)
        path, shape = rest.rsplit(":", 1)
        dims = [int(d) for d in shape.split("x")]
        feeds[name] = np.fromfile(path, dtype="<f4").reshape(dims)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(args.model, so, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    os.makedirs(args.out, exist_ok=True)
    for name, value in zip(names, sess.run(names, feeds)):
        value = np.ascontiguousarray(value, dtype="<f4")
        value.tofile(os.path.join(args.out, name + ".f32"))
        with open(os.path.join(args.out, name + ".shape"), "w") as f:
            f.write(" ".join(str(d) for d in value.shape) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
