// The cuda backend of TV-L1 (ferx::cuda::tvl1_estimator) against the seq reference: a real pair
// (Middlebury Dimetrodon, 8-bit and float frames), parameter variants (illumination term, exact
// median, 3x3 median, initial flow) on a smaller pair, and a clip of 4 frames (Middlebury
// RubberWhale 07..10) whose one-call flows must equal the pair-by-pair flows bit for bit.
// The kernels round every operation as the CPU does and test convergence in the host's order,
// so the flows are meant to be the same bits as seq; the test asserts the documented tolerance
// of docs/tvl1.md ("CUDA": mean |du|, |dv| <= 0.01 px, largest end-point difference <= 0.5 px)
// and prints how many vectors are identical. Needs a GPU: the tests that run kernels are
// skipped, with a message, where none is present.
#include <ferx/core/opencv.hpp>
#include <ferx/cuda/memory.cuh>
#include <ferx/flow/tvl1.hpp>

#include <boost/test/unit_test.hpp>

#include "cuda_test.hpp"
#include "ferx_test.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

fs::path middlebury() { return ferx_test::shared_dir() / "data" / "flow" / "middlebury"; }

/// A grey frame of ../shared (ferx::read_image throws, naming the file, where it is missing).
cv::Mat frame(const fs::path& p) { return ferx::read_image(p.string()); }

struct flow_diff {
    double mean_du = 0, mean_dv = 0, max_epe = 0;
    std::size_t identical = 0, total = 0;
};

flow_diff compare(const ferx::flow_field& a, const ferx::flow_field& b) {
    flow_diff d;
    BOOST_TEST_REQUIRE(a.shape()[0] == b.shape()[0]);
    BOOST_TEST_REQUIRE(a.shape()[1] == b.shape()[1]);
    for (std::size_t i = 0; i < a.size(); ++i) {
        const ferx::flow_vector p = a.data()[i], q = b.data()[i];
        const double du = std::abs(double(p.u) - q.u), dv = std::abs(double(p.v) - q.v);
        d.mean_du += du;
        d.mean_dv += dv;
        d.max_epe = std::max(d.max_epe, std::hypot(du, dv));
        d.identical += p == q;
    }
    d.total = a.size();
    d.mean_du /= double(a.size());
    d.mean_dv /= double(a.size());
    return d;
}

/// The documented tolerance (docs/tvl1.md, "CUDA"), with the measured differences printed.
void check_close(const ferx::flow_field& cuda, const ferx::flow_field& seq, const std::string& what) {
    const flow_diff d = compare(cuda, seq);
    BOOST_TEST_MESSAGE(what << ": " << d.identical << " of " << d.total << " vectors identical to seq, mean |du| "
                            << d.mean_du << ", mean |dv| " << d.mean_dv << ", largest end-point difference " << d.max_epe);
    BOOST_TEST(d.mean_du <= 0.01, what << ": mean |du| " << d.mean_du);
    BOOST_TEST(d.mean_dv <= 0.01, what << ": mean |dv| " << d.mean_dv);
    BOOST_TEST(d.max_epe <= 0.5, what << ": largest end-point difference " << d.max_epe);
}

template <class T>
ferx::flow_field cuda_pair(const ferx::exec::cuda_policy& policy, const cv::Mat& a, const cv::Mat& b,
                           const ferx::tvl1_params& p, const ferx::flow_field* initial = nullptr) {
    const auto d0 = ferx::cuda::to_device(policy, ferx::to_image<T>(a));
    const auto d1 = ferx::cuda::to_device(policy, ferx::to_image<T>(b));
    ferx::cuda::device_image<ferx::flow_vector> out({a.rows, a.cols});
    if (initial) ferx::cuda::copy(policy, ferx::view(*initial), out.view());
    ferx::cuda::tvl1_estimator tv(policy, a.rows, a.cols, p);
    tv.run(d0.cview(), d1.cview(), out.view());
    return ferx::cuda::to_host(policy, out.cview());
}

/// Float frames in [0, 1] as the host version takes them.
cv::Mat unit_float(const cv::Mat& m) {
    cv::Mat f;
    m.convertTo(f, CV_32F, 1.0 / 255.0);
    return f;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tvl1_cuda)

BOOST_AUTO_TEST_CASE(cuda_estimator_without_a_device_raises, *boost::unit_test::precondition(ferx_test::gpu_absent())) {
    try {
        ferx::cuda::tvl1_estimator tv(ferx::exec::cuda, 48, 64);
        BOOST_FAIL("exec::cuda without a device did not raise");
    } catch (const ferx::error& e) {
        BOOST_TEST(std::string(e.what()).find("no CUDA device") != std::string::npos, e.what());
    }
    auto* fake = reinterpret_cast<const std::uint8_t*>(std::uintptr_t{4096});
    const ferx::device_image_view<const std::uint8_t> f(fake, {48, 64});
    const ferx::flow_view<ferx::memory_space::device> out(reinterpret_cast<ferx::flow_vector*>(std::uintptr_t{8192}), {48, 64});
    BOOST_CHECK_THROW(ferx::tvl1(ferx::exec::cuda, f, f, out), ferx::error);
}

