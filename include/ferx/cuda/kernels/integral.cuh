/// \file ferx/cuda/kernels/integral.cuh
/// CUDA kernels of the integral images. Three passes over an N x H x W batch:
///   1. rows:   one warp per image row writes the row prefix sums P_y(x) into the sum (and the
///              squared prefix into the squared sum) output row y + 1;
///   2. tilted: one thread per anti-diagonal, then one per diagonal, accumulate the tilted sum
///              from P (tilted = a - b, the same recurrences as the CPU code, see integral.hpp);
///   3. cols:   a 32 x 32 block per 32-column strip scans down the rows in place, tile by tile
///              (transposed through shared memory so each warp scans one column with shuffles).
/// Kernels live in an unnamed namespace: every translation unit (and GPU architecture list)
/// gets its own copy, so objects built for different GPUs never share a kernel symbol.
#pragma once

#include <ferx/core/view.hpp>
#include <ferx/cuda/warp/scan.cuh>

FERX_NAMESPACE_BEGIN
namespace cuda {
namespace kernels {
FERX_ARCH_NAMESPACE_BEGIN
namespace {

/// Columns each lane owns per step of the row pass (a warp covers 32 * items columns).
inline constexpr int integral_row_items = 4;
/// Warps (rows) per block of the row pass.
inline constexpr int integral_row_warps = 4;
/// Tile edge of the column pass (blockDim = tile x tile).
inline constexpr int integral_col_tile = 32;
/// Threads per block of the tilted passes.
inline constexpr int integral_diag_threads = 256;

/// Pass 1: row prefix sums. Writes sum(f, y+1, x) = P_y(x) for x in [0, W] (and the squared
/// prefix to sqsum when SQ), and zeroes row 0 of each frame.
template <class T, class S, class Q, class AS, class AQ, bool SQ>
__global__ void __launch_bounds__(32 * integral_row_warps)
    integral_rows(device_volume_view<const T> src, device_volume_view<S> sum, device_volume_view<Q> sqsum) {
    const int lane = static_cast<int>(threadIdx.x & 31u);
    const index_t h = src.rows(), w = src.cols();
    const index_t row = static_cast<index_t>(blockIdx.x) * integral_row_warps + static_cast<index_t>(threadIdx.x >> 5);
    if (row >= src.shape(0) * h) return;
    const index_t f = row / h, y = row % h;
    const T* in = src.data() + f * src.stride(0) + y * src.stride(1);
    S* out = sum.data() + f * sum.stride(0) + (y + 1) * sum.stride(1);
    Q* outq = SQ ? sqsum.data() + f * sqsum.stride(0) + (y + 1) * sqsum.stride(1) : nullptr;
    if (y == 0) {
        S* top = sum.data() + f * sum.stride(0);
        Q* topq = SQ ? sqsum.data() + f * sqsum.stride(0) : nullptr;
        for (index_t x = lane; x <= w; x += 32) {
            top[x] = S{};
            if (SQ) topq[x] = Q{};
        }
    }
    if (lane == 0) {
        out[0] = S{};
        if (SQ) outq[0] = Q{};
    }
    AS carry{};
    AQ carryq{};
    for (index_t base = 0; base < w; base += 32 * integral_row_items) {
        const index_t x0 = base + static_cast<index_t>(lane) * integral_row_items;
        AS v[integral_row_items];
        AQ q[integral_row_items];
        AS run{};
        AQ runq{};
#pragma unroll
        for (int i = 0; i < integral_row_items; ++i) {
            const index_t x = x0 + i;
            const AS p = x < w ? static_cast<AS>(in[x]) : AS{};
            run += p;
            v[i] = run;
            if (SQ) {
                const AQ pq = x < w ? static_cast<AQ>(in[x]) * static_cast<AQ>(in[x]) : AQ{};
                runq += pq;
                q[i] = runq;
            }
        }
        const AS incl = warp::inclusive_sum(run);
        AS excl = __shfl_up_sync(warp::full_mask, incl, 1);
        if (lane == 0) excl = AS{};
        AQ inclq{}, exclq{};
        if (SQ) {
            inclq = warp::inclusive_sum(runq);
            exclq = __shfl_up_sync(warp::full_mask, inclq, 1);
            if (lane == 0) exclq = AQ{};
        }
#pragma unroll
        for (int i = 0; i < integral_row_items; ++i) {
            const index_t x = x0 + i;
            if (x < w) {
                out[x + 1] = static_cast<S>(carry + excl + v[i]);
                if (SQ) outq[x + 1] = static_cast<Q>(carryq + exclq + q[i]);
            }
        }
        carry += warp::last(incl);
        if (SQ) carryq += warp::last(inclq);
    }
}

/// Pass 3: in-place column prefix sums of a (H+1) x (W+1) per-frame array of row prefixes,
/// accumulated in AS and stored as S. blockDim = (tile, tile); grid = (strips, frames).
template <class S, class AS>
__global__ void __launch_bounds__(integral_col_tile * integral_col_tile)
    integral_cols(device_volume_view<S> out, index_t frame0) {
    __shared__ AS tile[integral_col_tile][integral_col_tile + 1];
    const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
    const index_t rows = out.rows(), cols = out.cols();
    const index_t x = static_cast<index_t>(blockIdx.x) * integral_col_tile + tx;
    S* base = out.data() + (frame0 + static_cast<index_t>(blockIdx.y)) * out.stride(0);
    const index_t rs = out.stride(1);
    AS carry{};  // running sum of column (strip start + ty), the same in every lane of warp ty
    for (index_t y0 = 1; y0 < rows; y0 += integral_col_tile) {
        const index_t y = y0 + ty;
        const bool inside = y < rows && x < cols;
        tile[ty][tx] = inside ? static_cast<AS>(base[y * rs + x]) : AS{};
        __syncthreads();
        const AS scanned = warp::inclusive_sum(tile[tx][ty]) + carry;  // warp ty: column ty
        carry = warp::last(scanned);
        tile[tx][ty] = scanned;
        __syncthreads();
        if (inside) base[y * rs + x] = static_cast<S>(tile[ty][tx]);
        __syncthreads();
    }
}

/// Pass 2a: tilted(Y, X) = a(X, Y) along anti-diagonals c = X + Y, c in [0, W + H]:
///   a(X, Y) = a(X + 1, Y - 1) + P_{Y-1}(X),  a(W, Y) = total of the rows above Y.
/// `prefix` holds P_y(x) at (y + 1, x) (pass 1's output, before pass 3). Also zeroes row 0.
template <class S, class AS>
__global__ void __launch_bounds__(integral_diag_threads)
    integral_tilted_anti(device_volume_view<const S> prefix, device_volume_view<S> tilted, index_t frame0) {
    const index_t c = static_cast<index_t>(blockIdx.x) * integral_diag_threads + threadIdx.x;
    const index_t h = tilted.rows() - 1, w = tilted.cols() - 1;
    if (c > w + h) return;
    const index_t f = frame0 + static_cast<index_t>(blockIdx.y);
    const S* p = prefix.data() + f * prefix.stride(0);
    S* t = tilted.data() + f * tilted.stride(0);
    const index_t ps = prefix.stride(1), ts = tilted.stride(1);
    if (c <= w) t[c] = S{};  // row 0
    AS acc{};
    index_t y = 1;
    if (c > w) {  // the diagonal enters at (Y = c - W, X = W), where a = total above Y
        y = c - w;
        for (index_t r = 1; r <= y; ++r) acc += static_cast<AS>(p[r * ps + w]);
        t[y * ts + w] = static_cast<S>(acc);
        ++y;
    }
    for (; y <= h && y <= c; ++y) {
        const index_t x = c - y;
        acc += static_cast<AS>(p[y * ps + x]);  // P_{Y-1}(X) is stored at row Y
        t[y * ts + x] = static_cast<S>(acc);
    }
}

/// Pass 2b: tilted(Y, X) -= b(X, Y) along diagonals e = X - Y, e in [-H, W - 1]:
///   b(X, Y) = b(X - 1, Y - 1) + P_{Y-1}(X - 1),  b(0, Y) = b(X, 0) = 0.
template <class S, class AS>
__global__ void __launch_bounds__(integral_diag_threads)
    integral_tilted_diag(device_volume_view<const S> prefix, device_volume_view<S> tilted, index_t frame0) {
    const index_t h = tilted.rows() - 1, w = tilted.cols() - 1;
    const index_t e = static_cast<index_t>(blockIdx.x) * integral_diag_threads + threadIdx.x - h;
    if (e > w - 1) return;
    const index_t f = frame0 + static_cast<index_t>(blockIdx.y);
    const S* p = prefix.data() + f * prefix.stride(0);
    S* t = tilted.data() + f * tilted.stride(0);
    const index_t ps = prefix.stride(1), ts = tilted.stride(1);
    AS acc{};
    for (index_t y = e >= 0 ? 1 : 1 - e; y <= h; ++y) {
        const index_t x = e + y;
        if (x > w) break;
        acc += static_cast<AS>(p[y * ps + x - 1]);  // P_{Y-1}(X-1) is stored at row Y
        t[y * ts + x] = static_cast<S>(static_cast<AS>(t[y * ts + x]) - acc);
    }
}

}  // namespace
FERX_ARCH_NAMESPACE_END
}  // namespace kernels
}  // namespace cuda
FERX_NAMESPACE_END
