/// \file ferx/core/tensor.hpp
/// Owning host containers (xtensor) and their conversion to and from ferx views.
/// This is the one header that includes xtensor, so a change of xtensor's include layout
/// (0.24 flat headers, 0.25+ subfolders) is a change of this file alone.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/error.hpp>
#include <ferx/core/view.hpp>

#include <xtensor/xadapt.hpp>
#include <xtensor/xtensor.hpp>

#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

FERX_NAMESPACE_BEGIN

/// A 2-D image, rows x cols, row-major.
template <class T>
using image = xt::xtensor<T, 2>;
/// A 3-D volume, frames x rows x cols (a video clip, or a stack of crops).
template <class T>
using volume = xt::xtensor<T, 3>;
/// A 4-D batch, N x C x H x W.
template <class T>
using batch = xt::xtensor<T, 4>;

namespace detail {
template <class E, class = void>
struct is_xtensor_like : std::false_type {};
template <class E>
struct is_xtensor_like<E, std::void_t<decltype(std::declval<E&>().data()),
                                      decltype(std::declval<E&>().strides()),
                                      decltype(std::tuple_size<typename E::shape_type>::value)>>
    : std::true_type {};
}  // namespace detail

/// A zero-copy ferx view of an xtensor container or adaptor with a static rank
/// (`xt::xtensor<T,N>`, `xt::xtensor_adaptor`); a const container gives a read-only view.
/// Strides are taken as xtensor reports them, so column-major and strided adaptors work too.
template <class E, class = std::enable_if_t<detail::is_xtensor_like<std::remove_const_t<E>>::value>>
auto view(E& e) {
    using T = std::remove_reference_t<decltype(*e.data())>;
    constexpr std::size_t N = std::tuple_size<typename std::remove_const_t<E>::shape_type>::value;
    typename tensor_view<T, N>::shape_type shape{}, strides{};
    for (std::size_t i = 0; i < N; ++i) {
        shape[i] = static_cast<index_t>(e.shape()[i]);
        // xtensor stores stride 0 for axes of length 1; any stride is valid there.
        strides[i] = static_cast<index_t>(e.strides()[i]);
    }
    return tensor_view<T, N>(e.data(), shape, strides);
}

/// A ferx view as an xtensor expression (zero-copy adaptor), to use xtensor's functions on it.
template <class T, std::size_t N>
auto as_xtensor(const tensor_view<T, N, memory_space::host>& v) {
    std::array<std::size_t, N> shape{};
    std::array<std::ptrdiff_t, N> strides{};
    for (std::size_t i = 0; i < N; ++i) {
        shape[i] = static_cast<std::size_t>(v.shape(i));
        strides[i] = v.shape(i) == 1 ? 0 : v.stride(i);
    }
    // xtensor sizes an adaptor's buffer as the product of the shape (it never reads the buffer
    // linearly when the strides are not contiguous: the adaptor's layout is then dynamic).
    return xt::adapt(v.data(), static_cast<std::size_t>(v.size()), xt::no_ownership(), shape,
                     strides);
}

/// A deep copy of a view into an owning, contiguous container.
template <class T, std::size_t N, memory_space M>
xt::xtensor<std::remove_const_t<T>, N> to_tensor(const tensor_view<T, N, M>& v) {
    static_assert(M == memory_space::host,
                  "ferx::to_tensor copies host views; bring device data back with "
                  "ferx::cuda::to_host");
    typename xt::xtensor<std::remove_const_t<T>, N>::shape_type shape{};
    for (std::size_t i = 0; i < N; ++i) shape[i] = static_cast<std::size_t>(v.shape(i));
    xt::xtensor<std::remove_const_t<T>, N> out(shape);
    out = as_xtensor(v);
    return out;
}

FERX_NAMESPACE_END