BOOST_AUTO_TEST_CASE(bad_parameters_raise_before_any_device_work) {
    ferx::tvl1_params p;
    p.tau = 0;
    BOOST_CHECK_THROW(ferx::cuda::tvl1_estimator(ferx::exec::cuda, 48, 64, p), ferx::error);
    p = {};
    p.median_filtering = 4;
    BOOST_CHECK_THROW(ferx::cuda::tvl1_estimator(ferx::exec::cuda, 48, 64, p), ferx::error);
    BOOST_CHECK_THROW(ferx::cuda::tvl1_estimator(ferx::exec::cuda, 0, 64), ferx::error);
    try {
        ferx::cuda::tvl1_estimator(ferx::exec::cuda, 48, -1);
        BOOST_FAIL("a negative size did not raise");
    } catch (const ferx::error& e) {
        BOOST_TEST(std::string(e.what()).find("ferx::cuda::tvl1_estimator") != std::string::npos, e.what());
    }
}

BOOST_AUTO_TEST_CASE(pair_equals_seq_on_dimetrodon, *boost::unit_test::precondition(ferx_test::gpu_present())) {
    ferx::cuda::stream stream;
    const auto policy = stream.policy();
    const cv::Mat a = frame(middlebury() / "Dimetrodon" / "frame10.png");
    const cv::Mat b = frame(middlebury() / "Dimetrodon" / "frame11.png");
    const ferx::tvl1_params p;
    const ferx::flow_field ref = ferx::tvl1(ferx::exec::seq, ferx::view<std::uint8_t>(a), ferx::view<std::uint8_t>(b), p);
    check_close(cuda_pair<std::uint8_t>(policy, a, b, p), ref, "Dimetrodon 8-bit");
    const cv::Mat af = unit_float(a), bf = unit_float(b);
    const ferx::flow_field reff = ferx::tvl1(ferx::exec::par, ferx::view<float>(af), ferx::view<float>(bf), p);
    check_close(cuda_pair<float>(policy, af, bf, p), reff, "Dimetrodon float");
    // The one-shot overload gives the estimator's flow.
    const auto d0 = ferx::cuda::to_device(policy, ferx::to_image<std::uint8_t>(a));
    const auto d1 = ferx::cuda::to_device(policy, ferx::to_image<std::uint8_t>(b));
    ferx::cuda::device_image<ferx::flow_vector> out({a.rows, a.cols});
    ferx::tvl1(policy, d0.cview(), d1.cview(), out.view(), p);
    const ferx::flow_field once = ferx::cuda::to_host(policy, out.cview());
    const ferx::flow_field est = cuda_pair<std::uint8_t>(policy, a, b, p);
    BOOST_TEST((once == est));
}

BOOST_AUTO_TEST_CASE(parameter_variants_equal_seq, *boost::unit_test::precondition(ferx_test::gpu_present())) {
    ferx::cuda::stream stream;
    const auto policy = stream.policy();
    cv::Mat a, b;
    cv::resize(frame(middlebury() / "Dimetrodon" / "frame10.png"), a, cv::Size(), 0.5, 0.5, cv::INTER_AREA);
    cv::resize(frame(middlebury() / "Dimetrodon" / "frame11.png"), b, cv::Size(), 0.5, 0.5, cv::INTER_AREA);
    const auto va = ferx::view<std::uint8_t>(a), vb = ferx::view<std::uint8_t>(b);
    std::vector<std::pair<std::string, ferx::tvl1_params>> cases;
    ferx::tvl1_params p;
    p.gamma = 0.1;
    cases.emplace_back("gamma 0.1", p);
    p = {};
    p.exact_median = true;
    cases.emplace_back("exact median", p);
    p = {};
    p.median_filtering = 3;
    p.nscales = 3;
    p.warps = 3;
    cases.emplace_back("3x3 median, 3 scales, 3 warps", p);
    p = {};
    p.median_filtering = 1;
    p.epsilon = 1e-6;  // every iteration runs
    p.inner_iterations = 10;
    p.outer_iterations = 2;
    cases.emplace_back("no median, no early stop", p);
    for (const auto& [name, q] : cases) {
        const ferx::flow_field ref = ferx::tvl1(ferx::exec::seq, va, vb, q);
        check_close(cuda_pair<std::uint8_t>(policy, a, b, q), ref, name);
    }
    // An initial flow (the default run's) refined once more.
    const ferx::flow_field init = ferx::tvl1(ferx::exec::seq, va, vb, ferx::tvl1_params{});
    p = {};
    p.use_initial_flow = true;
    p.nscales = 2;
    ferx::flow_field ref = init;
    ferx::tvl1(ferx::exec::seq, va, vb, ferx::view(ref), p);
    check_close(cuda_pair<std::uint8_t>(policy, a, b, p, &init), ref, "initial flow");
}

