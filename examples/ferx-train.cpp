// ferx-train: trains a classical FER pipeline (preprocess -> descriptors -> scaler -> PCA -> SVM)
// on a dataset, evaluates it with ferx's evaluation harness, and saves the model file.
//
//   ferx-train [--layout ckplus48|fer2013|folder|ckplus48-clips|video-folder] [--data DIR]
//              [--spec SPEC] [--grid] [--folds N] [--frames all|second-half|uniform:N|tsn:K]
//              [--labels all|valence3] [--subsample N] [--model FILE] [--report DIR]
//              [--no-eval] [--seq] [--progress]
//
// --spec is a pipeline spec string (ferx/pipeline/spec.hpp), e.g. the default
//   "hog(cell=6,block=12,stride=6)+lbp_u2:pre(eq=global):std:linear(C=1)"; for the clip layouts
//   the default is the clip pipeline
//   "lbp_top(grid=2)+hog(cell=6,block=12,stride=6)+lbp_u2:pre(eq=global):std:linear(C=1)"
//   (ferx/pipeline/clip_pipeline.hpp: clip descriptors on the volume, frame descriptors on the
//   last frame), and a frame-only spec is run as a clip pipeline on the reference frame.
// Layouts and how each is evaluated:
//   ckplus48  DIR/index.csv (CK+48): subject-independent k-fold (default 10; subjects grouped, so
//             a sequence's frames stay together); the saved model is then trained on all images.
//   fer2013   DIR/{train,validation,test}: trained on train, tuned on validation (--grid),
//             evaluated once on test; the saved model is the one trained on train.
//   folder    DIR/<class>/*.png|jpg (any classes): stratified k-fold (default 5), then all images.
//   ckplus48-clips  DIR/index.csv as 327 clips (one per sequence, its 3 frames in the index's
//             frame order): subject-independent k-fold (default 10), then all clips.
//   video-folder    DIR/<class>/<clip>.mp4|avi|mkv|mov|webm or DIR/<class>/<clip>/*.png|jpg:
//             group k-fold (default 5) where the clips whose names share the text before their
//             first '_' (a subject: S010_happy.mp4, S010_sad.mp4) are one group; a name without
//             '_' is a group of its own. Then all clips.
// --frames sets the clip stage's frame selection (clip layouts): all (the default for
//   ckplus48-clips), second-half, uniform:N (N frames spread over the clip; uniform:8 is the
//   default for video-folder), tsn:K (the centre frame of each of K equal segments).
// --grid tunes C (linear: 0.01, 0.1, 1, 10) or C x gamma (kernels: C 1, 10, 100 x gamma 0.25..4
// times the "scale" gamma) inside each training set (ckplus48, ckplus48-clips, video-folder:
// group 5-fold; folder: stratified 5-fold; fer2013: the validation split), never on the test fold.
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
#include <ferx/data/clips.hpp>
#include <ferx/pipeline/clip_pipeline.hpp>
#include <ferx/pipeline/pipeline.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <numeric>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

using images_t = xt::xtensor<std::uint8_t, 3>;
const char* const default_spec = "hog(cell=6,block=12,stride=6)+lbp_u2:pre(eq=global):std:linear(C=1)";
const char* const default_clip_spec = "lbp_top(grid=2)+hog(cell=6,block=12,stride=6)+lbp_u2:pre(eq=global):std:linear(C=1)";

