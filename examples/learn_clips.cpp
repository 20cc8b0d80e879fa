// learn_clips: dynamic expression recognition on clips with the spatio-temporal descriptors.
//
//   learn_clips [--data ../shared/data/ckplus48] [--layout ckplus48-clips|video-folder]
//               [--descriptors lbp_top4,vlpq4,lpq_top4,lbp_top4+hoglbp] [--classifiers linear,rbf]
//               [--folds 10] [--C 1] [--frames N] [--no-equalize]
//
// Reads the clips (CK+48: its 327 sequences of 3 frames, grouped by subject; a video folder:
// root/<label>/*.mp4|avi or root/<label>/<clip>/*.png, resampled to --frames frames, 8 by default),
// equalises each frame's histogram (as the best frame pipeline does), describes each clip, and runs
// k-fold cross-validation with no subject in both training and test (CK+48; video folders are
// split by clip): per fold a standard scaler fitted on the training clips, then a linear SVM
// (LIBLINEAR-style, C) or an RBF SVM (gamma = 1 / features). Prints, per descriptor x classifier,
// the fold-mean accuracy ± its standard deviation and the pooled mean per-class recall.
//
// Descriptors (a "+" concatenates; the number is the block grid, g x g x 1):
//   lbp_top<g>   LBP-TOP(8,8,8; 1,1,1), uniform patterns            59 x 3 per block
//   vlpq<g>      VLPQ, 5x5x3 window, L = 10, rho 0.8 / 0.6           1024 per block
//   lpq_top<g>   LPQ-TOP, windows 7 (XY) and 3 (XT, YT) for 3-frame clips, 256 x 3 per block
//   hoglbp       the best frame descriptor on the clip's last frame: HOG 6x6 cells + LBP u2 6x6
#include <ferx/core/opencv.hpp>
#include <ferx/data/clips.hpp>
#include <ferx/features/hog.hpp>
#include <ferx/features/lbp.hpp>
#include <ferx/features/lbp_top.hpp>
#include <ferx/features/lpq_top.hpp>
#include <ferx/features/vlpq.hpp>
#include <ferx/imgproc/equalize_hist.hpp>
#include <ferx/learn/evaluate.hpp>
#include <ferx/learn/kernel_svm.hpp>
#include <ferx/learn/linear_svm.hpp>
#include <ferx/learn/scaling.hpp>
#include <ferx/learn/splits.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

namespace {

using features = xt::xtensor<float, 2>;

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    for (std::string part; std::getline(ss, part, sep);)
        if (!part.empty()) out.push_back(part);
    return out;
}

int grid_of(const std::string& name, std::size_t prefix) {
    const std::string rest = name.substr(prefix);
    return rest.empty() ? 4 : std::stoi(rest);
}

features hstack(const features& a, const features& b) {
    features out(std::array<std::size_t, 2>{a.shape(0), a.shape(1) + b.shape(1)});
    for (std::size_t i = 0; i < a.shape(0); ++i) {
        std::copy_n(&a(i, 0), a.shape(1), &out(i, 0));
        std::copy_n(&b(i, 0), b.shape(1), &out(i, a.shape(1)));
    }
    return out;
}

features describe_one(const xt::xtensor<std::uint8_t, 4>& clips, const std::string& name) {
    const auto& par = ferx::exec::par;
    const ferx::index_t t = static_cast<ferx::index_t>(clips.shape()[1]);
    if (name == "hoglbp") {  // the last frame of each clip
        xt::xtensor<std::uint8_t, 3> last(std::array<std::size_t, 3>{clips.shape()[0], clips.shape()[2], clips.shape()[3]});
        const std::size_t px = clips.shape()[2] * clips.shape()[3];
        for (std::size_t i = 0; i < clips.shape()[0]; ++i)
            std::copy_n(clips.data() + (i * clips.shape()[1] + clips.shape()[1] - 1) * px, px, last.data() + i * px);
        ferx::hog_params<> h;
        h.cell = {6, 6};
        h.block = {12, 12};
        h.block_stride = {6, 6};
        ferx::lbp_params<> l;
        return hstack(ferx::describe(par, last, h), ferx::describe(par, last, l));
    }
    if (name.rfind("lbp_top", 0) == 0) {
        ferx::lbp_top_params<> p;
        const int g = grid_of(name, 7);
        p.grid.cells = {g, g};
        return ferx::describe(par, ferx::view(clips), p);
    }
    if (name.rfind("vlpq", 0) == 0) {
        ferx::vlpq_params p;
        p.window = 5;
        p.window_t = 3;
        const int g = grid_of(name, 4);
        p.grid.cells = {g, g};
        return ferx::describe(par, ferx::view(clips), p);
    }
    if (name.rfind("lpq_top", 0) == 0) {
        ferx::lpq_top_params p;
        p.window_xy = 7;
        p.window_xt = p.window_yt = t >= 5 ? 5 : 3;
        const int g = grid_of(name, 7);
        p.grid.cells = {g, g};
        return ferx::describe(par, ferx::view(clips), p);
    }
    throw ferx::error("learn_clips", "unknown descriptor '" + name + "' (lbp_top<g>, vlpq<g>, lpq_top<g>, hoglbp)");
}

}  // namespace

