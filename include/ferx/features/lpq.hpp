/// \file ferx/features/lpq.hpp
/// Local phase quantization (Ojansivu & Heikkilä, ICISP 2008): the signs of the real and
/// imaginary parts of a short-term Fourier transform at the 4 lowest non-zero frequencies, as an
/// 8-bit code per pixel, pooled in 256-bin grid histograms. Blur-insensitive texture.
///
/// With an M x M window (M odd, r = (M - 1) / 2, a = 1 / M) and offsets (l, j) in [-r, r]^2:
///     F_u(y, x) = sum_{l, j} f(y + l, x + j) exp(2 pi i (u_y l + u_x j))
/// at u1 = (0, a) (along x), u2 = (a, 0) (along y), u3 = (a, a), u4 = (a, -a) in (u_y, u_x), i.e.
/// the convolutions of the authors' reference code lpq.m with exp(-2 pi i a k). Computed
/// separably in double: a pass down the columns, a pass along the rows. The 8 components are
/// [Re F1, Im F1, Re F2, Im F2, Re F3, Im F3, Re F4, Im F4].
///
/// Decorrelation (optional): pixels in the window are modelled as a Markov field with covariance
/// rho^distance; the components' covariance D = W C W^T (W: the 8 filters, 8 x M^2) is
/// diagonalised, as in lpq.m, by the eigenvectors V of A D A (A = diag(1.000007 ... 1.000001, 1)
/// separates equal eigenvalues), sorted by decreasing eigenvalue, each with its largest-magnitude
/// entry positive (SVD leaves the sign free; lpq.m takes LAPACK's). Components become V^T g.
///
/// Code: bit i (i = 0..7) is set when component i is positive, i.e. exceeds 1e-10 |F(0)| (F(0):
/// the window's pixel sum), so flat regions give code 0 rather than codes decided by rounding
/// noise. The code image covers the windows inside the image: (rows - M + 1) x (cols - M + 1).
/// Descriptor: the grid histograms (256 bins per cell, cells row-major) of the code image.
///
/// For the 3-D extension (VLPQ), the pieces are generic: `detail::stft_kernel` (1-D complex
/// exponentials), `detail::markov_covariance` (any positions, any dimension) and
/// `detail::whitening` (any number of components).
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/core/view.hpp>
#include <ferx/features/descriptor.hpp>
#include <ferx/features/detail/grid.hpp>
#include <ferx/features/detail/lpq_core.hpp>
#include <ferx/core/rounding.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

FERX_NAMESPACE_BEGIN

/// LPQ parameters.
struct lpq_params {
    int window = 7;           ///< M, odd, >= 3
    bool decorrelate = true;  ///< whiten the 8 components (Markov model of correlation rho)
    double rho = 0.90;        ///< correlation of neighbouring pixels, in (0, 1)
    grid_spec grid{{6, 6}, 0.0, hist_norm::l1};
};

namespace detail {

/// exp(2 pi i a k) for k = -r..r (a = 1/M): real and imaginary parts, M values each.
inline void stft_kernel(int m, std::vector<double>& re, std::vector<double>& im) {
    const int r = (m - 1) / 2;
    re.resize(static_cast<std::size_t>(m));
    im.resize(static_cast<std::size_t>(m));
    for (int k = -r; k <= r; ++k) {
        const double t = 6.283185307179586476925 * k / m;
        re[static_cast<std::size_t>(k + r)] = std::cos(t);
        im[static_cast<std::size_t>(k + r)] = std::sin(t);
    }
}

/// rho^|p_i - p_j| for n positions of `dims` coordinates each (row-major n x dims).
inline std::vector<double> markov_covariance(const std::vector<double>& pos, std::size_t dims, double rho) {
    const std::size_t n = pos.size() / dims;
    std::vector<double> c(n * n);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j) {
            double d2 = 0;
            for (std::size_t k = 0; k < dims; ++k) d2 += (pos[i * dims + k] - pos[j * dims + k]) * (pos[i * dims + k] - pos[j * dims + k]);
            c[i * n + j] = std::pow(rho, std::sqrt(d2));
        }
    return c;
}

