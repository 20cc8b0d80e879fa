// ferx-train: trains a classical FER pipeline (preprocess -> descriptors -> scaler -> PCA -> SVM)
// on a dataset, evaluates it with ferx's evaluation harness, and saves the model file.
//
//   ferx-train [--layout ckplus48|fer2013|folder] [--data DIR] [--spec SPEC] [--grid]
//              [--folds N] [--labels all|valence3] [--subsample N] [--model FILE]
//              [--report DIR] [--no-eval] [--seq] [--progress]
//
// --spec is a pipeline spec string (ferx/pipeline/spec.hpp), e.g. the default
//   "hog(cell=6,block=12,stride=6)+lbp_u2:pre(eq=global):std:linear(C=1)".
// Layouts and how each is evaluated:
//   ckplus48  DIR/index.csv (CK+48): subject-independent k-fold (default 10; subjects grouped, so
//             a sequence's frames stay together); the saved model is then trained on all images.
//   fer2013   DIR/{train,validation,test}: trained on train, tuned on validation (--grid),
//             evaluated once on test; the saved model is the one trained on train.
//   folder    DIR/<class>/*.png|jpg (any classes): stratified k-fold (default 5), then all images.
// --grid tunes C (linear: 0.01, 0.1, 1, 10) or C x gamma (kernels: C 1, 10, 100 x gamma 0.25..4
// times the "scale" gamma) inside each training set (ckplus48: subject-grouped 5-fold; folder:
// stratified 5-fold; fer2013: the validation split), never on the test fold.
// --labels valence3 bins the classes into negative / neutral / positive before training.
// Writes FILE (default model.ferx) and, in --report DIR (default FILE's name + "_report"),
// confusion.csv, confusion.png and report.md. The progress bar (stderr) shows when stderr is a
// terminal, or with --progress.
#include "cli_args.hpp"
#include "progress_bar.hpp"

#include <ferx/data/ckplus.hpp>
#include <ferx/data/fer2013.hpp>
#include <ferx/data/image_folder.hpp>
#include <ferx/data/labels.hpp>
#include <ferx/learn/evaluate.hpp>
#include <ferx/learn/evaluation_report.hpp>
#include <ferx/learn/splits.hpp>
#include <ferx/pipeline/pipeline.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

using images_t = xt::xtensor<std::uint8_t, 3>;
const char* const default_spec = "hog(cell=6,block=12,stride=6)+lbp_u2:pre(eq=global):std:linear(C=1)";

struct options {
    std::string layout = "ckplus48", data, spec = default_spec, labels = "all", model = "model.ferx", report;
    std::size_t folds = 0, subsample = 0;
    bool grid = false, evaluate = true, sequential = false, progress = false;
};

/// The images `idx` of a batch [n, rows, cols].
images_t take_images(const images_t& images, const std::vector<std::size_t>& idx) {
    const std::size_t px = images.shape(1) * images.shape(2);
    images_t out({idx.size(), images.shape(1), images.shape(2)});
    for (std::size_t r = 0; r < idx.size(); ++r) std::copy_n(images.data() + idx[r] * px, px, out.data() + r * px);
    return out;
}

/// The gamma a fitted kernel SVM resolved ("scale"), or 0 for models without one.
double fitted_gamma(const ferx::pipeline_model& m) {
    return std::visit(
        [](const auto& c) -> double {
            using M = std::decay_t<decltype(c)>;
            if constexpr (std::is_same<M, ferx::linear_svm_model>::value) {
                return 0.0;
            } else if constexpr (std::is_same<M, ferx::svc_model<ferx::intersection_kernel, float>>::value) {
                return 0.0;
            } else {
                return c.kernel.gamma;
            }
        },
        m.classifier);
}

/// Where tuning candidates are scored: cross-validation folds of the training images, or a
/// held-out validation set.
struct tuning_set {
    std::vector<ferx::fold> folds;
    const images_t* val_images = nullptr;
    const ferx::label_vector* val_labels = nullptr;
};

