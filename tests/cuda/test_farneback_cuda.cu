// The cuda backend of Farneback flow (ferx::cuda::farneback_estimator) against the seq reference
// on a real pair (Middlebury Dimetrodon), Gaussian and box windows, 8-bit and float frames, with an
// initial flow; a clip in one call against its pairs one by one; bad input and the no-device case.
// Kernels run only where a device is present (skipped with a message elsewhere). One test runs
// everywhere: the device's work-item functions (ferx/flow/detail/farneback_core.hpp), called on
// the host in the order the dispatch enqueues them, reproduce seq bit for bit.
#include <ferx/core/opencv.hpp>
#include <ferx/cuda/memory.cuh>
#include <ferx/flow/farneback.hpp>

#include <boost/test/unit_test.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "cuda_test.hpp"
#include "ferx_test.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace {

/// The documented tolerance (docs/flow.md, "CUDA"): every step is rounded as on the host, so the
/// flows are expected to equal seq's bit for bit; the test allows this much per component.
constexpr float cuda_tolerance = 1e-3f;

cv::Mat middlebury(const std::string& name) {
    const auto p = ferx_test::shared_dir() / "data/flow/middlebury" / name;
    cv::Mat m = cv::imread(p.string(), cv::IMREAD_GRAYSCALE);
    BOOST_TEST_REQUIRE(!m.empty(), p.string() << " could not be read");
    return m;
}

struct comparison {
    std::size_t differ = 0;  // vectors not bit-identical
    float max_abs = 0;
};
comparison compare(const ferx::flow_field& a, const ferx::flow_field& b) {
    comparison c;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::memcmp(&a.data()[i], &b.data()[i], sizeof(ferx::flow_vector)) != 0) ++c.differ;
        c.max_abs = std::max({c.max_abs, std::abs(a.data()[i].u - b.data()[i].u), std::abs(a.data()[i].v - b.data()[i].v)});
    }
    return c;
}

/// The device pipeline of ferx/cuda/dispatch/farneback.cuh on the host: the same plan, the same
/// work-item functions, in the order the dispatch enqueues the kernels (a kernel = a loop).
struct host_mirror {
    ferx::detail::fb_cuda_plan plan;
    std::vector<float> base, tmp, blurred, level, expansion[2], flow, prev, m, sums;
    std::vector<ferx::index_t> offset;
    struct axis {
        ferx::detail::fb_axis_table t;
        ferx::detail::fb_axis_view view() const { return {t.i0.data(), t.i1.data(), t.w.data()}; }
    };
    std::vector<std::pair<axis, axis>> image_axes, flow_axes;
    std::pair<axis, axis> init_axes;

