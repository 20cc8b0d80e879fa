/// \file ferx/learn/evaluation_report.hpp
/// Writers for an evaluation (ferx/learn/evaluate.hpp): the confusion matrix as CSV and as a PNG
/// heat-map drawn with OpenCV (cell counts, colour = the row-normalised share, class names on
/// both axes), and a markdown report (summary, per-fold figures, per-class table, timings).
///
///     ferx::write_confusion_csv("cm.csv", r.pooled, r.classes);
///     ferx::write_confusion_png("cm.png", r.pooled, r.classes);
///     ferx::write_text("report.md", ferx::markdown_report(r, "CK+48, HOG + RBF SVM"));
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/file_io.hpp>
#include <ferx/core/opencv.hpp>
#include <ferx/learn/evaluate.hpp>
#include <ferx/learn/metrics.hpp>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstddef>
#include <iomanip>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

FERX_NAMESPACE_BEGIN

/// Writes `text` to `path` (replacing it atomically: ferx/core/file_io.hpp); ferx::error naming
/// the file and the reason if it cannot be written.
inline void write_text(const std::string& path, const std::string& text) {
    write_file_atomically(path, text, "ferx::write_text");
}

/// The pooled confusion matrix as CSV (confusion_matrix::csv: a header
/// "true,<names...>,precision,recall,f1,support", then one row per true class).
inline void write_confusion_csv(const std::string& path, const confusion_matrix& cm,
                                const std::vector<std::string>& names = {}) {
    write_text(path, cm.csv(names));
}

