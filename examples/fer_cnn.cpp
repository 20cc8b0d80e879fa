// fer_cnn: facial expression recognition with a CNN from an ONNX file (the deep pipeline,
// ferx/pipeline/cnn_pipeline.hpp) on images or a video. Built only with the component ferx::onnx.
//
//   fer_cnn [options] [input...]
//
//   input             image files or one video file; default:
//                     /usr/share/doc/opencv-doc/examples/data/Megamind.avi (Debian's opencv-doc)
//   --model PATH      the ONNX model; default ../shared/models/mini_xception/
//                     fer2013_mini_XCEPTION.102-0.66.onnx (looked up from the working folder, then
//                     beside the source tree of this build), else --model is required
//   --classes a,b,..  class names in the model's output order (default: the FER2013 order angry,
//                     disgust, fear, happy, sad, surprise, neutral)
//   --scale S --offset O   pixel normalisation x * S + O (default: mini-Xception's (x/255 - 0.5) * 2)
//   --out DIR         where the annotated images / video and the CSV go (default: .)
//   --max-frames N    stop a video after N frames
//   --faces all|largest|confident   which detected faces to classify (default all)
//   --crop            the inputs are face crops: no detection, the whole image is classified
//   --seq             single-threaded (default: exec::par, all cores)
//   --no-draw         write no annotated image or video
//
// Prints per-stage timings (face detection, crop + resize, normalisation, network) and, for a
// video, the clip's decision over its second half (majority vote of the largest face's label per
// frame, and the argmax of the mean scores). Bad arguments, a missing model or input: a message
// on stderr and exit status 1.
#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/opencv.hpp>
#include <ferx/data/labels.hpp>
#include <ferx/nn/onnx.hpp>
#include <ferx/pipeline/cnn_pipeline.hpp>
#include <ferx/pipeline/video_vote.hpp>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "cli_args.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct options {
    std::vector<std::string> inputs;
    std::string model, out_dir = ".";
    std::vector<std::string> classes = ferx::fer2013_classes();
    ferx::cnn_normalization norm = ferx::cnn_normalization::mini_xception();
    long max_frames = -1;
    ferx::face_source faces = ferx::face_source::all;
    bool crop = false, seq = false, draw = true;
};

options parse_args(int argc, char** argv) {
    options o;
    ferx_examples::cli_args args(argc, argv, "see the comment at the top of fer_cnn.cpp for the options");
    while (args.next()) {
        const std::string& a = args.arg();
        if (a == "--model") o.model = args.value();
        else if (a == "--out") o.out_dir = args.value();
        else if (a == "--scale") o.norm.scale = static_cast<float>(args.number());
        else if (a == "--offset") o.norm.offset = static_cast<float>(args.number());
        else if (a == "--max-frames") o.max_frames = args.whole(1);
        else if (a == "--classes") {
            o.classes.clear();
            std::stringstream ss(args.value());
            for (std::string c; std::getline(ss, c, ',');) o.classes.push_back(c);
        } else if (a == "--faces") o.faces = args.faces();
        else if (a == "--crop") o.crop = true;
        else if (a == "--seq") o.seq = true;
        else if (a == "--no-draw") o.draw = false;
        else if (args.is_option()) args.fail("unknown option " + a);
        else o.inputs.push_back(a);
    }
    if (o.inputs.empty()) o.inputs.push_back("/usr/share/doc/opencv-doc/examples/data/Megamind.avi");
    return o;
}

/// The model given, or mini-Xception from ../shared (from the working folder, then from the
/// source tree three levels above the executable, build/<preset>/examples/fer_cnn).
std::string find_model(const std::string& given, const char* argv0) {
    if (!given.empty()) return given;
    const fs::path rel = fs::path("..") / "shared" / "models" / "mini_xception" / "fer2013_mini_XCEPTION.102-0.66.onnx";
    if (fs::exists(rel)) return rel.string();
    std::error_code ec;
    const fs::path exe = fs::canonical(argv0, ec);
    if (!ec) {
        const fs::path beside = exe.parent_path().parent_path().parent_path().parent_path() / rel;
        if (fs::exists(beside)) return beside.string();
    }
    throw std::invalid_argument("no default model (" + rel.string() + " not found); pass --model PATH");
}

using ferx_examples::is_image_file;
using ferx_examples::seconds_since;