struct options {
    std::string layout = "ckplus48", data, spec, labels = "all", model = "model.ferx", report, frames;
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

/// Where tuning candidates are scored: cross-validation folds of the training samples, or a
/// held-out validation set (fer2013).
struct tuning_set {
    std::vector<ferx::fold> folds;
    const images_t* val_images = nullptr;
    const ferx::label_vector* val_labels = nullptr;
};

/// The spec with C (and gamma) chosen by accuracy on `tune`; `log` receives the choice.
/// fit_on(policy, spec, local indices) trains on samples of the training set, predict_on(policy,
/// model, local indices) labels them; val_predict(policy, model) labels the validation set.
template <class Policy, class FitOn, class PredictOn, class ValPredict>
ferx::pipeline_spec grid_search(const Policy& policy, const ferx::pipeline_spec& base, std::size_t n,
                                const ferx::label_vector& y, const std::vector<std::string>& classes,
                                const tuning_set& tune, FitOn&& fit_on, PredictOn&& predict_on, ValPredict&& val_predict,
                                std::string* log) {
    using ferx::classifier_kind;
    const classifier_kind kind = base.classifier.kind;
    std::vector<std::size_t> all(n);
    std::iota(all.begin(), all.end(), std::size_t{0});
    std::vector<std::pair<double, double>> grid;  // (C, gamma)
    if (kind == classifier_kind::linear || kind == classifier_kind::intersection) {
        for (double c : {0.01, 0.1, 1.0, 10.0}) grid.push_back({c, base.classifier.gamma});
    } else {
        double g0 = base.classifier.gamma;
        if (g0 <= 0) g0 = fitted_gamma(fit_on(policy, base, all));  // the "scale" gamma here
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
            const auto m = fit_on(policy, s, all);
            acc = ferx::confusion_matrix(*tune.val_labels, val_predict(policy, m), static_cast<int>(classes.size())).accuracy();
        } else {
            acc = ferx::evaluate_folds(
                      policy, tune.folds, y, classes,
                      [&](const auto& pol, const std::vector<std::size_t>& tr) { return fit_on(pol, s, tr); },
                      [&](const auto& pol, const ferx::pipeline_model& m, const std::vector<std::size_t>& te) {
                          return predict_on(pol, m, te);
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

bool clip_layout(const std::string& layout) { return layout == "ckplus48-clips" || layout == "video-folder"; }

/// A dataset ready for training: images (or clips: their selected frames), labels, classes,
/// groups (CK+ subjects; video-folder name prefixes), and the evaluation plan.
struct dataset {
    images_t images;
    std::vector<ferx::volume<std::uint8_t>> clips;
    std::vector<std::string> clip_names;
    ferx::label_vector labels;
    std::vector<std::string> classes;
    std::vector<int> groups;
    // fer2013 only: the validation and test splits
    images_t val_images, test_images;
    ferx::label_vector val_labels, test_labels;
    std::size_t size() const { return labels.size(); }
};

/// Video-folder groups: the text of a clip's name before its first '_' (the whole name without one).
std::vector<int> name_groups(const std::vector<std::string>& names) {
    std::vector<std::string> keys;
    for (const auto& n : names) keys.push_back(n.substr(0, n.find('_')));
    return ferx::group_ids(keys);
}

/// The clip list relabelled as --labels says (clips of dropped classes removed).
ferx::clip_list relabelled(ferx::clip_list l, const options& o) {
    if (o.labels == "all") return l;
    if (o.labels != "valence3") throw ferx::error("ferx-train", "--labels must be all or valence3");
    const ferx::label_map map = ferx::valence3_map();
    ferx::clip_list out;
    out.classes = map.classes;
    out.group_names = l.group_names;
    for (std::size_t i = 0; i < l.size(); ++i) {
        const int t = map(l.classes[static_cast<std::size_t>(l.labels[i])]);
        if (t < 0) continue;
        out.clips.push_back(l.clips[i]);
        out.labels.push_back(t);
        if (!l.groups.empty()) out.groups.push_back(l.groups[i]);
        out.names.push_back(l.names[i]);
    }
    return out;
}

/// The frame selection of --frames into the spec's clip stage.
void apply_frames(const std::string& f, ferx::pipeline_spec& spec) {
    using kind = ferx::frame_selection::kind;
    const auto count = [&](std::size_t prefix) {
        const std::string n = f.substr(prefix);
        char* end = nullptr;
        const long v = std::strtol(n.c_str(), &end, 10);
        if (n.empty() || *end != '\0' || v < 1) throw ferx::error("ferx-train", "--frames " + f + ": the count must be a whole number >= 1");
        return static_cast<int>(v);
    };
    if (f == "all") spec.clip->frames = kind::all;
    else if (f == "second-half" || f == "half") spec.clip->frames = kind::second_half;
    else if (f.rfind("uniform:", 0) == 0) spec.clip->frames = kind::uniform, spec.clip->count = count(8);
    else if (f.rfind("tsn:", 0) == 0) spec.clip->frames = kind::tsn, spec.clip->count = count(4);
    else throw ferx::error("ferx-train", "--frames must be all, second-half, uniform:N or tsn:K, got '" + f + "'");
}

ferx::image_batch relabelled_batch(ferx::image_batch b, const options& o) {
    if (o.labels == "valence3") return ferx::relabel(b, ferx::valence3_map());
    if (o.labels != "all") throw ferx::error("ferx-train", "--labels must be all or valence3");
    return b;
}

template <class Policy>
dataset read_dataset(const Policy& policy, const options& o, const ferx::pipeline_spec& spec) {
    dataset d;
    if (clip_layout(o.layout)) {
        ferx::clip_list l;
        if (o.layout == "ckplus48-clips") {
            l = ferx::ckplus48_clips(o.data.empty() ? "../shared/data/ckplus48" : o.data);
        } else {
            if (o.data.empty()) throw ferx::error("ferx-train", "--layout video-folder needs --data DIR");
            l = ferx::video_folder(o.data);
            l.groups = name_groups(l.names);
        }
        l = relabelled(l, o);
        if (l.empty()) throw ferx::error("ferx-train", "the dataset has no clips", o.data);
        d.clip_names.reserve(l.size());
        for (const auto& c : l.clips) d.clip_names.push_back(!c.video.empty() ? c.video : c.frames.at(0));
        d.clips.resize(l.size());
        ferx::detail::for_each_range(policy, static_cast<std::ptrdiff_t>(l.size()), 1, [&](std::ptrdiff_t lo, std::ptrdiff_t hi) {
            for (std::ptrdiff_t i = lo; i < hi; ++i)
                d.clips[std::size_t(i)] = ferx::load_clip_frames(spec, l.clips[std::size_t(i)]);
        });
        ferx::check_clips(spec, d.clips, d.clip_names);  // one length, long enough for the descriptors: else the clip is named
        d.labels = l.labels;
        d.classes = l.classes;
        d.groups = l.groups;
        return d;
    }
    const auto take_batch = [&](const ferx::image_batch& b) {
        d.images = b.images;
        d.labels = b.labels;
        d.classes = b.classes;
        d.groups = b.groups;
    };
    if (o.layout == "ckplus48") {
        take_batch(relabelled_batch(ferx::load(ferx::ckplus48(o.data.empty() ? "../shared/data/ckplus48" : o.data)), o));
    } else if (o.layout == "folder") {
        if (o.data.empty()) throw ferx::error("ferx-train", "--layout folder needs --data DIR");
        take_batch(relabelled_batch(ferx::load(ferx::image_folder(o.data), {48, 48, true}), o));
    } else if (o.layout == "fer2013") {
        const std::string root = o.data.empty() ? "../shared/data/fer2013" : o.data;
        auto list = ferx::fer2013_folder(root, ferx::fer2013_split::train);
        if (o.subsample > 0) list = ferx::random_subset(list, o.subsample);  // seeded (7)
        take_batch(relabelled_batch(ferx::load(list), o));
        const auto val = relabelled_batch(ferx::load(ferx::fer2013_folder(root, ferx::fer2013_split::validation)), o);
        const auto test = relabelled_batch(ferx::load(ferx::fer2013_folder(root, ferx::fer2013_split::test)), o);
        d.val_images = val.images;
        d.val_labels = val.labels;
        d.test_images = test.images;
        d.test_labels = test.labels;
    } else {
        throw ferx::error("ferx-train", "unknown --layout '" + o.layout +
                                            "' (ckplus48, fer2013, folder, ckplus48-clips or video-folder)");
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
    } else if (o.layout == "ckplus48" || clip_layout(o.layout)) {
        t.folds = ferx::group_kfold(ferx::take(d.groups, train), 5);
    } else {
        t.folds = ferx::stratified_kfold(ferx::take(d.labels, train), 5);
    }
    return t;
}

template <class Policy>
int run(const Policy& policy, options o) {
    const bool clips = clip_layout(o.layout);
    if (o.spec.empty()) o.spec = clips ? default_clip_spec : default_spec;
    ferx::pipeline_spec spec = ferx::parse_spec(o.spec);
    if (clips && !spec.clip) spec.clip.emplace();  // a frame-only spec on clips: frame descriptors of the reference frame
    // video folders hold clips of any lengths: 8 frames spread over each unless the spec or --frames says
    if (o.layout == "video-folder" && o.frames.empty() && o.spec.find("clip(") == std::string::npos)
        spec.clip->frames = ferx::frame_selection::kind::uniform, spec.clip->count = 8;
    if (!clips && spec.clip) throw ferx::error("ferx-train", "a clip pipeline needs --layout ckplus48-clips or video-folder");
    if (!o.frames.empty()) {
        if (!clips) throw ferx::error("ferx-train", "--frames is for the clip layouts (ckplus48-clips, video-folder)");
        apply_frames(o.frames, spec);
    }
    const dataset d = read_dataset(policy, o, spec);
    // Face detection (pre(source=largest|confident)): OpenCV's Haar cascades (opencv-data).
    std::optional<ferx::face_detector> detector;
    if (spec.preprocess.source != ferx::face_source::crop) {
        const auto dir = ferx::default_cascade_dir();
        detector = ferx::load_face_detector((dir / "haarcascade_frontalface_default.xml").string(),
                                            spec.preprocess.align_eyes ? (dir / "haarcascade_eye.xml").string() : std::string());
    }
    const ferx::face_detector* det = detector ? &*detector : nullptr;
    const std::string unit = clips ? "clips" : "images";
    std::cerr << d.size() << " training " << unit << ", " << d.classes.size() << " classes; pipeline "
              << ferx::format_spec(spec) << (o.grid ? " with grid search" : "") << "\n";
    if (o.report.empty()) o.report = o.model + "_report";
    std::vector<std::pair<std::string, std::string>> facts = {
        {"dataset", o.layout + " at " + (o.data.empty() ? "the default path" : o.data) +
                        (o.labels == "valence3" ? ", binned to negative / neutral / positive" : "")},
        {"pipeline", "`" + ferx::format_spec(spec) + "`" + (o.grid ? ", C (and gamma) tuned by nested grid search" : "")},
        {"backend", std::string(ferx::to_string(ferx::backend_of(policy)))}};
    if (clips)
        facts.push_back({"clips", std::to_string(d.size()) + " clips of " + std::to_string(d.clips.at(0).shape()[0]) +
                                      " selected frames each"});

    const bool fer = o.layout == "fer2013";
    // The samples the indices point into: images (fer2013: train then test) or clips.
    images_t pool;
    ferx::label_vector y = d.labels;
    if (fer) {
        const std::size_t n = d.images.shape(0), m = d.test_images.shape(0), px = d.images.shape(1) * d.images.shape(2);
        pool = images_t({n + m, d.images.shape(1), d.images.shape(2)});
        std::copy_n(d.images.data(), n * px, pool.data());
        std::copy_n(d.test_images.data(), m * px, pool.data() + n * px);
        y.insert(y.end(), d.test_labels.begin(), d.test_labels.end());
    } else if (!clips) {
        pool = d.images;
    }
    const auto take_clips = [&](const std::vector<std::size_t>& idx) {
        std::vector<ferx::volume<std::uint8_t>> out;
        out.reserve(idx.size());
        for (std::size_t i : idx) out.push_back(d.clips[i]);
        return out;
    };
    // Fits the spec on the samples `idx` of the pool; predicts the samples `idx`.
    const auto fit_idx = [&](const auto& pol, const ferx::pipeline_spec& s, const std::vector<std::size_t>& idx,
                             ferx::fit_options fo = {}) {
        fo.detector = det;
        if (clips) return ferx::fit_clips(pol, s, take_clips(idx), ferx::take(y, idx), d.classes, fo);
        return ferx::fit(pol, s, take_images(pool, idx), ferx::take(y, idx), d.classes, fo);
    };
    const auto predict_idx = [&](const auto& pol, const ferx::pipeline_model& m, const std::vector<std::size_t>& idx,
                                 ferx::stage_times* st = nullptr) {
        if (clips) {
            auto labels = ferx::predict_clips(pol, m, take_clips(idx), det, st).labels;
            for (std::size_t i = 0; i < labels.size(); ++i)
                if (labels[i] < 0)
                    throw ferx::error("ferx-train", "no face was found in the clip", d.clip_names[idx[i]]);
            return labels;
        }
        return ferx::predict(pol, m, take_images(pool, idx), st).labels;
    };
    // The grid search of a training set `train` (indices into the pool).
    const auto tuned = [&](const auto& pol, const std::vector<std::size_t>& train, std::string* log) {
        const auto sub = [&](const std::vector<std::size_t>& local) {
            std::vector<std::size_t> g;
            g.reserve(local.size());
            for (std::size_t i : local) g.push_back(train[i]);
            return g;
        };
        return grid_search(
            pol, spec, train.size(), ferx::take(y, train), d.classes, tuning_for(o, d, train),
            [&](const auto& p2, const ferx::pipeline_spec& s, const std::vector<std::size_t>& local) { return fit_idx(p2, s, sub(local)); },
            [&](const auto& p2, const ferx::pipeline_model& m, const std::vector<std::size_t>& local) { return predict_idx(p2, m, sub(local)); },
            [&](const auto& p2, const ferx::pipeline_model& m) { return ferx::predict(p2, m, d.val_images).labels; }, log);
    };

    std::vector<std::string> chosen_log;
    if (o.evaluate) {
        // Every model is evaluated on samples it never saw; the whole pipeline is refitted per fold.
        std::vector<ferx::fold> folds;
        std::string plan;
        if (fer) {
            const std::size_t n = d.images.shape(0), m = d.test_images.shape(0);
            ferx::fold f;
            for (std::size_t i = 0; i < n + m; ++i) (i < n ? f.train : f.test).push_back(i);
            folds = {f};
            plan = "trained on train (" + std::to_string(n) + "), " + (o.grid ? "tuned on validation, " : "") +
                   "tested on test (" + std::to_string(m) + ")";
        } else if (o.layout == "ckplus48" || o.layout == "ckplus48-clips") {
            folds = ferx::group_kfold(d.groups, o.folds ? o.folds : 10);
            plan = std::to_string(folds.size()) + "-fold cross-validation, subjects grouped (subject-independent)";
        } else if (o.layout == "video-folder") {
            folds = ferx::group_kfold(d.groups, o.folds ? o.folds : 5);
            plan = std::to_string(folds.size()) +
                   "-fold cross-validation, clips grouped by the name before their first '_' (subjects grouped)";
        } else {
            folds = ferx::stratified_kfold(d.labels, o.folds ? o.folds : 5);
            plan = std::to_string(folds.size()) + "-fold stratified cross-validation";
        }
        facts.push_back({"evaluation", plan});
        chosen_log.assign(folds.size(), "");
        ferx::stage_timings predict_stages;
        std::mutex stages_mutex;
        ferx_examples::progress_bar bar("folds", o.progress);
        const auto fit = [&](const auto& pol, const std::vector<std::size_t>& train) {
            ferx::pipeline_spec s = spec;
            if (o.grid) {
                std::string log;
                s = tuned(pol, train, &log);
                const auto fold_index = static_cast<std::size_t>(
                    std::find_if(folds.begin(), folds.end(), [&](const ferx::fold& f) { return f.train == train; }) -
                    folds.begin());
                chosen_log[fold_index] = log;
            }
            return fit_idx(pol, s, train);
        };
        const auto predict = [&](const auto& pol, const ferx::pipeline_model& m, const std::vector<std::size_t>& test) {
            ferx::stage_times st;
            auto labels = predict_idx(pol, m, test, &st);
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
        facts.push_back({"timings", "describe counts the test " + unit + " only (fit describes inside the fit stage)"});
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

    // The saved model: all training samples (fer2013: the train split), tuned the same way.
    std::vector<std::size_t> all(d.size());
    std::iota(all.begin(), all.end(), std::size_t{0});
    ferx::pipeline_spec final_spec = spec;
    if (o.grid) {
        std::string log;
        final_spec = tuned(policy, all, &log);
        std::cout << "grid search on all training " << unit << " chose " << log << "\n";
    }
    ferx_examples::progress_bar bar("training", o.progress);
    ferx::fit_options fo;
    fo.progress = std::ref(bar);
    const auto model = fit_idx(policy, final_spec, all, fo);
    bar.finish();
    ferx::save_pipeline(model, o.model);
    std::cout << "saved " << o.model << ": " << ferx::format_spec(final_spec) << ", trained on " << d.size() << " "
              << unit << "\n";
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
        else if (a == "--frames") o.frames = args.value();
        else if (a == "--labels") o.labels = args.value();
        else if (a == "--subsample") o.subsample = static_cast<std::size_t>(args.whole());
        else if (a == "--model") o.model = args.value();
        else if (a == "--report") o.report = args.value();
        else if (a == "--no-eval") o.evaluate = false;
        else if (a == "--seq") o.sequential = true;
        else if (a == "--progress") o.progress = true;
        else if (a == "--help" || a == "-h") {
            std::cout << "usage: ferx-train [--layout ckplus48|fer2013|folder|ckplus48-clips|video-folder] [--data DIR]\n"
                         "                  [--spec SPEC] [--grid] [--folds N] [--frames all|second-half|uniform:N|tsn:K]\n"
                         "                  [--labels all|valence3] [--subsample N] [--model FILE] [--report DIR]\n"
                         "                  [--no-eval] [--seq] [--progress]\n"
                         "default spec: " << default_spec << "\n"
                         "default clip spec (ckplus48-clips, video-folder): " << default_clip_spec << "\n";
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
