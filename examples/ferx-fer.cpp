// ferx-fer: facial expression recognition on images, a video file or a camera, with a trained
// ferx pipeline model (ferx-train, or ferx::save_pipeline).
//
//   ferx-fer [options] [input...]
//
//   input             image files, one video file, or a camera index (0, 1, ...); default:
//                     /usr/share/doc/opencv-doc/examples/data/Megamind.avi (Debian's opencv-doc)
//   --model PATH      the model file; default models/ckplus48_7class.ferx (looked up in the working
//                     folder, then beside the source tree of this build)
//   --out DIR         where the annotated images / video, the CSV and the JSON go (default: .)
//   --csv PATH        the per-face CSV (default DIR/ferx-fer.csv)
//   --json PATH       the per-frame JSON (default DIR/ferx-fer.json)
//   --max-frames N    stop a video after N frames (default: all; a camera runs until N or Ctrl-C)
//   --faces all|largest|confident   which detected faces to classify (default all)
//   --detect-every K  on video, a full face detection every K frames and tracking between
//                     (ferx::face_tracker; default 1: every frame detected, no tracks)
//   --seq             run single-threaded (default: exec::par, all cores)
//   --no-draw         write no annotated image or video
//   --help, -h        the options, and exit
//   --face-cascade XML, --eyes-cascade XML   (default: OpenCV's Haar cascades in
//                     /usr/share/opencv4/haarcascades; the eye cascade is used when the model aligns eyes)
//
// For each frame: faces are detected, cropped, equalised and described as the model's spec says,
// and classified; boxes, labels and the top score are drawn. Per-stage timings are printed at the
// end; for a video, also the clip's decision (majority vote and mean score over its second half).
// A missing or corrupted model file, an unreadable input or a missing cascade: a message on
// stderr and exit status 1.
#include <ferx/core/opencv.hpp>
#include <ferx/pipeline/pipeline.hpp>
#include <ferx/pipeline/video_vote.hpp>

#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "cli_args.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct options {
    std::vector<std::string> inputs;
    std::string model, out_dir = ".", csv, json;
    std::string face_cascade = (ferx::default_cascade_dir() / "haarcascade_frontalface_default.xml").string();
    std::string eyes_cascade = (ferx::default_cascade_dir() / "haarcascade_eye.xml").string();
    long max_frames = -1;
    long detect_every = 1;
    ferx::face_source faces = ferx::face_source::all;
    bool seq = false, draw = true;
};

const char* const usage =
    "usage: ferx-fer [options] [input...]\n"
    "  input             image files, one video file, or a camera index (0, 1, ...); default:\n"
    "                    /usr/share/doc/opencv-doc/examples/data/Megamind.avi\n"
    "  --model PATH      the model file (default models/ckplus48_7class.ferx)\n"
    "  --out DIR         where the annotated images / video, the CSV and the JSON go (default: .)\n"
    "  --csv PATH        the per-face CSV (default DIR/ferx-fer.csv)\n"
    "  --json PATH       the per-frame JSON (default DIR/ferx-fer.json)\n"
    "  --max-frames N    stop a video after N frames (default: all)\n"
    "  --faces all|largest|confident   which detected faces to classify (default all)\n"
    "  --detect-every K  on video: detect every K frames, track faces between (default 1)\n"
    "  --seq             run single-threaded (default: all cores)\n"
    "  --no-draw         write no annotated image or video\n"
    "  --face-cascade XML, --eyes-cascade XML   the Haar cascades (default: OpenCV's)\n"
    "  --help, -h        this text\n";

options parse_args(int argc, char** argv) {
    options o;
    ferx_examples::cli_args args(argc, argv, "see ferx-fer --help");
    while (args.next()) {
        const std::string& a = args.arg();
        if (a == "--help" || a == "-h") {
            std::cout << usage;
            std::exit(0);
        }
        if (a == "--model") o.model = args.value();
        else if (a == "--out") o.out_dir = args.value();
        else if (a == "--csv") o.csv = args.value();
        else if (a == "--json") o.json = args.value();
        else if (a == "--max-frames") o.max_frames = args.whole(1);
        else if (a == "--faces") o.faces = args.faces();
        else if (a == "--detect-every") o.detect_every = args.whole(1);
        else if (a == "--seq") o.seq = true;
        else if (a == "--no-draw") o.draw = false;
        else if (a == "--face-cascade") o.face_cascade = args.value();
        else if (a == "--eyes-cascade") o.eyes_cascade = args.value();
        else if (args.is_option()) args.fail("unknown option " + a);
        else o.inputs.push_back(a);
    }
    if (o.inputs.empty()) o.inputs.push_back("/usr/share/doc/opencv-doc/examples/data/Megamind.avi");
    if (o.csv.empty()) o.csv = (fs::path(o.out_dir) / "ferx-fer.csv").string();
    if (o.json.empty()) o.json = (fs::path(o.out_dir) / "ferx-fer.json").string();
    return o;
}

