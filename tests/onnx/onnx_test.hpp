/// Helpers of the ONNX tests: small models built with libonnx's C++ API, error checks, the
/// shared models' paths.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/nn/graph.hpp>
#include <ferx/nn/onnx.hpp>

#include <onnx/onnx_pb.h>

#include <boost/test/unit_test.hpp>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "ferx_test.hpp"

namespace onnx_test {

/// Sets t to a FLOAT tensor of shape dims: data in raw_data (little-endian) or float_data.
inline void fill_tensor(::onnx::TensorProto& t, const std::vector<std::int64_t>& dims,
                        const std::vector<float>& data, bool raw = true) {
    t.set_data_type(::onnx::TensorProto::FLOAT);
    for (auto d : dims) t.add_dims(d);
    if (raw) {
        std::string bytes(data.size() * 4, '\0');
        for (std::size_t i = 0; i < data.size(); ++i) {  // little-endian, as ONNX stores it
            std::uint32_t bits;
            std::memcpy(&bits, &data[i], 4);
            for (int b = 0; b < 4; ++b) bytes[i * 4 + b] = static_cast<char>((bits >> (8 * b)) & 0xff);
        }
        t.set_raw_data(bytes);
    } else {
        for (float v : data) t.add_float_data(v);
    }
}

/// A model under construction: one graph, the default-domain opset `opset`.
struct model_builder {
    ::onnx::ModelProto model;
    ::onnx::GraphProto* g;

    explicit model_builder(int opset = 13, const std::string& name = "test") {
        model.set_ir_version(opset >= 13 ? 7 : 6);
        model.set_producer_name("ferx tests");
        auto* o = model.add_opset_import();
        o->set_domain("");
        o->set_version(opset);
        g = model.mutable_graph();
        g->set_name(name);
    }

    static void set_shape(::onnx::ValueInfoProto* v, const std::string& name,
                          const std::vector<std::int64_t>& dims) {
        v->set_name(name);
        auto* tt = v->mutable_type()->mutable_tensor_type();
        tt->set_elem_type(::onnx::TensorProto::FLOAT);
        auto* shape = tt->mutable_shape();
        for (auto d : dims) {
            auto* dim = shape->add_dim();
            if (d < 0) dim->set_dim_param("N");
            else dim->set_dim_value(d);
        }
    }
    void input(const std::string& name, const std::vector<std::int64_t>& dims) {
        set_shape(g->add_input(), name, dims);
    }
    void output(const std::string& name, const std::vector<std::int64_t>& dims) {
        set_shape(g->add_output(), name, dims);
    }
    /// A float output whose shape is left to the runtime to infer (an empty shape message:
    /// OpenCV 4.6 requires one to be present).
    void output(const std::string& name) {
        auto* v = g->add_output();
        v->set_name(name);
        auto* tt = v->mutable_type()->mutable_tensor_type();
        tt->set_elem_type(::onnx::TensorProto::FLOAT);
        tt->mutable_shape();
    }
    /// A float initializer, stored in raw_data (or float_data with raw = false).
    ::onnx::TensorProto* initializer(const std::string& name, const std::vector<std::int64_t>& dims,
                                     const std::vector<float>& data, bool raw = true) {
        auto* t = g->add_initializer();
        fill_tensor(*t, dims, data, raw);
        t->set_name(name);
        return t;
    }
    /// An INT64 initializer (shapes, pads, axes), in int64_data.
    ::onnx::TensorProto* int64_initializer(const std::string& name, const std::vector<std::int64_t>& dims,
                                           const std::vector<std::int64_t>& data) {
        auto* t = g->add_initializer();
        t->set_name(name);
        t->set_data_type(::onnx::TensorProto::INT64);
        for (auto d : dims) t->add_dims(d);
        for (auto v : data) t->add_int64_data(v);
        return t;
    }
    ::onnx::NodeProto* node(const std::string& op, const std::vector<std::string>& inputs,
                            const std::vector<std::string>& outputs, const std::string& name = "") {
        auto* n = g->add_node();
        n->set_op_type(op);
        n->set_name(name.empty() ? op + "_node" : name);
        for (const auto& i : inputs) n->add_input(i);
        for (const auto& o : outputs) n->add_output(o);
        return n;
    }
    std::string bytes() const {
        std::string s;
        BOOST_REQUIRE(model.SerializeToString(&s));
        return s;
    }
};

inline void attr_i(::onnx::NodeProto* n, const std::string& name, std::int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::INT);
    a->set_i(v);
}
inline void attr_f(::onnx::NodeProto* n, const std::string& name, float v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::FLOAT);
    a->set_f(v);
}
inline void attr_s(::onnx::NodeProto* n, const std::string& name, const std::string& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::STRING);
    a->set_s(v);
}
inline void attr_ints(::onnx::NodeProto* n, const std::string& name, const std::vector<std::int64_t>& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::INTS);
    for (auto x : v) a->add_ints(x);
}
inline void attr_floats(::onnx::NodeProto* n, const std::string& name, const std::vector<float>& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::FLOATS);
    for (auto x : v) a->add_floats(x);
}