/// Eigenvectors (columns of the returned n x n row-major matrix) of a symmetric matrix by cyclic
/// Jacobi rotations, sorted by decreasing eigenvalue (returned in `values`), each with its
/// largest-magnitude entry positive.
inline std::vector<double> symmetric_eigenvectors(std::vector<double> a, std::size_t n, std::vector<double>& values) {
    std::vector<double> v(n * n, 0.0);
    for (std::size_t i = 0; i < n; ++i) v[i * n + i] = 1.0;
    for (int sweep = 0; sweep < 100; ++sweep) {
        double off = 0, diag = 0;
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < n; ++j) (i == j ? diag : off) += a[i * n + j] * a[i * n + j];
        if (off <= 1e-30 * diag) break;
        for (std::size_t p = 0; p + 1 < n; ++p)
            for (std::size_t q = p + 1; q < n; ++q) {
                const double apq = a[p * n + q];
                if (apq == 0.0) continue;
                const double theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                const double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1.0));
                const double c = 1.0 / std::sqrt(t * t + 1.0), s = t * c;
                for (std::size_t k = 0; k < n; ++k) {  // A <- A J (columns p, q)
                    const double akp = a[k * n + p], akq = a[k * n + q];
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for (std::size_t k = 0; k < n; ++k) {  // A <- J^T A (rows p, q)
                    const double apk = a[p * n + k], aqk = a[q * n + k];
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for (std::size_t k = 0; k < n; ++k) {  // V <- V J
                    const double vkp = v[k * n + p], vkq = v[k * n + q];
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
    }
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return a[x * n + x] > a[y * n + y]; });
    std::vector<double> out(n * n);
    values.resize(n);
    for (std::size_t c = 0; c < n; ++c) {
        const std::size_t src = order[c];
        values[c] = a[src * n + src];
        std::size_t big = 0;
        for (std::size_t k = 0; k < n; ++k)
            if (std::abs(v[k * n + src]) > std::abs(v[big * n + src])) big = k;
        const double sign = v[big * n + src] < 0 ? -1.0 : 1.0;
        for (std::size_t k = 0; k < n; ++k) out[k * n + c] = sign * v[k * n + src];
    }
    return out;
}

/// The whitening matrix of K components given by K filters over n positions (K x n row-major)
/// under the Markov covariance of the positions: eigenvectors of A W C W^T A, as lpq.m does
/// (A = diag(1 + 1e-6 (K - 1), ..., 1 + 1e-6, 1)). Columns are the new components' directions.
inline std::vector<double> whitening(const std::vector<double>& filters, std::size_t k, const std::vector<double>& pos,
                                     std::size_t dims, double rho) {
    const std::size_t n = filters.size() / k;
    const std::vector<double> c = markov_covariance(pos, dims, rho);
    std::vector<double> wc(k * n, 0.0), d(k * k, 0.0);
    for (std::size_t i = 0; i < k; ++i)
        for (std::size_t q = 0; q < n; ++q) {
            double s = 0;
            for (std::size_t t = 0; t < n; ++t) s += filters[i * n + t] * c[t * n + q];
            wc[i * n + q] = s;
        }
    for (std::size_t i = 0; i < k; ++i)
        for (std::size_t j = 0; j < k; ++j) {
            double s = 0;
            for (std::size_t q = 0; q < n; ++q) s += wc[i * n + q] * filters[j * n + q];
            const double ai = 1.0 + 1e-6 * static_cast<double>(k - 1 - i), aj = 1.0 + 1e-6 * static_cast<double>(k - 1 - j);
            d[i * k + j] = ai * s * aj;
        }
    std::vector<double> values;
    return symmetric_eigenvectors(d, k, values);
}

/// The 8 LPQ filters over the M x M window (8 x M^2, positions row-major (l, j)) and positions.
inline void lpq_filters(int m, std::vector<double>& filters, std::vector<double>& pos) {
    const int r = (m - 1) / 2;
    const std::size_t n = static_cast<std::size_t>(m * m);
    filters.assign(8 * n, 0.0);
    pos.assign(2 * n, 0.0);
    const double a = 6.283185307179586476925 / m;
    for (int l = -r; l <= r; ++l)
        for (int j = -r; j <= r; ++j) {
            const std::size_t q = static_cast<std::size_t>((l + r) * m + (j + r));
            pos[2 * q] = l;
            pos[2 * q + 1] = j;
            const double ph[4] = {a * j, a * l, a * (l + j), a * (l - j)};
            for (int f = 0; f < 4; ++f) {
                filters[static_cast<std::size_t>(2 * f) * n + q] = std::cos(ph[f]);
                filters[static_cast<std::size_t>(2 * f + 1) * n + q] = std::sin(ph[f]);
            }
        }
}

