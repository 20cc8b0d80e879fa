// The cuda backend of the clip descriptors (LBP-TOP with its three mappings, LPQ-TOP, VLPQ)
// against the seq reference, on CK+48's clips and on random clips of odd sizes: the kernels
// compute every code with the host's arithmetic (integer sums for LBP-TOP, the host's double
// operations each rounded on its own for LPQ-TOP and VLPQ) and count them exactly, so the
// descriptors must be identical. Tests that run kernels are skipped, with a message, where no
// CUDA device is present.
#include <ferx/core/opencv.hpp>
#include <ferx/cuda/memory.cuh>
#include <ferx/data/ckplus.hpp>
#include <ferx/features/lbp_top.hpp>
#include <ferx/features/lpq_top.hpp>
#include <ferx/features/vlpq.hpp>

#include <boost/test/unit_test.hpp>

#include "cuda_test.hpp"
#include "ferx_test.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace {

using device_out = ferx::tensor_view<float, 2, ferx::memory_space::device>;

ferx::batch<std::uint8_t> random_clips(int n, int frames, int rows, int cols, std::uint32_t seed) {
    ferx::batch<std::uint8_t> b(std::array<std::size_t, 4>{std::size_t(n), std::size_t(frames), std::size_t(rows), std::size_t(cols)});
    std::mt19937 rng(seed);
    for (auto& v : b) v = static_cast<std::uint8_t>(rng() >> 24);
    return b;
}

/// cuda == seq, value for value, on one batch of clips.
template <class Params>
void compare_with_seq(const ferx::batch<std::uint8_t>& clips, const Params& p, const std::string& what) {
    const auto ref = ferx::describe(ferx::exec::seq, ferx::view(clips), p);
    ferx::cuda::stream stream;
    const auto policy = stream.policy();
    const auto d_clips = ferx::cuda::to_device(policy, clips);
    ferx::cuda::device_image<float> d_out({static_cast<ferx::index_t>(ref.shape(0)), static_cast<ferx::index_t>(ref.shape(1))});
    ferx::describe(policy, d_clips.cview(), p, d_out.view());
    const auto got = ferx::cuda::to_host(policy, d_out.cview());
    std::size_t differ = 0, first = ref.size();
    for (std::size_t i = 0; i < ref.size(); ++i)
        if (got.data()[i] != ref.data()[i]) {
            if (differ++ == 0) first = i;
        }
    BOOST_TEST(differ == 0u, what << ": " << differ << " of " << ref.size() << " values differ from seq"
                                  << (differ ? " (first at " + std::to_string(first) + ": " + std::to_string(got.data()[first]) +
                                                   " vs " + std::to_string(ref.data()[first]) + ")"
                                             : std::string()));
}

/// A grid of one block per voxel of a ct x ch x cw code volume, raw counts: each block's
/// histograms are one-hot at the voxel's labels, so the descriptors compare the codes one by one.
ferx::clip_grid voxel_grid(ferx::index_t ct, ferx::index_t ch, ferx::index_t cw) {
    return ferx::clip_grid{{ch, cw}, ct, 0.0, ferx::hist_norm::none};
}

/// CK+48's clips of 3 frames: the crops of index.csv grouped by sequence, frames in name order
/// (the names end in zero-padded frame numbers).
ferx::batch<std::uint8_t> ckplus_clips() {
    const auto list = ferx::ckplus48(ferx_test::shared_dir() / "data" / "ckplus48");
    std::map<int, std::vector<std::string>> seqs;
    for (std::size_t i = 0; i < list.size(); ++i) seqs[list.sequences[i]].push_back(list.paths[i]);
    std::vector<std::vector<std::string>> clips;
    for (auto& s : seqs) {
        std::sort(s.second.begin(), s.second.end());
        if (s.second.size() == 3) clips.push_back(s.second);
    }
    ferx::batch<std::uint8_t> out(std::array<std::size_t, 4>{clips.size(), 3, 48, 48});
    for (std::size_t c = 0; c < clips.size(); ++c)
        for (std::size_t f = 0; f < 3; ++f) {
            const cv::Mat m = ferx::read_image(clips[c][f]);
            BOOST_REQUIRE(m.rows == 48 && m.cols == 48 && m.type() == CV_8U);
            for (int y = 0; y < 48; ++y)
                std::copy(m.ptr<std::uint8_t>(y), m.ptr<std::uint8_t>(y) + 48, &out(c, f, std::size_t(y), 0));
        }
    return out;
}

