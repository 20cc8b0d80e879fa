// The GPU kit's data check (run.sh runs it first, with or without a device): reads the kit's data
// through the same code the CUDA tests and benchmarks use, with the kit's PGM reader and paths
// (FERX_SHARED_DIR, FERX_OPENCV_DATA_DIR, FERX_OPENCV_SAMPLES_DIR, FERX_BENCH_FER_N), so that a
// wrong path or an unreadable file shows on a machine without a GPU, not only on a lent one.
// Exit 1 with the reason if anything is missing or empty.
#include <ferx/core/opencv.hpp>
#include <ferx/data/ckplus.hpp>
#include <ferx/data/fer2013.hpp>
#include <ferx/detect/cascade.hpp>

#include "bench_detect_frames.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;

namespace {

int failures = 0;

void expect(bool ok, const std::string& what) {
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
    failures += !ok;
}

}  // namespace

int main() try {
    const fs::path shared = FERX_BENCH_SHARED_DIR;
    std::printf("data: %s\n", shared.string().c_str());
    // Every PGM the kit build wrote (kit-files.txt, paths relative to the data folder's parent).
    std::size_t listed = 0, present = 0;
    {
        std::ifstream list(shared.parent_path() / "kit-files.txt");
        for (std::string line; std::getline(list, line);) {
            ++listed;
            present += fs::is_regular_file(shared.parent_path() / line);
        }
    }
    expect(listed > 0 && present == listed, "kit-files.txt: " + std::to_string(present) + " of " + std::to_string(listed) +
                                                " decoded images present");
    // data/faces: test_integral_cuda, test_detect_cuda (every image, read grey).
    int faces = 0;
    for (const auto& e : fs::directory_iterator(shared / "data/faces")) {
        const auto ext = e.path().extension().string();
        if (ext != ".png" && ext != ".jpg" && ext != ".jpeg") continue;
        const cv::Mat m = ferx::read_image(e.path().string());
        faces += !m.empty();
    }
    expect(faces > 0, "data/faces: " + std::to_string(faces) + " images read");
    // CK+48 (test_features_cuda, bench_learn_cuda's index) and the FER2013 training rows of
    // bench_learn_cuda: every listed image read (learn_data reads them with the same cv::imread).
    const auto read_all = [](const ferx::image_list& l) {
        std::size_t n = 0;
        for (const auto& p : l.paths) n += !ferx::read_image(p).empty();
        return n;
    };
    const auto ck = ferx::ckplus48(shared / "data/ckplus48");
    const std::size_t ck_read = read_all(ck);
    expect(ck.size() == 981 && ck_read == 981, "data/ckplus48: " + std::to_string(ck.size()) + " listed (981), " +
                                                    std::to_string(ck_read) + " read");
    const char* fer_n_env = std::getenv("FERX_BENCH_FER_N");
    const std::size_t fer_n = fer_n_env ? std::stoul(fer_n_env) : 5000;
    const auto train = ferx::fer2013_folder(shared / "data/fer2013", ferx::fer2013_split::train);
    const std::size_t train_read = read_all(train);
    expect(train.size() == fer_n && train_read == fer_n, "data/fer2013 Training: " + std::to_string(train.size()) +
                                                             " listed, " + std::to_string(train_read) +
                                                             " read (FERX_BENCH_FER_N=" + std::to_string(fer_n) + ")");
    // FER2013 test split (test_nn_cuda's shipped-model checks read every 12th image).
    const auto test = ferx::fer2013_folder(shared / "data/fer2013", ferx::fer2013_split::test);
    std::size_t read = 0;
    for (std::size_t i = 0; i < test.size(); i += 12) read += !ferx::read_image(test.paths[i]).empty();
    expect(test.size() == 3589 && read == (test.size() + 11) / 12,
           "data/fer2013 test: " + std::to_string(test.size()) + " listed (3589), " + std::to_string(read) + " read");
    for (const char* m : {"fer2013_mini_XCEPTION.102-0.66.onnx", "fer2013_big_XCEPTION.54-0.66.onnx"})
        expect(fs::file_size(shared / "models/mini_xception" / m) > 100000, std::string("models/mini_xception/") + m);
    // Cascades (test_detect_cuda, bench_detect_cuda) and the detection frames of bench_detect_cuda.
    int cascades = 0;
    for (const auto& e : fs::recursive_directory_iterator(ferx_bench::opencv_data_dir()))
        if (e.path().extension() == ".xml") {
            const auto c = ferx::load_cascade(e.path().string());
            ++cascades;
            (void)c;
        }
    expect(cascades >= 6, "cascades: " + std::to_string(cascades) + " loaded from " + ferx_bench::opencv_data_dir());
    for (const auto& c : ferx_bench::detect_cases())
        expect(!c.frames.empty(), "bench_detect case " + c.name + ": " + std::to_string(c.frames.size()) + " frames" +
                                      (c.frames.empty() ? " (" + c.missing + ")" : ""));
    // Optical flow: test_tvl1_cuda's Middlebury frames, bench_flow_cuda's frames (read grey).
    int flow = 0;
    for (const char* f : {"data/flow/middlebury/Dimetrodon/frame10.png", "data/flow/middlebury/Dimetrodon/frame11.png",
                          "data/flow/middlebury/RubberWhale/frame07.png", "data/flow/middlebury/RubberWhale/frame08.png",
                          "data/flow/middlebury/RubberWhale/frame09.png", "data/flow/middlebury/RubberWhale/frame10.png",
                          "data/flow/sintel/alley_1/clean/frame_0002.png", "data/flow/sintel/alley_1/clean/frame_0003.png"})
        flow += !cv::imread((shared / f).string(), cv::IMREAD_GRAYSCALE).empty();
    for (int i = 0; i < 16; ++i) {
        char f[64];
        std::snprintf(f, sizeof f, "data/video/mmaction2/test.mp4.frames/%04d.pgm", i);
        flow += !cv::imread((shared / f).string(), cv::IMREAD_GRAYSCALE).empty();
    }
    for (const char* f : {"/basketball1.png", "/basketball2.png"})
        flow += !cv::imread(ferx_bench::opencv_samples_dir() + f, cv::IMREAD_GRAYSCALE).empty();
    expect(flow == 26, "flow frames (test_tvl1_cuda, bench_flow_cuda): " + std::to_string(flow) + " of 26 read");
    std::printf("%s\n", failures ? "kit data: FAILED" : "kit data: all present and readable");
    return failures ? 1 : 0;
} catch (const std::exception& e) {
    std::printf("FAIL %s\n", e.what());
    return 1;
}
