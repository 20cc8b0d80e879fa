// cnn_lstm: the CNN-LSTM of the FER theses on CK+48 sequences. A CNN pretrained on FER2013
// (mini-Xception) describes every frame by a named layer's values; a sequence head (LSTM or
// GRU, then dropout and dense layers, ferx/learn/sequence_head.hpp) is trained in ferx on the
// clips of per-frame features, inside each fold of a subject-independent k-fold
// cross-validation over the sequences (no subject in both training and test).
//
//   cnn_lstm [ckplus48 folder] [--model file.onnx] [--layers a,b] [--folds 10] [--epochs 100]
//            [--hidden 108] [--dense 256] [--onnx head.onnx]
//
// Defaults: ../shared/data/ckplus48 (327 sequences of 3 frames, 118 subjects),
// ../shared/models/mini_xception/fer2013_mini_XCEPTION.119-0.65_48x48.onnx, layers
// global_average_pooling2d_1_gap (7 values, the FER2013 logits) and add_4 (128 channels,
// globally averaged). Pixels (x/255 - 0.5) * 2; features standard-scaled with a scaler fitted on
// each fold's training frames. Per layer the program prints, per sequence, the fold-averaged
// accuracy (+- std over folds) and mean per-class recall of
//  - CNN-LSTM: LSTM(hidden) -> dropout 0.5 -> FC dense (ReLU) -> dropout 0.5 -> FC 7, Adam
//    (lr 1e-3), batch 16, balanced class weights, gradient norm clipped at 5, seed 1 (seed C's
//    head: LSTM(108) -> dropout -> FC256 -> FC3),
//  - CNN-GRU: the same with a GRU,
//  - frame-level baselines on the same folds: a linear SVM (C = 1) on single frames, its clip
//    decision the majority vote of the clip's frames (ties to the lower class), and a linear SVM
//    on the clip's mean feature.
// --onnx writes the last fold's LSTM head of the last layer as an ONNX file (input "sequence"
// [N, T, d], outputs "logits", "probabilities"): the scaled features go in.
#include <ferx/data/ckplus.hpp>
#include <ferx/data/image_list.hpp>
#include <ferx/learn/evaluate.hpp>
#include <ferx/learn/linear_svm.hpp>
#include <ferx/learn/scaling.hpp>
#include <ferx/learn/sequence_head.hpp>
#include <ferx/learn/splits.hpp>
#include <ferx/nn/features.hpp>
#include <ferx/nn/onnx.hpp>
#include <ferx/nn/onnx_export.hpp>
#include <ferx/pipeline/video_vote.hpp>

#include "cli_args.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

/// The frames (row indices into the feature matrix) of each sequence in frame order, and each
/// sequence's label and subject.
struct sequences {
    std::vector<std::vector<std::size_t>> rows;
    ferx::label_vector labels;
    std::vector<int> subjects;
};

sequences group_sequences(const ferx::image_batch& data) {
    if (data.sequences.size() != data.size() || data.frames.size() != data.size())
        throw ferx::error("cnn_lstm", "the dataset has no sequence and frame numbers (a CK+48 index.csv is needed)");
    std::map<int, std::vector<std::size_t>> by_id;
    for (std::size_t i = 0; i < data.size(); ++i) by_id[data.sequences[i]].push_back(i);
    sequences s;
    for (auto& kv : by_id) {
        auto& r = kv.second;
        std::sort(r.begin(), r.end(), [&](std::size_t a, std::size_t b) { return data.frames[a] < data.frames[b]; });
        s.labels.push_back(data.labels[r.front()]);
        s.subjects.push_back(data.groups[r.front()]);
        s.rows.push_back(r);
    }
    return s;
}

/// All frame rows of the sequences `which`, in order.
std::vector<std::size_t> frame_rows(const sequences& s, const std::vector<std::size_t>& which) {
    std::vector<std::size_t> out;
    for (std::size_t q : which) out.insert(out.end(), s.rows[q].begin(), s.rows[q].end());
    return out;
}

/// The scaled features of sequences `which`, one [T, d] clip each.
std::vector<xt::xtensor<float, 2>> clips_of(const sequences& s, const std::vector<std::size_t>& which,
                                            const xt::xtensor<float, 2>& x, const ferx::standard_scaler& sc) {
    std::vector<xt::xtensor<float, 2>> out;
    for (std::size_t q : which) out.push_back(ferx::transform(ferx::exec::seq, sc, ferx::take_rows(x, s.rows[q])));
    return out;
}

