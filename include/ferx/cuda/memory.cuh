/// \file ferx/cuda/memory.cuh
/// RAII device memory and host <-> device copies of ferx views.
#pragma once

#include <ferx/core/tensor.hpp>
#include <ferx/core/view.hpp>
#include <ferx/cuda/runtime.cuh>

#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>

FERX_NAMESPACE_BEGIN
namespace cuda {

/// An owned, contiguous array of `n` elements of T in device memory (move-only).
template <class T>
class device_buffer {
    static_assert(std::is_trivially_copyable<T>::value, "ferx::cuda::device_buffer: trivially copyable types only");

public:
    device_buffer() = default;
    explicit device_buffer(std::size_t n) : n_(n) {
        if (n_ > 0) require_device("ferx::cuda::device_buffer");
        if (n_ > 0) check(cudaMalloc(reinterpret_cast<void**>(&d_), n_ * sizeof(T)), "ferx::cuda::device_buffer", "cudaMalloc");
    }
    device_buffer(const device_buffer&) = delete;
    device_buffer& operator=(const device_buffer&) = delete;
    device_buffer(device_buffer&& o) noexcept : d_(std::exchange(o.d_, nullptr)), n_(std::exchange(o.n_, 0)) {}
    device_buffer& operator=(device_buffer&& o) noexcept {
        std::swap(d_, o.d_);
        std::swap(n_, o.n_);
        return *this;
    }
    ~device_buffer() {
        if (d_) cudaFree(d_);
    }
    T* data() const noexcept { return d_; }
    std::size_t size() const noexcept { return n_; }
    std::size_t bytes() const noexcept { return n_ * sizeof(T); }

private:
    T* d_ = nullptr;
    std::size_t n_ = 0;
};

/// An owned, contiguous N-D tensor in device memory; `view()` gives the device view.
template <class T, std::size_t N>
class device_tensor {
public:
    using shape_type = extents<N>;
    device_tensor() = default;
    explicit device_tensor(const shape_type& shape) : shape_(shape), buf_(count(shape)) {}
    tensor_view<T, N, memory_space::device> view() const { return {buf_.data(), shape_}; }
    tensor_view<const T, N, memory_space::device> cview() const { return view(); }
    const shape_type& shape() const noexcept { return shape_; }
    index_t shape(std::size_t i) const noexcept { return shape_[i]; }
    std::size_t bytes() const noexcept { return buf_.bytes(); }

private:
    static std::size_t count(const shape_type& s) {
        std::size_t n = 1;
        for (auto e : s) {
            if (e < 0) throw error("ferx::cuda::device_tensor", "negative extent");
            n *= static_cast<std::size_t>(e);
        }
        return n;
    }
    shape_type shape_{};
    device_buffer<T> buf_;
};

template <class T>
using device_image = device_tensor<T, 2>;
template <class T>
using device_volume = device_tensor<T, 3>;

namespace detail {
/// Copies between views of equal shape with packed rows, as few cudaMemcpy2D calls as the
/// strides allow (one for contiguous tensors, cv::Mat ROIs and pitched images).
template <std::size_t N, class DstView, class SrcView>
void copy_view(const exec::cuda_policy& policy, const DstView& dst, const SrcView& src, cudaMemcpyKind kind,
               const char* where) {
    using T = typename DstView::value_type;
    static_assert(std::is_same<T, typename SrcView::value_type>::value, "ferx::cuda::copy: element types differ");
    for (std::size_t i = 0; i < N; ++i)
        if (dst.shape(i) != src.shape(i)) throw error(where, "source and destination shapes differ");
    ferx::detail::require_packed_rows(dst, where, "the destination");
    ferx::detail::require_packed_rows(src, where, "the source");
    if (src.size() == 0) return;
    const index_t rows = src.size() / src.cols();
    // Leading axes flattened into rows: valid when each leading stride is the row stride times
    // the extent below it (true for contiguous tensors, cv::Mat ROIs and pitched images).
    const auto flat_ok = [](const auto& v) {
        for (std::size_t a = 0; a + 2 < N; ++a)
            if (v.shape(a) > 1 && v.stride(a) != v.stride(a + 1) * v.shape(a + 1)) return false;
        return true;
    };
    const auto row_stride = [](const auto& v) -> index_t {
        if constexpr (N >= 2) return std::max<index_t>(v.stride(N - 2), v.cols());
        else return v.cols();
    };
    if (flat_ok(dst) && flat_ok(src)) {
        check(cudaMemcpy2DAsync(dst.data(), static_cast<std::size_t>(row_stride(dst)) * sizeof(T),
                                src.data(), static_cast<std::size_t>(row_stride(src)) * sizeof(T),
                                static_cast<std::size_t>(src.cols()) * sizeof(T), static_cast<std::size_t>(rows), kind,
                                policy.stream()),
              where, "cudaMemcpy2DAsync");
        return;
    }
    if constexpr (N > 1) {
        for (index_t i = 0; i < src.shape(0); ++i) copy_view<N - 1>(policy, dst[i], src[i], kind, where);
    }
}
}  // namespace detail

/// Enqueues a host -> device copy of equal shapes (the host memory must stay valid until the
/// stream reaches the copy; pageable memory makes it synchronous in practice).
template <class T, std::size_t N>
void copy(const exec::cuda_policy& policy, const tensor_view<const T, N>& src,
          const tensor_view<T, N, memory_space::device>& dst) {
    detail::copy_view<N>(policy, dst, src, cudaMemcpyHostToDevice, "ferx::cuda::copy");
}
/// Enqueues a device -> host copy of equal shapes.
template <class T, std::size_t N>
void copy(const exec::cuda_policy& policy, const tensor_view<const T, N, memory_space::device>& src,
          const tensor_view<T, N>& dst) {
    detail::copy_view<N>(policy, dst, src, cudaMemcpyDeviceToHost, "ferx::cuda::copy");
}

/// A new device tensor holding a copy of a host view (synchronises the stream).
template <class T, std::size_t N>
device_tensor<std::remove_const_t<T>, N> to_device(const exec::cuda_policy& policy, const tensor_view<T, N>& src) {
    using U = std::remove_const_t<T>;
    device_tensor<U, N> out(src.shape());
    copy(policy, tensor_view<const U, N>(src), out.view());
    synchronize(policy);
    return out;
}
template <class T, std::size_t N, xt::layout_type L>
device_tensor<T, N> to_device(const exec::cuda_policy& policy, const xt::xtensor<T, N, L>& src) {
    return to_device(policy, ferx::view(src));
}

/// A host copy of a device view (synchronises the stream).
template <class T, std::size_t N>
xt::xtensor<std::remove_const_t<T>, N> to_host(const exec::cuda_policy& policy,
                                              const tensor_view<T, N, memory_space::device>& src) {
    using U = std::remove_const_t<T>;
    typename xt::xtensor<U, N>::shape_type shape{};
    for (std::size_t i = 0; i < N; ++i) shape[i] = static_cast<std::size_t>(src.shape(i));
    xt::xtensor<U, N> out(shape);
    copy(policy, tensor_view<const U, N, memory_space::device>(src), ferx::view(out));
    synchronize(policy);
    return out;
}

}  // namespace cuda
FERX_NAMESPACE_END
