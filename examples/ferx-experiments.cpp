// ferx-experiments: the descriptor x classifier tables of docs/results.md, with the evaluation
// harness (ferx/learn/evaluate.hpp).
//
//   ferx-experiments ckplus48 [--data ../shared/data/ckplus48] [--folds 10]
//                    [--descriptors hog8,lbp6,lpq6,hog8+lbp6] [--classifiers linear,rbf,rbf-grid]
//                    [--equalize] [--scale standard|none|l2] [--pca N] [--C 1] [--table out.md]
//                    [--reports DIR] [--seq] [--progress]
//   ferx-experiments fer2013 [--data ../shared/data/fer2013] [--subsample N] ... (same options)
//
// Descriptors are computed once per image (a per-image transform: nothing is learnt from other
// images), then every classifier is evaluated on them:
// - ckplus48: subject-independent k-fold (ferx::group_kfold on the subjects, so the 3 frames of a
//   sequence and all sequences of a subject stay in one fold), fold-averaged accuracy and mean
//   per-class recall. Scaler, PCA and SVM are fitted on the training folds only; "-grid"
//   classifiers tune C (and gamma) by a subject-grouped 5-fold search inside each training set.
// - fer2013: trained on train (Training), tuned on validation (PublicTest) for "-grid",
//   reported once on test (PrivateTest), 7 classes and binned to negative / neutral / positive.
//
// Descriptor names: hog<c> (HOG, c x c cells, 2x2-cell blocks, stride one cell, 9 bins, L2-Hys),
// lbp<g> (uniform LBP(8,1), g x g grid of 59-bin histograms), lbpms<g> (LBP (8,1) and (16,2)),
// lpq<g> (LPQ, 7x7 window, g x g grid), "+" joins several (concatenated features).
// Classifiers: linear (LIBLINEAR-style linear SVM, C = 1 or --C), rbf (RBF C-SVC, C = 1 or --C,
// gamma = 1 / (d * variance of the scaled training features), as scikit-learn's "scale"),
// linear-grid (C in 0.01, 0.1, 1, 10; fer2013: 0.001, 0.01, 0.1), rbf-grid (C in 1, 10, 100 x gamma in 0.25..4 x the default).
#include "cli_args.hpp"
#include "progress_bar.hpp"

#include <ferx/data/ckplus.hpp>
#include <ferx/data/fer2013.hpp>
#include <ferx/data/labels.hpp>
#include <ferx/features/hog.hpp>
#include <ferx/features/lbp.hpp>
#include <ferx/features/lpq.hpp>
#include <ferx/learn/evaluate.hpp>
#include <ferx/learn/evaluation_report.hpp>
#include <ferx/learn/grid_search.hpp>
#include <ferx/learn/kernel_svm.hpp>
#include <ferx/learn/linear_svm.hpp>
#include <ferx/learn/pca.hpp>
#include <ferx/learn/scaling.hpp>

#include <opencv2/imgproc.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

namespace {

using features = xt::xtensor<float, 2>;

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    for (std::string t; std::getline(ss, t, sep);)
        if (!t.empty()) out.push_back(t);
    return out;
}

/// The number after a descriptor's name ("hog8" -> 8), or `fallback` when none.
int suffix_number(const std::string& name, std::size_t prefix, int fallback) {
    return name.size() > prefix ? std::stoi(name.substr(prefix)) : fallback;
}

/// [a | b]: the columns of b after those of a (same rows).
features hstack(const features& a, const features& b) {
    features out({a.shape(0), a.shape(1) + b.shape(1)});
    for (std::size_t r = 0; r < a.shape(0); ++r) {
        std::copy_n(a.data() + r * a.shape(1), a.shape(1), out.data() + r * out.shape(1));
        std::copy_n(b.data() + r * b.shape(1), b.shape(1), out.data() + r * out.shape(1) + a.shape(1));
    }
    return out;
}

/// [a ; b]: the rows of b after those of a (same columns).
features vstack(const features& a, const features& b) {
    features out({a.shape(0) + b.shape(0), a.shape(1)});
    std::copy_n(a.data(), a.size(), out.data());
    std::copy_n(b.data(), b.size(), out.data() + a.size());
    return out;
}