template <class Mapping>
ferx::lbp_top_params<Mapping> lbp_top(double rx, double ry, double rt, int pxy, int pxt, int pyt, ferx::clip_grid g) {
    ferx::lbp_top_params<Mapping> p;
    p.rx = rx;
    p.ry = ry;
    p.rt = rt;
    p.p_xy = pxy;
    p.p_xt = pxt;
    p.p_yt = pyt;
    p.grid = g;
    return p;
}

/// Calls describe(exec::cuda, ...) on views over addresses no one dereferences; returns the
/// message of the ferx::error it raised (empty, with a test error, when it raised none).
template <class Params>
std::string cuda_error(const Params& p, ferx::index_t n, ferx::index_t frames, ferx::index_t rows, ferx::index_t cols,
                       ferx::index_t len, const char* what) {
    auto* fake = reinterpret_cast<const std::uint8_t*>(std::uintptr_t{4096});
    auto* fake_out = reinterpret_cast<float*>(std::uintptr_t{8192});
    const ferx::device_batch_view<const std::uint8_t> clips(fake, {n, frames, rows, cols});
    try {
        ferx::describe(ferx::exec::cuda, clips, p, device_out(fake_out, {n, len}));
        BOOST_ERROR(what << ": describe(exec::cuda) did not raise");
    } catch (const ferx::error& e) {
        return e.what();
    }
    return {};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(clip_descriptors_cuda)

BOOST_AUTO_TEST_CASE(cuda_policy_without_a_device_raises, *boost::unit_test::precondition(ferx_test::gpu_absent())) {
    const auto check = [&](const auto& p, const char* what) {
        const ferx::index_t len = ferx::clip_descriptor_length(p, 5, 48, 48);
        const std::string msg = cuda_error(p, 2, 5, 48, 48, len, what);
        BOOST_TEST(msg.find("no CUDA device") != std::string::npos, what << ": " << msg);
    };
    check(ferx::lbp_top_params<ferx::lbp_u2>{}, "lbp_top u2");
    check(ferx::lbp_top_params<ferx::lbp_riu2>{}, "lbp_top riu2");
    check(ferx::lbp_top_params<ferx::lbp_none>{}, "lbp_top none");
    check(ferx::lpq_top_params{}, "lpq_top");
    check(ferx::vlpq_params{}, "vlpq");
}

BOOST_AUTO_TEST_CASE(bad_input_is_refused_before_any_device_work) {
    // Each call raises ferx::error naming the descriptor, from the host checks, never the device check.
    const auto refused = [&](const std::string& msg, const char* name, const char* what) {
        BOOST_TEST(msg.find(name) != std::string::npos, what << ": " << msg);
        BOOST_TEST(msg.find("no CUDA device") == std::string::npos, what << ": " << msg);
    };
    const ferx::lbp_top_params<> lbp;
    const ferx::index_t ll = ferx::clip_descriptor_length(lbp, 3, 48, 48);
    refused(cuda_error(lbp, 2, 2, 48, 48, ll, "lbp_top, 2 frames for Rt = 1"), "ferx::lbp_top", "lbp_top, 2 frames");
    refused(cuda_error(lbp, 2, 3, 48, 48, ll + 1, "lbp_top, wrong output length"), "ferx::lbp_top", "lbp_top, output length");
    refused(cuda_error(lbp, 2, 3, 2, 48, ll, "lbp_top, frames of 2 rows"), "ferx::lbp_top", "lbp_top, 2 rows");
    {
        const auto big = lbp_top<ferx::lbp_none>(1, 1, 1, 14, 8, 8, ferx::clip_grid{{1, 1}, 1, 0.0, ferx::hist_norm::l1});
        const ferx::index_t lb = ferx::clip_descriptor_length(big, 3, 48, 48);  // 16384 + 512 bins: too many for shared memory
        refused(cuda_error(big, 2, 3, 48, 48, lb, "lbp_top none P = 14"), "ferx::lbp_top", "lbp_top none P = 14");
    }
    {  // an empty batch
        const ferx::device_batch_view<const std::uint8_t> empty(nullptr, {0, 3, 48, 48});
        BOOST_CHECK_THROW(ferx::describe(ferx::exec::cuda, empty, lbp, device_out(nullptr, {0, ll})), ferx::error);
    }
    ferx::lpq_top_params lpq;  // windows 5: 5 frames at least
    refused(cuda_error(lpq, 2, 4, 48, 48, 16 * 768, "lpq_top, 4 frames"), "ferx::lpq_top", "lpq_top, 4 frames");
    ferx::lpq_top_params wide;
    wide.window_xy = 33;
    wide.grid.cells = {1, 1};
    refused(cuda_error(wide, 2, 5, 48, 48, ferx::clip_descriptor_length(wide, 5, 48, 48), "lpq_top, window 33"),
            "ferx::lpq_top (cuda)", "lpq_top window 33");
    ferx::vlpq_params v;
    const ferx::index_t lv = ferx::clip_descriptor_length(v, 3, 48, 48);
    refused(cuda_error(v, 2, 2, 48, 48, lv, "vlpq, 2 frames"), "ferx::vlpq", "vlpq, 2 frames");
    refused(cuda_error(v, 2, 3, 48, 48, lv - 1, "vlpq, wrong output length"), "ferx::vlpq", "vlpq, output length");
    ferx::vlpq_params many;
    many.components = 14;
    refused(cuda_error(many, 1, 3, 48, 48, ferx::clip_descriptor_length(many, 3, 48, 48), "vlpq, L = 14"),
            "ferx::vlpq (cuda)", "vlpq L = 14");
    ferx::vlpq_params large;  // 5x5x5 window, L = 13: 1625 projection entries
    large.window = large.window_t = 5;
    large.components = 13;
    refused(cuda_error(large, 1, 5, 48, 48, ferx::clip_descriptor_length(large, 5, 48, 48), "vlpq, 5x5x5 L = 13"),
            "ferx::vlpq (cuda)", "vlpq 5x5x5 L = 13");
}

BOOST_AUTO_TEST_CASE(real_clips_equal_seq, *boost::unit_test::precondition(ferx_test::gpu_present()) *
                                               boost::unit_test::precondition(ferx_test::shared_data_present())) {
    const auto clips = ckplus_clips();
    BOOST_TEST_REQUIRE(clips.shape(0) > 300u);  // 327 in CK+48
    compare_with_seq(clips, ferx::lbp_top_params<ferx::lbp_u2>{}, "lbp_top u2 CK+48");
    compare_with_seq(clips, ferx::lbp_top_params<ferx::lbp_riu2>{}, "lbp_top riu2 CK+48");
    compare_with_seq(clips, ferx::lbp_top_params<ferx::lbp_none>{}, "lbp_top none CK+48");
    ferx::lpq_top_params lpq;
    lpq.window_xt = lpq.window_yt = 3;  // 3-frame clips
    compare_with_seq(clips, lpq, "lpq_top CK+48");
    compare_with_seq(clips, ferx::vlpq_params{}, "vlpq CK+48");
    ferx::vlpq_params v;
    v.grid = ferx::clip_grid{{4, 4}, 1, 0.0, ferx::hist_norm::l1};
    compare_with_seq(clips, v, "vlpq 4x4 blocks CK+48");
}

BOOST_AUTO_TEST_CASE(lbp_top_equals_seq, *boost::unit_test::precondition(ferx_test::gpu_present())) {
    const auto clips = random_clips(3, 9, 37, 41, 11);
    const ferx::clip_grid g{{3, 2}, 2, 0.25, ferx::hist_norm::l1};
    compare_with_seq(clips, lbp_top<ferx::lbp_u2>(2, 1.5, 2, 8, 6, 4, g), "lbp_top u2 (2, 1.5, 2; 8, 6, 4)");
    compare_with_seq(clips, lbp_top<ferx::lbp_riu2>(1, 1, 1, 16, 8, 12, g), "lbp_top riu2 P = 16, 8, 12 (no table)");
    compare_with_seq(clips, lbp_top<ferx::lbp_none>(1, 2, 3, 8, 8, 8, ferx::clip_grid{{2, 3}, 1, 0.5, ferx::hist_norm::none}),
                     "lbp_top none, overlapping blocks, counts");
    compare_with_seq(clips, lbp_top<ferx::lbp_u2>(3, 3, 1, 24, 8, 8, g), "lbp_top u2 P = 24 (no table)");
    // codes one by one: one block per voxel
    const auto small = random_clips(2, 5, 9, 10, 12);
    compare_with_seq(small, lbp_top<ferx::lbp_u2>(1, 1, 1, 8, 8, 8, voxel_grid(3, 7, 8)), "lbp_top u2 labels");
    compare_with_seq(small, lbp_top<ferx::lbp_none>(1, 1, 2, 8, 6, 4, voxel_grid(1, 7, 8)), "lbp_top none labels");
}

BOOST_AUTO_TEST_CASE(lpq_top_equals_seq, *boost::unit_test::precondition(ferx_test::gpu_present())) {
    const auto clips = random_clips(3, 9, 37, 41, 21);
    ferx::lpq_top_params p;
    p.window_xy = 5;
    p.window_xt = 3;
    p.window_yt = 5;
    p.grid = ferx::clip_grid{{3, 2}, 2, 0.25, ferx::hist_norm::l1};
    compare_with_seq(clips, p, "lpq_top 5/3/5 decorrelated");
    p.decorrelate = false;
    p.window_xy = 7;
    p.grid.norm = ferx::hist_norm::none;
    compare_with_seq(clips, p, "lpq_top 7/3/5 plain, counts");
    ferx::lpq_top_params q;  // codes one by one
    q.window_xt = q.window_yt = 3;
    q.grid = voxel_grid(3, 5, 6);
    compare_with_seq(random_clips(2, 5, 9, 10, 22), q, "lpq_top codes");
}

BOOST_AUTO_TEST_CASE(vlpq_equals_seq, *boost::unit_test::precondition(ferx_test::gpu_present())) {
    const auto clips = random_clips(3, 9, 37, 41, 31);
    compare_with_seq(clips, ferx::vlpq_params{}, "vlpq 3x3x3 L = 10");
    ferx::vlpq_params p;
    p.window = 5;
    p.window_t = 3;
    p.components = 12;
    p.rho_s = 0.9;
    p.rho_t = 0.5;
    p.grid = ferx::clip_grid{{2, 2}, 2, 0.3, ferx::hist_norm::l1};
    compare_with_seq(clips, p, "vlpq 5x5x3 L = 12, 2x2x2 blocks");
    ferx::vlpq_params c;  // codes one by one
    c.grid = voxel_grid(3, 7, 8);
    compare_with_seq(random_clips(2, 5, 9, 10, 32), c, "vlpq codes");
}

BOOST_AUTO_TEST_CASE(long_clips_split_into_parts_equal_seq, *boost::unit_test::precondition(ferx_test::gpu_present())) {
    // One clip, blocks of more than 16 Ki voxels: each block is counted by several thread blocks
    // that add their counts as floats (exact), then normalised.
    const auto clip = random_clips(1, 20, 150, 170, 41);
    const ferx::clip_grid one{{1, 1}, 1, 0.0, ferx::hist_norm::l1};
    const ferx::clip_grid four{{2, 2}, 1, 0.0, ferx::hist_norm::none};
    compare_with_seq(clip, lbp_top<ferx::lbp_u2>(1, 1, 1, 8, 8, 8, one), "lbp_top u2 one block, 20x150x170");
    compare_with_seq(clip, lbp_top<ferx::lbp_riu2>(2, 2, 2, 8, 8, 8, four), "lbp_top riu2 2x2 blocks, counts");
    ferx::lpq_top_params lpq;
    lpq.grid = one;
    compare_with_seq(clip, lpq, "lpq_top one block, 20x150x170");
    ferx::vlpq_params v;
    compare_with_seq(clip, v, "vlpq one block, 20x150x170");
    v.grid = four;
    compare_with_seq(clip, v, "vlpq 2x2 blocks, counts");
    // two such clips: parts per block for a batch too
    const auto two = random_clips(2, 12, 120, 130, 42);
    compare_with_seq(two, lbp_top<ferx::lbp_u2>(1, 1, 1, 8, 8, 8, one), "lbp_top u2 one block, 2 x 12x120x130");
}

BOOST_AUTO_TEST_SUITE_END()
