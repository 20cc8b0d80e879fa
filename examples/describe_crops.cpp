// describe_crops: HOG, LBP and LPQ descriptors of a folder of face crops, as a classifier takes
// them (one row per crop).
//
//   describe_crops [folder] [--size 48] [--out features.csv]
//
// Reads every .png/.jpg of the folder (default: ../shared/data/ckplus48/happy, relative to the
// project's root) as grey, resizes
// each to size x size, stacks them into a batch, and describes the batch with each descriptor on
// all cores (ferx::exec::par). Prints each descriptor's length and throughput; with --out, writes
// the concatenated HOG | LBP | LPQ rows as CSV (file name first).
#include <ferx/core/opencv.hpp>
#include <ferx/features/hog.hpp>
#include <ferx/features/lbp.hpp>
#include <ferx/features/lpq.hpp>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace {

template <class Params>
xt::xtensor<float, 2> timed(const char* name, const ferx::volume<std::uint8_t>& batch, const Params& p) {
    const auto t0 = std::chrono::steady_clock::now();
    auto f = ferx::describe(ferx::exec::par, batch, p);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << name << ": " << f.shape(1) << " floats per crop, " << static_cast<long>(double(batch.shape(0)) / s)
              << " crops/s\n";
    return f;
}

}  // namespace

int main(int argc, char** argv) {
    std::filesystem::path folder = "../shared/data/ckplus48/happy";  // from the project's root
    int size = 48;
    std::string out;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--size" && i + 1 < argc) size = std::atoi(argv[++i]);
        else if (a == "--out" && i + 1 < argc) out = argv[++i];
        else folder = a;
    }
    try {
        if (!std::filesystem::is_directory(folder)) throw ferx::error("describe_crops", "not a folder", folder.string());
        std::vector<std::filesystem::path> files;
        for (const auto& e : std::filesystem::directory_iterator(folder)) {
            const auto ext = e.path().extension().string();
            if (ext == ".png" || ext == ".jpg" || ext == ".jpeg") files.push_back(e.path());
        }
        std::sort(files.begin(), files.end());
        if (files.empty()) throw ferx::error("describe_crops", "no .png or .jpg images in the folder", folder.string());
        std::vector<cv::Mat> crops;
        for (const auto& f : files) {
            cv::Mat m = ferx::read_image(f.string()), r;
            cv::resize(m, r, cv::Size(size, size), 0, 0, cv::INTER_AREA);
            crops.push_back(r);
        }
        const auto batch = ferx::to_volume<std::uint8_t>(crops);
        std::cout << crops.size() << " crops of " << size << "x" << size << " from " << folder.string() << "\n";
        const auto hog = timed("HOG (16x16 blocks, 8x8 cells, 9 bins)", batch, ferx::hog_params<>{});
        const auto lbp = timed("LBP u2 (8,1), 6x6 grid", batch, ferx::lbp_params<ferx::lbp_u2>{});
        const auto lpq = timed("LPQ 7x7, decorrelated, 6x6 grid", batch, ferx::lpq_params{});
        if (!out.empty()) {
            ferx::atomic_file file(out, "describe_crops");  // appears under its name only complete
            std::ostream& csv = file.stream();
            for (std::size_t i = 0; i < files.size(); ++i) {
                csv << files[i].filename().string();
                for (const auto* f : {&hog, &lbp, &lpq})
                    for (std::size_t j = 0; j < f->shape(1); ++j) csv << ',' << (*f)(i, j);
                csv << '\n';
            }
            file.commit();
            std::cout << "wrote " << out << "\n";
        }
    } catch (const ferx::error& e) {
        std::cerr << e.what() << "\n";
        return 1;
    }
    return 0;
}
