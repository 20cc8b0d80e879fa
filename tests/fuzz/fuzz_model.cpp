// libFuzzer harness: ferx model files through ferx::model_reader and ferx::load_pipeline. The
// input is a model file's body; unless it already holds an end record ("\nend "), the harness
// appends one with the body's right checksum, so that mutations reach the section readers
// instead of stopping at the checksum. The first section's kind chooses the reader
// (load_pipeline, or load_model<M> for the scaler, PCA, SVM and dense-head sections).
#include "fuzz_support.hpp"

#include <ferx/learn/dense_head.hpp>
#include <ferx/learn/kernel_svm.hpp>
#include <ferx/learn/linear_svm.hpp>
#include <ferx/learn/model_io.hpp>
#include <ferx/learn/pca.hpp>
#include <ferx/learn/scaling.hpp>
#include <ferx/pipeline/pipeline.hpp>

#include <iomanip>
#include <sstream>

namespace {
/// The word after the first occurrence of `key` + ' ' in `s` (empty if none).
std::string word_after(const std::string& s, const std::string& key) {
    const std::size_t k = s.find(key + ' ');
    if (k == std::string::npos) return {};
    std::size_t b = k + key.size() + 1, e = b;
    while (e < s.size() && s[e] != ' ' && s[e] != '\n' && s[e] != '\r' && s[e] != '\t') ++e;
    return s.substr(b, e - b);
}

template <class Kernel>
void load_svc(const std::string& path, bool float64) {
    if (float64)
        (void)ferx::load_model<ferx::svc_model<Kernel, double>>(path);
    else
        (void)ferx::load_model<ferx::svc_model<Kernel, float>>(path);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string file = fuzz::text(data, size);
    if (file.find("\nend ") == std::string::npos) {
        if (!file.empty() && file.back() != '\n') file += '\n';
        std::ostringstream end;
        end << "end " << std::hex << std::setw(16) << std::setfill('0') << ferx::detail::fnv1a(file) << '\n';
        file += end.str();
    }
    const std::string path = fuzz::write_file("model.ferx", file);
    const std::string kind = word_after(file, "section");
    fuzz::refuses_cleanly(
        [&] {
            if (kind == "pipeline") {
                (void)ferx::load_pipeline(path);
            } else if (kind == "standard_scaler") {
                (void)ferx::load_model<ferx::standard_scaler>(path);
            } else if (kind == "minmax_scaler") {
                (void)ferx::load_model<ferx::minmax_scaler>(path);
            } else if (kind == "pca") {
                (void)ferx::load_model<ferx::pca_model>(path);
            } else if (kind == "linear_svm") {
                (void)ferx::load_model<ferx::linear_svm_model>(path);
            } else if (kind == "dense_head") {
                (void)ferx::load_model<ferx::dense_head_model>(path);
            } else if (kind == "svc") {
                const std::string k = word_after(file, "kernel");
                const bool f64 = word_after(file, "value_type") == "float64";
                if (k == "poly") load_svc<ferx::poly_kernel>(path, f64);
                else if (k == "sigmoid") load_svc<ferx::sigmoid_kernel>(path, f64);
                else if (k == "chi2") load_svc<ferx::chi2_kernel>(path, f64);
                else if (k == "intersection") load_svc<ferx::intersection_kernel>(path, f64);
                else if (k == "linear") load_svc<ferx::linear_kernel>(path, f64);
                else load_svc<ferx::rbf_kernel>(path, f64);
            } else {
                ferx::model_reader r(path);  // magic, version and checksum only
                (void)r.done();
            }
        },
        path);
    return 0;
}