/// Describes a batch with one named descriptor.
features describe_one(const xt::xtensor<std::uint8_t, 3>& images, const std::string& name) {
    const auto& par = ferx::exec::par;
    if (name.rfind("hog", 0) == 0) {
        const int c = suffix_number(name, 3, 8);
        ferx::hog_params<> p;
        p.cell = {c, c};
        p.block = {2 * c, 2 * c};
        p.block_stride = {c, c};
        return ferx::describe(par, images, p);
    }
    if (name.rfind("lbpms", 0) == 0) {
        const int g = suffix_number(name, 5, 6);
        ferx::lbp_params<> a, b;
        a.grid.cells = {g, g};
        b.points = 16;
        b.radius = 2;
        b.grid.cells = {g, g};
        const auto fa = ferx::describe(par, images, a), fb = ferx::describe(par, images, b);
        return hstack(fa, fb);
    }
    if (name.rfind("lbp", 0) == 0) {
        ferx::lbp_params<> p;
        const int g = suffix_number(name, 3, 6);
        p.grid.cells = {g, g};
        return ferx::describe(par, images, p);
    }
    if (name.rfind("lpq", 0) == 0) {
        ferx::lpq_params p;
        const int g = suffix_number(name, 3, 6);
        p.grid.cells = {g, g};
        return ferx::describe(par, images, p);
    }
    throw ferx::error("ferx-experiments", "unknown descriptor '" + name + "' (hog<c>, lbp<g>, lbpms<g>, lpq<g>)");
}

/// Describes a batch with a "+"-joined descriptor list (features concatenated in that order).
features describe_all(const xt::xtensor<std::uint8_t, 3>& images, const std::string& spec) {
    const auto names = split(spec, '+');
    if (names.empty()) throw ferx::error("ferx-experiments", "an empty descriptor list");
    features out = describe_one(images, names[0]);
    for (std::size_t i = 1; i < names.size(); ++i) out = hstack(out, describe_one(images, names[i]));
    return out;
}

void equalize(xt::xtensor<std::uint8_t, 3>& images) {
    for (std::size_t i = 0; i < images.shape(0); ++i) {
        cv::Mat m = ferx::as_mat(ferx::view(images)[static_cast<ferx::index_t>(i)]);
        cv::equalizeHist(m, m);
    }
}

// ---- the feature-level model: scaler -> optional PCA -> SVM ----

struct model_options {
    std::string scale = "standard";
    std::size_t pca = 0;
    double C = 1;  ///< C of the untuned classifiers (linear, rbf)
    std::vector<double> linear_cs{0.01, 0.1, 1, 10};  ///< the linear-grid (fer2013: 0.001, 0.01, 0.1)
};

using rbf_svc = ferx::svc_model<ferx::rbf_kernel, float>;

struct feature_model {
    std::string scale;
    ferx::standard_scaler scaler;
    bool has_pca = false;
    ferx::pca_model pca;
    std::variant<ferx::linear_svm_model, rbf_svc> svm;
    std::string chosen;  // the grid point chosen, for the log
};

template <class Policy>
features prepare(const Policy& policy, const feature_model& m, const features& x) {
    features z = m.scale == "standard" ? ferx::transform(policy, m.scaler, x)
                 : m.scale == "l2"     ? ferx::l2_normalize(policy, x)
                                       : x;
    return m.has_pca ? ferx::transform(policy, m.pca, z) : z;
}

/// gamma = 1 / (d * variance of all entries), scikit-learn's "scale" default.
double scale_gamma(const features& x) {
    double s = 0, s2 = 0;
    for (float v : x) s += v, s2 += static_cast<double>(v) * v;
    const double n = static_cast<double>(x.size()), var = s2 / n - (s / n) * (s / n);
    return 1.0 / (static_cast<double>(x.shape(1)) * (var > 0 ? var : 1.0));
}

const std::vector<double> rbf_cs{1, 10, 100};
const std::vector<double> gamma_factors{0.25, 0.5, 1, 2, 4};

