/// \file ferx/cuda/kernels/detect.cuh
/// CUDA kernels of the cascade detector, per pyramid level over a chunk of frames:
///   1. pyramid_resize: one thread per level pixel, the fixed-point bilinear arithmetic of
///      ferx/imgproc/pyramid_resize.hpp (exact integers, so the same bytes as the CPU);
///   2. (the integral images: ferx/cuda/kernels/integral.cuh, through ferx::integral)
///   3. cascade_windows: one thread per window position, the stages of
///      ferx/detect/detail/cascade_eval.hpp (products and sums rounded one by one, as on the CPU);
///      writes a code per position: 1 accepted, 0 rejected by the first stage, -1 otherwise;
///   4. cascade_rows: one thread per window row applies the scan's rule "after a window that the
///      first stage rejects, skip the next position" and appends the accepted positions.
/// Kernels live in an unnamed namespace (one copy per translation unit and GPU architecture list).
#pragma once

#include <ferx/core/view.hpp>
#include <ferx/detect/cascade.hpp>
#include <ferx/detect/detail/cascade_eval.hpp>

#include <cstdint>

FERX_NAMESPACE_BEGIN
namespace cuda {
namespace kernels {
FERX_ARCH_NAMESPACE_BEGIN

/// Resize tables of one axis of one level (device pointers; see ferx::detail::resize_axis).
struct resize_axis_view {
    const int* ofs;
    const int* w1;
    int first, last, src;
};

/// How a level is made from the frame: a copy, a 2:1 average, or bilinear.
enum class resize_mode : int { copy, half, bilinear };

/// The cascade on the device, for one row stride of the integral buffers.
struct device_cascade_view {
    int nstages;
    const cascade_stage* stages;
    int stump_based;                    ///< 1: stumps below; 0: trees/nodes/leaves
    const ferx::detail::haar_stump* haar_stumps;  ///< Haar, stump-based
    const ferx::detail::lbp_stump* lbp_stumps;    ///< LBP, stump-based
    const cascade_tree* trees;
    const cascade_node* nodes;
    const float* leaves;
    const std::uint32_t* subsets;           ///< LBP trees: 8 words per node
    const ferx::detail::haar_opt* haar_features;  ///< Haar trees
    const ferx::detail::lbp_opt* lbp_features;    ///< LBP trees
    int norm[4];
    double norm_area;
};

/// A window accepted by the cascade: frame of the chunk, level, position in level pixels.
struct window_hit {
    int frame, level, x, y;
};

namespace {

inline constexpr int detect_threads = 256;

__device__ inline int resize_h(const std::uint8_t* row, const resize_axis_view& ax, int d) {
    if (d < ax.first) return row[0] << 8;
    if (d >= ax.last) return row[ax.src - 1] << 8;
    const int o = ax.ofs[d], w1 = ax.w1[d];
    return row[o] * (256 - w1) + row[o + 1] * w1;
}

/// Level pixels of every frame of the chunk: grid-stride over frames x h x w.
__global__ void pyramid_resize(device_volume_view<const std::uint8_t> src, device_volume_view<std::uint8_t> dst,
                               resize_axis_view ax, resize_axis_view ay, resize_mode mode) {
    const index_t n = dst.shape(0), h = dst.rows(), w = dst.cols();
    const index_t total = n * h * w;
    for (index_t i = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
         i += static_cast<index_t>(gridDim.x) * blockDim.x) {
        const index_t f = i / (h * w), y = (i / w) % h, x = i % w;
        const std::uint8_t* s = src.data() + f * src.stride(0);
        const index_t ss = src.stride(1);
        int v;
        if (mode == resize_mode::copy) {
            v = s[y * ss + x];
        } else if (mode == resize_mode::half) {
            const std::uint8_t* a = s + 2 * y * ss + 2 * x;
            v = (a[0] + a[1] + a[ss] + a[ss + 1] + 2) >> 2;
        } else if (y < ay.first || y >= ay.last) {
            const index_t sy = y < ay.first ? 0 : ay.src - 1;
            v = min((resize_h(s + sy * ss, ax, static_cast<int>(x)) + 128) >> 8, 255);
        } else {
            const int o = ay.ofs[y], w1 = ay.w1[y];
            const int h0 = resize_h(s + o * ss, ax, static_cast<int>(x));
            const int h1 = resize_h(s + (o + 1) * ss, ax, static_cast<int>(x));
            v = min((h0 * (256 - w1) + h1 * w1 + (1 << 15)) >> 16, 255);
        }
        dst.data()[f * dst.stride(0) + y * dst.stride(1) + x] = static_cast<std::uint8_t>(v);
    }
}

/// The stages at one window (see ferx::detail::run_stages): 1, 0 (first stage), or -1.
template <bool Haar>
__device__ int run_window(const device_cascade_view& c, const int* p, const double* q) {
    float factor = 1.f;
    if (Haar && !ferx::detail::haar_norm_factor(p, q, c.norm, c.norm_area, factor)) return -1;
    int tree = 0;
    for (int si = 0; si < c.nstages; ++si) {
        const cascade_stage st = c.stages[si];
        double acc = 0.0;
        for (int t = 0; t < st.trees; ++t, ++tree) {
            if (c.stump_based) {
                if (Haar) {
                    const ferx::detail::haar_stump& s = c.haar_stumps[tree];
                    acc += s.leaf[ferx::detail::haar_value(s.f, p, factor) < s.threshold ? 0 : 1];
                } else {
                    const ferx::detail::lbp_stump& s = c.lbp_stumps[tree];
                    acc += s.leaf[ferx::detail::lbp_in_subset(s.subset, ferx::detail::lbp_code(s.f, p)) ? 0 : 1];
                }
            } else {
                const cascade_tree tr = c.trees[tree];
                int idx = 0;
                do {
                    const int node = tr.first_node + idx;
                    const cascade_node nd = c.nodes[node];
                    bool left;
                    if (Haar)
                        left = ferx::detail::haar_value(c.haar_features[nd.feature], p, factor) < nd.threshold;
                    else
                        left = ferx::detail::lbp_in_subset(c.subsets + node * ferx::detail::lbp_subset_words,
                                                     ferx::detail::lbp_code(c.lbp_features[nd.feature], p));
                    idx = left ? nd.left : nd.right;
                } while (idx > 0);
                acc += c.leaves[tr.first_leaf - idx];
            }
        }
        if (acc < st.threshold) return si == 0 ? 0 : -1;
    }
    return 1;
}

/// One code per window position of every frame: codes[(f * ny + j) * nx + i] for the window at
/// level pixel (i * step, j * step). `sums`/`sqsum` are the level's integral images per frame.
template <bool Haar>
__global__ void __launch_bounds__(detect_threads)
    cascade_windows(device_cascade_view c, const int* sums, index_t sum_frame_stride, const double* sqsum,
                    index_t sq_frame_stride, index_t row_stride, int frames, int nx, int ny, int step,
                    std::int8_t* codes) {
    const index_t total = static_cast<index_t>(frames) * nx * ny;
    for (index_t i = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
         i += static_cast<index_t>(gridDim.x) * blockDim.x) {
        const index_t f = i / (static_cast<index_t>(nx) * ny);
        const index_t j = (i / nx) % ny, k = i % nx;
        const index_t off = j * step * row_stride + k * step;
        const int* p = sums + f * sum_frame_stride + off;
        const double* q = Haar ? sqsum + f * sq_frame_stride + off : nullptr;
        codes[i] = static_cast<std::int8_t>(run_window<Haar>(c, p, q));
    }
}

/// One thread per (frame, window row): the skip rule, then the accepted windows appended to
/// `hits` (at most `capacity` stored; `count` counts them all, so a caller can grow and rerun).
__global__ void cascade_rows(const std::int8_t* codes, int frames, int nx, int ny, int step, int level,
                             window_hit* hits, unsigned capacity, unsigned* count) {
    const index_t row = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (row >= static_cast<index_t>(frames) * ny) return;
    const int f = static_cast<int>(row / ny), j = static_cast<int>(row % ny);
    const std::int8_t* rc = codes + row * nx;
    for (int k = 0; k < nx; ++k) {
        const int r = rc[k];
        if (r > 0) {
            const unsigned at = atomicAdd(count, 1u);
            if (at < capacity) hits[at] = window_hit{f, level, k * step, j * step};
        } else if (r == 0) {
            ++k;  // the next position is not scanned
        }
    }
}

}  // namespace
FERX_ARCH_NAMESPACE_END
}  // namespace kernels
}  // namespace cuda
FERX_NAMESPACE_END
