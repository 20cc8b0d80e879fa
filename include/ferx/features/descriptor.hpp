/// \file ferx/features/descriptor.hpp
/// The common interface of ferx's appearance descriptors (HOG, FHOG, LBP, LPQ): one call for an
/// image or a batch, on any backend, with the output length known from the parameters, so a
/// classifier or a pipeline composes with any descriptor:
///
///     ferx::hog_params<> p;                                  // plain struct, documented defaults
///     auto f  = ferx::describe(ferx::exec::seq, crop, p);    // 1-D: descriptor_length(p, 48, 48)
///     auto fb = ferx::describe(ferx::exec::par, crops, p);   // 2-D: [n, descriptor_length(p, 48, 48)]
///     // ferx::describe(ferx::exec::cuda, d_crops, p, d_out) in a .cu file (device views)
///
/// A descriptor is a parameter struct `P` with a specialisation of `descriptor_traits<P>`:
///   - `static constexpr const char* name`                           e.g. "ferx::hog"
///   - `static index_t length(const P&, index_t rows, index_t cols)` checks the parameters and
///     the image size (ferx::error) and returns the number of floats per image;
///   - `using workspace = ...`                                       scratch reused across images;
///   - `template <class T> static void compute(const P&, const image_view<const T>&, float* out,
///      workspace&)`                                                 one image, one thread.
/// Descriptors whose single-image work splits well may add `compute_par(pool, ...)`; batches are
/// always split over images under `exec::par`.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/core/view.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>

FERX_NAMESPACE_BEGIN

/// Rows x columns of a cell, block, window or grid (pixels or counts).
struct patch_size {
    index_t rows = 0, cols = 0;
    friend constexpr bool operator==(const patch_size& a, const patch_size& b) {
        return a.rows == b.rows && a.cols == b.cols;
    }
    friend constexpr bool operator!=(const patch_size& a, const patch_size& b) { return !(a == b); }
};

/// Specialised by each descriptor header for its parameter struct (see the file comment).
template <class Params>
struct descriptor_traits;

/// True for parameter structs that name a ferx descriptor.
template <class Params, class = void>
struct is_descriptor_params : std::false_type {};
template <class Params>
struct is_descriptor_params<Params, std::void_t<decltype(descriptor_traits<Params>::name)>>
    : std::true_type {};
template <class Params>
inline constexpr bool is_descriptor_params_v = is_descriptor_params<std::decay_t<Params>>::value;

/// True for descriptors of clips (LBP-TOP, VLPQ, LPQ-TOP: traits with `static constexpr bool
/// clip = true`): for them a volume view is one clip (frames x rows x cols) and a 4-D view a batch
/// of clips, see ferx/features/clip_descriptor.hpp; for the others a volume is a batch of images.
template <class Params, class = void>
struct is_clip_descriptor : std::false_type {};
template <class Params>
struct is_clip_descriptor<Params, std::enable_if_t<descriptor_traits<Params>::clip>> : std::true_type {};
template <class Params>
inline constexpr bool is_clip_descriptor_v = is_clip_descriptor<std::decay_t<Params>>::value;

/// Number of floats the descriptor `params` gives for one rows x cols image; throws
/// ferx::error when the parameters are invalid or the image is too small for them.
template <class Params>
index_t descriptor_length(const Params& params, index_t rows, index_t cols) {
    static_assert(is_descriptor_params_v<Params>,
                  "ferx::descriptor_length: not the parameters of a ferx descriptor");
    return descriptor_traits<Params>::length(params, rows, cols);
}

