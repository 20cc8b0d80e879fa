// learn_ckplus: subject-independent expression recognition on CK+48 with ferx's learning toolkit.
//
//   learn_ckplus [ckplus48 folder] [--C 10] [--gamma 0.0005] [--folds 10] [--model out.ferx]
//
// Reads the CK+48 crops listed in <folder>/index.csv (path,label,subject,sequence,frame; default
// ../shared/data/ckplus48), uses the 48x48 grey pixels scaled to [0, 1] as features, and runs
// subject-grouped k-fold cross-validation (no subject in both training and test): per fold a
// standard scaler fitted on the training subjects, then an RBF C-SVC. Prints the pooled
// confusion matrix with per-class precision / recall / F1, the fold-mean accuracy and the mean
// per-class recall, then trains on everything and saves scaler + SVM in one model file.
#include <ferx/learn/kernel_svm.hpp>
#include <ferx/learn/metrics.hpp>
#include <ferx/learn/model_io.hpp>
#include <ferx/learn/scaling.hpp>
#include <ferx/learn/splits.hpp>

#include <opencv2/imgcodecs.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct ckplus {
    xt::xtensor<float, 2> x;
    ferx::label_vector y;
    std::vector<std::string> subjects, classes;
};

ckplus read_ckplus(const std::filesystem::path& dir) {
    std::ifstream in(dir / "index.csv");
    if (!in) throw ferx::error("learn_ckplus", "cannot open the index", (dir / "index.csv").string());
    std::string line;
    std::getline(in, line);  // header
    std::vector<std::vector<float>> rows;
    std::vector<std::string> labels;
    ckplus d;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        std::vector<std::string> cell;
        std::stringstream ss(line);
        for (std::string c; std::getline(ss, c, ',');) cell.push_back(c);
        if (cell.size() < 3) continue;
        const cv::Mat img = cv::imread((dir / cell[0]).string(), cv::IMREAD_GRAYSCALE);
        if (img.empty()) throw ferx::error("learn_ckplus", "cannot read the image", (dir / cell[0]).string());
        std::vector<float> f(img.total());
        for (std::size_t i = 0; i < f.size(); ++i) f[i] = img.data[i] / 255.0f;
        rows.push_back(std::move(f));
        labels.push_back(cell[1]);
        d.subjects.push_back(cell[2]);
    }
    if (rows.empty()) throw ferx::error("learn_ckplus", "the index lists no images", (dir / "index.csv").string());
    std::map<std::string, int> id;
    for (const auto& l : labels) id.emplace(l, 0);
    for (auto& kv : id) kv.second = static_cast<int>(d.classes.size()), d.classes.push_back(kv.first);
    d.x = xt::xtensor<float, 2>({rows.size(), rows[0].size()});
    for (std::size_t i = 0; i < rows.size(); ++i) {
        std::copy(rows[i].begin(), rows[i].end(), d.x.data() + i * rows[0].size());
        d.y.push_back(id[labels[i]]);
    }
    return d;
}

}  // namespace

int main(int argc, char** argv) try {
    std::filesystem::path dir = "../shared/data/ckplus48";
    double c = 10, gamma = 0.0005;  // standardised pixels: |x|^2 is about 2304
    std::size_t folds = 10;
    std::string model_path = "ckplus_rbf.ferx";
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const bool has_value = i + 1 < argc;
        if (a == "--C" && has_value) c = std::stod(argv[++i]);
        else if (a == "--gamma" && has_value) gamma = std::stod(argv[++i]);
        else if (a == "--folds" && has_value) folds = std::stoul(argv[++i]);
        else if (a == "--model" && has_value) model_path = argv[++i];
        else dir = a;
    }
    const auto data = read_ckplus(dir);
    const int k = static_cast<int>(data.classes.size());
    std::cout << data.x.shape(0) << " images, " << k << " classes, " << data.x.shape(1) << " features\n";

    const auto subjects = ferx::group_ids(data.subjects);
    ferx::svc_params prm;
    prm.C = c;
    ferx::confusion_matrix pooled(k);
    double fold_mean = 0;
    for (const auto& f : ferx::group_kfold(subjects, folds)) {
        const auto x_train = ferx::take_rows(data.x, f.train);
        const auto scaler = ferx::fit_standard_scaler(x_train);  // training subjects only
        const auto model = ferx::fit_svc(ferx::exec::par, ferx::rbf_kernel{gamma},
                                         ferx::transform(ferx::exec::par, scaler, x_train), ferx::take(data.y, f.train), prm);
        const auto truth = ferx::take(data.y, f.test);
        const auto pred = ferx::predict(ferx::exec::par, model, ferx::transform(ferx::exec::par, scaler, ferx::take_rows(data.x, f.test)));
        pooled.add(truth, pred);
        fold_mean += ferx::confusion_matrix(truth, pred, k).accuracy() / static_cast<double>(folds);
    }
    std::cout << pooled.table(data.classes) << "fold-mean accuracy " << fold_mean << "\n";

    const auto scaler = ferx::fit_standard_scaler(data.x);
    const auto model = ferx::fit_svc(ferx::exec::par, ferx::rbf_kernel{gamma}, ferx::transform(ferx::exec::par, scaler, data.x), data.y, prm);
    ferx::model_writer w;
    w.add(scaler);
    w.add(model);
    w.save(model_path);
    std::cout << "saved scaler + SVM (" << model.n_support() << " support vectors) to " << model_path << "\n";
    return 0;
} catch (const std::exception& e) {
    std::cerr << "learn_ckplus: " << e.what() << "\n";
    return 1;
}