int main(int argc, char** argv) try {
    std::string data = "../shared/data/ckplus48", layout = "ckplus48-clips";
    std::string descriptors = "lbp_top4,vlpq4,lpq_top4,lbp_top4+hoglbp,vlpq4+hoglbp,lpq_top4+hoglbp", classifiers = "linear";
    std::size_t folds = 10;
    double c = 1.0;
    int frames = 8;
    bool equalize = true;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw ferx::error("learn_clips", "option " + a + " needs a value");
            return argv[++i];
        };
        if (a == "--data") data = value();
        else if (a == "--layout") layout = value();
        else if (a == "--descriptors") descriptors = value();
        else if (a == "--classifiers") classifiers = value();
        else if (a == "--folds") folds = std::stoul(value());
        else if (a == "--C") c = std::stod(value());
        else if (a == "--frames") frames = std::stoi(value());
        else if (a == "--no-equalize") equalize = false;
        else throw ferx::error("learn_clips", "unknown argument " + a + " (see the comment at the top of learn_clips.cpp)");
    }
    ferx::clip_list list;
    ferx::frame_selection sel = ferx::frame_selection::all();
    ferx::load_options opt;
    if (layout == "ckplus48-clips") {
        list = ferx::ckplus48_clips(data);
    } else if (layout == "video-folder") {
        list = ferx::video_folder(data);
        sel = ferx::frame_selection::uniform(frames);
        opt.rows = 96;
        opt.cols = 96;
        opt.resize = true;
    } else {
        throw ferx::error("learn_clips", "--layout is ckplus48-clips or video-folder, got " + layout);
    }
    auto batch = ferx::load_clips(list, sel, opt);
    if (equalize) {
        const std::size_t n = batch.clips.shape()[0] * batch.clips.shape()[1];
        const ferx::index_t h = ferx::index_t(batch.clips.shape()[2]), w = ferx::index_t(batch.clips.shape()[3]);
        for (std::size_t i = 0; i < n; ++i) {
            ferx::image_view<std::uint8_t> f(batch.clips.data() + i * std::size_t(h * w), {h, w});
            const auto e = ferx::equalize_hist(ferx::exec::seq, ferx::image_view<const std::uint8_t>(f));
            std::copy(e.begin(), e.end(), f.data());
        }
    }
    const std::vector<int> groups = batch.groups.empty() ? [&] {
        std::vector<int> g(batch.size());
        std::iota(g.begin(), g.end(), 0);
        return g;
    }() : batch.groups;
    const auto fold_list = ferx::group_kfold(groups, folds);
    std::printf("%zu clips of %zu frames (%zux%zu), %zu classes, %zu subject-independent folds\n", batch.size(),
                batch.clips.shape()[1], batch.clips.shape()[2], batch.clips.shape()[3], batch.classes.size(), folds);
    std::printf("| descriptor | dim | classifier | accuracy | mean recall | describe s |\n|---|---|---|---|---|---|\n");
    for (const auto& spec : split(descriptors, ',')) {
        const auto t0 = std::chrono::steady_clock::now();
        features x;
        for (const auto& name : split(spec, '+')) x = x.size() == 0 ? describe_one(batch.clips, name) : hstack(x, describe_one(batch.clips, name));
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        for (const auto& cls : split(classifiers, ',')) {
            ferx::evaluation r;
            if (cls == "linear") {
                ferx::linear_svm_params prm;
                prm.C = c;
                r = ferx::evaluate_features(
                    ferx::exec::par, x, batch.labels, fold_list, batch.classes,
                    [&](const auto& pol, const features& xt, const ferx::label_vector& yt) {
                        const auto sc = ferx::fit_standard_scaler(xt);
                        return std::make_pair(sc, ferx::fit_linear_svm(pol, ferx::transform(pol, sc, xt), yt, prm));
                    },
                    [&](const auto& pol, const auto& m, const features& xs) {
                        return ferx::predict(pol, m.second, ferx::transform(pol, m.first, xs));
                    });
            } else if (cls == "rbf") {
                ferx::svc_params prm;
                prm.C = 10;
                const double gamma = 1.0 / double(x.shape(1));
                r = ferx::evaluate_features(
                    ferx::exec::par, x, batch.labels, fold_list, batch.classes,
                    [&](const auto& pol, const features& xt, const ferx::label_vector& yt) {
                        const auto sc = ferx::fit_standard_scaler(xt);
                        return std::make_pair(sc, ferx::fit_svc(pol, ferx::rbf_kernel{gamma}, ferx::transform(pol, sc, xt), yt, prm));
                    },
                    [&](const auto& pol, const auto& m, const features& xs) {
                        return ferx::predict(pol, m.second, ferx::transform(pol, m.first, xs));
                    });
            } else {
                throw ferx::error("learn_clips", "unknown classifier '" + cls + "' (linear, rbf)");
            }
            std::printf("| %s | %zu | %s | %.2f ± %.2f | %.2f | %.1f |\n", spec.c_str(), x.shape(1), cls.c_str(),
                        100 * r.mean_accuracy(), 100 * r.fold_std(&ferx::confusion_matrix::accuracy),
                        100 * r.pooled.mean_recall(), secs);
            std::fflush(stdout);
        }
    }
    return 0;
} catch (const std::exception& e) {
    std::cerr << "learn_clips: " << e.what() << "\n";
    return 1;
}
