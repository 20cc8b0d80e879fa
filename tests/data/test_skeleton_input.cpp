// EfficientGCN's preprocessing: the real sample against the .npy the model's own code made
// (within 1e-6), body selection by energy, padding and the branches on a small hand-checked case.
#include <ferx/data/skeleton_input.hpp>
#include <ferx/nn/graph_conv.hpp>

#include "data_test.hpp"
#include "npy.hpp"

#include <algorithm>
#include <cmath>
#include <set>

namespace {

// A skeleton of `frames` frames whose bodies are given per frame by a function of (frame, body,
// joint, axis); body b of a frame exists where has(frame, b).
template <class Value, class Has>
ferx::ntu_skeleton make_skeleton(int frames, int bodies, Value value, Has has) {
    ferx::ntu_skeleton s;
    s.source = "made";
    s.frames.resize(static_cast<std::size_t>(frames));
    for (int t = 0; t < frames; ++t)
        for (int b = 0; b < bodies; ++b) {
            if (!has(t, b)) continue;
            ferx::ntu_body body;
            body.joints.resize(25);
            for (int v = 0; v < 25; ++v) {
                body.joints[static_cast<std::size_t>(v)].x = value(t, b, v, 0);
                body.joints[static_cast<std::size_t>(v)].y = value(t, b, v, 1);
                body.joints[static_cast<std::size_t>(v)].z = value(t, b, v, 2);
            }
            s.frames[static_cast<std::size_t>(t)].bodies.push_back(body);
        }
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(data_skeleton_input)

BOOST_AUTO_TEST_CASE(real_sample_matches_the_reference_input,
                     *boost::unit_test::precondition(ferx_test::shared_data_present())) {
    const auto root = ferx_test::shared_dir();
    const auto npy = root / "models" / "efficientgcn" / "input_S001C001P001R001A001.npy";
    if (!std::filesystem::exists(npy)) {
        BOOST_TEST_MESSAGE("no " << npy.string() << ": skipping");
        return;
    }
    const auto s = ferx::load_ntu_skeleton(root / "data" / "skeleton" / "ntu" / "S001C001P001R001A001.skeleton");
    const auto x = ferx::efficientgcn_input(s);
    const auto ref = ferx_test::load_npy(npy);
    const std::vector<std::int64_t> want = {1, 3, 6, 288, 25, 2};
    BOOST_TEST(ref.shape == want, boost::test_tools::per_element());
    const std::vector<std::size_t> shape(x.shape().begin(), x.shape().end());
    const std::vector<std::size_t> want5 = {3, 6, 288, 25, 2};
    BOOST_TEST(shape == want5, boost::test_tools::per_element());
    BOOST_TEST_REQUIRE(x.size() == ref.values.size());
    double worst = 0;
    std::size_t differ = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double d = std::abs(double(x.data()[i]) - ref.values[i]);
        worst = std::max(worst, d);
        differ += d > 0;
    }
    BOOST_TEST_MESSAGE("efficientgcn_input vs input_S001C001P001R001A001.npy: max |diff| " << worst << ", " << differ
                                                                                          << " of " << x.size() << " values differ");
    BOOST_TEST(worst <= 1e-6);
}

BOOST_AUTO_TEST_CASE(bodies_by_energy_padding_and_cut) {
    // 3 bodies in 5 frames: body 0 still, body 1 moving a little, body 2 moving most but only in
    // frames 1..2. Kept: 2 then 1, padded to 8 frames, cut to 6.
    auto value = [](int t, int b, int v, int c) { return 1.0 + 0.1 * v + c + (b == 0 ? 0.0 : b == 1 ? 0.5 * t : 3.0 * t); };
    auto has = [](int t, int b) { return b < 2 || (t >= 1 && t <= 2); };
    const auto s = make_skeleton(5, 3, value, has);
    ferx::skeleton_input_params p;
    p.pad_frames = 8;
    p.keep_frames = 6;
    const auto pos = ferx::skeleton_positions(s, p);
    BOOST_TEST(pos.shape()[1] == 6u);
    BOOST_TEST(pos.shape()[3] == 2u);
    // Body 2 sits in slot 2 only in frames 1..2 (slot 2 of a frame is its third body).
    BOOST_TEST(pos(0, 1, 3, 0) == float(value(1, 2, 3, 0)));
    BOOST_TEST(pos(2, 2, 4, 0) == float(value(2, 2, 4, 2)));
    BOOST_TEST(pos(0, 0, 3, 0) == 0.0f);
    BOOST_TEST(pos(1, 4, 7, 1) == float(value(4, 1, 7, 1)));
    for (std::size_t t = 5; t < 6; ++t) BOOST_TEST(pos(0, t, 0, 1) == 0.0f);  // padding

    // With 2 bodies read per frame, body 2 is ignored: 1 then 0.
    p.max_bodies = 2;
    const auto pos2 = ferx::skeleton_positions(s, p);
    BOOST_TEST(pos2(0, 4, 7, 0) == float(value(4, 1, 7, 0)));
    BOOST_TEST(pos2(0, 4, 7, 1) == float(value(4, 0, 7, 0)));

    // Longer than pad_frames: cut.
    const auto long_s = make_skeleton(12, 1, value, [](int, int) { return true; });
    BOOST_TEST(ferx::skeleton_positions(long_s, p)(0, 5, 0, 0) == float(value(5, 0, 0, 0)));
}

BOOST_AUTO_TEST_CASE(branches_by_hand) {
    // One body, 4 frames: joint v at (v + t, 2 v, -t), so the bone of v is (d, 2 d, 0), d = v - parent(v).
    auto value = [](int t, int, int v, int c) { return c == 0 ? v + t : c == 1 ? 2.0 * v : -double(t); };
    const auto s = make_skeleton(4, 1, value, [](int, int) { return true; });
    ferx::skeleton_input_params p;
    p.pad_frames = 6;
    p.keep_frames = 5;
    const auto x = ferx::efficientgcn_input(s, p);
    BOOST_TEST(x.shape()[0] == 3u);
    BOOST_TEST(x.shape()[1] == 6u);
    BOOST_TEST(x.shape()[2] == 5u);
    // J: positions and positions relative to joint 1.
    BOOST_TEST(x(0, 0, 2, 7, 0) == 9.0f);
    BOOST_TEST(x(0, 4, 2, 7, 0) == 12.0f);   // 14 - 2
    BOOST_TEST(x(0, 3, 3, 0, 0) == -1.0f);   // 3 - 4
    // V: p(t+1) - p(t), p(t+2) - p(t) for t < T - 2 = 3; the padding is differenced; 0 at the end.
    BOOST_TEST(x(1, 0, 0, 5, 0) == 1.0f);
    BOOST_TEST(x(1, 5, 1, 5, 0) == -2.0f);
    BOOST_TEST(x(1, 0, 2, 5, 0) == 1.0f);    // frame 3 - frame 2
    BOOST_TEST(x(1, 3, 2, 5, 0) == -7.0f);   // padded frame 4 (0) - frame 2 (5 + 2)
    BOOST_TEST(x(1, 0, 3, 5, 0) == 0.0f);
    BOOST_TEST(x(1, 4, 4, 5, 0) == 0.0f);
    // B: bone (1, 2, 0) from parent(3) = 2; angles arccos(b / (|b| + 1e-4)).
    const double len = std::sqrt(5.0) + 1e-4;
    BOOST_TEST(x(2, 0, 1, 3, 0) == 1.0f);
    BOOST_TEST(x(2, 1, 1, 3, 0) == 2.0f);
    BOOST_TEST(x(2, 3, 1, 3, 0) == float(std::acos(1.0 / len)));
    BOOST_TEST(x(2, 4, 1, 3, 0) == float(std::acos(2.0 / len)));
    BOOST_TEST(x(2, 5, 1, 3, 0) == float(std::acos(0.0)));
    // Joint 1 is its own parent; padded frames and the absent body: zero bones, angles pi/2.
    BOOST_TEST(x(2, 0, 1, 1, 0) == 0.0f);
    BOOST_TEST(x(2, 3, 1, 1, 0) == float(std::acos(0.0)));
    BOOST_TEST(x(2, 4, 4, 9, 0) == float(std::acos(0.0)));
    BOOST_TEST(x(2, 3, 0, 9, 1) == float(std::acos(0.0)));
}

BOOST_AUTO_TEST_CASE(ntu_parents_are_the_ntu25_bones) {
    // The preprocessing's bones are exactly the edges of nn::ntu25_layout().
    std::set<std::pair<int, int>> bones, edges;
    const auto parent = ferx::ntu25_parents();
    for (int v = 0; v < 25; ++v)
        if (parent[static_cast<std::size_t>(v)] != v) bones.insert(std::minmax(v, parent[static_cast<std::size_t>(v)]));
    for (const auto& e : ferx::nn::ntu25_layout().edges) edges.insert(std::minmax(e[0], e[1]));
    BOOST_TEST(bones.size() == 24u);
    BOOST_TEST((bones == edges));
}

BOOST_AUTO_TEST_CASE(bad_parameters_and_joint_counts) {
    auto value = [](int, int, int, int) { return 1.0; };
    auto s = make_skeleton(2, 1, value, [](int, int) { return true; });
    ferx::skeleton_input_params p;
    p.keep_bodies = 5;
    BOOST_CHECK_THROW(ferx::skeleton_positions(s, p), ferx::error);
    p = {};
    p.keep_frames = 301;
    BOOST_CHECK_THROW(ferx::skeleton_positions(s, p), ferx::error);
    p = {};
    p.parents.pop_back();
    BOOST_CHECK_THROW(ferx::efficientgcn_input(s, p), ferx::error);
    p = {};
    s.frames[1].bodies[0].joints.pop_back();
    data_test::expect_error([&] { ferx::skeleton_positions(s, p); }, {"body 0 of frame 1 has 24 joints, expected 25", "made"});
    BOOST_CHECK_THROW(ferx::efficientgcn_branches(xt::xtensor<float, 4>(xt::zeros<float>({3, 4, 24, 2}))), ferx::error);
}

BOOST_AUTO_TEST_SUITE_END()