/// Fits scaler, PCA and SVM on (x, y). For "-grid" classifiers, `inner` gives the tuning folds
/// of the training set (indices local to x), or `validation` a held-out set to tune on.
template <class Policy>
feature_model fit_model(const Policy& policy, const std::string& clf, const model_options& opt, const features& x,
                        const ferx::label_vector& y, const std::vector<ferx::fold>& inner,
                        const features* x_val = nullptr, const ferx::label_vector* y_val = nullptr) {
    feature_model m;
    m.scale = opt.scale;
    if (opt.scale == "standard") m.scaler = ferx::fit_standard_scaler(x);
    features z = prepare(policy, m, x);
    if (opt.pca > 0) {
        m.pca = ferx::fit_pca(z, std::min(opt.pca, z.shape(1)));
        m.has_pca = true;
        z = ferx::transform(policy, m.pca, z);
    }
    const features zv = x_val ? prepare(policy, m, *x_val) : features();
    // Accuracy of a candidate: on the validation set, or cross-validated on `inner`.
    const auto score = [&](auto&& fit_predict) {
        if (x_val) return ferx::confusion_matrix(*y_val, fit_predict(z, y, zv), *std::max_element(y.begin(), y.end()) + 1).accuracy();
        return ferx::cross_validate(z, y, inner, *std::max_element(y.begin(), y.end()) + 1, fit_predict).accuracy();
    };
    if (clf == "linear" || clf == "linear-grid") {
        ferx::linear_svm_params prm;
        prm.C = opt.C;
        if (clf == "linear-grid") {
            double best = -1;
            for (double c : opt.linear_cs) {
                ferx::linear_svm_params p = prm;
                p.C = c;
                const double a = score([&](const features& xt, const ferx::label_vector& yt, const features& xe) {
                    return ferx::predict(policy, ferx::fit_linear_svm(policy, xt, yt, p), xe);
                });
                if (a > best) best = a, prm.C = c;
            }
            m.chosen = "C=" + std::to_string(prm.C);
        }
        m.svm = ferx::fit_linear_svm(policy, z, y, prm);
    } else if (clf == "rbf" || clf == "rbf-grid") {
        const double g0 = scale_gamma(z);
        ferx::svc_params prm;
        prm.C = opt.C;
        double gamma = g0;
        if (clf == "rbf-grid") {
            std::vector<double> gammas;
            for (double f : gamma_factors) gammas.push_back(f * g0);
            if (x_val) {
                double best = -1;
                for (double c : rbf_cs)
                    for (double g : gammas) {
                        ferx::svc_params p = prm;
                        p.C = c;
                        const double a = score([&](const features& xt, const ferx::label_vector& yt, const features& xe) {
                            return ferx::predict(policy, ferx::fit_svc(policy, ferx::rbf_kernel{g}, xt, yt, p), xe);
                        });
                        if (a > best) best = a, prm.C = c, gamma = g;
                    }
            } else {
                const auto r = ferx::grid_search_svc(policy, [](double g) { return ferx::rbf_kernel{g}; }, z, y, inner,
                                                     rbf_cs, gammas, prm);
                prm.C = r.best.C;
                gamma = r.best.gamma;
            }
            std::ostringstream s;
            s << "C=" << prm.C << " gamma=" << gamma / g0 << "x";
            m.chosen = s.str();
        }
        m.svm = ferx::fit_svc(policy, ferx::rbf_kernel{gamma}, z, y, prm);
    } else {
        throw ferx::error("ferx-experiments", "unknown classifier '" + clf + "' (linear, linear-grid, rbf, rbf-grid)");
    }
    return m;
}

template <class Policy>
ferx::label_vector predict_model(const Policy& policy, const feature_model& m, const features& x) {
    const features z = prepare(policy, m, x);
    return std::visit([&](const auto& svm) { return ferx::predict(policy, svm, z); }, m.svm);
}

std::string pct(double v) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(2) << 100 * v;
    return s.str();
}

struct options {
    std::string dataset, data, descriptors = "hog8", classifiers = "linear,rbf,rbf-grid", table, reports;
    std::size_t folds = 10, subsample = 0;
    bool equalize = false, sequential = false, progress = false;
    model_options model;
};

std::string describe_options(const options& o) {
    std::ostringstream s;
    s << (o.equalize ? "equalised, " : "") << "scale " << o.model.scale;
    if (o.model.C != 1 && o.classifiers.find("-grid") == std::string::npos) s << ", C " << o.model.C;
    if (o.model.pca) s << ", PCA " << o.model.pca;
    if (o.subsample) s << ", " << o.subsample << " training images";
    return s.str();
}

void write_reports(const options& o, const ferx::evaluation& r, const std::string& name, const std::string& title) {
    if (o.reports.empty()) return;
    std::filesystem::create_directories(o.reports);
    const std::string base = (std::filesystem::path(o.reports) / name).string();
    ferx::write_confusion_csv(base + ".csv", r.pooled, r.classes);
    ferx::write_confusion_png(base + ".png", r.pooled, r.classes);
    ferx::write_text(base + ".md", ferx::markdown_report(r, title));
}

