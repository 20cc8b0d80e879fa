// End-to-end speed of the classical pipeline on 640x480 video with one face, per stage, ferx
// seq and par beside the same pipeline built from OpenCV: pipeline/<impl>/<stage>/640x480 with
// impl ferx_seq, ferx_par, opencv and stage detect, preprocess, describe, classify, total; for
// ferx also track (ferx::face_tracker, a full detection every 5 frames) and total_tracked (the
// pipeline on the tracked faces, predict_faces with the tracker).
//
// Frames: 32 frames of Debian's Megamind.avi (from frame 60), centre-cropped from 720x528 to
// 640x480, grey. Model: hog:std:rbf(C=10) (48x48 crops, global histogram equalisation, HOG 900-d,
// standard scaler, RBF C-SVC, one-vs-one) trained on all of CK+48. The OpenCV pipeline:
// cv::CascadeClassifier (same cascade, scale 1.1, 3 neighbours, 30x30 minimum) ->
// cv::resize(INTER_LINEAR_EXACT) + cv::equalizeHist -> cv::HOGDescriptor (48x48 window, the same
// HOG) -> the same scaler -> cv::ml::SVM (C_SVC, RBF, the same C and gamma, trained on the same
// features). Each iteration processes one frame (the next of the 32); per-stage cases time that
// stage alone on inputs the earlier stages made beforehand. Counter frames_per_s.
#include "bench_common.hpp"

#include <ferx/core/opencv.hpp>
#include <ferx/data/ckplus.hpp>
#include <ferx/pipeline/pipeline.hpp>

#include <opencv2/imgproc.hpp>
#include <opencv2/ml.hpp>
#include <opencv2/objdetect.hpp>
#include <opencv2/videoio.hpp>

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct fixture {
    std::string missing;  // why the benchmarks cannot run, or empty
    std::vector<cv::Mat> frames;
    ferx::pipeline_model model;
    ferx::face_detector det;
    // Per frame, the inputs of each stage (made once, by ferx, for the per-stage cases).
    std::vector<std::vector<ferx::detection>> faces;
    std::vector<xt::xtensor<std::uint8_t, 3>> crops;
    std::vector<xt::xtensor<float, 2>> features;
    // The OpenCV pipeline.
    cv::CascadeClassifier cv_faces;
    std::unique_ptr<cv::HOGDescriptor> cv_hog;
    cv::Ptr<cv::ml::SVM> cv_svm;
    std::vector<std::vector<cv::Rect>> cv_boxes;
    std::vector<std::vector<cv::Mat>> cv_crops;
    std::vector<cv::Mat> cv_features;  // scaled, one row per face
};

std::vector<cv::Mat> megamind_640x480(int n) {
    cv::VideoCapture cap("/usr/share/doc/opencv-doc/examples/data/Megamind.avi");
    std::vector<cv::Mat> out;
    cv::Mat f;
    for (int i = 0; cap.isOpened() && cap.read(f) && static_cast<int>(out.size()) < n; ++i) {
        if (i < 60 || f.cols < 640 || f.rows < 480) continue;
        cv::Mat g;
        cv::cvtColor(f(cv::Rect((f.cols - 640) / 2, (f.rows - 480) / 2, 640, 480)), g, cv::COLOR_BGR2GRAY);
        out.push_back(g);
    }
    return static_cast<int>(out.size()) == n ? out : std::vector<cv::Mat>{};
}

cv::Mat scaled_row(const ferx::standard_scaler& s, const float* f, std::size_t d) {
    cv::Mat row(1, static_cast<int>(d), CV_32F);
    for (std::size_t j = 0; j < d; ++j) row.at<float>(0, static_cast<int>(j)) = static_cast<float>((f[j] - s.mean[j]) / s.scale[j]);
    return row;
}

