#!/usr/bin/env python3
"""Builds the CNN architectures the FER theses use as ONNX graphs (the `onnx` package's helper
API, random weights from a fixed seed), runs each with ONNX Runtime on a fixed random input, and
writes what ferx's test (tests/onnx/test_fer_cnns.cpp) compares against:

    <out>/<model>.onnx           the model (opset 13)
    <out>/<model>.input.f32      its input, float32 little-endian, NCHW
    <out>/<model>.<output>.f32   ONNX Runtime's value of each graph output (logits, scores)
    <out>/<model>.txt            one line per tensor: "<name> <dim> <dim> ...", input first

Models (batch 1):
  bkstart      BKStart (Lund 2018): conv5x5-32, maxpool3/2, conv4x4-32, avgpool3/2, conv5x5-64,
               avgpool3/2, FC3072, FC7; 48x48 grey. The 4x4 convolution keeps the size with
               asymmetric padding (1 before, 2 after).
  bkvgg12      BKVGG12 (Lund 2018): 3x3 convs 32,32 | 64,64 | 128,128 | 256x3, each group then
               maxpool2/2, FC256, FC256, FC7, dropout after the FC layers; 48x48 grey.
  resnet18     ResNet-18 (He et al.): 7x7/2 stem, maxpool, 4 stages of 2 basic blocks, 1x1/2
               projection shortcuts, global average pool, FC7; 224x224x3.
  densenet121  DenseNet-121 (Huang et al.): growth 32, blocks 6-12-24-16, BN-ReLU-conv1x1(128)-
               BN-ReLU-conv3x3(32) layers, transitions BN-ReLU-conv1x1 (half)-avgpool2/2; 224x224x3.
  vgg16        VGG16 (configuration D) with the head of the VGG16 thesis: FC4096, a narrower
               FC1024, FC6; 224x224x3 (about 530 MB of weights).

Two small FER CNNs (48x48 grey; conv3x3-32, BN, ReLU, maxpool2 | conv3x3-64, BN, ReLU, maxpool2 |
maxpool2; FC128, FC7) with the flatten heads the exporters write:
  pytorch_view  as torch.onnx.export writes `x.view(x.size(0), -1)` with a dynamic batch:
                Shape -> Gather -> Unsqueeze -> Concat([-1]) -> Reshape; input [N, 1, 48, 48].
  keras_batch1  as tf2onnx writes a Keras Flatten exported for batch 1 (--inputs-as-nchw):
                Transpose to NHWC -> Reshape([1, -1]); input [1, 1, 48, 48].

With --batch B the input has B samples and the files are named <model>_b<B>.*. A model whose
input declares a dynamic batch runs in ONNX Runtime as one batch; one exported for a fixed batch
(keras_batch1) runs sample by sample and the outputs are stacked: what its exporter traced.

Usage: make_fer_cnns.py --out DIR [--models bkstart,bkvgg12,...] [--seed 2024] [--batch 1]
Exit status 0 on success; a missing package is reported on stderr with status 3.
"""
import argparse
import os
import sys

try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    import onnxruntime as ort
except ImportError as e:  # the C++ test turns this into a skip
    print(f"make_fer_cnns.py: missing Python package: {e}", file=sys.stderr)
    sys.exit(3)

OPSET = 13


