// cnn_transfer: transfer learning on CK+48 as the FER theses do it. A CNN pretrained on FER2013
// (mini-Xception) describes each face by the values of a named layer; an SVM or a small dense head
// is then trained on those features, inside each fold of a subject-independent k-fold
// cross-validation (no subject, hence no sequence, in both training and test).
//
//   cnn_transfer [ckplus48 folder] [--model file.onnx] [--layers a,b] [--folds 10] [--epochs 100]
//                [--threads N]
//
// Defaults: ../shared/data/ckplus48, ../shared/models/mini_xception/
// fer2013_mini_XCEPTION.119-0.65_48x48.onnx (input 48x48, the CK+48 crops as given; a 64x64 model
// gets the crops resized), layers global_average_pooling2d_1_gap (the network's own global
// average pool: 7 values, the FER2013 logits) and add_4 (the last block's output, 128 channels,
// globally averaged here). Pixels are scaled (x/255 - 0.5) * 2. For each layer the program prints
// the fold-averaged accuracy (+- std over folds) and the fold-averaged mean per-class recall of
//  - linear SVM (C = 1) on standard-scaled features,
//  - RBF SVM (C = 10, gamma = 1 / d) on standard-scaled features,
//  - dense head: one hidden layer of 128 (ReLU), dropout 0.5, Adam (lr 1e-3), batch 32,
//    balanced class weights, standard-scaled features, seed 1.
// Scalers and classifiers are fitted on each fold's training subjects only.
#include <ferx/data/ckplus.hpp>
#include <ferx/data/image_list.hpp>
#include <ferx/learn/dense_head.hpp>
#include <ferx/learn/evaluate.hpp>
#include <ferx/learn/kernel_svm.hpp>
#include <ferx/learn/linear_svm.hpp>
#include <ferx/learn/scaling.hpp>
#include <ferx/nn/features.hpp>
#include <ferx/nn/onnx.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

template <class M>
struct scaled_model {
    ferx::standard_scaler scaler;
    M model;
};

template <class Fit>
ferx::evaluation run(const xt::xtensor<float, 2>& x, const ferx::image_batch& data, const std::vector<ferx::fold>& folds,
                     Fit&& fit_model) {
    auto fit = [&](const auto& pol, const xt::xtensor<float, 2>& xtr, const ferx::label_vector& ytr) {
        const auto sc = ferx::fit_standard_scaler(xtr);
        auto model = fit_model(pol, ferx::transform(pol, sc, xtr), ytr);
        return scaled_model<decltype(model)>{sc, std::move(model)};
    };
    auto predict = [&](const auto& pol, const auto& m, const xt::xtensor<float, 2>& xte) {
        return ferx::predict(pol, m.model, ferx::transform(pol, m.scaler, xte));
    };
    return ferx::evaluate_features(ferx::exec::par, x, data.labels, folds, data.classes, fit, predict);
}

}  // namespace

int main(int argc, char** argv) try {
    std::filesystem::path dir = "../shared/data/ckplus48";
    std::string model = "../shared/models/mini_xception/fer2013_mini_XCEPTION.119-0.65_48x48.onnx";
    std::vector<std::string> layers{"global_average_pooling2d_1_gap", "add_4"};
    std::size_t n_folds = 10, epochs = 100;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const bool has_value = i + 1 < argc;
        if (a == "--model" && has_value) model = argv[++i];
        else if (a == "--layers" && has_value) {
            layers.clear();
            std::stringstream ss(argv[++i]);
            for (std::string l; std::getline(ss, l, ',');) layers.push_back(l);
        } else if (a == "--folds" && has_value) n_folds = std::stoul(argv[++i]);
        else if (a == "--epochs" && has_value) epochs = std::stoul(argv[++i]);
        else if (a.rfind("--", 0) == 0) throw ferx::error("cnn_transfer", "unknown option " + a);
        else dir = a;
    }
    const ferx::nn::graph g = ferx::nn::load_onnx(model);
    if (g.inputs.size() != 1 || g.inputs[0].shape.size() != 4)
        throw ferx::error("cnn_transfer", "expected one NCHW input", model);
    const int rows = static_cast<int>(g.inputs[0].shape[2]), cols = static_cast<int>(g.inputs[0].shape[3]);
    const auto data = ferx::load(ferx::ckplus48(dir), {rows, cols, true});
    const auto input = ferx::nn::grey_input(data.images);
    const auto folds = ferx::group_kfold(data.groups, n_folds);
    std::cout << data.size() << " CK+48 images, " << data.classes.size() << " classes, " << n_folds
              << "-fold subject-independent; model " << std::filesystem::path(model).filename().string() << " (" << rows
              << "x" << cols << " input)\n\n";
    std::printf("| layer (features) | classifier | accuracy (fold mean +- std) | mean recall (fold mean) |\n");
    std::printf("|---|---|---|---|\n");
    for (const auto& layer : layers) {
        const auto t0 = std::chrono::steady_clock::now();
        const auto x = ferx::nn::extract_features(ferx::exec::par, g, layer, input,
                                                  {64, ferx::nn::feature_pooling::global_average});
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::fprintf(stderr, "%s: %zu features per image, extracted in %.2f s\n", layer.c_str(), x.shape(1), secs);
        const std::string name = layer + " (" + std::to_string(x.shape(1)) + ")";
        const auto row = [&](const char* clf, const ferx::evaluation& r) {
            std::printf("| %s | %s | %.1f %% +- %.1f | %.1f %% |\n", name.c_str(), clf, 100 * r.mean_accuracy(),
                        100 * r.fold_std(&ferx::confusion_matrix::accuracy), 100 * r.mean_recall());
            std::fflush(stdout);
        };
        row("linear SVM", run(x, data, folds, [](const auto& pol, const auto& xs, const auto& y) {
                ferx::linear_svm_params p;
                p.C = 1;
                return ferx::fit_linear_svm(pol, xs, y, p);
            }));
        row("RBF SVM", run(x, data, folds, [](const auto& pol, const auto& xs, const auto& y) {
                ferx::svc_params p;
                p.C = 10;
                return ferx::fit_svc(pol, ferx::rbf_kernel{1.0 / static_cast<double>(xs.shape(1))}, xs, y, p);
            }));
        const int k = static_cast<int>(data.classes.size());
        row("dense head 128", run(x, data, folds, [&](const auto& pol, const auto& xs, const auto& y) {
                ferx::dense_head_params p;
                p.epochs = epochs;
                p.n_classes = k;
                p.class_weight = ferx::balanced_class_weights(y, k);
                return ferx::fit_dense_head(pol, xs, y, p);
            }));
    }
    return 0;
} catch (const std::exception& e) {
    std::cerr << "cnn_transfer: " << e.what() << "\n";
    return 1;
}
