/// The real-data cases of the learn benchmarks (bench_learn.cpp, bench_learn_cuda.cu): CK+48
/// pixel and HOG features and a FER2013 train subset, loaded once from ../shared, with the RBF
/// parameters (C 10, gamma = 1 / (d var(x))) and the trained ferx RBF model of each case.
#pragma once

#include <ferx/learn/kernel_svm.hpp>

#include <benchmark/benchmark.h>

#include "../tests/learn/learn_data.hpp"

#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace learn_cases {

struct bench_case {
    std::string name;
    learn_data::dataset data;
    double gamma = 0;
    double linear_c = 1.0;  // C of the linear SVMs: 0.01 for pixels, 1 for HOG
    xt::xtensor<float, 2> predict_set;  // 10,000 rows
};

inline std::size_t fer_n() {
    const char* e = std::getenv("FERX_BENCH_FER_N");
    return e ? static_cast<std::size_t>(std::atol(e)) : 5000;
}

// 1 / (d * variance of all entries), scikit-learn's gamma = "scale".
inline double scale_gamma(const xt::xtensor<float, 2>& x) {
    double s = 0, s2 = 0;
    for (float v : x) s += v, s2 += double(v) * v;
    const double n = double(x.size()), var = s2 / n - (s / n) * (s / n);
    return 1.0 / (double(x.shape(1)) * var);
}

inline const bench_case* get_case(const std::string& name) {
    static std::map<std::string, std::unique_ptr<bench_case>> cache;
    auto it = cache.find(name);
    if (it != cache.end()) return it->second.get();
    const std::string shared = FERX_BENCH_SHARED_DIR;
    auto c = std::make_unique<bench_case>();
    c->name = name;
    if (name.rfind("ckplus48", 0) == 0) {
        if (!learn_data::ckplus_present(shared)) return cache.emplace(name, nullptr).first->second.get();
        c->data = learn_data::ckplus48(shared, name == "ckplus48_hog" ? learn_data::features::hog : learn_data::features::pixels);
    } else {
        if (!learn_data::fer2013_present(shared)) return cache.emplace(name, nullptr).first->second.get();
        c->data = learn_data::fer2013(shared, "Training", learn_data::features::hog, fer_n());
    }
    if (c->data.x.shape(0) == 0) return cache.emplace(name, nullptr).first->second.get();
    c->gamma = scale_gamma(c->data.x);
    c->linear_c = name == "ckplus48_pixels" ? 0.01 : 1.0;
    const std::size_t n = c->data.x.shape(0), d = c->data.x.shape(1);
    c->predict_set = xt::xtensor<float, 2>({10000, d});
    for (std::size_t i = 0; i < 10000; ++i) std::copy_n(c->data.x.data() + (i % n) * d, d, c->predict_set.data() + i * d);
    return cache.emplace(name, std::move(c)).first->second.get();
}

inline constexpr double rbf_c = 10.0;

/// The cases, as benchmark names show them, and the key get_case() takes for each.
inline std::vector<std::pair<std::string, std::string>> case_names() {
    return {{"ckplus48_pixels", "ckplus48_pixels"}, {"ckplus48_hog", "ckplus48_hog"},
            {"fer2013_hog_" + std::to_string(fer_n()), "fer2013"}};
}

inline bool skip_absent(benchmark::State& state, const bench_case* c) {
    if (c) return false;
    state.SkipWithError("shared data absent (../shared/data); skipped");
    return true;
}

inline const ferx::svc_model<ferx::rbf_kernel, float>& rbf_model(const bench_case* c) {
    static std::map<std::string, ferx::svc_model<ferx::rbf_kernel, float>> models;
    auto it = models.find(c->name);
    if (it == models.end()) {
        ferx::svc_params prm;
        prm.C = rbf_c;
        it = models.emplace(c->name, ferx::fit_svc(ferx::exec::par, ferx::rbf_kernel{c->gamma}, c->data.x, c->data.y, prm)).first;
    }
    return it->second;
}

}  // namespace learn_cases