/// The model given, or the default one: models/ckplus48_7class.ferx in the working folder, then
/// in the source tree three levels above the executable (build/<preset>/examples/ferx-fer).
std::string find_model(const std::string& given, const char* argv0) {
    if (!given.empty()) return given;
    const fs::path rel = fs::path("models") / "ckplus48_7class.ferx";
    if (fs::exists(rel)) return rel.string();
    std::error_code ec;
    const fs::path exe = fs::canonical(argv0, ec);
    if (!ec) {
        const fs::path beside = exe.parent_path().parent_path().parent_path().parent_path() / rel;
        if (fs::exists(beside)) return beside.string();
    }
    return rel.string();  // load_pipeline names it in its error
}

using ferx_examples::is_image_file;
using ferx_examples::seconds_since;

std::string json_escape(const std::string& s) {
    std::string o;
    for (char c : s) {
        if (c == '"' || c == '\\') o += '\\';
        if (static_cast<unsigned char>(c) < 0x20) continue;
        o += c;
    }
    return o;
}

/// Writes results as they come: CSV rows per face, a JSON array of frames.
class result_writer {
public:
    result_writer(const options& o, const std::vector<std::string>& classes)
        : classes_(classes), csv_file_(o.csv, "ferx-fer"), json_file_(o.json, "ferx-fer"),
          csv_(csv_file_.stream()), json_(json_file_.stream()) {
        csv_ << "source,frame,face,track,x,y,width,height,label,score";
        for (const auto& c : classes) csv_ << ",score_" << c;
        csv_ << '\n' << std::setprecision(6);
        json_ << "{\"classes\": [";
        for (std::size_t i = 0; i < classes.size(); ++i) json_ << (i ? ", " : "") << '"' << json_escape(classes[i]) << '"';
        json_ << "],\n \"frames\": [" << std::setprecision(6);
    }
    void frame(const std::string& source, long index, const std::vector<ferx::face_prediction>& faces) {
        json_ << (frames_++ ? ",\n  " : "\n  ") << "{\"source\": \"" << json_escape(source) << "\", \"frame\": " << index
              << ", \"faces\": [";
        for (std::size_t f = 0; f < faces.size(); ++f) {
            const auto& p = faces[f];
            const auto& b = p.face.box;
            const double top = p.scores[static_cast<std::size_t>(p.label)];
            csv_ << '"' << source << "\"," << index << ',' << f << ',' << p.track << ',' << b.x << ',' << b.y << ',' << b.width << ','
                 << b.height << ',' << classes_[static_cast<std::size_t>(p.label)] << ',' << top;
            for (double s : p.scores) csv_ << ',' << s;
            csv_ << '\n';
            json_ << (f ? ", " : "") << "{\"track\": " << p.track << ", \"box\": [" << b.x << ", " << b.y << ", " << b.width << ", " << b.height
                  << "], \"label\": \"" << classes_[static_cast<std::size_t>(p.label)] << "\", \"aligned\": "
                  << (p.face.aligned ? "true" : "false") << ", \"scores\": [";
            for (std::size_t k = 0; k < p.scores.size(); ++k) json_ << (k ? ", " : "") << p.scores[k];
            json_ << "]}";
        }
        json_ << "]}";
    }
    void finish(const std::string& clip_json) {
        json_ << "\n ]" << clip_json << "\n}\n";
        csv_file_.commit();
        json_file_.commit();
    }

private:
    std::vector<std::string> classes_;
    // Both appear under their names only when the run ends (ferx/core/file_io.hpp).
    ferx::atomic_file csv_file_, json_file_;
    std::ostream &csv_, &json_;
    long frames_ = 0;
};

