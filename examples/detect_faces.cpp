// detect_faces: Viola-Jones face detection on an image or a video, with boxes drawn.
//
//   detect_faces [input] [--cascade file.xml] [--out path] [--every N] [--eyes] [--seq]
//
// input: an image or a video (default: Debian's opencv-doc sample Megamind.avi). The cascade
// defaults to OpenCV's haarcascade_frontalface_default.xml (Debian package opencv-data).
// Images: the boxes (and, with --eyes, the eyes found with haarcascade_eye.xml) are drawn and
// written to --out (default detect_faces.png), and a 64x64 crop of the most confident face beside it
// (…_face.png). Videos: every N-th frame (default 1) is processed, and the annotated frames are
// written to --out (default detect_faces.avi, MJPG). A summary is printed: frames, faces, time.
#include <ferx/core/opencv.hpp>
#include <ferx/detect/detect_multiscale.hpp>
#include <ferx/detect/face_crop.hpp>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

namespace {

const std::string default_video = "/usr/share/doc/opencv-doc/examples/data/Megamind.avi";
const std::string cascade_dir = "/usr/share/opencv4/haarcascades/";

struct options {
    std::string input = default_video, cascade = cascade_dir + "haarcascade_frontalface_default.xml", out;
    int every = 1;
    bool eyes = false, seq = false;
};

int usage(const char* argv0) {
    std::cerr << "usage: " << argv0 << " [input] [--cascade file.xml] [--out path] [--every N] [--eyes] [--seq]\n";
    return 2;
}

bool is_image(const std::string& path) {
    std::string ext = std::filesystem::path(path).extension().string();
    for (auto& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp" || ext == ".pgm";
}

/// Detects in one frame, draws the boxes (and eyes); returns the detections.
std::vector<ferx::detection> annotate(const options& o, const ferx::cascade& faces, const ferx::cascade* eyes,
                                      const cv::Mat& grey, cv::Mat& canvas) {
    const auto v = ferx::view<std::uint8_t>(grey);
    const auto found = o.seq ? ferx::detect_multiscale(ferx::exec::seq, faces, v, {})
                             : ferx::detect_multiscale(ferx::exec::par, faces, v, {});
    for (const auto& d : found) {
        const cv::Rect r(d.box.x, d.box.y, d.box.width, d.box.height);
        cv::rectangle(canvas, r, cv::Scalar(0, 255, 0), 2);
        cv::putText(canvas, std::to_string(d.neighbors), r.tl() + cv::Point(2, 14), cv::FONT_HERSHEY_SIMPLEX, 0.45,
                    cv::Scalar(0, 255, 0), 1);
        if (eyes)
            if (const auto e = ferx::locate_eyes(ferx::exec::seq, *eyes, v, d.box)) {
                cv::circle(canvas, cv::Point2f(e->left_x, e->left_y), 4, cv::Scalar(255, 0, 0), 2);
                cv::circle(canvas, cv::Point2f(e->right_x, e->right_y), 4, cv::Scalar(255, 0, 0), 2);
            }
    }
    return found;
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--cascade" && i + 1 < argc) o.cascade = argv[++i];
        else if (a == "--out" && i + 1 < argc) o.out = argv[++i];
        else if (a == "--every" && i + 1 < argc) o.every = std::max(1, std::atoi(argv[++i]));
        else if (a == "--eyes") o.eyes = true;
        else if (a == "--seq") o.seq = true;
        else if (!a.empty() && a[0] == '-') return usage(argv[0]);
        else o.input = a;
    }
    try {
        const ferx::cascade faces = ferx::load_cascade(o.cascade);
        std::optional<ferx::cascade> eyes;
        if (o.eyes) eyes = ferx::load_cascade(cascade_dir + "haarcascade_eye.xml");
        const auto t0 = std::chrono::steady_clock::now();
        std::size_t frames = 0, total = 0;
        if (is_image(o.input)) {
            cv::Mat colour = cv::imread(o.input, cv::IMREAD_COLOR), grey;
            if (colour.empty()) throw ferx::error("detect_faces", "cannot read the image", o.input);
            cv::cvtColor(colour, grey, cv::COLOR_BGR2GRAY);
            const auto found = annotate(o, faces, eyes ? &*eyes : nullptr, grey, colour);
            frames = 1;
            total = found.size();
            const std::string out = o.out.empty() ? "detect_faces.png" : o.out;
            ferx::write_image(out, colour, "detect_faces");
            std::cout << "wrote " << out << "\n";
            if (const auto f = ferx::most_confident_face(found)) {
                std::optional<ferx::eye_pair> e;
                if (eyes) e = ferx::locate_eyes(ferx::exec::seq, *eyes, ferx::view<std::uint8_t>(grey), f->box);
                const auto crop = ferx::crop_face(ferx::view<std::uint8_t>(grey), f->box, {0.2, 64, 64}, e ? &*e : nullptr);
                const std::string crop_path =
                    (std::filesystem::path(out).parent_path() / (std::filesystem::path(out).stem().string() + "_face.png")).string();
                ferx::write_image(crop_path, ferx::to_mat(crop), "detect_faces");
                std::cout << "wrote " << crop_path << " (most confident face, 64x64" << (e ? ", eyes levelled" : "") << ")\n";
            }
            for (const auto& d : found)
                std::cout << "  face at " << d.box.x << "," << d.box.y << " " << d.box.width << "x" << d.box.height
                          << " (" << d.neighbors << " neighbours)\n";
        } else {
            cv::VideoCapture cap(o.input);
            if (!cap.isOpened()) throw ferx::error("detect_faces", "cannot open the video", o.input);
            const std::string out = o.out.empty() ? "detect_faces.avi" : o.out;
            cv::VideoWriter writer;
            cv::Mat colour, grey;
            for (int i = 0; cap.read(colour); ++i) {
                if (i % o.every != 0) continue;
                cv::cvtColor(colour, grey, cv::COLOR_BGR2GRAY);
                total += annotate(o, faces, eyes ? &*eyes : nullptr, grey, colour).size();
                ++frames;
                if (!writer.isOpened() &&
                    !writer.open(out, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 25.0 / o.every, colour.size()))
                    throw ferx::error("detect_faces", "cannot write the output video", out);
                writer.write(colour);
            }
            std::cout << "wrote " << out << "\n";
        }
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::cout << "input " << o.input << ": " << frames << " frame(s), " << total << " face(s), " << s << " s ("
                  << (s > 0 ? frames / s : 0.0) << " frames/s, " << (o.seq ? "exec::seq" : "exec::par") << ", cascade "
                  << std::filesystem::path(o.cascade).filename().string() << ")\n";
    } catch (const ferx::error& e) {
        std::cerr << "detect_faces: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