void append_table(const options& o, const std::string& row) {
    std::cout << row << std::endl;
    if (o.table.empty()) return;
    // Appending rewrites the table atomically (ferx/core/file_io.hpp): a failed append leaves the
    // rows already there intact.
    std::string text;
    if (std::filesystem::exists(o.table)) {
        std::ifstream in(o.table, std::ios::binary);
        if (!in) throw ferx::error("ferx-experiments", "cannot read the table to append to it", o.table);
        text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    ferx::write_file_atomically(o.table, text + row + "\n", "ferx-experiments");
}

template <class Policy>
void run_ckplus(const Policy& policy, const options& o) {
    auto batch = ferx::load(ferx::ckplus48(o.data.empty() ? "../shared/data/ckplus48" : o.data));
    if (o.equalize) equalize(batch.images);
    const auto outer = ferx::group_kfold(batch.groups, o.folds);
    std::cerr << batch.size() << " images, " << batch.classes.size() << " classes, "
              << batch.group_names.size() << " subjects, " << o.folds << " subject-grouped folds\n";
    for (const auto& desc : split(o.descriptors, ',')) {
        ferx::stage_timings described;
        const features x = ferx::describe_timed(described, [&] { return describe_all(batch.images, desc); });
        for (const auto& clf : split(o.classifiers, ',')) {
            ferx_examples::progress_bar bar(desc + " " + clf, o.progress);
            const auto fit = [&](const auto& pol, const std::vector<std::size_t>& train) {
                const auto sub_groups = ferx::take(batch.groups, train);
                const auto inner = clf.find("-grid") != std::string::npos ? ferx::group_kfold(sub_groups, 5)
                                                                           : std::vector<ferx::fold>{};
                return fit_model(pol, clf, o.model, ferx::take_rows(x, train), ferx::take(batch.labels, train), inner);
            };
            const auto predict = [&](const auto& pol, const feature_model& m, const std::vector<std::size_t>& test) {
                return predict_model(pol, m, ferx::take_rows(x, test));
            };
            auto r = ferx::evaluate_folds(policy, outer, batch.labels, batch.classes, fit, predict, std::ref(bar));
            bar.finish();
            r.time.describe = described.describe;
            append_table(o, "| " + desc + " | " + std::to_string(x.shape(1)) + " | " + clf + " | " + describe_options(o) +
                                " | " + pct(r.mean_accuracy()) + " ± " + pct(r.fold_std(&ferx::confusion_matrix::accuracy)) +
                                " | " + pct(r.mean_recall()) + " | " + pct(r.pooled.accuracy()) + " | " +
                                pct(r.mean_macro_f1()) + " | " + std::to_string(r.time.fit + r.time.predict).substr(0, 6) + " s |");
            write_reports(o, r, "ckplus48_" + desc + "_" + clf, "CK+48, " + desc + " + " + clf);
        }
    }
}

template <class Policy>
void run_fer2013(const Policy& policy, const options& o) {
    const std::string root = o.data.empty() ? "../shared/data/fer2013" : o.data;
    auto list = ferx::fer2013_folder(root, ferx::fer2013_split::train);
    if (o.subsample > 0) list = ferx::random_subset(list, o.subsample);  // seeded (7)
    auto train = ferx::load(list);
    auto val = ferx::load(ferx::fer2013_folder(root, ferx::fer2013_split::validation));
    auto test = ferx::load(ferx::fer2013_folder(root, ferx::fer2013_split::test));
    if (o.equalize) equalize(train.images), equalize(val.images), equalize(test.images);
    std::cerr << train.size() << " training, " << val.size() << " validation, " << test.size() << " test images\n";
    // valence3 target of each FER2013 class, for the binned 3-class figures
    const auto v3 = ferx::valence3_map();
    std::vector<int> to3;
    for (const auto& c : train.classes) to3.push_back(v3(c));
    for (const auto& desc : split(o.descriptors, ',')) {
        ferx::stage_timings described;
        const features x_train = ferx::describe_timed(described, [&] { return describe_all(train.images, desc); });
        const features x_val = ferx::describe_timed(described, [&] { return describe_all(val.images, desc); });
        const features x_test = ferx::describe_timed(described, [&] { return describe_all(test.images, desc); });
        for (const auto& clf : split(o.classifiers, ',')) {
            // one split: rows 0..n_train-1 train, the rest test
            const features x = vstack(x_train, x_test);
            ferx::label_vector y = train.labels;
            y.insert(y.end(), test.labels.begin(), test.labels.end());
            std::vector<std::size_t> tr(train.size()), te(test.size());
            std::iota(tr.begin(), tr.end(), std::size_t{0});
            std::iota(te.begin(), te.end(), train.size());
            std::string chosen;
            const auto fit = [&](const auto& pol, const std::vector<std::size_t>& idx) {
                auto m = fit_model(pol, clf, o.model, ferx::take_rows(x, idx), ferx::take(y, idx), {}, &x_val, &val.labels);
                chosen = m.chosen;
                return m;
            };
            const auto predict = [&](const auto& pol, const feature_model& m, const std::vector<std::size_t>& idx) {
                return predict_model(pol, m, ferx::take_rows(x, idx));
            };
            auto r = ferx::evaluate_split(policy, tr, te, y, train.classes, fit, predict);
            r.time.describe = described.describe;
            const auto cm3 = r.pooled.merged(to3, 3);
            append_table(o, "| " + desc + " | " + std::to_string(x.shape(1)) + " | " + clf + (chosen.empty() ? "" : " (" + chosen + ")") +
                                " | " + describe_options(o) + " | " + pct(r.pooled.accuracy()) + " | " +
                                pct(r.pooled.mean_recall()) + " | " + pct(r.pooled.macro_f1()) + " | " + pct(cm3.accuracy()) +
                                " | " + pct(cm3.mean_recall()) + " | " + std::to_string(r.time.fit + r.time.predict).substr(0, 7) + " s |");
            write_reports(o, r, "fer2013_" + desc + "_" + clf, "FER2013 PrivateTest, " + desc + " + " + clf);
        }
    }
}

}  // namespace