/// A heat-map of `cm` as an 8-bit BGR image: K x K cells of `cell` pixels, each holding its count,
/// coloured from white (0 % of its row) to dark blue (100 %); rows are true classes, named on
/// the left, columns predicted classes, named above. `names`: K names (empty: the indices).
inline cv::Mat draw_confusion_matrix(const confusion_matrix& cm, const std::vector<std::string>& names = {},
                                     int cell = 72) {
    constexpr const char* where = "ferx::draw_confusion_matrix";
    detail::require(cell >= 24, where, "cells must be at least 24 pixels");
    const std::size_t k = cm.n_classes();
    std::vector<std::string> label = names;
    if (label.empty())
        for (std::size_t c = 0; c < k; ++c) label.push_back(std::to_string(c));
    detail::require(label.size() == k, where,
                    std::to_string(label.size()) + " class names for " + std::to_string(k) + " classes");
    const int font = cv::FONT_HERSHEY_SIMPLEX;
    const double name_scale = 0.45, count_scale = 0.5;
    int name_w = 0, base = 0;
    for (const auto& s : label) name_w = std::max(name_w, cv::getTextSize(s, font, name_scale, 1, &base).width);
    const int left = name_w + 40, top = 60, n = static_cast<int>(k);
    cv::Mat img(top + n * cell + 40, left + n * cell + 20, CV_8UC3, cv::Scalar(255, 255, 255));
    const auto share = cm.normalized();
    const auto centred = [&](const std::string& s, cv::Point centre, double scale, const cv::Scalar& colour) {
        const cv::Size sz = cv::getTextSize(s, font, scale, 1, &base);
        cv::putText(img, s, {centre.x - sz.width / 2, centre.y + sz.height / 2}, font, scale, colour, 1, cv::LINE_AA);
    };
    for (int t = 0; t < n; ++t)
        for (int p = 0; p < n; ++p) {
            const double v = share(static_cast<std::size_t>(t), static_cast<std::size_t>(p));
            // white (255,255,255) -> dark blue (140, 40, 10) in BGR
            const cv::Scalar colour(255 - v * 115, 255 - v * 215, 255 - v * 245);
            const cv::Rect r(left + p * cell, top + t * cell, cell, cell);
            cv::rectangle(img, r, colour, cv::FILLED);
            cv::rectangle(img, r, cv::Scalar(160, 160, 160), 1);
            centred(std::to_string(cm.counts()(static_cast<std::size_t>(t), static_cast<std::size_t>(p))),
                    {r.x + cell / 2, r.y + cell / 2}, count_scale, v > 0.5 ? cv::Scalar(255, 255, 255) : cv::Scalar(0, 0, 0));
        }
    for (int c = 0; c < n; ++c) {
        const cv::Size sz = cv::getTextSize(label[static_cast<std::size_t>(c)], font, name_scale, 1, &base);
        cv::putText(img, label[static_cast<std::size_t>(c)], {left - 8 - sz.width, top + c * cell + cell / 2 + sz.height / 2},
                    font, name_scale, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
        // Column names alternate between two heights so long neighbours do not overlap.
        centred(label[static_cast<std::size_t>(c)], {left + c * cell + cell / 2, top - 12 - (c % 2) * 16}, name_scale,
                cv::Scalar(0, 0, 0));
    }
    cv::putText(img, "true \\ predicted", {8, 18}, font, name_scale, cv::Scalar(90, 90, 90), 1, cv::LINE_AA);
    std::ostringstream foot;
    foot << std::fixed << std::setprecision(2) << "accuracy " << 100 * cm.accuracy() << " %, mean recall "
         << 100 * cm.mean_recall() << " %, n = " << cm.total();
    cv::putText(img, foot.str(), {left, top + n * cell + 26}, font, name_scale, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
    return img;
}

/// draw_confusion_matrix written to `path` (the extension picks the format, e.g. .png), atomically;
/// ferx::error naming the file if it cannot be encoded or written.
inline void write_confusion_png(const std::string& path, const confusion_matrix& cm,
                                const std::vector<std::string>& names = {}) {
    write_image(path, draw_confusion_matrix(cm, names), "ferx::write_confusion_png");
}

/// A markdown report of an evaluation: `title`, the lines of `facts` ("key: value", e.g. the
/// dataset and pipeline), the fold-averaged and pooled accuracy / mean recall / macro-F1, the
/// per-fold figures (when there are several folds), the per-class precision / recall / F1 of the
/// pooled predictions, the pooled confusion matrix and the per-stage timings.
inline std::string markdown_report(const evaluation& e, const std::string& title,
                                   const std::vector<std::pair<std::string, std::string>>& facts = {}) {
    std::ostringstream o;
    const auto pct = [](double v) {
        std::ostringstream s;
        s << std::fixed << std::setprecision(2) << 100 * v;
        return s.str();
    };
    o << "# " << title << "\n\n";
    for (const auto& f : facts) o << "- " << f.first << ": " << f.second << "\n";
    if (!facts.empty()) o << "\n";
    const std::size_t k = e.pooled.n_classes();
    o << "| figure | fold-averaged (%) | pooled (%) |\n|---|---|---|\n";
    o << "| accuracy | " << pct(e.mean_accuracy()) << " ± " << pct(e.fold_std(&confusion_matrix::accuracy)) << " | "
      << pct(e.pooled.accuracy()) << " |\n";
    o << "| mean per-class recall | " << pct(e.mean_recall()) << " | " << pct(e.pooled.mean_recall()) << " |\n";
    o << "| macro-F1 | " << pct(e.mean_macro_f1()) << " | " << pct(e.pooled.macro_f1()) << " |\n\n";
    o << "Folds: " << e.folds.size() << ", test samples: " << e.pooled.total() << " (± is the standard deviation over folds).\n\n";
    if (e.folds.size() > 1) {
        o << "| fold | train | test | accuracy (%) | mean recall (%) | macro-F1 (%) |\n|---|---|---|---|---|---|\n";
        for (std::size_t f = 0; f < e.folds.size(); ++f) {
            const auto& r = e.folds[f];
            o << "| " << f << " | " << r.train_size << " | " << r.test_size << " | " << pct(r.cm.accuracy()) << " | "
              << pct(r.cm.mean_recall()) << " | " << pct(r.cm.macro_f1()) << " |\n";
        }
        o << "\n";
    }
    o << "| class | precision (%) | recall (%) | F1 (%) | support |\n|---|---|---|---|---|\n";
    for (std::size_t c = 0; c < k; ++c)
        o << "| " << (c < e.classes.size() ? e.classes[c] : std::to_string(c)) << " | " << pct(e.pooled.precision(c))
          << " | " << pct(e.pooled.recall(c)) << " | " << pct(e.pooled.f1(c)) << " | " << e.pooled.support(c) << " |\n";
    o << "\nPooled confusion matrix (rows: true class, columns: predicted):\n\n| true \\ predicted |";
    for (std::size_t c = 0; c < k; ++c) o << " " << (c < e.classes.size() ? e.classes[c] : std::to_string(c)) << " |";
    o << "\n|---|";
    for (std::size_t c = 0; c < k; ++c) o << "---|";
    o << "\n";
    for (std::size_t t = 0; t < k; ++t) {
        o << "| " << (t < e.classes.size() ? e.classes[t] : std::to_string(t)) << " |";
        for (std::size_t p = 0; p < k; ++p) o << " " << e.pooled.counts()(t, p) << " |";
        o << "\n";
    }
    o << std::fixed << std::setprecision(3) << "\nTimings (wall-clock seconds, summed over folds): describe "
      << e.time.describe << ", fit " << e.time.fit << ", predict " << e.time.predict << ".\n";
    return o.str();
}

FERX_NAMESPACE_END