/// Runs the deep pipeline over the inputs, writing the CSV, the annotated outputs and a summary.
class fer_run {
public:
    fer_run(const options& o, ferx::cnn_pipeline& net, const ferx::face_detector* det)
        : o_(o), net_(net), det_(det), csv_path_((fs::path(o.out_dir) / "fer_cnn.csv").string()) {
        fs::create_directories(o.out_dir);
        csv_file_ = std::make_unique<ferx::atomic_file>(csv_path_, "fer_cnn");
        csv() << "source,frame,face,x,y,width,height,label,score";
        for (const auto& c : net.classes()) csv() << ",score_" << c;
        csv() << '\n' << std::setprecision(6);
    }

    template <class Policy>
    void images(const Policy& policy) {
        for (const auto& path : o_.inputs) {
            auto t0 = std::chrono::steady_clock::now();
            cv::Mat bgr = ferx::read_image(path, false);
            io_ += seconds_since(t0);
            const auto faces = frame(policy, bgr, path, 0);
            std::cout << path << ": " << faces.size() << " face(s)";
            for (const auto& f : faces) std::cout << ' ' << label_name(f.label);
            std::cout << '\n';
            if (o_.draw) {
                t0 = std::chrono::steady_clock::now();
                draw(bgr, faces);
                const fs::path dst = fs::path(o_.out_dir) / (fs::path(path).stem().string() + "_cnn.png");
                ferx::write_image(dst.string(), bgr, "fer_cnn");
                io_ += seconds_since(t0);
            }
        }
    }

    template <class Policy>
    void video(const Policy& policy) {
        if (o_.inputs.size() != 1) throw ferx::error("fer_cnn", "give image files, or exactly one video file");
        const std::string& src = o_.inputs[0];
        cv::VideoCapture cap;
        if (fs::exists(src)) cap.open(src);
        if (!cap.isOpened()) throw ferx::error("fer_cnn", "cannot open the video (missing or not a video)", src);
        ferx_examples::annotated_video writer(fs::path(o_.out_dir) / (fs::path(src).stem().string() + "_cnn.avi"),
                                              cap.get(cv::CAP_PROP_FPS));
        std::vector<int> labels;
        std::vector<double> scores;  // [frames, K] row-major
        const std::size_t k = net_.classes().size();
        ferx_examples::for_each_frame(cap, o_.max_frames, io_, [&](long i, cv::Mat& bgr) {
            const auto faces = frame(policy, bgr, src, i);
            // The frame's result: its largest face (label -1 and zero scores without a face).
            const auto* big = ferx_examples::largest_face(faces);
            labels.push_back(big ? big->label : -1);
            for (std::size_t c = 0; c < k; ++c) scores.push_back(big ? big->scores[c] : 0.0);
            if (o_.draw) {
                const auto t0 = std::chrono::steady_clock::now();
                draw(bgr, faces);
                if (writer.write(bgr, [](const std::string& dst) { throw ferx::error("fer_cnn", "cannot write the annotated video", dst); }))
                    std::cout << "annotated video: " << writer.path().string() << '\n';
                io_ += seconds_since(t0);
            }
        });
        if (labels.empty()) throw ferx::error("fer_cnn", "the video gave no frame", src);
        writer.finish();
        xt::xtensor<double, 2> s({labels.size(), k});
        std::copy(scores.begin(), scores.end(), s.data());
        const auto range = ferx::frame_range::second_half();
        const auto vote = ferx::majority_vote(labels, net_.n_classes(), range);
        const auto mean = ferx::mean_score(labels, s, range);
        std::cout << "clip (frames " << vote.first << ".." << vote.last - 1 << ", " << vote.frames_used
                  << " with a face): majority vote " << label_name(vote.label) << ", mean score " << label_name(mean.label);
        if (mean.label >= 0) std::cout << " (" << std::setprecision(3) << mean.support[static_cast<std::size_t>(mean.label)] << ')';
        std::cout << '\n';
    }