/// PyTorch's `x.view(x.size(0), -1)` from value `in` to `out`: Shape -> Gather(0) -> Unsqueeze ->
/// Concat([-1]) -> Reshape (opset 13). `tag` is appended to every name it adds, so that a graph
/// can hold several.
inline void pytorch_view_flatten(model_builder& m, const std::string& in, const std::string& out, const std::string& tag = "") {
    m.int64_initializer("zero" + tag, {}, {0});
    m.int64_initializer("axes0" + tag, {1}, {0});
    m.int64_initializer("minus_one" + tag, {1}, {-1});
    m.node("Shape", {in}, {"s" + tag}, "shape" + tag);
    attr_i(m.node("Gather", {"s" + tag, "zero" + tag}, {"n" + tag}, "gather" + tag), "axis", 0);
    m.node("Unsqueeze", {"n" + tag, "axes0" + tag}, {"n1" + tag}, "unsqueeze" + tag);
    attr_i(m.node("Concat", {"n1" + tag, "minus_one" + tag}, {"target" + tag}, "concat" + tag), "axis", 0);
    m.node("Reshape", {in, "target" + tag}, {out}, "reshape" + tag);
}

/// tf2onnx's Flatten with a dynamic batch, from `in` to `out`: Shape -> Cast(INT32) -> Slice(0:1)
/// -> Cast(INT64) -> Concat([rest]) -> Reshape.
inline void tf2onnx_flatten(model_builder& m, const std::string& in, const std::string& out, std::int64_t rest,
                            const std::string& tag = "") {
    m.int64_initializer("starts" + tag, {1}, {0});
    m.int64_initializer("ends" + tag, {1}, {1});
    m.int64_initializer("axes" + tag, {1}, {0});
    m.int64_initializer("rest" + tag, {1}, {rest});
    m.node("Shape", {in}, {"s" + tag}, "shape" + tag);
    attr_i(m.node("Cast", {"s" + tag}, {"s32" + tag}, "cast_int32" + tag), "to", ::onnx::TensorProto::INT32);
    m.node("Slice", {"s32" + tag, "starts" + tag, "ends" + tag, "axes" + tag}, {"n" + tag}, "slice" + tag);
    attr_i(m.node("Cast", {"n" + tag}, {"n64" + tag}, "cast_int64" + tag), "to", ::onnx::TensorProto::INT64);
    attr_i(m.node("Concat", {"n64" + tag, "rest" + tag}, {"target" + tag}, "concat" + tag), "axis", 0);
    m.node("Reshape", {in, "target" + tag}, {out}, "reshape" + tag);
}