/// The spec with C (and gamma) chosen by accuracy on `tune`; `log` receives the choice.
template <class Policy>
ferx::pipeline_spec grid_search(const Policy& policy, const ferx::pipeline_spec& base, const images_t& images,
                                const ferx::label_vector& y, const std::vector<std::string>& classes,
                                const tuning_set& tune, std::string* log) {
    using ferx::classifier_kind;
    const classifier_kind kind = base.classifier.kind;
    std::vector<std::pair<double, double>> grid;  // (C, gamma)
    if (kind == classifier_kind::linear || kind == classifier_kind::intersection) {
        for (double c : {0.01, 0.1, 1.0, 10.0}) grid.push_back({c, base.classifier.gamma});
    } else {
        double g0 = base.classifier.gamma;
        if (g0 <= 0) g0 = fitted_gamma(ferx::fit(policy, base, images, y, classes));  // the "scale" gamma here
        for (double c : {1.0, 10.0, 100.0})
            for (double f : {0.25, 0.5, 1.0, 2.0, 4.0}) grid.push_back({c, f * g0});
    }
    double best = -1;
    ferx::pipeline_spec chosen = base;
    for (const auto& [c, g] : grid) {
        ferx::pipeline_spec s = base;
        s.classifier.C = c;
        s.classifier.gamma = g;
        double acc = 0;
        if (tune.val_images) {
            const auto m = ferx::fit(policy, s, images, y, classes);
            acc = ferx::confusion_matrix(*tune.val_labels, ferx::predict(policy, m, *tune.val_images).labels,
                                         static_cast<int>(classes.size()))
                      .accuracy();
        } else {
            acc = ferx::evaluate_folds(
                      policy, tune.folds, y, classes,
                      [&](const auto& pol, const std::vector<std::size_t>& tr) {
                          return ferx::fit(pol, s, take_images(images, tr), ferx::take(y, tr), classes);
                      },
                      [&](const auto& pol, const ferx::pipeline_model& m, const std::vector<std::size_t>& te) {
                          return ferx::predict(pol, m, take_images(images, te)).labels;
                      })
                      .pooled.accuracy();
        }
        if (acc > best) best = acc, chosen = s;
    }
    if (log) {
        std::ostringstream o;
        o << "C=" << chosen.classifier.C;
        if (chosen.classifier.gamma > 0) o << ",gamma=" << chosen.classifier.gamma;
        *log = o.str();
    }
    return chosen;
}

/// A dataset ready for training: images, labels, classes, groups (CK+), and the evaluation plan.
struct dataset {
    images_t images;
    ferx::label_vector labels;
    std::vector<std::string> classes;
    std::vector<int> groups;
    // fer2013 only: the validation and test splits
    images_t val_images, test_images;
    ferx::label_vector val_labels, test_labels;
};

ferx::image_batch relabelled(ferx::image_batch b, const options& o) {
    if (o.labels == "valence3") return ferx::relabel(b, ferx::valence3_map());
    if (o.labels != "all") throw ferx::error("ferx-train", "--labels must be all or valence3");
    return b;
}

dataset read_dataset(const options& o) {
    dataset d;
    const auto take_batch = [&](const ferx::image_batch& b) {
        d.images = b.images;
        d.labels = b.labels;
        d.classes = b.classes;
        d.groups = b.groups;
    };
    if (o.layout == "ckplus48") {
        take_batch(relabelled(ferx::load(ferx::ckplus48(o.data.empty() ? "../shared/data/ckplus48" : o.data)), o));
    } else if (o.layout == "folder") {
        if (o.data.empty()) throw ferx::error("ferx-train", "--layout folder needs --data DIR");
        take_batch(relabelled(ferx::load(ferx::image_folder(o.data), {48, 48, true}), o));
    } else if (o.layout == "fer2013") {
        const std::string root = o.data.empty() ? "../shared/data/fer2013" : o.data;
        auto list = ferx::fer2013_folder(root, ferx::fer2013_split::train);
        if (o.subsample > 0) list = ferx::random_subset(list, o.subsample);  // seeded (7)
        take_batch(relabelled(ferx::load(list), o));
        const auto val = relabelled(ferx::load(ferx::fer2013_folder(root, ferx::fer2013_split::validation)), o);
        const auto test = relabelled(ferx::load(ferx::fer2013_folder(root, ferx::fer2013_split::test)), o);
        d.val_images = val.images;
        d.val_labels = val.labels;
        d.test_images = test.images;
        d.test_labels = test.labels;
    } else {
        throw ferx::error("ferx-train", "unknown --layout '" + o.layout + "' (ckplus48, fer2013 or folder)");
    }
    return d;
}