namespace detail {

/// Pixel types the descriptors accept.
template <class T>
inline constexpr bool is_descriptor_pixel_v =
    std::is_same<T, std::uint8_t>::value || std::is_same<T, std::uint16_t>::value ||
    std::is_same<T, float>::value || std::is_same<T, double>::value;

template <class T>
constexpr void check_descriptor_pixel() {
    static_assert(is_descriptor_pixel_v<std::remove_const_t<T>>,
                  "ferx::describe: pixels must be uint8_t, uint16_t, float or double");
}

/// Throws unless every pixel of a floating-point image is finite (NaN and infinities would
/// silently poison histograms); a no-op for integer pixels.
template <class T, std::size_t N>
void require_finite(const tensor_view<const T, N>& v, const char* where) {
    if constexpr (std::is_floating_point<T>::value) {
        const index_t rows = v.size() / (v.cols() > 0 ? v.cols() : 1);
        const index_t cols = v.cols();
        for (index_t r = 0; r < rows; ++r) {
            // Leading axes flattened into rows: index them one axis at a time.
            index_t rem = r, off = 0;
            for (std::size_t a = N - 1; a-- > 0;) {
                off += (rem % v.shape(a)) * v.stride(a);
                rem /= v.shape(a);
            }
            const T* p = v.data() + off;
            for (index_t c = 0; c < cols; ++c)
                if (!std::isfinite(p[c * v.stride(N - 1)]))
                    throw error(where, "the image has a non-finite pixel (NaN or infinity) at row " +
                                           std::to_string(r) + ", column " + std::to_string(c));
        }
    } else {
        (void)v;
        (void)where;
    }
}

template <class Traits, class = void>
struct has_compute_par : std::false_type {};
template <class Traits>
struct has_compute_par<Traits, std::void_t<decltype(&Traits::template compute_par<std::uint8_t>)>>
    : std::true_type {};

/// Descriptors of other inputs than grey pixels (HOF describes flow fields) declare
/// `template <class T> static constexpr bool accepts` in their traits, with a static_assert of
/// their own in `compute`; the others take the grey pixel types above.
template <class Traits, class T, class = void>
struct has_own_input : std::false_type {};
template <class Traits, class T>
struct has_own_input<Traits, T, std::void_t<decltype(Traits::template accepts<T>)>> : std::true_type {};

/// The compile-time checks of a host describe() call.
template <class Policy, class T, class Params>
constexpr void check_host_describe() {
    static_assert(is_host_policy_v<Policy>,
                  "ferx::describe: host images need exec::seq or exec::par (device views and "
                  "exec::cuda: include the descriptor's header from a .cu file)");
    static_assert(is_descriptor_params_v<Params>, "ferx::describe: not the parameters of a ferx descriptor");
    if constexpr (has_own_input<descriptor_traits<Params>, std::remove_const_t<T>>::value)
        static_assert(descriptor_traits<Params>::template accepts<std::remove_const_t<T>>,
                      "ferx::describe: this descriptor does not take this input type");
    else
        check_descriptor_pixel<T>();
}

/// Throws unless `out` (host or device) is n x len with packed rows: the output of a batch
/// describe() (frames or clips).
template <memory_space M>
void require_batch_output(const tensor_view<float, 2, M>& out, index_t n, index_t len, const char* where) {
    if (out.data() == nullptr || out.shape(0) != n || out.shape(1) != len || (len > 1 && out.stride(1) != 1))
        throw error(where, "the output must be " + std::to_string(n) + " x " + std::to_string(len) +
                               " with packed rows, got " + std::to_string(out.shape(0)) + " x " +
                               std::to_string(out.shape(1)));
}

template <class Params, class T>
void check_describe_input(const tensor_view<const T, 2>& img, const char* where) {
    if (img.data() == nullptr || img.size() == 0) throw error(where, "the image is empty");
    require_packed_rows(img, where, "the image");
    require_finite(img, where);
}

}  // namespace detail

/// Scratch a descriptor reuses from image to image (tables, per-pixel buffers). Keep one per
/// thread in a per-frame loop and pass it to describe(), so no call allocates after the first.
template <class Params>
using descriptor_workspace = typename descriptor_traits<Params>::workspace;

/// Describes one image into `out` (descriptor_length(params, rows, cols) floats), reusing `ws`.
template <class Policy, class T, class Params>
void describe(const Policy& policy, const image_view<const T>& img, const Params& params,
              const tensor_view<float, 1>& out, descriptor_workspace<Params>& ws) {
    detail::check_host_describe<Policy, T, Params>();
    using traits = descriptor_traits<Params>;
    detail::check_describe_input<Params>(img, traits::name);
    const index_t len = traits::length(params, img.rows(), img.cols());
    if (out.shape(0) != len || (len > 1 && out.stride(0) != 1))
        throw error(traits::name, "the output must hold " + std::to_string(len) +
                                      " contiguous floats, got " + std::to_string(out.shape(0)));
    if constexpr (std::is_same<Policy, exec::parallel_policy>::value &&
                  detail::has_compute_par<traits>::value)
        traits::compute_par(policy.pool(), params, img, out.data(), ws);
    else
        traits::compute(params, img, out.data(), ws);
}

/// Describes one image into `out` (descriptor_length(params, rows, cols) floats).
template <class Policy, class T, class Params>
void describe(const Policy& policy, const image_view<const T>& img, const Params& params,
              const tensor_view<float, 1>& out) {
    static_assert(is_descriptor_params_v<Params>, "ferx::describe: not the parameters of a ferx descriptor");
    descriptor_workspace<Params> ws;
    describe(policy, img, params, out, ws);
}