/// `b` with 1..max_flips random bits flipped (a fuzz mutation).
inline std::string flip_bits(std::string b, std::mt19937& rng, unsigned max_flips) {
    for (unsigned k = 1 + rng() % max_flips; k > 0; --k) b[rng() % b.size()] ^= static_cast<char>(1u << (rng() % 8));
    return b;
}

/// `n` values uniform in [lo, hi), from a fixed seed.
inline std::vector<float> random_values(std::size_t n, std::uint32_t seed, float lo = -1.f, float hi = 1.f) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = u(rng);
    return v;
}

/// A small convolutional network (Conv+BN+Relu, depthwise Conv, MaxPool, Add, GAP, Gemm,
/// Softmax) on a 1x3x16x16 input, random weights: a realistic few-KB model for the importer tests.
inline model_builder small_cnn(std::uint32_t seed = 7) {
    model_builder m(13, "small_cnn");
    m.input("x", {-1, 3, 16, 16});
    m.output("y", {-1, 5});
    m.initializer("w1", {8, 3, 3, 3}, random_values(8 * 27, seed));
    m.initializer("b1", {8}, random_values(8, seed + 1));
    m.initializer("bn_s", {8}, random_values(8, seed + 2, 0.5f, 1.5f));
    m.initializer("bn_b", {8}, random_values(8, seed + 3));
    m.initializer("bn_m", {8}, random_values(8, seed + 4));
    m.initializer("bn_v", {8}, random_values(8, seed + 5, 0.5f, 2.f), false);
    m.initializer("wd", {8, 1, 3, 3}, random_values(72, seed + 6));
    m.initializer("wf", {5, 8}, random_values(40, seed + 7));
    m.initializer("bf", {5}, random_values(5, seed + 8));
    auto* c = m.node("Conv", {"x", "w1", "b1"}, {"c1"}, "conv1");
    attr_ints(c, "kernel_shape", {3, 3});
    attr_ints(c, "pads", {1, 1, 1, 1});
    auto* bn = m.node("BatchNormalization", {"c1", "bn_s", "bn_b", "bn_m", "bn_v"}, {"b1o"}, "bn1");
    attr_f(bn, "epsilon", 1e-3f);
    m.node("Relu", {"b1o"}, {"r1"}, "relu1");
    auto* d = m.node("Conv", {"r1", "wd"}, {"d1"}, "dw1");
    attr_i(d, "group", 8);
    attr_ints(d, "kernel_shape", {3, 3});
    attr_ints(d, "pads", {1, 1, 1, 1});
    m.node("Add", {"d1", "r1"}, {"a1"}, "add1");
    auto* p = m.node("MaxPool", {"a1"}, {"p1"}, "pool1");
    attr_ints(p, "kernel_shape", {3, 3});
    attr_ints(p, "strides", {2, 2});
    attr_ints(p, "pads", {1, 1, 1, 1});
    m.node("GlobalAveragePool", {"p1"}, {"g1"}, "gap");
    auto* f = m.node("Flatten", {"g1"}, {"f1"}, "flatten");
    attr_i(f, "axis", 1);
    auto* gm = m.node("Gemm", {"f1", "wf", "bf"}, {"z"}, "fc");
    attr_i(gm, "transB", 1);
    auto* s = m.node("Softmax", {"z"}, {"y"}, "softmax");
    attr_i(s, "axis", 1);
    return m;
}

/// Runs f, which must throw ferx::error whose what() holds every one of `parts`.
inline void expect_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
    try {
        f();
        BOOST_ERROR("no ferx::error thrown; expected one saying: " << parts.front());
    } catch (const ferx::error& e) {
        const std::string what = e.what();
        for (const auto& p : parts)
            BOOST_CHECK_MESSAGE(what.find(p) != std::string::npos,
                                "error message '" << what << "' lacks '" << p << "'");
    }
}

inline std::filesystem::path model_dir() { return ferx_test::shared_dir() / "models" / "mini_xception"; }
inline std::filesystem::path mini_xception_file() {
    return model_dir() / "fer2013_mini_XCEPTION.102-0.66.onnx";
}
inline std::filesystem::path big_xception_file() { return model_dir() / "fer2013_big_XCEPTION.54-0.66.onnx"; }