const fixture& data() {
    static const fixture fx = [] {
        fixture x;
        const fs::path ck = fs::path(FERX_BENCH_SHARED_DIR) / "data" / "ckplus48";
        const std::string face_xml = (ferx::default_cascade_dir() / "haarcascade_frontalface_default.xml").string();
        x.frames = megamind_640x480(32);
        if (x.frames.empty()) { x.missing = "Megamind.avi (opencv-doc) not readable"; return x; }
        if (!fs::is_directory(ck)) { x.missing = "../shared/data/ckplus48 not found"; return x; }
        if (!fs::exists(face_xml)) { x.missing = "OpenCV's Haar cascades (opencv-data) not found"; return x; }
        const auto list = ferx::ckplus48(ck);
        const auto batch = ferx::load(list);
        x.model = ferx::fit(ferx::exec::par, ferx::parse_spec("hog:std:rbf(C=10)"), batch.images, batch.labels, list.classes);
        x.det = ferx::load_face_detector(face_xml, "");
        const auto& p = x.model.spec.preprocess;
        const auto& scaler = std::get<ferx::standard_scaler>(x.model.scaler);
        const auto& svm = std::get<ferx::svc_model<ferx::rbf_kernel, float>>(x.model.classifier);
        // The OpenCV peer, trained on the same (scaled) features with the same C and gamma.
        x.cv_faces.load(face_xml);
        x.cv_hog = std::make_unique<cv::HOGDescriptor>(cv::Size(48, 48), cv::Size(16, 16), cv::Size(8, 8), cv::Size(8, 8), 9);
        {
            const auto pre = ferx::preprocess(ferx::exec::par, p, ferx::volume_view<const std::uint8_t>(ferx::view(batch.images)));
            const auto f = ferx::describe_crops(ferx::exec::par, x.model.spec, pre.crops);
            cv::Mat samples(static_cast<int>(f.shape(0)), static_cast<int>(f.shape(1)), CV_32F), labels(static_cast<int>(f.shape(0)), 1, CV_32S);
            for (std::size_t i = 0; i < f.shape(0); ++i) {
                scaled_row(scaler, f.data() + i * f.shape(1), f.shape(1)).copyTo(samples.row(static_cast<int>(i)));
                labels.at<int>(static_cast<int>(i)) = batch.labels[i];
            }
            x.cv_svm = cv::ml::SVM::create();
            x.cv_svm->setType(cv::ml::SVM::C_SVC);
            x.cv_svm->setKernel(cv::ml::SVM::RBF);
            x.cv_svm->setC(10);
            x.cv_svm->setGamma(svm.kernel.gamma);
            x.cv_svm->train(samples, cv::ml::ROW_SAMPLE, labels);
        }
        for (const cv::Mat& g : x.frames) {
            const auto v = ferx::view<std::uint8_t>(g);
            x.faces.push_back(ferx::detect_multiscale(ferx::exec::seq, x.det.face, v, p.detect));
            xt::xtensor<std::uint8_t, 3> c({x.faces.back().size(), 48, 48});
            for (std::size_t i = 0; i < x.faces.back().size(); ++i) {
                auto crop = ferx::crop_face(v, x.faces.back()[i].box, {p.pad, p.width, p.height});
                ferx::equalize_hist(ferx::exec::seq, ferx::image_view<const std::uint8_t>(ferx::view(crop)), ferx::view(crop));
                std::copy(crop.begin(), crop.end(), c.data() + i * 2304);
            }
            x.features.push_back(c.shape(0) ? ferx::describe_crops(ferx::exec::seq, x.model.spec, c) : xt::xtensor<float, 2>({0, 900}));
            x.crops.push_back(std::move(c));
            std::vector<cv::Rect> boxes;
            x.cv_faces.detectMultiScale(g, boxes, p.detect.scale_factor, p.detect.min_neighbors, 0, cv::Size(30, 30));
            std::vector<cv::Mat> crops;
            cv::Mat feats;
            for (const auto& b : boxes) {
                cv::Mat r, e;
                cv::resize(g(b), r, cv::Size(48, 48), 0, 0, cv::INTER_LINEAR_EXACT);
                cv::equalizeHist(r, e);
                std::vector<float> h;
                x.cv_hog->compute(e, h);
                feats.push_back(scaled_row(scaler, h.data(), h.size()));
                crops.push_back(e);
            }
            x.cv_boxes.push_back(boxes);
            x.cv_crops.push_back(crops);
            x.cv_features.push_back(feats);
        }
        std::size_t n = 0;
        for (const auto& f : x.faces) n += f.size();
        std::cerr << "bench_pipeline: " << x.frames.size() << " frames of 640x480, " << n << " faces found by ferx\n";
        return x;
    }();
    return fx;
}

