// Transfer learning (ferx/nn/features.hpp + ferx/learn/dense_head.hpp) on the shipped
// mini-Xception and CK+48: features of a named layer equal the network's own values whatever
// the chunking and policy, pooling here equals the network's GlobalAveragePool, a bad layer name
// is refused naming the model and the candidates; and (heavy) an SVM and a dense head trained on
// the features of one fixed subject-independent split reach floors set from a measurement.
#include <ferx/data/ckplus.hpp>
#include <ferx/data/image_list.hpp>
#include <ferx/learn/dense_head.hpp>
#include <ferx/learn/linear_svm.hpp>
#include <ferx/learn/metrics.hpp>
#include <ferx/learn/scaling.hpp>
#include <ferx/learn/splits.hpp>
#include <ferx/nn/features.hpp>
#include <ferx/nn/onnx.hpp>

#include <boost/test/unit_test.hpp>

#include "onnx_test.hpp"

#include <cmath>
#include <filesystem>
#include <numeric>
#include <string>

namespace fs = std::filesystem;

namespace {

fs::path model_48() { return onnx_test::model_dir() / "fer2013_mini_XCEPTION.119-0.65_48x48.onnx"; }
fs::path ckplus_dir() { return ferx_test::shared_dir() / "data" / "ckplus48"; }

boost::test_tools::assertion_result ckplus_and_model_present(boost::unit_test::test_unit_id) {
    const bool ok = fs::is_regular_file(model_48()) && fs::is_regular_file(ckplus_dir() / "index.csv");
    boost::test_tools::assertion_result r(ok);
    r.message() << "CK+48 or the 48x48 mini-Xception not found under '" << ferx_test::shared_dir().string()
                << "' (set FERX_SHARED_DIR); skipping the transfer-learning tests";
    return r;
}

/// The first n CK+48 crops as mini-Xception input [n, 1, 48, 48].
xt::xtensor<float, 4> ckplus_input(std::size_t n) {
    std::vector<std::size_t> first(n);
    std::iota(first.begin(), first.end(), std::size_t{0});
    return ferx::nn::grey_input(ferx::load(ferx::subset(ferx::ckplus48(ckplus_dir()), first)).images);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(onnx_transfer, *boost::unit_test::precondition(ckplus_and_model_present))

BOOST_AUTO_TEST_CASE(features_equal_the_networks_values) {
    const auto g = ferx::nn::load_onnx(model_48());
    const auto input = ckplus_input(21);
    // The network's own GAP output [n, 7, 1, 1], read once from a session on the whole batch.
    ferx::nn::session s(g, {true, true, {"global_average_pooling2d_1_gap", "conv2d_7"}});
    const auto out = s.run(ferx::exec::seq, {{input.data(), {21, 1, 48, 48}}});
    BOOST_TEST(out[0].shape == (ferx::nn::shape_t{21, 7}), boost::test_tools::per_element());
    const auto gap = ferx::nn::extract_features(ferx::exec::seq, g, "global_average_pooling2d_1_gap", input, {5});
    BOOST_REQUIRE(gap.shape(0) == 21u);
    BOOST_REQUIRE(gap.shape(1) == 7u);
    // Chunks of 5 (the last of 1) under seq, chunks of 8 under par, and one run of 21 agree.
    const auto gap_par = ferx::nn::extract_features(ferx::exec::par, s, "global_average_pooling2d_1_gap", input, {8});
    const auto whole = ferx::nn::extract_features(ferx::exec::seq, s, "global_average_pooling2d_1_gap", input, {64});
    double worst = 0;
    for (std::size_t i = 0; i < gap.size(); ++i) {
        worst = std::max(worst, static_cast<double>(std::abs(gap.data()[i] - whole.data()[i])));
        worst = std::max(worst, static_cast<double>(std::abs(gap_par.data()[i] - whole.data()[i])));
    }
    BOOST_TEST(worst < 1e-5, "chunked vs whole-batch features differ by " << worst);
    // The softmax of the GAP features is the network's output.
    s.run(ferx::exec::seq, {{input.data(), {21, 1, 48, 48}}});
    const auto scores = s.value("predictions");
    for (std::size_t i = 0; i < 21; ++i) {
        double zmax = -1e30, sum = 0;
        for (std::size_t k = 0; k < 7; ++k) zmax = std::max(zmax, static_cast<double>(whole(i, k)));
        for (std::size_t k = 0; k < 7; ++k) sum += std::exp(whole(i, k) - zmax);
        for (std::size_t k = 0; k < 7; ++k)
            BOOST_TEST(std::abs(std::exp(whole(i, k) - zmax) / sum - scores.data[i * 7 + k]) < 1e-5);
    }
    // Averaging conv2d_7 [n, 7, 6, 6] here equals the network's GlobalAveragePool.
    const auto pooled = ferx::nn::extract_features(ferx::exec::seq, s, "conv2d_7", input,
                                                   {16, ferx::nn::feature_pooling::global_average});
    const auto flat = ferx::nn::extract_features(ferx::exec::seq, s, "conv2d_7", input, {16});
    BOOST_TEST(flat.shape(1) == 7u * 36u);
    BOOST_REQUIRE(pooled.shape(1) == 7u);
    worst = 0;
    for (std::size_t i = 0; i < pooled.size(); ++i)
        worst = std::max(worst, static_cast<double>(std::abs(pooled.data()[i] - whole.data()[i])));
    BOOST_TEST(worst < 1e-5, "pooled conv2d_7 vs the network's GAP: " << worst);
}

BOOST_AUTO_TEST_CASE(bad_layer_and_input) {
    const auto g = ferx::nn::load_onnx(model_48());
    const auto input = ckplus_input(2);
    try {
        ferx::nn::extract_features(ferx::exec::seq, g, "no_such_layer", input);
        BOOST_ERROR("no error for an unknown layer");
    } catch (const ferx::error& e) {
        BOOST_TEST(e.file() == model_48().string());
        const std::string what = e.what();
        BOOST_TEST(what.find("no_such_layer") != std::string::npos, what);
        BOOST_TEST(what.find("add_4") != std::string::npos, what);  // a candidate listed
    }
    ferx::nn::session s(g);  // keeps nothing: a known but not kept layer is refused by the session
    try {
        ferx::nn::extract_features(ferx::exec::seq, s, "add_4", input);
        BOOST_ERROR("no error for a layer the session does not keep");
    } catch (const ferx::error& e) {
        BOOST_TEST(std::string(e.what()).find("not kept") != std::string::npos, e.what());
    }
    auto nan_input = input;
    nan_input(1, 0, 3, 3) = std::nanf("");
    BOOST_CHECK_THROW(ferx::nn::extract_features(ferx::exec::seq, g, "add_4", nan_input), ferx::error);
    BOOST_CHECK_THROW(ferx::nn::extract_features(ferx::exec::seq, g, "add_4", input, {0}), ferx::error);
}

// One fixed subject-independent split (fold 0 of ferx::group_kfold(subjects, 10): 99 images held
// out), features of add_4 globally averaged (128), standard scaling fitted on the training part.
// Measured (release, GCC 12): linear SVM 0.808 (80/99), dense head 0.838 (83/99); the floors
// leave 5 images of room for other compilers and libraries, not for a broken pipeline (the
// largest class alone is 0.25 of CK+48).
BOOST_AUTO_TEST_CASE(ckplus_fixed_split_floors, *boost::unit_test::label("heavy")) {
    const auto g = ferx::nn::load_onnx(model_48());
    const auto data = ferx::load(ferx::ckplus48(ckplus_dir()));
    const auto x = ferx::nn::extract_features(ferx::exec::par, g, "add_4", ferx::nn::grey_input(data.images),
                                              {64, ferx::nn::feature_pooling::global_average});
    BOOST_REQUIRE(x.shape(1) == 128u);
    const auto f = ferx::group_kfold(data.groups, 10)[0];
    const auto xtr_raw = ferx::take_rows(x, f.train);
    const auto sc = ferx::fit_standard_scaler(xtr_raw);
    const auto xtr = ferx::transform(ferx::exec::par, sc, xtr_raw);
    const auto xte = ferx::transform(ferx::exec::par, sc, ferx::take_rows(x, f.test));
    const auto ytr = ferx::take(data.labels, f.train), yte = ferx::take(data.labels, f.test);

    const auto svm = ferx::fit_linear_svm(ferx::exec::par, xtr, ytr, ferx::linear_svm_params{});
    const double svm_acc = ferx::confusion_matrix(yte, ferx::predict(ferx::exec::par, svm, xte), 7).accuracy();
    ferx::dense_head_params p;
    p.n_classes = 7;
    p.class_weight = ferx::balanced_class_weights(ytr, 7);
    const auto head = ferx::fit_dense_head(ferx::exec::seq, xtr, ytr, p);
    const double head_acc = ferx::confusion_matrix(yte, ferx::predict(ferx::exec::par, head, xte), 7).accuracy();
    BOOST_TEST_MESSAGE("CK+48 fold 0 of 10 (" << f.test.size() << " test images): linear SVM " << svm_acc
                                                 << ", dense head " << head_acc);
    BOOST_TEST(svm_acc >= 0.75);
    BOOST_TEST(head_acc >= 0.78);
}

BOOST_AUTO_TEST_SUITE_END()