/// A Boost.Test precondition: the shared mini-Xception models are present.
struct shared_models_present {
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
        boost::test_tools::assertion_result r(std::filesystem::is_regular_file(mini_xception_file()));
        r.message() << "shared models not found at '" << model_dir().string()
                    << "' (set FERX_SHARED_DIR); skipping the tests on the shipped models";
        return r;
    }
};

inline std::string read_bytes(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// The mini-Xception input of images paths[first, first + n): each read grey, resized to 64x64
/// with bilinear interpolation, scaled as (x / 255 - 0.5) * 2, packed NCHW (../shared/README.md).
inline std::vector<float> fer2013_input(const std::vector<std::string>& paths, std::size_t first, std::size_t n,
                                        int side = 64) {
    std::vector<float> out(n * side * side);
    for (std::size_t i = 0; i < n; ++i) {
        const cv::Mat grey = cv::imread(paths[first + i], cv::IMREAD_GRAYSCALE);
        BOOST_REQUIRE_MESSAGE(!grey.empty(), "cannot read " << paths[first + i]);
        cv::Mat resized;
        cv::resize(grey, resized, cv::Size(side, side), 0, 0, cv::INTER_LINEAR);
        float* dst = out.data() + i * side * side;
        for (int y = 0; y < side; ++y)
            for (int x = 0; x < side; ++x) dst[y * side + x] = (resized.at<std::uint8_t>(y, x) / 255.f - 0.5f) * 2.f;
    }
    return out;
}

/// `n` little-endian float32 values from `p` (the .f32 files make_fer_cnns.py and
/// make_op_cases.py write); a required check fails when the file is shorter.
inline std::vector<float> read_f32(const std::filesystem::path& p, std::int64_t n) {
    std::ifstream in(p, std::ios::binary);
    BOOST_REQUIRE_MESSAGE(in, "cannot open " << p);
    std::vector<float> v(static_cast<std::size_t>(n));
    in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n * 4));
    BOOST_REQUIRE_MESSAGE(in.gcount() == n * 4, p << " is shorter than its shape says");
    return v;
}

#ifdef FERX_TEST_PYTHON
/// A Boost.Test precondition: CMake found a Python with onnx, onnxruntime and numpy, the oracle of
/// the ONNX Runtime parity tests. (A plain function: GCC 12 warns on an empty functor object in a
/// suite decorator.)
inline boost::test_tools::assertion_result python_onnx_present(boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result r(std::string(FERX_TEST_PYTHON) != "");
    r.message() << "no Python with onnx, onnxruntime and numpy was found at configure time (set "
                   "FERX_PYTHON or run .ci/install-deps); skipping the ONNX Runtime parity tests";
    return r;
}
#endif

#if defined(FERX_TEST_PYTHON) && defined(FERX_TEST_OP_SCRIPT) && defined(FERX_TEST_ONNX_WORK_DIR)
/// Where make_op_cases.py writes its cases.
inline const std::filesystem::path& op_cases_dir() {
    static const std::filesystem::path dir = std::filesystem::path(FERX_TEST_ONNX_WORK_DIR) / "op_cases";
    return dir;
}
/// Runs make_op_cases.py once per test process, for every case it lists.
inline void generate_op_cases() {
    static bool done = false;
    if (done) return;
    std::filesystem::create_directories(op_cases_dir());
    const std::string cmd = std::string("\"") + FERX_TEST_PYTHON + "\" \"" + FERX_TEST_OP_SCRIPT + "\" --out \"" +
                            op_cases_dir().string() + "\"";
    BOOST_TEST_MESSAGE("running: " << cmd);
    BOOST_REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, "make_op_cases.py failed: " << cmd);
    done = true;
}
#endif

}  // namespace onnx_test