    void summary() {
        csv_file_->commit();  // the CSV appears under its name, complete, only now
        const double per = frames_ > 0 ? 1000.0 / static_cast<double>(frames_) : 0.0;
        std::cout << std::fixed << std::setprecision(2) << frames_ << " frame(s), " << faces_
                  << " face(s); per frame (ms): detect " << t_.detect * per << ", crop+resize " << t_.preprocess * per
                  << ", normalise " << t_.describe * per << ", network " << t_.classify * per << ", total "
                  << t_.total() * per << " (" << (t_.total() > 0 ? static_cast<double>(frames_) / t_.total() : 0.0)
                  << " frames/s; I/O and drawing " << io_ * per << ")\n"
                  << "results: " << csv_path_ << '\n';
    }

private:
    std::string label_name(int l) const { return l < 0 ? "none" : net_.classes()[static_cast<std::size_t>(l)]; }

    template <class Policy>
    std::vector<ferx::face_prediction> frame(const Policy& policy, const cv::Mat& bgr, const std::string& source, long index) {
        cv::Mat grey;
        if (bgr.channels() == 1) grey = bgr;
        else cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
        const auto v = ferx::view<std::uint8_t>(std::as_const(grey));
        std::vector<ferx::face_prediction> faces;
        if (det_) {
            faces = net_.predict_faces(policy, *det_, v, o_.faces, &t_);
        } else {  // --crop: the whole image is the face
            const ferx::prediction p = net_.predict(policy, std::vector<ferx::image_view<const std::uint8_t>>{v}, &t_);
            ferx::face_prediction f;
            f.face.box = ferx::rect{0, 0, grey.cols, grey.rows};
            f.label = p.labels[0];
            f.scores.assign(p.scores.begin(), p.scores.end());
            faces.push_back(std::move(f));
        }
        ++frames_;
        faces_ += static_cast<long>(faces.size());
        for (std::size_t f = 0; f < faces.size(); ++f) {
            const auto& p = faces[f];
            const auto& b = p.face.box;
            csv() << '"' << source << "\"," << index << ',' << f << ',' << b.x << ',' << b.y << ',' << b.width << ','
                 << b.height << ',' << label_name(p.label) << ',' << p.scores[static_cast<std::size_t>(p.label)];
            for (double s : p.scores) csv() << ',' << s;
            csv() << '\n';
        }
        return faces;
    }

    void draw(cv::Mat& bgr, const std::vector<ferx::face_prediction>& faces) const {
        for (const auto& p : faces) {
            const auto& b = p.face.box;
            cv::rectangle(bgr, cv::Rect(b.x, b.y, b.width, b.height), cv::Scalar(255, 128, 0), 2);
            std::ostringstream text;
            text << label_name(p.label) << ' ' << std::fixed << std::setprecision(2) << p.scores[static_cast<std::size_t>(p.label)];
            cv::putText(bgr, text.str(), cv::Point(b.x, std::max(12, b.y - 6)), cv::FONT_HERSHEY_SIMPLEX, 0.6,
                        cv::Scalar(255, 128, 0), 2);
        }
    }

    const options& o_;
    ferx::cnn_pipeline& net_;
    const ferx::face_detector* det_;
    std::string csv_path_;
    std::unique_ptr<ferx::atomic_file> csv_file_;  // appears under its name when the run ends
    std::ostream& csv() { return csv_file_->stream(); }
    ferx::stage_times t_;
    double io_ = 0;
    long frames_ = 0, faces_ = 0;
};

template <class Policy>
void run(const Policy& policy, const options& o, ferx::cnn_pipeline& net, const ferx::face_detector* det) {
    fer_run r(o, net, det);
    if (std::all_of(o.inputs.begin(), o.inputs.end(), is_image_file)) r.images(policy);
    else r.video(policy);
    r.summary();
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const options o = parse_args(argc, argv);
        const std::string model_path = find_model(o.model, argv[0]);
        ferx::cnn_pipeline net(ferx::nn::load_onnx(model_path), o.classes, o.norm);
        std::cout << "model " << model_path << ": input " << net.input_height() << "x" << net.input_width() << ", "
                  << net.n_classes() << " classes, pixels x * " << o.norm.scale << " + " << o.norm.offset << '\n';
        std::optional<ferx::face_detector> det;
        if (!o.crop) det = ferx::load_face_detector((ferx::default_cascade_dir() / "haarcascade_frontalface_default.xml").string(), "");
        const ferx::face_detector* d = det ? &*det : nullptr;
        if (o.seq) run(ferx::exec::seq, o, net, d);
        else run(ferx::exec::par, o, net, d);
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "fer_cnn: " << e.what() << '\n';
        return 1;
    }
}