void draw_faces(cv::Mat& bgr, const std::vector<ferx::face_prediction>& faces, const std::vector<std::string>& classes) {
    for (const auto& p : faces) {
        const auto& b = p.face.box;
        const cv::Rect r(b.x, b.y, b.width, b.height);
        cv::rectangle(bgr, r, cv::Scalar(0, 255, 0), 2);
        std::ostringstream text;
        text << classes[static_cast<std::size_t>(p.label)] << ' ' << std::fixed << std::setprecision(2)
             << p.scores[static_cast<std::size_t>(p.label)];
        cv::putText(bgr, text.str(), cv::Point(b.x, std::max(12, b.y - 6)), cv::FONT_HERSHEY_SIMPLEX, 0.6,
                    cv::Scalar(0, 255, 0), 2);
    }
}

struct run_state {
    ferx::stage_times times;
    std::optional<ferx::tracker_stats> tracker;
    double io = 0;
    long frames = 0, faces = 0;
};

/// The faces of one frame: detected, or followed by `tracker` when one is given (then --faces
/// picks among the tracked faces).
template <class Policy>
std::vector<ferx::face_prediction> run_frame(const Policy& policy, const ferx::pipeline_model& model, const ferx::face_detector& det,
                                             const options& o, const cv::Mat& bgr, run_state& st,
                                             ferx::face_tracker* tracker = nullptr) {
    cv::Mat grey;
    if (bgr.channels() == 1) grey = bgr;
    else cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
    const auto frame = ferx::view<std::uint8_t>(std::as_const(grey));
    std::vector<ferx::face_prediction> faces;
    if (!tracker) {
        faces = ferx::predict_faces(policy, model, det, frame, o.faces, &st.times);
    } else {
        faces = ferx::predict_faces(policy, model, det, *tracker, frame, &st.times);
        if (o.faces != ferx::face_source::all && !faces.empty()) {
            std::vector<ferx::detection> found;
            for (const auto& f : faces) found.push_back({f.face.box, f.face.neighbors});
            const auto best = o.faces == ferx::face_source::largest ? ferx::largest_face(found) : ferx::most_confident_face(found);
            const auto at = std::find_if(faces.begin(), faces.end(), [&](const auto& f) { return f.face.box == best->box; });
            faces = {*at};
        }
    }
    ++st.frames;
    st.faces += static_cast<long>(faces.size());
    return faces;
}