/// The 8 x 8 whitening of lpq_params (row-major; column c: the direction of new component c).
inline std::array<double, 64> lpq_whitening_matrix(int m, double rho) {
    std::vector<double> f, pos;
    lpq_filters(m, f, pos);
    const std::vector<double> v = whitening(f, 8, pos, 2, rho);
    std::array<double, 64> out{};
    std::copy(v.begin(), v.end(), out.begin());
    return out;
}

inline void lpq_check(const lpq_params& p, index_t rows, index_t cols, const char* where) {
    if (p.window < 3 || p.window % 2 == 0 || p.window > 255)
        throw error(where, "the window must be odd and in [3, 255], got " + std::to_string(p.window));
    if (p.decorrelate && !(p.rho > 0 && p.rho < 1))
        throw error(where, "rho must be in (0, 1), got " + std::to_string(p.rho));
    if (rows < p.window || cols < p.window)
        throw error(where, "the image (" + std::to_string(rows) + "x" + std::to_string(cols) + ") is smaller than the " +
                               std::to_string(p.window) + "x" + std::to_string(p.window) + " window");
}

struct lpq_workspace {
    int m = 0;
    bool decorrelate = false;
    double rho = 0;
    std::vector<double> kre, kim;         // stft_kernel
    std::array<double, 64> v{};           // whitening (V, row-major)
    std::vector<double> a0, a1r, a1i;     // column pass of one output row (cols values each)
    std::vector<double> resp;             // 9 x cols: F(0) and the 8 components of one row
    std::vector<std::uint8_t> codes;
    void prepare(const lpq_params& p) {
        if (m == p.window && decorrelate == p.decorrelate && rho == p.rho && !kre.empty()) return;
        m = p.window;
        decorrelate = p.decorrelate;
        rho = p.rho;
        stft_kernel(m, kre, kim);
        if (decorrelate) v = lpq_whitening_matrix(m, rho);
    }
    /// A workspace for another thread: the prepared kernel and whitening matrix, empty scratch.
    /// (A plain copy would also copy `codes`, which the other threads of a loop are writing.)
    lpq_workspace for_thread() const {
        lpq_workspace w;
        w.m = m;
        w.decorrelate = decorrelate;
        w.rho = rho;
        w.kre = kre;
        w.kim = kim;
        w.v = v;
        return w;
    }
};

/// Components of output row y (windows centred on image row y + r) into ws.resp: row 0 is
/// F(0), rows 1..8 the components, each ww = cols - M + 1 values.
template <class T>
void lpq_row_responses(const image_view<const T>& img, index_t y, lpq_workspace& ws) {
    const index_t m = ws.m, w = img.cols(), ww = w - m + 1;
    ws.a0.assign(static_cast<std::size_t>(w), 0.0);
    ws.a1r.assign(static_cast<std::size_t>(w), 0.0);
    ws.a1i.assign(static_cast<std::size_t>(w), 0.0);
    double* a0 = ws.a0.data();
    double* a1r = ws.a1r.data();
    double* a1i = ws.a1i.data();
    for (index_t l = 0; l < m; ++l) {  // down the columns: weights 1 and exp(2 pi i a (l - r))
        const T* row = img.row(y + l);
        const double cr = ws.kre[static_cast<std::size_t>(l)], ci = ws.kim[static_cast<std::size_t>(l)];
        for (index_t x = 0; x < w; ++x) {
            const double f = static_cast<double>(row[x]);
            a0[x] += f;
            a1r[x] += f * cr;
            a1i[x] += f * ci;
        }
    }
    ws.resp.assign(static_cast<std::size_t>(9 * ww), 0.0);
    double* f0 = ws.resp.data();
    double* g[8];
    for (int k = 0; k < 8; ++k) g[k] = f0 + (k + 1) * ww;
    for (index_t j = 0; j < m; ++j) {  // along the rows
        const double cr = ws.kre[static_cast<std::size_t>(j)], ci = ws.kim[static_cast<std::size_t>(j)];
        for (index_t x = 0; x < ww; ++x) {
            const double b0 = a0[x + j], br = a1r[x + j], bi = a1i[x + j];
            f0[x] += b0;
            g[0][x] += b0 * cr;            // F1 = sum A0 e^{i a j}
            g[1][x] += b0 * ci;
            g[2][x] += br;                 // F2 = sum A1
            g[3][x] += bi;
            g[4][x] += br * cr - bi * ci;  // F3 = sum A1 e^{i a j}
            g[5][x] += br * ci + bi * cr;
            g[6][x] += br * cr + bi * ci;  // F4 = sum A1 e^{-i a j}
            g[7][x] += bi * cr - br * ci;
        }
    }
}