/// Where the grid search of a training set (the samples `train` of the dataset's training
/// images) scores its candidates: fer2013's validation split, CK+48's subjects in 5 groups, or a
/// stratified 5-fold of the other layouts. Fold indices are local to `train`.
tuning_set tuning_for(const options& o, const dataset& d, const std::vector<std::size_t>& train) {
    tuning_set t;
    if (o.layout == "fer2013") {
        t.val_images = &d.val_images;
        t.val_labels = &d.val_labels;
    } else if (o.layout == "ckplus48") {
        t.folds = ferx::group_kfold(ferx::take(d.groups, train), 5);
    } else {
        t.folds = ferx::stratified_kfold(ferx::take(d.labels, train), 5);
    }
    return t;
}

template <class Policy>
int run(const Policy& policy, options o) {
    const ferx::pipeline_spec spec = ferx::parse_spec(o.spec);
    const dataset d = read_dataset(o);
    std::cerr << d.images.shape(0) << " training images, " << d.classes.size() << " classes; pipeline "
              << ferx::format_spec(spec) << (o.grid ? " with grid search" : "") << "\n";
    if (o.report.empty()) o.report = o.model + "_report";
    std::vector<std::pair<std::string, std::string>> facts = {
        {"dataset", o.layout + " at " + (o.data.empty() ? "the default path" : o.data) +
                        (o.labels == "valence3" ? ", binned to negative / neutral / positive" : "")},
        {"pipeline", "`" + ferx::format_spec(spec) + "`" + (o.grid ? ", C (and gamma) tuned by nested grid search" : "")},
        {"backend", std::string(ferx::to_string(ferx::backend_of(policy)))}};

    const bool fer = o.layout == "fer2013";
    std::vector<std::string> chosen_log;
    if (o.evaluate) {
        // Every model is evaluated on samples it never saw; the whole pipeline is refitted per fold.
        std::vector<ferx::fold> folds;
        ferx::label_vector y = d.labels;
        images_t pool;  // the images the fold indices point into
        std::string plan;
        if (fer) {
            const std::size_t n = d.images.shape(0), m = d.test_images.shape(0), px = d.images.shape(1) * d.images.shape(2);
            pool = images_t({n + m, d.images.shape(1), d.images.shape(2)});
            std::copy_n(d.images.data(), n * px, pool.data());
            std::copy_n(d.test_images.data(), m * px, pool.data() + n * px);
            y.insert(y.end(), d.test_labels.begin(), d.test_labels.end());
            ferx::fold f;
            for (std::size_t i = 0; i < n + m; ++i) (i < n ? f.train : f.test).push_back(i);
            folds = {f};
            plan = "trained on train (" + std::to_string(n) + "), " + (o.grid ? "tuned on validation, " : "") +
                   "tested on test (" + std::to_string(m) + ")";
        } else {
            pool = d.images;
            if (o.layout == "ckplus48") {
                folds = ferx::group_kfold(d.groups, o.folds ? o.folds : 10);
                plan = std::to_string(folds.size()) + "-fold cross-validation, subjects grouped (subject-independent)";
            } else {
                folds = ferx::stratified_kfold(d.labels, o.folds ? o.folds : 5);
                plan = std::to_string(folds.size()) + "-fold stratified cross-validation";
            }
        }
        facts.push_back({"evaluation", plan});
        chosen_log.assign(folds.size(), "");
        ferx::stage_timings predict_stages;
        std::mutex stages_mutex;
        ferx_examples::progress_bar bar("folds", o.progress);
        const auto fit = [&](const auto& pol, const std::vector<std::size_t>& train) {
            const images_t x = take_images(pool, train);
            const ferx::label_vector yt = ferx::take(y, train);
            ferx::pipeline_spec s = spec;
            if (o.grid) {
                std::string log;
                s = grid_search(pol, spec, x, yt, d.classes, tuning_for(o, d, train), &log);
                const auto fold_index = static_cast<std::size_t>(
                    std::find_if(folds.begin(), folds.end(), [&](const ferx::fold& f) { return f.train == train; }) -
                    folds.begin());
                chosen_log[fold_index] = log;
            }
            return ferx::fit(pol, s, x, yt, d.classes);
        };
        const auto predict = [&](const auto& pol, const ferx::pipeline_model& m, const std::vector<std::size_t>& test) {
            ferx::stage_times st;
            auto labels = ferx::predict(pol, m, take_images(pool, test), &st).labels;
            std::lock_guard<std::mutex> lock(stages_mutex);
            predict_stages.describe += st.describe;
            return labels;
        };
        auto r = ferx::evaluate_folds(policy, folds, y, d.classes, fit, predict, std::ref(bar));
        bar.finish();
        r.time.describe = predict_stages.describe;
        if (o.grid) {
            std::string s;
            for (std::size_t f = 0; f < chosen_log.size(); ++f) s += (f ? "; " : "") + chosen_log[f];
            facts.push_back({"grid choice per fold", s});
        }
        facts.push_back({"timings", "describe counts the test images only (fit describes inside the fit stage)"});
        std::filesystem::create_directories(o.report);
        const std::string base = (std::filesystem::path(o.report) / "confusion").string();
        ferx::write_confusion_csv(base + ".csv", r.pooled, r.classes);
        ferx::write_confusion_png(base + ".png", r.pooled, r.classes);
        ferx::write_text((std::filesystem::path(o.report) / "report.md").string(),
                         ferx::markdown_report(r, "ferx-train evaluation", facts));
        std::cout << r.pooled.table(r.classes);
        if (fer) {
            std::cout << "test accuracy " << r.pooled.accuracy() << ", mean per-class recall " << r.pooled.mean_recall()
                      << "\n";
        } else {
            std::cout << "fold-averaged accuracy " << r.mean_accuracy() << " (std "
                      << r.fold_std(&ferx::confusion_matrix::accuracy) << "), mean per-class recall " << r.mean_recall()
                      << ", macro-F1 " << r.mean_macro_f1() << "\n";
        }
        std::cout << "report: " << o.report << "/report.md, confusion.csv, confusion.png\n";
    }

    // The saved model: all training images (fer2013: the train split), tuned the same way.
    ferx::pipeline_spec final_spec = spec;
    if (o.grid) {
        std::vector<std::size_t> all(d.labels.size());
        std::iota(all.begin(), all.end(), std::size_t{0});
        std::string log;
        final_spec = grid_search(policy, spec, d.images, d.labels, d.classes, tuning_for(o, d, all), &log);
        std::cout << "grid search on all training images chose " << log << "\n";
    }
    ferx_examples::progress_bar bar("training", o.progress);
    ferx::fit_options fo;
    fo.progress = std::ref(bar);
    const auto model = ferx::fit(policy, final_spec, d.images, d.labels, d.classes, fo);
    bar.finish();
    ferx::save_pipeline(model, o.model);
    std::cout << "saved " << o.model << ": " << ferx::format_spec(final_spec) << ", trained on " << d.images.shape(0)
              << " images\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) try {
    options o;
    ferx_examples::cli_args args(argc, argv, "see --help");
    while (args.next()) {
        const std::string& a = args.arg();
        if (a == "--layout") o.layout = args.value();
        else if (a == "--data") o.data = args.value();
        else if (a == "--spec") o.spec = args.value();
        else if (a == "--grid") o.grid = true;
        else if (a == "--folds") o.folds = static_cast<std::size_t>(args.whole());
        else if (a == "--labels") o.labels = args.value();
        else if (a == "--subsample") o.subsample = static_cast<std::size_t>(args.whole());
        else if (a == "--model") o.model = args.value();
        else if (a == "--report") o.report = args.value();
        else if (a == "--no-eval") o.evaluate = false;
        else if (a == "--seq") o.sequential = true;
        else if (a == "--progress") o.progress = true;
        else if (a == "--help" || a == "-h") {
            std::cout << "usage: ferx-train [--layout ckplus48|fer2013|folder] [--data DIR] [--spec SPEC] [--grid]\n"
                         "                  [--folds N] [--labels all|valence3] [--subsample N] [--model FILE]\n"
                         "                  [--report DIR] [--no-eval] [--seq] [--progress]\n"
                         "default spec: " << default_spec << "\n";
            return 0;
        } else {
            args.fail("unknown option '" + a + "'");
        }
    }
    return o.sequential ? run(ferx::exec::seq, o) : run(ferx::exec::par, o);
} catch (const std::exception& e) {
    std::cerr << "ferx-train: " << e.what() << "\n";
    return 1;
}
