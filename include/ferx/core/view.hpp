/// \file ferx/core/view.hpp
/// Non-owning, typed views of images (2-D), volumes (3-D) and batches (4-D), on the host or on
/// a CUDA device. A view is a pointer, a shape and strides (in elements); it is trivially
/// copyable, so the same type is passed to CPU loops and to CUDA kernels.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/error.hpp>
#include <ferx/fwd.hpp>

#include <cstddef>
#include <string>
#include <type_traits>

FERX_NAMESPACE_BEGIN

/// Signed index type of shapes and strides.
using index_t = std::ptrdiff_t;

/// A fixed-size list of N extents or strides, usable in host and device code (std::array's
/// accessors are host-only under nvcc). Brace-initialised like std::array: `{rows, cols}`.
template <std::size_t N>
struct extents {
    index_t v[N];
    FERX_HOST_DEVICE constexpr index_t& operator[](std::size_t i) { return v[i]; }
    FERX_HOST_DEVICE constexpr const index_t& operator[](std::size_t i) const { return v[i]; }
    FERX_HOST_DEVICE static constexpr std::size_t size() { return N; }
    FERX_HOST_DEVICE constexpr const index_t* begin() const { return v; }
    FERX_HOST_DEVICE constexpr const index_t* end() const { return v + N; }
    friend constexpr bool operator==(const extents& a, const extents& b) {
        for (std::size_t i = 0; i < N; ++i)
            if (a.v[i] != b.v[i]) return false;
        return true;
    }
    friend constexpr bool operator!=(const extents& a, const extents& b) { return !(a == b); }
};

/// A strided N-D view of `T` (const T for read-only), row-major in meaning: axis N-1 is the
/// column axis. Strides are in elements.
template <class T, std::size_t N, memory_space M>  // M defaults to host (ferx/fwd.hpp)
class tensor_view {
    static_assert(N >= 1 && N <= 4, "ferx::tensor_view supports ranks 1 to 4");
    static_assert(std::is_trivially_copyable<std::remove_cv_t<T>>::value,
                  "ferx::tensor_view holds trivially copyable pixel or feature types only");

public:
    using element_type = T;
    using value_type = std::remove_cv_t<T>;
    using shape_type = extents<N>;
    static constexpr std::size_t rank = N;
    static constexpr memory_space space = M;

    constexpr tensor_view() = default;

    /// A view with explicit strides (in elements).
    FERX_HOST_DEVICE constexpr tensor_view(T* data, const shape_type& shape,
                                           const shape_type& strides)
        : data_(data), shape_(shape), strides_(strides) {}

    /// A contiguous row-major view.
    FERX_HOST_DEVICE constexpr tensor_view(T* data, const shape_type& shape)
        : data_(data), shape_(shape), strides_(row_major_strides(shape)) {}

    /// A mutable view converts to a read-only one.
    template <class U, class = std::enable_if_t<std::is_same<const U, T>::value &&
                                                !std::is_const<U>::value>>
    FERX_HOST_DEVICE constexpr tensor_view(const tensor_view<U, N, M>& other)
        : data_(other.data()), shape_(other.shape()), strides_(other.strides()) {}

    FERX_HOST_DEVICE constexpr T* data() const { return data_; }
    FERX_HOST_DEVICE constexpr const shape_type& shape() const { return shape_; }
    FERX_HOST_DEVICE constexpr const shape_type& strides() const { return strides_; }
    FERX_HOST_DEVICE constexpr index_t shape(std::size_t axis) const { return shape_[axis]; }
    FERX_HOST_DEVICE constexpr index_t stride(std::size_t axis) const { return strides_[axis]; }

    /// Number of elements.
    FERX_HOST_DEVICE constexpr index_t size() const {
        index_t n = 1;
        for (std::size_t i = 0; i < N; ++i) n *= shape_[i];
        return n;
    }
    FERX_HOST_DEVICE constexpr bool empty() const { return data_ == nullptr || size() == 0; }