template <class Policy>
int run(const Policy& policy, const options& o, const ferx::pipeline_model& model, const ferx::face_detector& det) {
    fs::create_directories(o.out_dir);
    result_writer out(o, model.classes);
    run_state st;
    std::string clip_json;
    const bool images = std::all_of(o.inputs.begin(), o.inputs.end(), is_image_file);
    if (images) {
        for (const auto& path : o.inputs) {
            auto t0 = std::chrono::steady_clock::now();
            cv::Mat bgr = ferx::read_image(path, false);
            st.io += seconds_since(t0);
            const auto faces = run_frame(policy, model, det, o, bgr, st);
            out.frame(path, 0, faces);
            std::cout << path << ": " << faces.size() << " face(s)";
            for (const auto& f : faces) std::cout << ' ' << model.classes[static_cast<std::size_t>(f.label)];
            std::cout << '\n';
            if (o.draw) {
                t0 = std::chrono::steady_clock::now();
                draw_faces(bgr, faces, model.classes);
                const fs::path dst = fs::path(o.out_dir) / (fs::path(path).stem().string() + "_fer.png");
                ferx::write_image(dst.string(), bgr, "ferx-fer");
                st.io += seconds_since(t0);
            }
        }
    } else {
        if (o.inputs.size() != 1) throw ferx::error("ferx-fer", "give image files, or exactly one video file or camera index");
        const std::string& src = o.inputs[0];
        const bool camera = !src.empty() && std::all_of(src.begin(), src.end(), ::isdigit);
        cv::VideoCapture cap;
        if (camera) cap.open(std::stoi(src));
        else if (fs::exists(src)) cap.open(src);
        if (!cap.isOpened())
            throw ferx::error("ferx-fer", camera ? "cannot open the camera" : "cannot open the video (missing or not a video)", src);
        ferx_examples::annotated_video writer(
            fs::path(o.out_dir) / (camera ? "camera_fer.avi" : fs::path(src).stem().string() + "_fer.avi"), cap.get(cv::CAP_PROP_FPS));
        std::vector<int> labels;
        std::vector<std::vector<double>> scores;
        std::optional<ferx::face_tracker> tracker;
        if (o.detect_every > 1) {
            ferx::tracker_params tp;
            tp.detect_every = static_cast<int>(std::min<long>(o.detect_every, 1000));
            tp.detect = model.spec.preprocess.detect;
            tracker.emplace(tp);
        }
        ferx_examples::for_each_frame(cap, o.max_frames, st.io, [&](long i, cv::Mat& bgr) {
            const auto faces = run_frame(policy, model, det, o, bgr, st, tracker ? &*tracker : nullptr);
            out.frame(src, i, faces);
            // The clip's per-frame result: the largest face's label and scores.
            const auto* big = ferx_examples::largest_face(faces);
            labels.push_back(big ? big->label : -1);
            scores.push_back(big ? big->scores : std::vector<double>(model.classes.size(), 0.0));
            if (o.draw) {
                const auto t0 = std::chrono::steady_clock::now();
                draw_faces(bgr, faces, model.classes);
                if (writer.write(bgr, [](const std::string& dst) { throw ferx::error("ferx-fer", "cannot write the annotated video", dst); }))
                    std::cout << "annotated video: " << writer.path().string() << '\n';
                st.io += seconds_since(t0);
            }
        });
        if (st.frames == 0) throw ferx::error("ferx-fer", "the video gave no frame", src);
        if (tracker) st.tracker = tracker->stats();
        writer.finish();
        xt::xtensor<double, 2> s({scores.size(), model.classes.size()});
        for (std::size_t i = 0; i < scores.size(); ++i) std::copy(scores[i].begin(), scores[i].end(), s.data() + i * model.classes.size());
        const auto range = ferx::frame_range::second_half();
        const auto vote = ferx::majority_vote(labels, model.n_classes(), range);
        const auto mean = ferx::mean_score(labels, s, range);
        const auto name = [&](int l) { return l < 0 ? std::string("none") : model.classes[static_cast<std::size_t>(l)]; };
        std::cout << "clip (frames " << vote.first << ".." << vote.last - 1 << ", " << vote.frames_used
                  << " with a face): majority vote " << name(vote.label) << ", mean score " << name(mean.label) << '\n';
        clip_json = ",\n \"clip\": {\"first\": " + std::to_string(vote.first) + ", \"last\": " + std::to_string(vote.last) +
                    ", \"majority_vote\": \"" + name(vote.label) + "\", \"mean_score\": \"" + name(mean.label) + "\"}";
    }
    out.finish(clip_json);
    const auto& t = st.times;
    const double per = 1000.0 / static_cast<double>(st.frames);
    std::cout << std::fixed << std::setprecision(2) << st.frames << " frame(s), " << st.faces << " face(s); per frame (ms): detect "
              << t.detect * per << ", preprocess " << t.preprocess * per << ", describe " << t.describe * per << ", classify "
              << t.classify * per << ", total " << t.total() * per << " (" << (t.total() > 0 ? st.frames / t.total() : 0.0)
              << " frames/s; I/O and drawing " << st.io * per << ")\n";
    if (st.tracker) std::cout << "tracking: a full detection on " << st.tracker->full_detections << " of " << st.tracker->frames
                              << " frames, " << st.tracker->local_searches << " local searches, " << st.tracker->tracks_started
                              << " tracks\n";
    std::cout
              << "results: " << o.csv << ", " << o.json << '\n';
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const options o = parse_args(argc, argv);
        const std::string model_path = find_model(o.model, argv[0]);
        ferx::pipeline_model model;
        try {
            model = ferx::load_pipeline(model_path);
        } catch (const ferx::error& e) {
            std::cerr << "ferx-fer: cannot use the model file '" << model_path << "': " << e.reason()
                      << "\n  (train one with ferx-train, or pass --model PATH)\n";
            return 1;
        }
        const ferx::face_detector det =
            ferx::load_face_detector(o.face_cascade, model.spec.preprocess.align_eyes ? o.eyes_cascade : std::string());
        std::cout << "model " << model_path << ": " << ferx::format_spec(model.spec) << '\n';
        return o.seq ? run(ferx::exec::seq, o, model, det) : run(ferx::exec::par, o, model, det);
    } catch (const std::exception& e) {
        std::cerr << "ferx-fer: " << e.what() << '\n';
        return 1;
    }
}