/// Codes of output rows [y0, y1) into codes (row-major, cols - M + 1 per row).
template <class T>
void lpq_code_rows(const image_view<const T>& img, index_t y0, index_t y1, lpq_workspace& ws, std::uint8_t* codes) {
    const index_t ww = img.cols() - ws.m + 1;
    for (index_t y = y0; y < y1; ++y) {
        lpq_row_responses(img, y, ws);
        const double* f0 = ws.resp.data();
        std::uint8_t* out = codes + y * ww;
        for (index_t x = 0; x < ww; ++x) {
            double g[8];
            for (int k = 0; k < 8; ++k) g[k] = ws.resp[static_cast<std::size_t>((k + 1) * ww + x)];
            const double thr = 1e-10 * std::abs(f0[x]);
            unsigned code = 0;
            for (int c = 0; c < 8; ++c) {
                double s;
                if (ws.decorrelate) {
                    s = 0;
                    for (int k = 0; k < 8; ++k) s += ws.v[static_cast<std::size_t>(k * 8 + c)] * g[k];
                } else {
                    s = g[c];
                }
                code |= (s > thr ? 1u : 0u) << c;
            }
            out[x] = static_cast<std::uint8_t>(code);
        }
    }
}

}  // namespace detail

/// The STFT components of every window (no decorrelation): 9 x (rows - M + 1) x (cols - M + 1),
/// plane 0 is F(0) (the window sum), planes 1..8 the components in the documented order.
template <class T>
xt::xtensor<double, 3> lpq_responses(const image_view<T>& img, int window) {
    using U = std::remove_const_t<T>;
    detail::check_descriptor_pixel<U>();
    const image_view<const U> src(img);
    detail::check_describe_input<void>(src, "ferx::lpq_responses");
    lpq_params p;
    p.window = window;
    p.decorrelate = false;
    detail::lpq_check(p, src.rows(), src.cols(), "ferx::lpq_responses");
    detail::lpq_workspace ws;
    ws.prepare(p);
    const index_t hh = src.rows() - window + 1, ww = src.cols() - window + 1;
    xt::xtensor<double, 3> out(std::array<std::size_t, 3>{9, static_cast<std::size_t>(hh), static_cast<std::size_t>(ww)});
    for (index_t y = 0; y < hh; ++y) {
        detail::lpq_row_responses(src, y, ws);
        for (index_t k = 0; k < 9; ++k)
            for (index_t x = 0; x < ww; ++x)
                out(static_cast<std::size_t>(k), static_cast<std::size_t>(y), static_cast<std::size_t>(x)) =
                    ws.resp[static_cast<std::size_t>(k * ww + x)];
    }
    return out;
}

/// The 8 x 8 decorrelating matrix V of (window, rho): column c is the direction of whitened
/// component c (components become V^T g).
inline xt::xtensor<double, 2> lpq_whitening(int window, double rho) {
    lpq_params p;
    p.window = window;
    p.rho = rho;
    detail::lpq_check(p, window, window, "ferx::lpq_whitening");
    const auto v = detail::lpq_whitening_matrix(window, rho);
    xt::xtensor<double, 2> out(std::array<std::size_t, 2>{8, 8});
    std::copy(v.begin(), v.end(), out.begin());
    return out;
}

/// The LPQ code image of a host image: (rows - M + 1) x (cols - M + 1) codes in [0, 255].
template <class Policy, class T>
image<std::uint8_t> lpq_image(const Policy& policy, const image_view<T>& img, const lpq_params& p = {}) {
    static_assert(is_host_policy_v<Policy>, "ferx::lpq_image: host images need exec::seq or exec::par");
    using U = std::remove_const_t<T>;
    detail::check_descriptor_pixel<U>();
    const image_view<const U> src(img);
    detail::check_describe_input<void>(src, "ferx::lpq_image");
    detail::lpq_check(p, src.rows(), src.cols(), "ferx::lpq_image");
    const index_t hh = src.rows() - p.window + 1, ww = src.cols() - p.window + 1;
    image<std::uint8_t> out(std::array<std::size_t, 2>{static_cast<std::size_t>(hh), static_cast<std::size_t>(ww)});
    detail::lpq_workspace proto;
    proto.prepare(p);
    detail::for_each_range(policy, hh, 8, [&](index_t y0, index_t y1) {
        detail::lpq_workspace ws = proto.for_thread();
        detail::lpq_code_rows(src, y0, y1, ws, out.data());
    });
    return out;
}

