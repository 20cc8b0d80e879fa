// EfficientGCN-B0 (NTU-60 X-sub), both ONNX forms (plain: opset 13, basic ops; einsum: opset 17,
// the model as written, with Einsum, HardSwish, ReduceMean, Slice of live data and a 3-D Conv),
// through the importer and the session: PyTorch's reference logits within 1e-4 and feature map within 1e-3 (top 1
// "drink water"), par equal to seq, batch 3 equal sample by sample to batch 1, and the input
// built from the raw .skeleton by ferx's reader and preprocessing giving the same logits.
#include <ferx/data/skeleton_input.hpp>
#include <ferx/nn/onnx.hpp>
#include <ferx/nn/session.hpp>

#include "ferx_test.hpp"
#include "npy.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <vector>

namespace {

namespace fs = std::filesystem;

fs::path effgcn_dir() { return ferx_test::shared_dir() / "models" / "efficientgcn"; }
fs::path plain_file() { return effgcn_dir() / "effgcn_b0_ntu60_xsub_plain_dynbatch.onnx"; }
fs::path einsum_file() { return effgcn_dir() / "effgcn_b0_ntu60_xsub_einsum_dynbatch.onnx"; }
fs::path sample_file() { return ferx_test::shared_dir() / "data" / "skeleton" / "ntu" / "S001C001P001R001A001.skeleton"; }

const ferx::nn::shape_t input_sample = {3, 6, 288, 25, 2};
constexpr std::size_t sample_floats = 3 * 6 * 288 * 25 * 2;
constexpr std::size_t classes = 60, feature_floats = 128 * 72 * 25 * 2;

double max_abs_diff(const float* a, const float* b, std::size_t n) {
    double d = 0;
    for (std::size_t i = 0; i < n; ++i) d = std::max(d, std::abs(double(a[i]) - b[i]));
    return d;
}

struct outputs {
    std::vector<float> logits, feature;
};

template <class Policy>
outputs run(const Policy& policy, ferx::nn::session& s, const std::vector<float>& x, std::int64_t n) {
    ferx::nn::shape_t shape = {n};
    shape.insert(shape.end(), input_sample.begin(), input_sample.end());
    s.run(policy, {{x.data(), shape}});
    const auto l = s.value("logits"), f = s.value("feature");
    const ferx::nn::shape_t want_l = {n, 60}, want_f = {n, 128, 72, 25, 2};
    BOOST_TEST(l.shape == want_l, boost::test_tools::per_element());
    BOOST_TEST(f.shape == want_f, boost::test_tools::per_element());
    return {{l.data, l.data + l.element_count()}, {f.data, f.data + f.element_count()}};
}

std::size_t top1(const float* logits) { return static_cast<std::size_t>(std::max_element(logits, logits + classes) - logits); }

}  // namespace

BOOST_AUTO_TEST_SUITE(onnx_efficientgcn, *boost::unit_test::precondition(ferx_test::file_present{
                                             plain_file(), "EfficientGCN-B0 (../shared/models/efficientgcn)"}))

void check_against_pytorch(const fs::path& file, const char* form) {
    const auto x = ferx_test::load_npy(effgcn_dir() / "input_S001C001P001R001A001.npy");
    const auto ref_l = ferx_test::load_npy(effgcn_dir() / "ref_logits.npy");
    const auto ref_f = ferx_test::load_npy(effgcn_dir() / "ref_feature.npy");
    BOOST_TEST_REQUIRE(x.values.size() == sample_floats);
    BOOST_TEST_REQUIRE(ref_l.values.size() == classes);
    BOOST_TEST_REQUIRE(ref_f.values.size() == feature_floats);

    ferx::nn::session s(ferx::nn::load_onnx(file));
    const auto seq = run(ferx::exec::seq, s, x.values, 1);
    const double dl = max_abs_diff(seq.logits.data(), ref_l.values.data(), classes);
    const double df = max_abs_diff(seq.feature.data(), ref_f.values.data(), feature_floats);
    BOOST_TEST_MESSAGE("EfficientGCN-B0 " << form << ", seq: max |logits - ref| " << dl << ", max |feature - ref| " << df);
    BOOST_TEST(dl <= 1e-4);
    BOOST_TEST(df <= 1e-3);
    BOOST_TEST(top1(seq.logits.data()) == 0u);  // A001 "drink water"

    const auto par = run(ferx::exec::par, s, x.values, 1);
    BOOST_TEST(par.logits == seq.logits, boost::test_tools::per_element());
    BOOST_TEST(max_abs_diff(par.feature.data(), seq.feature.data(), feature_floats) == 0.0);
}