BOOST_AUTO_TEST_CASE(clip_equals_pairs_and_seq, *boost::unit_test::precondition(ferx_test::gpu_present())) {
    ferx::cuda::stream stream;
    const auto policy = stream.policy();
    std::vector<cv::Mat> frames;
    for (const char* f : {"frame07.png", "frame08.png", "frame09.png", "frame10.png"})
        frames.push_back(frame(middlebury() / "RubberWhale" / f));
    const int rows = frames[0].rows, cols = frames[0].cols;
    const ferx::tvl1_params p;
    const auto d_clip = ferx::cuda::to_device(policy, ferx::to_volume<std::uint8_t>(frames));
    ferx::cuda::device_volume<ferx::flow_vector> d_flows({3, rows, cols});
    ferx::cuda::tvl1_estimator tv(policy, rows, cols, p);
    tv.run(d_clip.cview(), d_flows.view());
    const auto flows = ferx::cuda::to_host(policy, d_flows.cview());
    ferx::cuda::device_image<ferx::flow_vector> d_one({rows, cols});
    ferx::tvl1_sequence seq(p);
    (void)seq.next(ferx::exec::par, ferx::view<std::uint8_t>(frames[0]));
    for (int t = 0; t < 3; ++t) {
        tv.run(d_clip.cview()[t], d_clip.cview()[t + 1], d_one.view());
        const ferx::flow_field one = ferx::cuda::to_host(policy, d_one.cview());
        ferx::flow_field from_clip = ferx::make_flow_field(rows, cols);
        std::copy(flows.data() + std::size_t(t) * one.size(), flows.data() + std::size_t(t + 1) * one.size(), from_clip.data());
        BOOST_TEST((from_clip == one), "pair " << t << ": the clip's flow differs from the pair's");
        const ferx::flow_field ref = seq.next(ferx::exec::par, ferx::view<std::uint8_t>(frames[std::size_t(t) + 1]));
        check_close(from_clip, ref, "RubberWhale pair " + std::to_string(t));
    }
    BOOST_TEST(tv.device_bytes() > std::size_t(rows) * std::size_t(cols) * 4u * 20u);
}

BOOST_AUTO_TEST_CASE(bad_input_raises, *boost::unit_test::precondition(ferx_test::gpu_present())) {
    ferx::cuda::stream stream;
    const auto policy = stream.policy();
    ferx::cuda::tvl1_estimator tv(policy, 40, 50);
    ferx::cuda::device_image<std::uint8_t> a({40, 50}), wrong({40, 51});
    ferx::cuda::check(cudaMemsetAsync(a.view().data(), 128, 40 * 50, policy.stream()), "test", "cudaMemsetAsync");
    ferx::cuda::device_image<ferx::flow_vector> out({40, 50}), bad_out({41, 50});
    auto expect = [](auto&& f, const char* what) {
        try {
            f();
            BOOST_ERROR(what << ": no ferx::error");
        } catch (const ferx::error& e) {
            BOOST_TEST(std::string(e.what()).find("ferx::cuda::tvl1_estimator") != std::string::npos, e.what());
        }
    };
    expect([&] { tv.run(a.cview(), wrong.cview(), out.view()); }, "frames of another size");
    expect([&] { tv.run(a.cview(), a.cview(), bad_out.view()); }, "a flow of another size");
    expect([&] { tv.run(ferx::device_image_view<const std::uint8_t>{}, a.cview(), out.view()); }, "an empty frame");
    ferx::cuda::device_volume<std::uint8_t> clip({3, 40, 50}), one({1, 40, 50});
    ferx::cuda::device_volume<ferx::flow_vector> flows({2, 40, 50}), too_many({3, 40, 50});
    expect([&] { tv.run(one.cview(), flows.view()); }, "a clip of one frame");
    expect([&] { tv.run(clip.cview(), too_many.view()); }, "too many flows");
    ferx::cuda::tvl1_estimator moved = std::move(tv);
    expect([&] { tv.run(a.cview(), a.cview(), out.view()); }, "a moved-from estimator");
    moved.run(a.cview(), a.cview(), out.view());  // valid: constant frames (zero flow)
    BOOST_TEST(ferx::cuda::to_host(policy, out.cview())(20, 25).u == 0.f);
    ferx::cuda::synchronize(policy);
}

BOOST_AUTO_TEST_SUITE_END()