    host_mirror(ferx::index_t R, ferx::index_t C, const ferx::farneback_params& p)
        : plan(ferx::detail::farneback_make_plan(R, C, p)) {
        using ferx::detail::fb_resize_axis;
        const auto px = static_cast<std::size_t>(R * C);
        base.resize(px);
        tmp.resize(5 * px);
        blurred.resize(px);
        level.resize(px);
        ferx::index_t slot = 0;
        for (const auto& s : plan.sizes) {
            offset.push_back(slot);
            slot += s.first * s.second * 5;
        }
        expansion[0].resize(static_cast<std::size_t>(slot));
        expansion[1].resize(static_cast<std::size_t>(slot));
        flow.resize(2 * px);
        prev.resize(2 * px);
        m.resize(5 * px);
        sums.resize(5 * px);
        const std::size_t L = plan.sizes.size();
        image_axes.resize(L);
        flow_axes.resize(L);
        for (std::size_t l = 1; l < L; ++l)
            image_axes[l] = {axis{fb_resize_axis(C, plan.sizes[l].second)}, axis{fb_resize_axis(R, plan.sizes[l].first)}};
        for (std::size_t l = 0; l + 1 < L; ++l)
            flow_axes[l] = {axis{fb_resize_axis(plan.sizes[l + 1].second, plan.sizes[l].second)},
                            axis{fb_resize_axis(plan.sizes[l + 1].first, plan.sizes[l].first)}};
        init_axes = {axis{fb_resize_axis(C, plan.sizes[L - 1].second)}, axis{fb_resize_axis(R, plan.sizes[L - 1].first)}};
    }
    void expand(const float* img, ferx::index_t h, ferx::index_t w, float* out) {
        using namespace ferx::detail;
        for (ferx::index_t i = 0; i < h * w; ++i)
            fb_expand_v_item(img, h, w, plan.g.data(), plan.xg.data(), plan.xxg.data(), plan.poly_n, tmp.data(), i);
        const fb_expand_coeffs c{plan.i1, plan.i2, plan.i5, plan.i30, plan.i33, plan.i34, plan.i40, plan.i43, plan.i44};
        for (ferx::index_t i = 0; i < h * w; ++i)
            fb_expand_h_item(tmp.data(), w, plan.g.data(), plan.xg.data(), plan.xxg.data(), plan.poly_n, c, out, i);
    }
    void blur_base(const std::vector<float>& taps) {
        const ferx::index_t R = plan.rows, C = plan.cols, r = ferx::index_t(taps.size() / 2);
        for (ferx::index_t i = 0; i < R * C; ++i) ferx::detail::fb_vtaps_item(base.data(), tmp.data(), R, C, taps.data(), r, i);
        for (ferx::index_t i = 0; i < R * C; ++i) ferx::detail::fb_htaps_item(tmp.data(), blurred.data(), C, 1, taps.data(), r, i);
    }
    void prepare(const cv::Mat& f, int slot) {
        const ferx::index_t R = plan.rows, C = plan.cols;
        for (ferx::index_t i = 0; i < R * C; ++i) ferx::detail::fb_convert_item(f.ptr<std::uint8_t>(), ferx::index_t(f.step1()), C, 1.f, base.data(), i);
        float* out = expansion[slot].data();
        if (plan.smooth_first_level) {
            blur_base(plan.smooth0);
            expand(blurred.data(), R, C, out + offset[0]);
        } else {
            expand(base.data(), R, C, out + offset[0]);
        }
        for (std::size_t l = 1; l < plan.sizes.size(); ++l) {
            const ferx::index_t h = plan.sizes[l].first, w = plan.sizes[l].second;
            blur_base(plan.level_blur[l]);
            for (ferx::index_t i = 0; i < h * w; ++i)
                ferx::detail::fb_resize_item(blurred.data(), C, 1, level.data(), w, image_axes[l].first.view(),
                                             image_axes[l].second.view(), 1.f, i);
            expand(level.data(), h, w, out + offset[l]);
        }
    }
    void window_sums(ferx::index_t h, ferx::index_t w) {
        using namespace ferx::detail;
        if (plan.gaussian_window) {
            const ferx::index_t r = ferx::index_t(plan.window.size() / 2);
            for (ferx::index_t i = 0; i < h * w * 5; ++i) fb_vtaps_item(m.data(), tmp.data(), h, w * 5, plan.window.data(), r, i);
            for (ferx::index_t i = 0; i < h * w * 5; ++i) fb_htaps_item(tmp.data(), sums.data(), w, 5, plan.window.data(), r, i);
        } else {
            for (ferx::index_t i = 0; i < w * 5; ++i) fb_box_v_item(m.data(), tmp.data(), h, w * 5, plan.box_radius, i);
            for (ferx::index_t i = 0; i < h * 5; ++i) fb_box_h_item(tmp.data(), sums.data(), w, plan.box_radius, i);
        }
    }
    void solve(float* out, ferx::index_t pitch, bool init) {
        using namespace ferx::detail;
        const int top = int(plan.sizes.size()) - 1;
        for (int k = top; k >= 0; --k) {
            const ferx::index_t h = plan.sizes[std::size_t(k)].first, w = plan.sizes[std::size_t(k)].second;
            if (k == top) {
                if (init) {
                    const float mul = static_cast<float>(std::pow(plan.pyr_scale, k));
                    for (ferx::index_t i = 0; i < h * w * 2; ++i)
                        fb_resize_item(out, 2 * pitch, 2, flow.data(), w, init_axes.first.view(), init_axes.second.view(), mul, i);
                } else {
                    std::fill(flow.begin(), flow.end(), 0.f);
                }
            } else {
                const ferx::index_t wp = plan.sizes[std::size_t(k + 1)].second;
                const float mul = static_cast<float>(1.0 / plan.pyr_scale);
                for (ferx::index_t i = 0; i < h * w * 2; ++i)
                    fb_resize_item(flow.data(), 2 * wp, 2, prev.data(), w, flow_axes[std::size_t(k)].first.view(),
                                   flow_axes[std::size_t(k)].second.view(), mul, i);
                std::swap(flow, prev);
            }
            const float* r0 = expansion[0].data() + offset[std::size_t(k)];
            const float* r1 = expansion[1].data() + offset[std::size_t(k)];
            for (ferx::index_t i = 0; i < h * w; ++i) fb_matrices_item(r0, r1, flow.data(), h, w, m.data(), i);
            for (int it = 0; it < plan.iterations; ++it) {
                window_sums(h, w);
                for (ferx::index_t i = 0; i < h * w; ++i) fb_solve_pixel(sums.data() + 5 * i, plan.box_scale, flow.data() + 2 * i);
                if (it + 1 < plan.iterations)
                    for (ferx::index_t i = 0; i < h * w; ++i) fb_matrices_item(r0, r1, flow.data(), h, w, m.data(), i);
            }
        }
        for (ferx::index_t i = 0; i < plan.rows * plan.cols; ++i) fb_store_item(flow.data(), plan.cols, out, pitch, i);
    }
};