/// Describes every image of an n x rows x cols batch into `out` (n x length, packed rows).
/// `exec::par` splits the batch over the pool's threads.
template <class Policy, class T, class Params, class = std::enable_if_t<!is_clip_descriptor_v<Params>>>
void describe(const Policy& policy, const volume_view<const T>& batch, const Params& params,
              const tensor_view<float, 2>& out) {
    detail::check_host_describe<Policy, T, Params>();
    using traits = descriptor_traits<Params>;
    const char* where = traits::name;
    if (batch.data() == nullptr || batch.size() == 0) throw error(where, "the batch is empty");
    detail::require_packed_rows(batch, where, "the batch");
    detail::require_finite(batch, where);
    const index_t n = batch.shape(0);
    const index_t len = traits::length(params, batch.rows(), batch.cols());
    detail::require_batch_output(out, n, len, where);
    detail::for_each_range(policy, n, 1, [&](index_t lo, index_t hi) {
        typename traits::workspace ws;
        for (index_t i = lo; i < hi; ++i) traits::compute(params, batch[i], out.data() + i * out.stride(0), ws);
    });
}

#if defined(__CUDACC__)
FERX_ARCH_NAMESPACE_BEGIN
/// Describes every crop of a device batch (n x rows x cols, 8-bit pixels, packed rows) into a
/// device n x length output (packed rows). Asynchronous: the work is enqueued on the policy's
/// stream and the call returns without waiting (synchronise the stream, or copy the output back
/// with ferx::cuda::to_host, before reading it); it allocates no device memory. Compiled by nvcc
/// only: the descriptor's header brings its CUDA backend (ferx/cuda/dispatch/<descriptor>.cuh)
/// in .cu translation units. Descriptors with a CUDA backend: HOG (blocks of at most 4 cells),
/// LBP, LPQ (the clip descriptors: ferx/features/clip_descriptor.hpp).
template <class Params>
void describe(const exec::cuda_policy& policy, const device_volume_view<const std::uint8_t>& batch, const Params& params,
              const tensor_view<float, 2, memory_space::device>& out) {
    static_assert(is_descriptor_params_v<Params>, "ferx::describe: not the parameters of a ferx descriptor");
    static_assert(!is_clip_descriptor_v<Params>,
                  "ferx::describe: a clip descriptor on exec::cuda takes a device batch of clips "
                  "(device_batch_view, clips x frames x rows x cols; ferx/features/clip_descriptor.hpp)");
    using traits = descriptor_traits<Params>;
    const char* where = traits::name;
    if (batch.data() == nullptr || batch.size() == 0) throw error(where, "the batch is empty");
    detail::require_packed_rows(batch, where, "the batch");
    const index_t n = batch.shape(0);
    const index_t len = traits::length(params, batch.rows(), batch.cols());
    detail::require_batch_output(out, n, len, where);
    traits::compute_cuda(policy, batch, params, out, detail::arch_tag{});
}
FERX_ARCH_NAMESPACE_END
#endif

/// The descriptor of one host image, as an owning 1-D tensor of descriptor_length(...) floats.
template <class Policy, class T, class Params,
          class = std::enable_if_t<is_descriptor_params_v<Params>>>
xt::xtensor<float, 1> describe(const Policy& policy, const image_view<T>& img, const Params& params) {
    xt::xtensor<float, 1> out(std::array<std::size_t, 1>{
        static_cast<std::size_t>(descriptor_length(params, img.rows(), img.cols()))});
    describe(policy, image_view<const T>(img), params, view(out));
    return out;
}

/// The descriptors of a host batch (n x rows x cols) as an owning n x length tensor.
template <class Policy, class T, class Params,
          class = std::enable_if_t<is_descriptor_params_v<Params> && !is_clip_descriptor_v<Params>>>
xt::xtensor<float, 2> describe(const Policy& policy, const volume_view<T>& batch, const Params& params) {
    xt::xtensor<float, 2> out(std::array<std::size_t, 2>{
        static_cast<std::size_t>(batch.shape(0)),
        static_cast<std::size_t>(descriptor_length(params, batch.rows(), batch.cols()))});
    describe(policy, volume_view<const T>(batch), params, view(out));
    return out;
}

/// The same, straight from xtensor containers: an image (2-D) or a batch (3-D).
template <class Policy, class T, std::size_t N, xt::layout_type L, class Params,
          class = std::enable_if_t<is_descriptor_params_v<Params> &&
                                   (is_clip_descriptor_v<Params> ? (N == 3 || N == 4) : (N == 2 || N == 3))>>
auto describe(const Policy& policy, const xt::xtensor<T, N, L>& src, const Params& params) {
    return describe(policy, view(src), params);
}

FERX_NAMESPACE_END
