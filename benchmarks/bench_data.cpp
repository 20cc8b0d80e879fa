// Dataset readers on the real CK+48 and FER2013 of ../shared (skipped when absent):
// <step>/<impl>/<case>. load/ferx decodes an image_list into one [n, 48, 48] batch; load/opencv
// is the plain peer, cv::imread of the same files into a std::vector<cv::Mat>.
#include <ferx/data/ckplus.hpp>
#include <ferx/data/fer2013.hpp>
#include <ferx/data/image_list.hpp>

#include <benchmark/benchmark.h>

#include <opencv2/imgcodecs.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const fs::path& data_dir() {
    static const fs::path dir = fs::path(FERX_BENCH_SHARED_DIR) / "data";
    return dir;
}

/// The image lists of the cases, read once; null when the data is absent.
const ferx::image_list* cached_list(const std::string& name) {
    static std::map<std::string, std::unique_ptr<ferx::image_list>> cache;
    auto it = cache.find(name);
    if (it != cache.end()) return it->second.get();
    std::unique_ptr<ferx::image_list> list;
    if (name == "ckplus48" && fs::exists(data_dir() / "ckplus48" / "index.csv"))
        list = std::make_unique<ferx::image_list>(ferx::ckplus48(data_dir() / "ckplus48"));
    if (name == "fer2013_test" && fs::is_directory(data_dir() / "fer2013"))
        list = std::make_unique<ferx::image_list>(ferx::fer2013_folder(data_dir() / "fer2013", ferx::fer2013_split::test));
    return cache.emplace(name, std::move(list)).first->second.get();
}

/// The FER2013 test split written once as an original-format fer2013.csv (removed at exit).
const fs::path* fer2013_csv() {
    struct file {
        fs::path path;
        ~file() {
            std::error_code ec;
            fs::remove(path, ec);
        }
    };
    static std::unique_ptr<file> f;
    if (f) return &f->path;
    const auto* list = cached_list("fer2013_test");
    if (!list) return nullptr;
    const auto b = ferx::load(*list, {48, 48, false});
    f = std::make_unique<file>();
    f->path = fs::temp_directory_path() / "ferx_bench_fer2013_test.csv";
    std::ofstream out(f->path);
    out << "emotion,pixels,Usage\n";
    for (std::size_t i = 0; i < b.size(); ++i) {
        out << b.labels[i] << ',';
        for (std::size_t p = 0; p < 48 * 48; ++p) out << (p ? " " : "") << int(b.images.data()[i * 48 * 48 + p]);
        out << ",PrivateTest\n";
    }
    return &f->path;
}

void set_counters(benchmark::State& state, std::size_t images) {
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * images));
    state.counters["images_per_s"] =
        benchmark::Counter(double(images), benchmark::Counter::kIsIterationInvariantRate);
}

void load_ferx(benchmark::State& state, const std::string& name) {
    const auto* list = cached_list(name);
    if (!list) return state.SkipWithError("shared data absent (../shared/data); skipped");
    for (auto _ : state) benchmark::DoNotOptimize(ferx::load(*list, {48, 48, false}).images.data());
    set_counters(state, list->size());
}

void load_opencv(benchmark::State& state, const std::string& name) {
    const auto* list = cached_list(name);
    if (!list) return state.SkipWithError("shared data absent (../shared/data); skipped");
    for (auto _ : state) {
        std::vector<cv::Mat> images;
        images.reserve(list->size());
        for (const auto& p : list->paths) images.push_back(cv::imread(p, cv::IMREAD_GRAYSCALE));
        benchmark::DoNotOptimize(images.data());
    }
    set_counters(state, list->size());
}

void index_ferx(benchmark::State& state, const std::string& name) {
    if (!cached_list(name)) return state.SkipWithError("shared data absent (../shared/data); skipped");
    std::size_t n = 0;
    for (auto _ : state) {
        const auto l = name == "ckplus48" ? ferx::ckplus48(data_dir() / "ckplus48")
                                          : ferx::fer2013_folder(data_dir() / "fer2013", ferx::fer2013_split::test);
        n = l.size();
        benchmark::DoNotOptimize(l.paths.data());
    }
    set_counters(state, n);
}

void csv_ferx(benchmark::State& state) {
    const auto* file = fer2013_csv();
    if (!file) return state.SkipWithError("shared data absent (../shared/data); skipped");
    std::size_t n = 0;
    for (auto _ : state) {
        const auto b = ferx::read_fer2013_csv(*file);
        n = b.size();
        benchmark::DoNotOptimize(b.images.data());
    }
    set_counters(state, n);
}

const bool registered = [] {
    for (const std::string name : {"ckplus48", "fer2013_test"}) {
        benchmark::RegisterBenchmark(("index/ferx/" + name).c_str(), index_ferx, name)->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark(("load/ferx/" + name).c_str(), load_ferx, name)->Unit(benchmark::kMillisecond);
        benchmark::RegisterBenchmark(("load/opencv/" + name).c_str(), load_opencv, name)->Unit(benchmark::kMillisecond);
    }
    benchmark::RegisterBenchmark("fer2013_csv/ferx/fer2013_test", csv_ferx)->Unit(benchmark::kMillisecond);
    return true;
}();

}  // namespace

BENCHMARK_MAIN();
