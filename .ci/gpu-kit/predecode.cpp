// The GPU kit's data, written at kit-build time with this machine's full OpenCV (the kit itself
// links no imgcodecs/videoio): every image the CUDA tests and benchmarks read, decoded with
// cv::imread(..., IMREAD_GRAYSCALE) and written as binary PGM under the same name, and the 64
// frames of Megamind.avi that bench_detect_frames.hpp reads (60..123, cvtColor BGR2GRAY), and
// the flow frames of test_farneback_cuda, test_tvl1_cuda and bench_flow_cuda (see below).
//   ferx_kit_predecode <shared dir> <opencv-doc samples dir> <out dir> <fer n>
// writes <out>/shared/data/{faces,ckplus48,fer2013} and <out>/opencv-doc/Megamind.avi.frames.
// FER2013: index.csv keeps the PrivateTest rows (test_cuda lists the test split through it and
// reads every 12th image; the others are placeholders, see below) and the <fer n> Training rows learn_data::fer2013 picks for the learn
// benchmarks when FERX_BENCH_FER_N is <fer n> (run.sh sets it), in the index's order, so both
// read the same images as from ../shared.
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

int written = 0, placeholders = 0;
std::vector<fs::path> listing;  // every PGM written, for <out>/kit-files.txt

void write_pgm(const cv::Mat& g, const fs::path& out) {
    listing.push_back(out);
    fs::create_directories(out.parent_path());
    std::ofstream o(out, std::ios::binary);
    o << "P5\n" << g.cols << " " << g.rows << "\n255\n";
    for (int r = 0; r < g.rows; ++r) o.write(reinterpret_cast<const char*>(g.ptr(r)), g.cols);
    if (!o) throw std::runtime_error("cannot write " + out.string());
    ++written;
}

void decode(const fs::path& in, const fs::path& out) {
    const cv::Mat g = cv::imread(in.string(), cv::IMREAD_GRAYSCALE);
    if (g.empty()) throw std::runtime_error("cannot decode " + in.string());
    write_pgm(g, out);
}

bool is_image(const fs::path& p) {
    const auto e = p.extension().string();
    return e == ".png" || e == ".jpg" || e == ".jpeg";
}

std::vector<std::string> split_csv(const std::string& line) {
    std::vector<std::string> out;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) out.push_back(cell);
    return out;
}

}  // namespace