#if defined(__CUDACC__)
namespace detail {
FERX_ARCH_NAMESPACE_BEGIN
/// Enqueues the LPQ kernel over the batch (defined in ferx/cuda/dispatch/lpq.cuh).
inline void lpq_cuda(const exec::cuda_policy& policy, const device_volume_view<const std::uint8_t>& batch, lpq_cuda_args a,
                     float* d_out);
FERX_ARCH_NAMESPACE_END
}  // namespace detail
#endif

template <>
struct descriptor_traits<lpq_params> {
    static constexpr const char* name = "ferx::lpq";
    using workspace = detail::lpq_workspace;
#if defined(__CUDACC__)
    /// The `exec::cuda` backend (called by ferx::describe after its checks): one thread block per
    /// (grid cell, crop) with a 256-bin shared-memory histogram, windows up to 31 x 31 (the
    /// kernel coefficients travel in the launch arguments, 1 KB); enqueued on the policy's
    /// stream, no allocation, no synchronisation. The launch is ferx/cuda/dispatch/lpq.cuh.
    static void compute_cuda(const exec::cuda_policy& policy, const device_volume_view<const std::uint8_t>& batch,
                             const lpq_params& p, const tensor_view<float, 2, memory_space::device>& out, detail::arch_tag) {
        constexpr const char* where = "ferx::lpq (cuda)";
        length(p, batch.rows(), batch.cols());  // checks
        if (p.window > 31) throw error(where, "the CUDA backend takes windows up to 31x31, got " + std::to_string(p.window));
        detail::lpq_cuda_args a{};
        std::vector<double> kre, kim;
        detail::stft_kernel(p.window, kre, kim);
        std::copy(kre.begin(), kre.end(), a.kre);
        std::copy(kim.begin(), kim.end(), a.kim);
        if (p.decorrelate) {
            const auto v = detail::lpq_whitening_matrix(p.window, p.rho);
            std::copy(v.begin(), v.end(), a.v);
        }
        a.grid = p.grid;
        a.code_rows = batch.rows() - p.window + 1;
        a.code_cols = batch.cols() - p.window + 1;
        a.out_stride = out.stride(0);
        a.window = p.window;
        a.decorrelate = p.decorrelate;
        detail::lpq_cuda(policy, batch, a, out.data());
    }
#endif
    static index_t length(const lpq_params& p, index_t rows, index_t cols) {
        detail::lpq_check(p, rows, cols, name);
        detail::grid_check(p.grid, rows - p.window + 1, cols - p.window + 1, name);
        return p.grid.cells.rows * p.grid.cells.cols * 256;
    }
    template <class T>
    static void compute(const lpq_params& p, const image_view<const T>& img, float* out, workspace& ws) {
        ws.prepare(p);
        const index_t hh = img.rows() - p.window + 1, ww = img.cols() - p.window + 1;
        ws.codes.resize(static_cast<std::size_t>(hh * ww));
        detail::lpq_code_rows(img, 0, hh, ws, ws.codes.data());
        detail::grid_histograms(image_view<const std::uint8_t>(ws.codes.data(), {hh, ww}), 256, p.grid, out);
    }
    /// One large image on several threads: bands of code rows in parallel, then the histograms.
    template <class T>
    static void compute_par(thread_pool& pool, const lpq_params& p, const image_view<const T>& img, float* out,
                            workspace& ws) {
        const index_t hh = img.rows() - p.window + 1, ww = img.cols() - p.window + 1;
        if (pool.size() == 1 || hh * ww < 16384) return compute(p, img, out, ws);  // below ~128x128 codes: seq
        ws.prepare(p);
        ws.codes.resize(static_cast<std::size_t>(hh * ww));
        pool.parallel_for(0, hh, 8, [&](index_t y0, index_t y1) {
            detail::lpq_workspace local = ws.for_thread();
            detail::lpq_code_rows(img, y0, y1, local, ws.codes.data());
        });
        detail::grid_histograms(image_view<const std::uint8_t>(ws.codes.data(), {hh, ww}), 256, p.grid, out);
    }
};

FERX_NAMESPACE_END

#if defined(__CUDACC__)
#include <ferx/cuda/dispatch/lpq.cuh>
#endif