class Builder:
    """Accumulates nodes and initializers; names values v0, v1, ..."""

    def __init__(self, name, seed):
        self.name = name
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits = [], []
        self.count = 0

    def value(self, prefix="v"):
        self.count += 1
        return f"{prefix}{self.count}"

    def init(self, prefix, array):
        name = self.value(prefix)
        self.inits.append(numpy_helper.from_array(np.asarray(array, dtype=np.float32), name))
        return name

    def node(self, op, inputs, **attrs):
        out = self.value(op.lower() + "_")
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    # -- layers -------------------------------------------------------------------------------
    def conv(self, x, cin, cout, k, stride=1, pads=None, bias=True, group=1):
        kh, kw = (k, k) if isinstance(k, int) else k
        fan_in = cin // group * kh * kw
        w = self.init("w", self.rng.normal(0, np.sqrt(2.0 / fan_in), (cout, cin // group, kh, kw)))
        inputs = [x, w]
        if bias:
            inputs.append(self.init("b", self.rng.uniform(-0.1, 0.1, cout)))
        if pads is None:
            pads = [kh // 2, kw // 2, kh // 2, kw // 2]
        return self.node("Conv", inputs, kernel_shape=[kh, kw], strides=[stride, stride], pads=pads,
                         group=group)

    def bn(self, x, c, scale_range=(0.5, 1.5)):
        scale = self.init("bn_scale", self.rng.uniform(*scale_range, c))
        bias = self.init("bn_bias", self.rng.uniform(-0.2, 0.2, c))
        mean = self.init("bn_mean", self.rng.uniform(-0.2, 0.2, c))
        var = self.init("bn_var", self.rng.uniform(0.5, 1.5, c))
        return self.node("BatchNormalization", [x, scale, bias, mean, var], epsilon=1e-5)

    def relu(self, x):
        return self.node("Relu", [x])

    def maxpool(self, x, k, s, pads=(0, 0, 0, 0)):
        return self.node("MaxPool", [x], kernel_shape=[k, k], strides=[s, s], pads=list(pads))

    def avgpool(self, x, k, s, pads=(0, 0, 0, 0)):
        return self.node("AveragePool", [x], kernel_shape=[k, k], strides=[s, s], pads=list(pads))

    def fc(self, x, fin, fout):
        w = self.init("fc_w", self.rng.normal(0, np.sqrt(2.0 / fin), (fout, fin)))
        b = self.init("fc_b", self.rng.uniform(-0.1, 0.1, fout))
        return self.node("Gemm", [x, w, b], transB=1)

    def flatten(self, x):
        return self.node("Flatten", [x], axis=1)

    def dropout(self, x):
        return self.node("Dropout", [x])

    def softmax(self, x):
        return self.node("Softmax", [x], axis=1)

    def stem(self):
        """The ImageNet stem of ResNet and DenseNet: conv7x7/2-64, BN, ReLU, maxpool3/2 (224 -> 56)."""
        x = self.relu(self.bn(self.conv("input", 3, 64, 7, stride=2, bias=False), 64))
        return self.maxpool(x, 3, 2, (1, 1, 1, 1))

    def classifier(self, x, features, classes, input_shape):
        """FC to the class logits, softmax scores; the model with both as outputs."""
        logits = self.fc(x, features, classes)
        return self.model(input_shape, logits, self.softmax(logits), classes)

    def int64(self, prefix, values):
        name = self.value(prefix)
        self.inits.append(numpy_helper.from_array(np.asarray(values, dtype=np.int64), name))
        return name

    def model(self, input_shape, logits, scores, classes):
        # The graph's outputs are the logits and the softmax scores: rename those two values.
        for n in self.nodes:
            n.output[:] = ["logits" if o == logits else "scores" if o == scores else o for o in n.output]
            n.input[:] = ["logits" if i == logits else i for i in n.input]
        g = helper.make_graph(
            self.nodes, self.name,
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, input_shape)],
            [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [input_shape[0], classes]),
             helper.make_tensor_value_info("scores", TensorProto.FLOAT, [input_shape[0], classes])],
            self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="ferx make_fer_cnns.py")
        m.ir_version = 7
        onnx.checker.check_model(m)
        return m


def bkstart(seed):
    b = Builder("bkstart", seed)
    x = b.relu(b.conv("input", 1, 32, 5))                                    # 48
    x = b.maxpool(x, 3, 2)                                                    # 23
    x = b.relu(b.conv(x, 32, 32, 4, pads=[1, 1, 2, 2]))                       # 23
    x = b.avgpool(x, 3, 2)                                                    # 11
    x = b.relu(b.conv(x, 32, 64, 5))                                          # 11
    x = b.avgpool(x, 3, 2)                                                    # 5
    x = b.dropout(b.relu(b.fc(b.flatten(x), 64 * 5 * 5, 3072)))
    return b.classifier(x, 3072, 7, [1, 1, 48, 48])


def bkvgg12(seed):
    b = Builder("bkvgg12", seed)
    x, c = "input", 1
    for group in ([32, 32], [64, 64], [128, 128], [256, 256, 256]):
        for cout in group:
            x, c = b.relu(b.conv(x, c, cout, 3)), cout
        x = b.maxpool(x, 2, 2)                                                # 24, 12, 6, 3
    x = b.dropout(b.relu(b.fc(b.flatten(x), 256 * 3 * 3, 256)))
    x = b.dropout(b.relu(b.fc(x, 256, 256)))
    return b.classifier(x, 256, 7, [1, 1, 48, 48])


def resnet18(seed):
    b = Builder("resnet18", seed)
    x, c = b.stem(), 64
    for stage, cout in enumerate([64, 128, 256, 512]):
        for block in range(2):
            stride = 2 if stage > 0 and block == 0 else 1
            y = b.relu(b.bn(b.conv(x, c, cout, 3, stride=stride, bias=False), cout))
            # A small last scale in each residual branch (as zero-init ResNets do) keeps the
            # random network's activations near unit scale through the 8 additions.
            y = b.bn(b.conv(y, cout, cout, 3, bias=False), cout, scale_range=(0.1, 0.3))
            shortcut = x
            if stride != 1 or c != cout:
                shortcut = b.bn(b.conv(x, c, cout, 1, stride=stride, bias=False), cout)
            x, c = b.relu(b.node("Add", [y, shortcut])), cout
    x = b.flatten(b.node("GlobalAveragePool", [x]))
    return b.classifier(x, 512, 7, [1, 3, 224, 224])


def densenet121(seed):
    b = Builder("densenet121", seed)
    x, c, growth = b.stem(), 64, 32
    for i, layers in enumerate([6, 12, 24, 16]):
        for _ in range(layers):
            y = b.conv(b.relu(b.bn(x, c)), c, 4 * growth, 1, bias=False)
            y = b.conv(b.relu(b.bn(y, 4 * growth)), 4 * growth, growth, 3, bias=False)
            x, c = b.node("Concat", [x, y], axis=1), c + growth
        if i < 3:  # transition: halve channels and size
            x = b.conv(b.relu(b.bn(x, c)), c, c // 2, 1, bias=False)
            x, c = b.avgpool(x, 2, 2), c // 2
    x = b.relu(b.bn(x, c))
    x = b.flatten(b.node("GlobalAveragePool", [x]))
    return b.classifier(x, c, 7, [1, 3, 224, 224])


def vgg16(seed):
    b = Builder("vgg16", seed)
    x, c = "input", 3
    for group in ([64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]):
        for cout in group:
            x, c = b.relu(b.conv(x, c, cout, 3)), cout
        x = b.maxpool(x, 2, 2)                                                # 7x7x512 at the end
    x = b.dropout(b.relu(b.fc(b.flatten(x), 512 * 7 * 7, 4096)))
    x = b.dropout(b.relu(b.fc(x, 4096, 1024)))
    return b.classifier(x, 1024, 6, [1, 3, 224, 224])


def small_fer_cnn(b):
    """The convolutional part of pytorch_view and keras_batch1: 48x48 grey -> 64 x 6 x 6."""
    x, c = "input", 1
    for cout in (32, 64):
        x, c = b.maxpool(b.relu(b.bn(b.conv(x, c, cout, 3, bias=False), cout)), 2, 2), cout
    return b.maxpool(x, 2, 2)


def small_fer_head(b, flat, input_shape):
    x = b.relu(b.fc(flat, 64 * 6 * 6, 128))
    return b.classifier(x, 128, 7, input_shape)


def pytorch_view(seed):
    b = Builder("pytorch_view", seed)
    x = small_fer_cnn(b)
    shape = b.node("Shape", [x])
    n = b.node("Gather", [shape, b.int64("index", 0)], axis=0)        # x.size(0), a scalar
    n = b.node("Unsqueeze", [n, b.int64("axes", [0])])
    target = b.node("Concat", [n, b.int64("rest", [-1])], axis=0)
    return small_fer_head(b, b.node("Reshape", [x, target]), ["N", 1, 48, 48])


def keras_batch1(seed):
    b = Builder("keras_batch1", seed)
    x = b.node("Transpose", [small_fer_cnn(b)], perm=[0, 2, 3, 1])    # Keras flattens NHWC
    return small_fer_head(b, b.node("Reshape", [x, b.int64("shape", [1, -1])]), [1, 1, 48, 48])


MODELS = {"bkstart": bkstart, "bkvgg12": bkvgg12, "resnet18": resnet18,
          "densenet121": densenet121, "vgg16": vgg16, "pytorch_view": pytorch_view,
          "keras_batch1": keras_batch1}


def write(path, array):
    np.ascontiguousarray(array, dtype="<f4").tofile(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--batch", type=int, default=1)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for name in args.models.split(","):
        if name not in MODELS:
            print(f"make_fer_cnns.py: unknown model '{name}' (known: {', '.join(MODELS)})", file=sys.stderr)
            return 2
        k = list(MODELS).index(name)  # each model's seeds do not depend on which others are built
        model = MODELS[name](args.seed + k)
        path = os.path.join(args.out, name + ".onnx")
        onnx.save_model(model, path)
        dims = model.graph.input[0].type.tensor_type.shape.dim
        shape = [args.batch] + [d.dim_value for d in dims[1:]]
        seed = args.seed + 100 + k + (0 if args.batch == 1 else 1000 * args.batch)
        x = np.random.default_rng(seed).uniform(0, 1, shape).astype(np.float32)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 2
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        if dims[0].HasField("dim_value") and dims[0].dim_value != args.batch:
            # exported for a fixed batch: sample by sample, stacked
            runs = [session.run(None, {"input": x[i:i + 1]}) for i in range(args.batch)]
            outputs = [np.concatenate([r[j] for r in runs]) for j in range(len(runs[0]))]
        else:
            outputs = session.run(None, {"input": x})
        stem = name if args.batch == 1 else f"{name}_b{args.batch}"
        lines = ["input " + " ".join(map(str, x.shape))]
        write(os.path.join(args.out, stem + ".input.f32"), x)
        for out, value in zip(session.get_outputs(), outputs):
            write(os.path.join(args.out, f"{stem}.{out.name}.f32"), value)
            lines.append(out.name + " " + " ".join(map(str, value.shape)))
        with open(os.path.join(args.out, stem + ".txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
        print(f"{name}: {sum(t.ByteSize() for t in model.graph.initializer) / 1e6:.1f} MB of weights, "
              f"{len(model.graph.node)} nodes, onnxruntime {ort.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