template <class F>
void frame_loop(benchmark::State& state, F&& per_frame) {
    const fixture& x = data();
    if (!x.missing.empty()) {
        state.SkipWithError(x.missing.c_str());
        return;
    }
    std::size_t i = 0;
    for (auto _ : state) {
        per_frame(x, i);
        i = (i + 1) % x.frames.size();
    }
    state.counters["frames_per_s"] = benchmark::Counter(1.0, benchmark::Counter::kIsIterationInvariantRate);
}

template <class Policy>
void register_ferx(const std::string& impl, const Policy& policy) {
    const auto name = [&](const char* stage) { return "pipeline/" + impl + "/" + stage + "/640x480"; };
    benchmark::RegisterBenchmark(name("detect").c_str(), [policy](benchmark::State& s) {
        frame_loop(s, [&](const fixture& x, std::size_t i) {
            benchmark::DoNotOptimize(ferx::detect_multiscale(policy, x.det.face, ferx::view<std::uint8_t>(x.frames[i]),
                                                             x.model.spec.preprocess.detect));
        });
    })->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark(name("preprocess").c_str(), [](benchmark::State& s) {
        frame_loop(s, [&](const fixture& x, std::size_t i) {
            const auto& p = x.model.spec.preprocess;
            for (const auto& d : x.faces[i]) {
                auto crop = ferx::crop_face(ferx::view<std::uint8_t>(x.frames[i]), d.box, {p.pad, p.width, p.height});
                ferx::equalize_hist(ferx::exec::seq, ferx::image_view<const std::uint8_t>(ferx::view(crop)), ferx::view(crop));
                benchmark::DoNotOptimize(crop.data());
            }
        });
    })->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark(name("describe").c_str(), [policy](benchmark::State& s) {
        frame_loop(s, [&](const fixture& x, std::size_t i) {
            if (x.crops[i].shape(0)) benchmark::DoNotOptimize(ferx::describe_crops(policy, x.model.spec, x.crops[i]));
        });
    })->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark(name("classify").c_str(), [policy](benchmark::State& s) {
        frame_loop(s, [&](const fixture& x, std::size_t i) {
            if (x.features[i].shape(0)) benchmark::DoNotOptimize(ferx::classify_features(policy, x.model, x.features[i]));
        });
    })->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark(name("total").c_str(), [policy](benchmark::State& s) {
        frame_loop(s, [&](const fixture& x, std::size_t i) {
            benchmark::DoNotOptimize(ferx::predict_faces(policy, x.model, x.det, ferx::view<std::uint8_t>(x.frames[i])));
        });
    })->Unit(benchmark::kMillisecond)->UseRealTime();
    // The face tracker (full detection every 5 frames, local searches between) alone, and the
    // whole pipeline on its faces. The tracker restarts where the 32 frames wrap around.
    const auto tracked = [policy](benchmark::State& s, bool classify) {
        std::unique_ptr<ferx::face_tracker> tracker;
        std::size_t faces = 0, frames = 0;
        frame_loop(s, [&](const fixture& x, std::size_t i) {
            if (!tracker) {
                ferx::tracker_params tp;
                tp.detect = x.model.spec.preprocess.detect;
                tracker = std::make_unique<ferx::face_tracker>(tp);
            }
            if (i == 0) tracker->reset();
            const auto frame = ferx::view<std::uint8_t>(x.frames[i]);
            if (classify) {
                const auto found = ferx::predict_faces(policy, x.model, x.det, *tracker, frame);
                faces += found.size();
                benchmark::DoNotOptimize(found.data());
            } else {
                faces += tracker->update(policy, x.det.face, frame).size();
            }
            ++frames;
        });
        if (frames) s.counters["faces_per_frame"] = static_cast<double>(faces) / static_cast<double>(frames);
    };
    benchmark::RegisterBenchmark(name("track").c_str(), [tracked](benchmark::State& s) { tracked(s, false); })
        ->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark(name("total_tracked").c_str(), [tracked](benchmark::State& s) { tracked(s, true); })
        ->Unit(benchmark::kMillisecond)->UseRealTime();
}

