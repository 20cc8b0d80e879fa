/// \file ferx/flow/field.hpp
/// Dense optical-flow fields: the (u, v) vector type, owning fields and views, and the checks
/// every flow algorithm shares. A field is rows x cols of `flow_vector` (u: column displacement,
/// v: row displacement, in pixels, from the first frame to the second), interleaved as OpenCV's
/// CV_32FC2 and Middlebury's .flo, so `cv::Mat(rows, cols, CV_32FC2, view.data())` is a zero-copy
/// header over a ferx field (see `flow_to_mat`, `flow_view_of` in ferx/flow/io.hpp).
///
///     ferx::flow_field f = ferx::make_flow_field(rows, cols);   // zeros
///     ferx::flow_view<> v = ferx::view(f);                      // image_view<flow_vector>
///     v(y, x).u, v(y, x).v
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/core/view.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <string>
#include <type_traits>

FERX_NAMESPACE_BEGIN

/// One displacement: u along columns (x), v along rows (y), in pixels.
struct flow_vector {
    float u = 0.f, v = 0.f;
    friend constexpr bool operator==(const flow_vector& a, const flow_vector& b) {
        return a.u == b.u && a.v == b.v;
    }
    friend constexpr bool operator!=(const flow_vector& a, const flow_vector& b) { return !(a == b); }
};
static_assert(sizeof(flow_vector) == 2 * sizeof(float), "flow_vector must be two packed floats");

/// An owning flow field, rows x cols, row-major (interleaved u, v).
using flow_field = xt::xtensor<flow_vector, 2>;
/// A flow field view (host by default; device views for exec::cuda).
template <memory_space M = memory_space::host>
using flow_view = image_view<flow_vector, M>;
template <memory_space M = memory_space::host>
using const_flow_view = image_view<const flow_vector, M>;

/// A rows x cols field of zero vectors.
inline flow_field make_flow_field(index_t rows, index_t cols) {
    detail::require(rows >= 0 && cols >= 0, "ferx::make_flow_field", "the size must not be negative");
    return flow_field(std::array<std::size_t, 2>{static_cast<std::size_t>(rows), static_cast<std::size_t>(cols)});
}

namespace detail {

/// Throws unless both frames are non-empty, of one size, with packed rows and finite pixels.
template <class T>
void check_frame_pair(const image_view<const T>& a, const image_view<const T>& b, const char* where) {
    static_assert(std::is_same<T, std::uint8_t>::value || std::is_same<T, float>::value,
                  "ferx flow: frames must be 8-bit or float grey images");
    if (a.empty() || b.empty()) throw error(where, "a frame is empty");
    if (a.rows() != b.rows() || a.cols() != b.cols())
        throw error(where, "the frames differ in size: " + std::to_string(a.rows()) + "x" +
                               std::to_string(a.cols()) + " and " + std::to_string(b.rows()) + "x" +
                               std::to_string(b.cols()));
    require_packed_rows(a, where, "the first frame");
    require_packed_rows(b, where, "the second frame");
    if constexpr (std::is_floating_point<T>::value) {
        for (const auto* f : {&a, &b})
            for (index_t y = 0; y < f->rows(); ++y)
                for (index_t x = 0; x < f->cols(); ++x)
                    if (!std::isfinite((*f)(y, x)))
                        throw error(where, "a frame has a non-finite pixel at row " + std::to_string(y) +
                                               ", column " + std::to_string(x));
    }
}

/// Throws unless `flow` is rows x cols with packed rows (an output or an initial flow).
inline void check_flow_shape(const const_flow_view<>& flow, index_t rows, index_t cols, const char* where,
                             const char* what) {
    if (flow.rows() != rows || flow.cols() != cols)
        throw error(where, std::string(what) + " must be " + std::to_string(rows) + "x" + std::to_string(cols) +
                               ", got " + std::to_string(flow.rows()) + "x" + std::to_string(flow.cols()));
    if (rows * cols > 0 && flow.data() == nullptr) throw error(where, std::string(what) + " has no data");
    require_packed_rows(flow, where, what);
}

/// Throws unless every vector of `flow` is finite.
inline void require_finite_flow(const const_flow_view<>& flow, const char* where, const char* what,
                                const std::string& file = {}) {
    for (index_t y = 0; y < flow.rows(); ++y)
        for (index_t x = 0; x < flow.cols(); ++x)
            if (!std::isfinite(flow(y, x).u) || !std::isfinite(flow(y, x).v))
                throw error(where, std::string(what) + " has a non-finite vector at row " + std::to_string(y) +
                                       ", column " + std::to_string(x), file);
}

}  // namespace detail

FERX_NAMESPACE_END