/// Dimetrodon under the parameter sets the tests compare: the box (OpenCV's defaults), the
/// Gaussian window, and a small pyramid with poly_n 7 and no first-level smoothing.
std::vector<std::pair<std::string, ferx::farneback_params>> parameter_sets() {
    ferx::farneback_params box;
    ferx::farneback_params gauss;
    gauss.gaussian_window = true;
    ferx::farneback_params seven;
    seven.poly_n = 7;
    seven.poly_sigma = 1.5;
    seven.levels = 3;
    seven.winsize = 15;
    seven.iterations = 3;
    seven.pyr_scale = 0.6;
    seven.smooth_first_level = false;
    return {{"box window", box}, {"Gaussian window", gauss}, {"poly_n 7, 3 levels", seven}};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(farneback_cuda)

BOOST_AUTO_TEST_CASE(device_steps_on_the_host_equal_seq, *boost::unit_test::precondition(ferx_test::shared_data_present())) {
    const cv::Mat a = middlebury("Dimetrodon/frame10.png"), b = middlebury("Dimetrodon/frame11.png");
    const auto va = ferx::view<std::uint8_t>(a), vb = ferx::view<std::uint8_t>(b);
    for (const auto& [name, p] : parameter_sets()) {
        if (name == "poly_n 7, 3 levels") continue;  // the two windows suffice here (CPU time)
        const ferx::flow_field ref = ferx::farneback(ferx::exec::seq, va, vb, p);
        ferx::flow_field got = ferx::make_flow_field(a.rows, a.cols);
        host_mirror h(a.rows, a.cols, p);
        h.prepare(a, 0);
        h.prepare(b, 1);
        h.solve(reinterpret_cast<float*>(got.data()), a.cols, false);
        const comparison c = compare(got, ref);
        BOOST_TEST(c.differ == 0u, name << ": " << c.differ << " of " << ref.size() << " vectors differ (max " << c.max_abs << " px)");
    }
}

BOOST_AUTO_TEST_CASE(bad_parameters_raise_before_any_device_work) {
    const auto raises = [](ferx::index_t rows, ferx::index_t cols, const ferx::farneback_params& p) {
        try {
            ferx::cuda::farneback_estimator fb(ferx::exec::cuda, rows, cols, p);
            return false;
        } catch (const ferx::error& e) {
            return e.where() == "ferx::cuda::farneback_estimator" && std::string(e.what()).find("no CUDA device") == std::string::npos;
        }
    };
    ferx::farneback_params p;
    BOOST_TEST(raises(0, 64, p));
    BOOST_TEST(raises(64, -1, p));
    p.poly_n = 6;
    BOOST_TEST(raises(64, 64, p));
    p = {};
    p.pyr_scale = 1.0;
    BOOST_TEST(raises(64, 64, p));
    p = {};
    p.winsize = 0;
    BOOST_TEST(raises(64, 64, p));
    p = {};
    p.iterations = 0;
    BOOST_TEST(raises(64, 64, p));
}

BOOST_AUTO_TEST_CASE(without_a_device_raises, *boost::unit_test::precondition(ferx_test::gpu_absent())) {
    try {
        ferx::cuda::farneback_estimator fb(ferx::exec::cuda, 48, 64, {});
        BOOST_FAIL("exec::cuda without a device did not raise");
    } catch (const ferx::error& e) {
        BOOST_TEST(std::string(e.what()).find("no CUDA device") != std::string::npos, e.what());
    }
}

BOOST_AUTO_TEST_CASE(equals_seq_on_a_real_pair,
                     *boost::unit_test::precondition(ferx_test::gpu_present()) *
                         boost::unit_test::precondition(ferx_test::shared_data_present())) {
    const cv::Mat a = middlebury("Dimetrodon/frame10.png"), b = middlebury("Dimetrodon/frame11.png");
    const auto va = ferx::view<std::uint8_t>(a), vb = ferx::view<std::uint8_t>(b);
    ferx::cuda::stream stream;
    const auto policy = stream.policy();
    const auto d_a = ferx::cuda::to_device(policy, va), d_b = ferx::cuda::to_device(policy, vb);
    ferx::cuda::device_image<ferx::flow_vector> d_flow({a.rows, a.cols});
    for (const auto& [name, p] : parameter_sets()) {
        const ferx::flow_field ref = ferx::farneback(ferx::exec::seq, va, vb, p);
        ferx::cuda::farneback_estimator fb(policy, a.rows, a.cols, p);
        fb.run(d_a.cview(), d_b.cview(), d_flow.view());
        const ferx::flow_field got = ferx::cuda::to_host(policy, d_flow.cview());
        const comparison c = compare(got, ref);
        BOOST_TEST_MESSAGE("farneback cuda vs seq, " << name << ": " << c.differ << " of " << ref.size()
                                                     << " vectors not bit-identical, max " << c.max_abs << " px");
        BOOST_TEST(c.max_abs <= cuda_tolerance, name << ": max |cuda - seq| " << c.max_abs << " px");
        // A second run on the same object gives the same flow (no state carried between calls).
        fb.run(d_a.cview(), d_b.cview(), d_flow.view());
        BOOST_TEST(compare(ferx::cuda::to_host(policy, d_flow.cview()), got).differ == 0u, name);
    }
    // Float frames in [0, 1].
    cv::Mat af, bf;
    a.convertTo(af, CV_32F, 1.0 / 255);
    b.convertTo(bf, CV_32F, 1.0 / 255);
    const auto vaf = ferx::view<float>(af), vbf = ferx::view<float>(bf);
    const ferx::flow_field ref = ferx::farneback(ferx::exec::seq, vaf, vbf, ferx::farneback_params{});
    const auto d_af = ferx::cuda::to_device(policy, vaf), d_bf = ferx::cuda::to_device(policy, vbf);
    ferx::cuda::farneback_estimator fb(policy, a.rows, a.cols, {});
    fb.run(d_af.cview(), d_bf.cview(), d_flow.view());
    const comparison c = compare(ferx::cuda::to_host(policy, d_flow.cview()), ref);
    BOOST_TEST(c.max_abs <= cuda_tolerance, "float frames: max |cuda - seq| " << c.max_abs << " px, " << c.differ << " differ");
}

BOOST_AUTO_TEST_CASE(initial_flow_as_seq,
                     *boost::unit_test::precondition(ferx_test::gpu_present()) *
                         boost::unit_test::precondition(ferx_test::shared_data_present())) {
    const cv::Mat a = middlebury("Dimetrodon/frame10.png"), b = middlebury("Dimetrodon/frame11.png");
    const auto va = ferx::view<std::uint8_t>(a), vb = ferx::view<std::uint8_t>(b);
    ferx::farneback_params p;
    p.use_initial_flow = true;
    p.levels = 2;
    ferx::flow_field ref = ferx::make_flow_field(a.rows, a.cols);
    for (std::size_t i = 0; i < ref.size(); ++i) ref.data()[i] = {-1.5f + 0.25f * float(i % 7), 0.5f - 0.125f * float(i % 5)};
    ferx::cuda::stream stream;
    const auto policy = stream.policy();
    auto d_flow = ferx::cuda::to_device(policy, ref);
    const auto d_a = ferx::cuda::to_device(policy, va), d_b = ferx::cuda::to_device(policy, vb);
    ferx::farneback(ferx::exec::seq, va, vb, ferx::view(ref), p);
    ferx::cuda::farneback_estimator fb(policy, a.rows, a.cols, p);
    fb.run(d_a.cview(), d_b.cview(), d_flow.view());
    const comparison c = compare(ferx::cuda::to_host(policy, d_flow.cview()), ref);
    BOOST_TEST(c.max_abs <= cuda_tolerance, "initial flow: max |cuda - seq| " << c.max_abs << " px, " << c.differ << " differ");
}

BOOST_AUTO_TEST_CASE(clip_equals_its_pairs,
                     *boost::unit_test::precondition(ferx_test::gpu_present()) *
                         boost::unit_test::precondition(ferx_test::shared_data_present())) {
    std::vector<cv::Mat> frames;
    for (int i = 7; i <= 14; ++i) frames.push_back(middlebury("RubberWhale/frame" + std::string(i < 10 ? "0" : "") + std::to_string(i) + ".png"));
    const ferx::index_t n = ferx::index_t(frames.size()), R = frames[0].rows, C = frames[0].cols;
    const auto clip = ferx::to_volume<std::uint8_t>(frames);
    ferx::cuda::stream stream;
    const auto policy = stream.policy();
    const auto d_clip = ferx::cuda::to_device(policy, clip);
    for (const auto& [name, p] : parameter_sets()) {
        ferx::cuda::farneback_estimator fb(policy, R, C, p);
        ferx::cuda::device_volume<ferx::flow_vector> d_out({n - 1, R, C});
        fb.run(d_clip.cview(), d_out.view());
        const auto all = ferx::cuda::to_host(policy, d_out.cview());
        ferx::cuda::device_image<ferx::flow_vector> d_pair({R, C});
        const auto ref = ferx::farneback(ferx::exec::seq, ferx::volume_view<const std::uint8_t>(ferx::view(clip)), p);
        for (ferx::index_t t = 0; t + 1 < n; ++t) {
            fb.run(d_clip.cview()[t], d_clip.cview()[t + 1], d_pair.view());
            const ferx::flow_field pair = ferx::cuda::to_host(policy, d_pair.cview());
            ferx::flow_field from_clip = ferx::make_flow_field(R, C);
            std::memcpy(from_clip.data(), all.data() + t * R * C, sizeof(ferx::flow_vector) * std::size_t(R * C));
            BOOST_TEST(compare(from_clip, pair).differ == 0u, name << ", pair " << t << ": the clip run differs from the pair run");
            const comparison c = compare(from_clip, ref[std::size_t(t)]);
            BOOST_TEST(c.max_abs <= cuda_tolerance, name << ", pair " << t << ": max |cuda - seq| " << c.max_abs << " px");
        }
    }
}

BOOST_AUTO_TEST_CASE(bad_input_raises_ferx_error, *boost::unit_test::precondition(ferx_test::gpu_present())) {
    constexpr ferx::index_t R = 96, C = 128;  // two levels: the resampling kernels run too (memcheck subset)
    ferx::cuda::stream stream;
    const auto policy = stream.policy();
    ferx::cuda::farneback_estimator fb(policy, R, C, {});
    ferx::cuda::device_image<std::uint8_t> img({R, C}), wide({R, 2 * C});
    ferx::cuda::device_image<ferx::flow_vector> flow({R, C}), small_flow({R - 1, C});
    ferx::cuda::device_volume<std::uint8_t> clip({3, R, C}), one({1, R, C});
    ferx::cuda::device_volume<ferx::flow_vector> flows({2, R, C}), too_few({1, R, C});
    const auto raises = [](auto&& f) {
        try {
            f();
            return false;
        } catch (const ferx::error& e) {
            return e.where() == "ferx::cuda::farneback_estimator::run";
        }
    };
    const ferx::device_image_view<const std::uint8_t> strided(wide.view().data(), {R, C}, {2 * C, 2});
    const ferx::device_image_view<const std::uint8_t> other_size(wide.view().data(), {R, 2 * C});
    const ferx::device_image_view<const std::uint8_t> empty{};
    BOOST_TEST(raises([&] { fb.run(img.cview(), other_size, flow.view()); }));
    BOOST_TEST(raises([&] { fb.run(strided, img.cview(), flow.view()); }));
    BOOST_TEST(raises([&] { fb.run(empty, img.cview(), flow.view()); }));
    BOOST_TEST(raises([&] { fb.run(img.cview(), img.cview(), small_flow.view()); }));
    BOOST_TEST(raises([&] { fb.run(img.cview(), img.cview(), ferx::flow_view<ferx::memory_space::device>{}); }));
    BOOST_TEST(raises([&] { fb.run(one.cview(), too_few.view()); }));
    BOOST_TEST(raises([&] { fb.run(clip.cview(), too_few.view()); }));
    const ferx::device_volume_view<const std::uint8_t> half_frames(clip.cview().data(), {2, R / 2, C});
    BOOST_TEST(raises([&] { fb.run(half_frames, flows.view()); }));
    fb.run(clip.cview(), flows.view());  // the right shapes enqueue without error
    BOOST_CHECK_NO_THROW(stream.synchronize());
}

BOOST_AUTO_TEST_SUITE_END()