void register_opencv() {
    const auto name = [](const char* stage) { return std::string("pipeline/opencv/") + stage + "/640x480"; };
    const auto detect = [](const fixture& x, std::size_t i, std::vector<cv::Rect>& boxes) {
        const auto& p = x.model.spec.preprocess;
        const_cast<cv::CascadeClassifier&>(x.cv_faces)
            .detectMultiScale(x.frames[i], boxes, p.detect.scale_factor, p.detect.min_neighbors, 0, cv::Size(30, 30));
    };
    const auto preprocess = [](const cv::Mat& g, const cv::Rect& b) {
        cv::Mat r, e;
        cv::resize(g(b), r, cv::Size(48, 48), 0, 0, cv::INTER_LINEAR_EXACT);
        cv::equalizeHist(r, e);
        return e;
    };
    const auto classify = [](const fixture& x, const cv::Mat& f) {
        cv::Mat out;
        if (!f.empty()) x.cv_svm->predict(f, out);
        return out;
    };
    benchmark::RegisterBenchmark(name("detect").c_str(), [detect](benchmark::State& s) {
        frame_loop(s, [&](const fixture& x, std::size_t i) {
            std::vector<cv::Rect> boxes;
            detect(x, i, boxes);
            benchmark::DoNotOptimize(boxes.data());
        });
    })->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark(name("preprocess").c_str(), [preprocess](benchmark::State& s) {
        frame_loop(s, [&](const fixture& x, std::size_t i) {
            for (const auto& b : x.cv_boxes[i]) benchmark::DoNotOptimize(preprocess(x.frames[i], b).data);
        });
    })->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark(name("describe").c_str(), [](benchmark::State& s) {
        frame_loop(s, [&](const fixture& x, std::size_t i) {
            for (const auto& c : x.cv_crops[i]) {
                std::vector<float> h;
                x.cv_hog->compute(c, h);
                benchmark::DoNotOptimize(h.data());
            }
        });
    })->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark(name("classify").c_str(), [classify](benchmark::State& s) {
        frame_loop(s, [&](const fixture& x, std::size_t i) { benchmark::DoNotOptimize(classify(x, x.cv_features[i]).data); });
    })->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark(name("total").c_str(), [detect, preprocess, classify](benchmark::State& s) {
        frame_loop(s, [&](const fixture& x, std::size_t i) {
            std::vector<cv::Rect> boxes;
            detect(x, i, boxes);
            const auto& scaler = std::get<ferx::standard_scaler>(x.model.scaler);
            cv::Mat feats;
            for (const auto& b : boxes) {
                std::vector<float> h;
                x.cv_hog->compute(preprocess(x.frames[i], b), h);
                feats.push_back(scaled_row(scaler, h.data(), h.size()));
            }
            benchmark::DoNotOptimize(classify(x, feats).data);
        });
    })->Unit(benchmark::kMillisecond)->UseRealTime();
}

}  // namespace

int main(int argc, char** argv) {
    register_ferx("ferx_seq", ferx::exec::seq);
    register_ferx("ferx_par", ferx::exec::par);
    register_opencv();
    return ferx_bench::run_registered(argc, argv);
}