    /// Rows and columns (the last two axes).
    FERX_HOST_DEVICE constexpr index_t rows() const { return N >= 2 ? shape_[N - 2] : 1; }
    FERX_HOST_DEVICE constexpr index_t cols() const { return shape_[N - 1]; }

    /// True when elements are packed row-major without gaps.
    FERX_HOST_DEVICE constexpr bool contiguous() const {
        index_t expect = 1;
        for (std::size_t i = N; i-- > 0;) {
            if (shape_[i] != 1 && strides_[i] != expect) return false;
            expect *= shape_[i];
        }
        return true;
    }

    /// Element access; no bounds check (views are the hot-loop type).
    template <class... I>
    FERX_HOST_DEVICE constexpr T& operator()(I... idx) const {
        static_assert(sizeof...(I) == N, "ferx::tensor_view: give one index per axis");
        const index_t ids[] = {static_cast<index_t>(idx)...};
        index_t off = 0;
        for (std::size_t i = 0; i < N; ++i) off += ids[i] * strides_[i];
        return data_[off];
    }

    /// Pointer to the first element of row `r` of a 2-D view.
    FERX_HOST_DEVICE constexpr T* row(index_t r) const {
        static_assert(N == 2, "ferx::tensor_view::row is for 2-D views; use operator[] first");
        return data_ + r * strides_[0];
    }

    /// The sub-view at index `i` of the first axis: a frame of a volume, an image of a batch.
    template <std::size_t K = N, class = std::enable_if_t<(K > 1)>>
    FERX_HOST_DEVICE constexpr tensor_view<T, N - 1, M> operator[](index_t i) const {
        typename tensor_view<T, N - 1, M>::shape_type sh{}, st{};
        for (std::size_t a = 1; a < N; ++a) {
            sh[a - 1] = shape_[a];
            st[a - 1] = strides_[a];
        }
        return tensor_view<T, N - 1, M>(data_ + i * strides_[0], sh, st);
    }

    /// Number of elements spanned from data() to one past the last element.
    FERX_HOST_DEVICE constexpr index_t extent() const {
        if (size() == 0) return 0;
        index_t last = 0;
        for (std::size_t i = 0; i < N; ++i) last += (shape_[i] - 1) * strides_[i];
        return last + 1;
    }

    FERX_HOST_DEVICE static constexpr shape_type row_major_strides(const shape_type& shape) {
        shape_type st{};
        index_t s = 1;
        for (std::size_t i = N; i-- > 0;) {
            st[i] = s;
            s *= shape[i];
        }
        return st;
    }

private:
    T* data_ = nullptr;
    shape_type shape_{};
    shape_type strides_{};
};

/// A 2-D image view: rows x cols.
template <class T, memory_space M = memory_space::host>
using image_view = tensor_view<T, 2, M>;
/// A 3-D volume view: frames x rows x cols (a clip of grey frames, or a batch of crops).
template <class T, memory_space M = memory_space::host>
using volume_view = tensor_view<T, 3, M>;
/// A 4-D batch view: N x C x H x W (NCHW, as CNN inputs).
template <class T, memory_space M = memory_space::host>
using batch_view = tensor_view<T, 4, M>;

/// Device views: the types that `ferx::exec::cuda` algorithms take.
template <class T>
using device_image_view = image_view<T, memory_space::device>;
template <class T>
using device_volume_view = volume_view<T, memory_space::device>;
template <class T>
using device_batch_view = batch_view<T, memory_space::device>;

template <class V>
struct is_tensor_view : std::false_type {};
template <class T, std::size_t N, memory_space M>
struct is_tensor_view<tensor_view<T, N, M>> : std::true_type {};

namespace detail {
/// Throws unless the view's last axis is unit-stride (rows are packed), as image algorithms need.
template <class T, std::size_t N, memory_space M>
void require_packed_rows(const tensor_view<T, N, M>& v, const char* where, const char* what) {
    if (v.shape(N - 1) > 1 && v.stride(N - 1) != 1)
        throw error(where, std::string(what) + " must have unit column stride (packed rows)");
}
}  // namespace detail

FERX_NAMESPACE_END