/// Each sequence's mean scaled feature, one row per sequence of `which`.
xt::xtensor<float, 2> clip_means(const sequences& s, const std::vector<std::size_t>& which, const xt::xtensor<float, 2>& x,
                                 const ferx::standard_scaler& sc) {
    xt::xtensor<float, 2> out({which.size(), x.shape(1)});
    out.fill(0.f);
    const auto clips = clips_of(s, which, x, sc);
    for (std::size_t i = 0; i < clips.size(); ++i) {
        for (std::size_t t = 0; t < clips[i].shape(0); ++t)
            for (std::size_t j = 0; j < x.shape(1); ++j) out(i, j) += clips[i](t, j);
        for (std::size_t j = 0; j < x.shape(1); ++j) out(i, j) /= static_cast<float>(clips[i].shape(0));
    }
    return out;
}

template <class M>
struct scaled {
    ferx::standard_scaler scaler;
    M model;
};

}  // namespace

int main(int argc, char** argv) try {
    std::filesystem::path dir = "../shared/data/ckplus48";
    std::string model = "../shared/models/mini_xception/fer2013_mini_XCEPTION.119-0.65_48x48.onnx", onnx_out;
    std::vector<std::string> layers{"global_average_pooling2d_1_gap", "add_4"};
    std::size_t n_folds = 10, epochs = 100, hidden = 108, dense = 256;
    ferx_examples::cli_args args(argc, argv, "see cnn_lstm --help");
    while (args.next()) {
        const std::string& a = args.arg();
        if (a == "--model") model = args.value();
        else if (a == "--layers") {
            layers.clear();
            std::stringstream ss(args.value());
            for (std::string l; std::getline(ss, l, ',');) layers.push_back(l);
        } else if (a == "--folds") n_folds = static_cast<std::size_t>(args.whole(2));
        else if (a == "--epochs") epochs = static_cast<std::size_t>(args.whole(1));
        else if (a == "--hidden") hidden = static_cast<std::size_t>(args.whole(1));
        else if (a == "--dense") dense = static_cast<std::size_t>(args.whole(1));
        else if (a == "--onnx") onnx_out = args.value();
        else if (a == "--help" || a == "-h") {
            std::cout << "usage: cnn_lstm [ckplus48 folder] [--model file.onnx] [--layers a,b] [--folds 10] [--epochs 100]\n"
                         "                [--hidden 108] [--dense 256] [--onnx head.onnx]\n";
            return 0;
        } else if (args.is_option()) args.fail("unknown option " + a);
        else dir = a;
    }
    const ferx::nn::graph g = ferx::nn::load_onnx(model);
    if (g.inputs.size() != 1 || g.inputs[0].shape.size() != 4) throw ferx::error("cnn_lstm", "expected one NCHW input", model);
    const int rows = static_cast<int>(g.inputs[0].shape[2]), cols = static_cast<int>(g.inputs[0].shape[3]);
    const auto data = ferx::load(ferx::ckplus48(dir), {rows, cols, true});
    const auto input = ferx::nn::grey_input(data.images);
    const sequences seqs = group_sequences(data);
    const auto folds = ferx::group_kfold(seqs.subjects, n_folds);
    const int k = static_cast<int>(data.classes.size());
    std::cout << seqs.rows.size() << " CK+48 sequences (" << data.size() << " frames), " << k << " classes, " << n_folds
              << "-fold subject-independent over sequences; model " << std::filesystem::path(model).filename().string()
              << " (" << rows << "x" << cols << " input)\n\n";
    std::printf("| layer (features) | classifier | accuracy per sequence (fold mean +- std) | mean recall (fold mean) | fit s (all folds) |\n");
    std::printf("|---|---|---|---|---|\n");

    ferx::sequence_head_model last_head;
    for (const auto& layer : layers) {
        const auto t0 = std::chrono::steady_clock::now();
        const auto x = ferx::nn::extract_features(ferx::exec::par, g, layer, input, {64, ferx::nn::feature_pooling::global_average});
        std::fprintf(stderr, "%s: %zu features per frame, extracted in %.2f s\n", layer.c_str(), x.shape(1),
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        const std::string name = layer + " (" + std::to_string(x.shape(1)) + ")";
        const auto row = [&](const char* clf, const ferx::evaluation& r) {
            std::printf("| %s | %s | %.1f %% +- %.1f | %.1f %% | %.0f |\n", name.c_str(), clf, 100 * r.mean_accuracy(),
                        100 * r.fold_std(&ferx::confusion_matrix::accuracy), 100 * r.mean_recall(), r.time.fit);
            std::fflush(stdout);
        };
        const auto scaler_of = [&](const std::vector<std::size_t>& train) {
            return ferx::fit_standard_scaler(ferx::take_rows(x, frame_rows(seqs, train)));
        };
        const auto evaluate = [&](auto&& fit, auto&& predict) {
            return ferx::evaluate_folds(ferx::exec::par, folds, seqs.labels, data.classes, fit, predict);
        };

        // The scaler on the training frames and the head on the training clips. One fold per
        // thread already: each head trains on its fold's thread.
        const auto fit_head = [&](ferx::recurrent_cell cell, const std::vector<std::size_t>& train) {
            const auto sc = scaler_of(train);
            const ferx::label_vector y = ferx::take(seqs.labels, train);
            ferx::sequence_head_params p;
            p.cell = cell;
            p.hidden_size = hidden;
            p.dense = {dense};
            p.epochs = epochs;
            p.clip_norm = 5;
            p.n_classes = k;
            p.class_weight = ferx::balanced_class_weights(y, k);
            return scaled<ferx::sequence_head_model>{sc, ferx::fit_sequence_head(ferx::exec::seq, clips_of(seqs, train, x, sc), y, p)};
        };
        for (auto cell : {ferx::recurrent_cell::lstm, ferx::recurrent_cell::gru}) {
            const bool lstm = cell == ferx::recurrent_cell::lstm;
            const auto r = evaluate(
                [&](const auto&, const std::vector<std::size_t>& train) {
                    return fit_head(cell, train);
                },
                [&](const auto&, const auto& m, const std::vector<std::size_t>& test) {
                    return ferx::predict(ferx::exec::seq, m.model, clips_of(seqs, test, x, m.scaler));
                });
            row(lstm ? "CNN-LSTM" : "CNN-GRU", r);
            // Refit on the last fold to export (the evaluation keeps no models).
            if (lstm && !onnx_out.empty()) last_head = fit_head(cell, folds.back().train).model;
        }

        const auto svm_params = [] {
            ferx::linear_svm_params p;
            p.C = 1;
            return p;
        }();
        row("linear SVM per frame, clip vote", evaluate(
                [&](const auto&, const std::vector<std::size_t>& train) {
                    const auto sc = scaler_of(train);
                    const auto fr = frame_rows(seqs, train);
                    const ferx::label_vector y = ferx::take(data.labels, fr);
                    return scaled<ferx::linear_svm_model>{
                        sc, ferx::fit_linear_svm(ferx::exec::seq, ferx::transform(ferx::exec::seq, sc, ferx::take_rows(x, fr)), y, svm_params)};
                },
                [&](const auto&, const auto& m, const std::vector<std::size_t>& test) {
                    ferx::label_vector out;
                    for (std::size_t q : test) {
                        const auto labels = ferx::predict(ferx::exec::seq, m.model, ferx::transform(ferx::exec::seq, m.scaler, ferx::take_rows(x, seqs.rows[q])));
                        out.push_back(ferx::majority_vote(std::vector<int>(labels.begin(), labels.end()), k).label);
                    }
                    return out;
                }));
        row("linear SVM on the clip's mean feature", evaluate(
                [&](const auto&, const std::vector<std::size_t>& train) {
                    const auto sc = scaler_of(train);
                    return scaled<ferx::linear_svm_model>{
                        sc, ferx::fit_linear_svm(ferx::exec::seq, clip_means(seqs, train, x, sc), ferx::take(seqs.labels, train), svm_params)};
                },
                [&](const auto&, const auto& m, const std::vector<std::size_t>& test) {
                    return ferx::predict(ferx::exec::seq, m.model, clip_means(seqs, test, x, m.scaler));
                }));
    }
    if (!onnx_out.empty()) {
        ferx::nn::save_onnx(onnx_out, ferx::sequence_head_graph(last_head, "ferx_cnn_lstm_head"));
        std::cout << "\nwrote " << onnx_out << " (the last fold's CNN-LSTM head of layer " << layers.back() << ")\n";
    }
    return 0;
} catch (const std::exception& e) {
    std::cerr << "cnn_lstm: " << e.what() << "\n";
    return 1;
}
