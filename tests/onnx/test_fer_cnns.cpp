// The CNN architectures of the FER theses (BKStart, BKVGG12, ResNet-18, DenseNet-121, VGG16),
// written as ONNX graphs with random weights by make_fer_cnns.py at test time, run by ferx
// (importer + session) and compared with ONNX Runtime's outputs that the script saved:
// logits and softmax scores, max |ferx - ort| <= 1e-4 * max(1, max |ort|). Two small CNNs with the
// flatten heads the exporters write (PyTorch's Shape -> Gather -> Unsqueeze -> Concat -> Reshape,
// tf2onnx's Reshape with the batch hard-coded as 1) run at batch 1 and at larger batches in one
// session.
// Skipped with a message where no Python with onnx, onnxruntime and numpy was found.
#include "onnx_test.hpp"

#include <ferx/core/execution.hpp>
#include <ferx/nn/session.hpp>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fn = ferx::nn;
namespace fs = std::filesystem;

namespace {

using onnx_test::python_onnx_present;
using onnx_test::read_f32;

struct named_tensor {
    std::string name;
    fn::shape_t shape;
    std::vector<float> data;
};

/// Generates `model` with make_fer_cnns.py for `batch` samples and reads back the input and ONNX
/// Runtime's outputs.
std::vector<named_tensor> generate(const std::string& model, std::int64_t batch = 1) {
    const fs::path dir = FERX_TEST_ONNX_WORK_DIR;
    fs::create_directories(dir);
    const std::string cmd = std::string("\"") + FERX_TEST_PYTHON + "\" \"" + FERX_TEST_ONNX_SCRIPT + "\" --out \"" +
                            dir.string() + "\" --models " + model + " --batch " + std::to_string(batch);
    BOOST_TEST_MESSAGE("running: " << cmd);
    BOOST_REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, "make_fer_cnns.py failed: " << cmd);
    const std::string stem = batch == 1 ? model : model + "_b" + std::to_string(batch);
    std::ifstream manifest(dir / (stem + ".txt"));
    std::vector<named_tensor> out;
    for (std::string line; std::getline(manifest, line);) {
        std::istringstream is(line);
        named_tensor t;
        is >> t.name;
        for (std::int64_t d; is >> d;) t.shape.push_back(d);
        t.data = read_f32(dir / (stem + "." + t.name + ".f32"), fn::element_count(t.shape));
        out.push_back(std::move(t));
    }
    BOOST_REQUIRE_EQUAL(out.size(), 3u);  // input, logits, scores
    return out;
}

template <class Policy>
void check_against_ort(const char* policy_name, const Policy& policy, fn::session& s,
                       const std::vector<named_tensor>& t) {
    const auto start = std::chrono::steady_clock::now();
    const auto out = s.run(policy, {{t[0].data.data(), t[0].shape}});
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    BOOST_REQUIRE_EQUAL(out.size(), 2u);
    for (std::size_t k = 0; k < 2; ++k) {
        const named_tensor& want = t[k + 1];
        BOOST_TEST_INFO(policy_name << " output " << want.name);
        BOOST_TEST(out[k].shape == want.shape, boost::test_tools::per_element());
        BOOST_REQUIRE_EQUAL(out[k].element_count(), static_cast<std::int64_t>(want.data.size()));
        double diff = 0, scale = 1;
        for (std::size_t i = 0; i < want.data.size(); ++i) {
            diff = std::max(diff, double(std::fabs(out[k].data[i] - want.data[i])));
            scale = std::max(scale, double(std::fabs(want.data[i])));
        }
        BOOST_TEST_MESSAGE(policy_name << " " << want.name << ": max |ferx - onnxruntime| / max(1, max |ort|) = "
                                       << diff / scale << " (" << ms << " ms)");
        BOOST_TEST(diff / scale <= 1e-4);
    }
}

/// Generates, loads, compiles and runs `model` on exec::par, and on exec::seq where `with_seq`,
/// at each batch size in turn with one session (the file is the same for every batch size).
void check_model(const std::string& model, bool with_seq, const std::vector<std::int64_t>& batches = {1}) {
    const fs::path file = fs::path(FERX_TEST_ONNX_WORK_DIR) / (model + ".onnx");
    auto t = generate(model, batches.front());
    fn::session s(fn::load_onnx(file));
    const auto mem = s.memory();
    BOOST_TEST_MESSAGE(model << ": " << s.step_count() << " steps, weights " << mem.weights_bytes / 1e6 << " MB");
    for (std::size_t b = 0; b < batches.size(); ++b) {
        if (b > 0) t = generate(model, batches[b]);
        BOOST_TEST_CONTEXT("batch " << batches[b]) {
            if (with_seq) check_against_ort("seq", ferx::exec::seq, s, t);
            check_against_ort("par", ferx::exec::par, s, t);
        }
    }
    // Generated files are large (VGG16: about 530 MB): removed once compared.
    std::error_code ec;
    fs::remove(file, ec);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(onnx_fer_cnns, *boost::unit_test::precondition(python_onnx_present))

BOOST_AUTO_TEST_CASE(bkstart_equals_onnxruntime) { check_model("bkstart", true); }
BOOST_AUTO_TEST_CASE(bkvgg12_equals_onnxruntime) { check_model("bkvgg12", true); }
BOOST_AUTO_TEST_CASE(resnet18_equals_onnxruntime, *boost::unit_test::label("heavy")) { check_model("resnet18", true); }
BOOST_AUTO_TEST_CASE(densenet121_equals_onnxruntime, *boost::unit_test::label("heavy")) {
    check_model("densenet121", true);
}
BOOST_AUTO_TEST_CASE(vgg16_equals_onnxruntime, *boost::unit_test::label("heavy")) { check_model("vgg16", false); }
BOOST_AUTO_TEST_CASE(pytorch_view_flatten_equals_onnxruntime_at_batches_1_and_5) {
    check_model("pytorch_view", true, {1, 5, 1});
}
BOOST_AUTO_TEST_CASE(keras_batch1_reshape_equals_onnxruntime_at_batches_1_and_4) {
    check_model("keras_batch1", true, {1, 4});
}

BOOST_AUTO_TEST_SUITE_END()