int main(int argc, char** argv) try {
    if (argc != 5) {
        std::cerr << "usage: ferx_kit_predecode <shared dir> <opencv-doc samples dir> <out dir> <fer n>\n";
        return 2;
    }
    const fs::path shared = argv[1], samples = argv[2], out = argv[3];
    // faces: every image (test_integral_cuda, test_detect_cuda, bench_detect_cuda's tiled frames).
    for (const auto& e : fs::directory_iterator(shared / "data/faces"))
        if (is_image(e.path())) decode(e.path(), out / "shared/data/faces" / e.path().filename());
    // CK+48: every crop and the index (test_features_cuda, bench_learn_cuda).
    const fs::path ck = shared / "data/ckplus48";
    fs::create_directories(out / "shared/data/ckplus48");
    fs::copy_file(ck / "index.csv", out / "shared/data/ckplus48/index.csv", fs::copy_options::overwrite_existing);
    for (const auto& e : fs::recursive_directory_iterator(ck))
        if (e.is_regular_file() && is_image(e.path()))
            decode(e.path(), out / "shared/data/ckplus48" / fs::relative(e.path(), ck));
    // FER2013: PrivateTest rows, and learn_data::fer2013's <fer n> evenly spaced Training rows.
    const std::size_t fer_n = static_cast<std::size_t>(std::stoul(argv[4]));
    const fs::path fer = shared / "data/fer2013";
    std::ifstream idx(fer / "index.csv");
    std::string header, line;
    std::getline(idx, header);
    std::vector<std::string> lines;
    std::vector<std::size_t> training;
    while (std::getline(idx, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        const auto r = split_csv(line);
        if (r.size() >= 4 && r[3] == "Training") training.push_back(lines.size());
        lines.push_back(line);
    }
    // PrivateTest: test_nn_cuda's shipped-model checks read every 12th image of the split's list
    // (index order); fer2013_folder needs every listed file to exist, so the others are written
    // as small placeholder files that are no image: read, they give an empty cv::Mat and a
    // message (the test's BOOST_REQUIRE then names the file), never pixels.
    constexpr std::size_t test_stride = 12;
    std::size_t test_row = 0;
    std::vector<bool> keep(lines.size(), false);
    const std::size_t n = std::min<std::size_t>(fer_n, training.size());
    for (std::size_t s = 0; s < n; ++s) keep[training[s * training.size() / n]] = true;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto r = split_csv(lines[i]);
        if (r.size() >= 4 && r[3] == "PrivateTest") keep[i] = true;
    }
    fs::create_directories(out / "shared/data/fer2013");
    std::ofstream oidx(out / "shared/data/fer2013/index.csv");
    oidx << header << "\n";
    for (std::size_t i = 0; i < lines.size(); ++i)
        if (keep[i]) {
            const auto r = split_csv(lines[i]);
            const std::string& path = r[0];
            if (r[3] == "PrivateTest" && test_row++ % test_stride != 0) {
                fs::create_directories((out / "shared/data/fer2013" / path).parent_path());
                std::ofstream(out / "shared/data/fer2013" / path)
                    << "ferx GPU kit: not carried (test_nn_cuda reads every 12th FER2013 test image)\n";
                ++placeholders;
            } else {
                decode(fer / path, out / "shared/data/fer2013" / path);
            }
            oidx << lines[i] << "\n";
        }
    // Megamind.avi: frames 60..123 grey (bench_detect_frames.hpp's video_frames(64)).
    cv::VideoCapture cap((samples / "Megamind.avi").string());
    cv::Mat f;
    int frames = 0;
    for (int i = 0; cap.isOpened() && cap.read(f) && i < 124; ++i)
        if (i >= 60) {
            cv::Mat g;
            cv::cvtColor(f, g, cv::COLOR_BGR2GRAY);
            char name[32];
            std::snprintf(name, sizeof name, "%04d.pgm", i);
            write_pgm(g, out / "opencv-doc/Megamind.avi.frames" / name);
            ++frames;
        }
    if (frames != 64) throw std::runtime_error("Megamind.avi: read " + std::to_string(frames) + " of the 64 frames");
    // Optical flow (test_farneback_cuda, test_tvl1_cuda, bench_flow_cuda): Middlebury Dimetrodon 10/11 and
    // RubberWhale 07..14, Sintel alley_1 clean frames 2 and 3, opencv-doc's basketball1/2, and the
    // first 16 frames of mmaction2's test.mp4 (grey, BGR2GRAY as bench_flow_cuda reads them
    // without the kit) as test.mp4.frames/<i>.pgm.
    const fs::path mb = shared / "data/flow/middlebury";
    for (const char* file : {"Dimetrodon/frame10.png", "Dimetrodon/frame11.png"}) decode(mb / file, out / "shared/data/flow/middlebury" / file);
    for (int i = 7; i <= 14; ++i) {
        const std::string file = std::string("RubberWhale/frame") + (i < 10 ? "0" : "") + std::to_string(i) + ".png";
        decode(mb / file, out / "shared/data/flow/middlebury" / file);
    }
    for (const char* file : {"alley_1/clean/frame_0002.png", "alley_1/clean/frame_0003.png"})
        decode(shared / "data/flow/sintel" / file, out / "shared/data/flow/sintel" / file);
    for (const char* file : {"basketball1.png", "basketball2.png"}) decode(samples / file, out / "opencv-doc" / file);
    cv::VideoCapture clip((shared / "data/video/mmaction2/test.mp4").string());
    int clip_frames = 0;
    for (; clip.isOpened() && clip_frames < 16 && clip.read(f); ++clip_frames) {
        cv::Mat g;
        cv::cvtColor(f, g, cv::COLOR_BGR2GRAY);
        char name[32];
        std::snprintf(name, sizeof name, "%04d.pgm", clip_frames);
        write_pgm(g, out / "shared/data/video/mmaction2/test.mp4.frames" / name);
    }
    if (clip_frames != 16) throw std::runtime_error("test.mp4: read " + std::to_string(clip_frames) + " of the 16 frames");
    std::ofstream list(out / "kit-files.txt");  // ferx_kit_data_check checks each is present
    for (const auto& p : listing) list << fs::relative(p, out).string() << "\n";
    std::cout << "ferx_kit_predecode: wrote " << written << " PGM files and " << placeholders
              << " placeholders under " << out.string() << "\n";
    return 0;
} catch (const std::exception& e) {
    std::cerr << "ferx_kit_predecode: " << e.what() << "\n";
    return 1;
}