int main(int argc, char** argv) try {
    options o;
    if (argc < 2) {
        std::cerr << "usage: ferx-experiments ckplus48|fer2013 [--data DIR] [--folds 10] [--descriptors hog8,lbp6,...]\n"
                     "       [--classifiers linear,rbf,rbf-grid] [--equalize] [--scale standard|none|l2] [--pca N] [--C 1]\n"
                     "       [--subsample N] [--table FILE] [--reports DIR] [--seq] [--progress]\n";
        return 2;
    }
    o.dataset = argv[1];
    ferx_examples::cli_args args(argc, argv, "see the comment at the top of ferx-experiments.cpp", 2);
    while (args.next()) {
        const std::string& a = args.arg();
        if (a == "--data") o.data = args.value();
        else if (a == "--folds") o.folds = static_cast<std::size_t>(args.whole());
        else if (a == "--descriptors") o.descriptors = args.value();
        else if (a == "--classifiers") o.classifiers = args.value();
        else if (a == "--equalize") o.equalize = true;
        else if (a == "--scale") o.model.scale = args.value();
        else if (a == "--pca") o.model.pca = static_cast<std::size_t>(args.whole());
        else if (a == "--C") o.model.C = args.number();
        else if (a == "--subsample") o.subsample = static_cast<std::size_t>(args.whole());
        else if (a == "--table") o.table = args.value();
        else if (a == "--reports") o.reports = args.value();
        else if (a == "--seq") o.sequential = true;
        else if (a == "--progress") o.progress = true;
        else args.fail("unknown option '" + a + "'");
    }
    if (o.model.scale != "standard" && o.model.scale != "none" && o.model.scale != "l2")
        throw ferx::error("ferx-experiments", "--scale must be standard, none or l2");
    if (o.dataset == "fer2013") o.model.linear_cs = {0.001, 0.01, 0.1};  // C >= 1 takes minutes a fit on 28,709 images
    if (o.dataset == "ckplus48")
        o.sequential ? run_ckplus(ferx::exec::seq, o) : run_ckplus(ferx::exec::par, o);
    else if (o.dataset == "fer2013")
        o.sequential ? run_fer2013(ferx::exec::seq, o) : run_fer2013(ferx::exec::par, o);
    else
        throw ferx::error("ferx-experiments", "unknown dataset '" + o.dataset + "' (ckplus48 or fer2013)");
    return 0;
} catch (const std::exception& e) {
    std::cerr << "ferx-experiments: " << e.what() << "\n";
    return 1;
}