BOOST_AUTO_TEST_CASE(plain_form_matches_pytorch) { check_against_pytorch(plain_file(), "plain"); }

BOOST_AUTO_TEST_CASE(einsum_form_matches_pytorch,
                     *boost::unit_test::precondition(ferx_test::file_present{einsum_file(), "the EfficientGCN einsum form"})) {
    check_against_pytorch(einsum_file(), "einsum");
}

BOOST_AUTO_TEST_CASE(input_from_the_raw_skeleton_gives_the_same_logits,
                     *boost::unit_test::precondition(ferx_test::file_present{sample_file(), "the NTU sample .skeleton"})) {
    const auto x = ferx::efficientgcn_input(ferx::load_ntu_skeleton(sample_file()));
    const std::vector<float> built(x.begin(), x.end());
    const auto npy = ferx_test::load_npy(effgcn_dir() / "input_S001C001P001R001A001.npy");
    const auto ref_l = ferx_test::load_npy(effgcn_dir() / "ref_logits.npy");
    ferx::nn::session s(ferx::nn::load_onnx(plain_file()));
    const auto from_raw = run(ferx::exec::par, s, built, 1);
    const auto from_npy = run(ferx::exec::par, s, npy.values, 1);
    const double d_ref = max_abs_diff(from_raw.logits.data(), ref_l.values.data(), classes);
    const double d_npy = max_abs_diff(from_raw.logits.data(), from_npy.logits.data(), classes);
    BOOST_TEST_MESSAGE("EfficientGCN-B0 on ferx's own input: max |logits - ref| " << d_ref << ", vs the .npy input "
                                                                                 << d_npy);
    BOOST_TEST(d_ref <= 1e-4);
    BOOST_TEST(d_npy <= 1e-4);
    BOOST_TEST(top1(from_raw.logits.data()) == 0u);
}

void check_batch_3(const fs::path& file) {
    // Three different samples: the reference input, the same at half scale, and ferx's own input.
    const auto npy = ferx_test::load_npy(effgcn_dir() / "input_S001C001P001R001A001.npy");
    std::vector<std::vector<float>> samples(3, npy.values);
    for (auto& v : samples[1]) v *= 0.5f;
    if (fs::exists(sample_file())) {
        const auto x = ferx::efficientgcn_input(ferx::load_ntu_skeleton(sample_file()));
        samples[2].assign(x.begin(), x.end());
    }
    std::vector<float> batch;
    for (const auto& v : samples) batch.insert(batch.end(), v.begin(), v.end());

    ferx::nn::session s(ferx::nn::load_onnx(file));
    const auto b3 = run(ferx::exec::par, s, batch, 3);
    const auto ref_l = ferx_test::load_npy(effgcn_dir() / "ref_logits.npy");
    for (std::size_t k = 0; k < 3; ++k) {
        BOOST_TEST_CONTEXT("sample " << k) {
            const auto b1 = run(ferx::exec::seq, s, samples[k], 1);
            const double dl = max_abs_diff(b3.logits.data() + k * classes, b1.logits.data(), classes);
            const double df = max_abs_diff(b3.feature.data() + k * feature_floats, b1.feature.data(), feature_floats);
            BOOST_TEST_MESSAGE("batch 3 vs batch 1, sample " << k << ": max |logits diff| " << dl << ", |feature diff| " << df);
            BOOST_TEST(dl == 0.0);
            BOOST_TEST(df == 0.0);
        }
    }
    BOOST_TEST(max_abs_diff(b3.logits.data(), ref_l.values.data(), classes) <= 1e-4);
    BOOST_TEST(max_abs_diff(b3.logits.data() + 2 * classes, ref_l.values.data(), classes) <= 1e-4);
    // The half-scale sample is another input: other logits.
    BOOST_TEST(max_abs_diff(b3.logits.data() + classes, b3.logits.data(), classes) > 1e-2);
}

BOOST_AUTO_TEST_CASE(batch_3_equals_batch_1_sample_by_sample, *boost::unit_test::label("heavy")) {
    check_batch_3(plain_file());
}

BOOST_AUTO_TEST_CASE(einsum_form_batch_3_equals_batch_1, *boost::unit_test::label("heavy") *
                     boost::unit_test::precondition(ferx_test::file_present{einsum_file(), "the EfficientGCN einsum form"})) {
    check_batch_3(einsum_file());
}

BOOST_AUTO_TEST_SUITE_END()
