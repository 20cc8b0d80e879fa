/// \file ferx/features/detail/lbp_core.hpp
/// The parts of LBP that run on the host and on CUDA devices alike: the mapping policies, labels
/// from the definition, the sample taps and one pixel's code. Shared by ferx/features/lbp.hpp and
/// ferx/cuda/kernels/lbp.cuh.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/view.hpp>
#include <ferx/features/detail/grid.hpp>

#include <cstdint>
#include <type_traits>

FERX_NAMESPACE_BEGIN

/// No mapping: the label is the P-bit code (2^P bins).
struct lbp_none {
    static constexpr index_t bins(int points) { return index_t{1} << points; }
};
/// Uniform patterns (u2): P(P-1)+3 bins.
struct lbp_u2 {
    static constexpr index_t bins(int points) { return index_t{points} * (points - 1) + 3; }
};
/// Rotation-invariant uniform patterns (riu2): P+2 bins.
struct lbp_riu2 {
    static constexpr index_t bins(int points) { return index_t{points} + 2; }
};

namespace detail {

/// Number of circular 0/1 transitions of a P-bit code.
FERX_HOST_DEVICE inline int lbp_transitions(std::uint32_t code, int points) {
    const std::uint64_t mask = (std::uint64_t{1} << points) - 1;
    const std::uint64_t c = code & mask;
    const std::uint64_t rot = ((c >> 1) | ((c & 1u) << (points - 1))) & mask;
    std::uint64_t x = c ^ rot;
    int n = 0;
    for (; x; x &= x - 1) ++n;
    return n;
}

FERX_HOST_DEVICE inline int lbp_popcount(std::uint32_t c) {
    int n = 0;
    for (; c; c &= c - 1) ++n;
    return n;
}

/// Rank of a uniform P-bit code among the uniform codes in increasing order (its u2 label),
/// counted without a table: 0, then every run of k ones at every rotation; all ones is last.
FERX_HOST_DEVICE inline std::uint32_t lbp_u2_rank(std::uint32_t code, int points) {
    const std::uint64_t mask = (std::uint64_t{1} << points) - 1;
    std::uint32_t rank = code > 0 ? 1u : 0u;
    for (int k = 1; k < points; ++k) {
        const std::uint64_t run = (std::uint64_t{1} << k) - 1;
        for (int s = 0; s < points; ++s) {
            const std::uint64_t u = ((run << s) | (run >> (points - s))) & mask;
            rank += u < code ? 1u : 0u;
        }
    }
    return rank;
}

/// The label of a code, from the definition, without tables (host and device).
template <class Mapping>
FERX_HOST_DEVICE inline std::uint32_t lbp_label_direct(std::uint32_t code, int points) {
    if (std::is_same<Mapping, lbp_none>::value) return code;
    const bool uniform = lbp_transitions(code, points) <= 2;
    if (std::is_same<Mapping, lbp_riu2>::value)
        return uniform ? static_cast<std::uint32_t>(lbp_popcount(code)) : static_cast<std::uint32_t>(points + 1);
    return uniform ? lbp_u2_rank(code, points) : static_cast<std::uint32_t>(points * (points - 1) + 2);
}

/// One circle sample: pixel offsets (relative to the centre, in elements of the image) of the
/// 4 interpolation taps and their integer weights (sum 65536).
struct lbp_tap {
    index_t dy, dx;        // offset of the top-left tap
    index_t ny, nx;        // 1 where the next row / column is needed (fraction non-zero), else 0
    std::int32_t w[4];     // (y0,x0), (y0,x1), (y1,x0), (y1,x1)
};

/// The raw code of one pixel from a pointer to it (pixels of an 8-bit image, row pitch in
/// elements), in the integer arithmetic of lbp_code_rows; shared by the CUDA kernel.
FERX_HOST_DEVICE inline std::uint32_t lbp_code_at(const std::uint8_t* c, index_t pitch, const lbp_tap* taps, int points) {
    std::uint32_t code = 0;
    for (int p = 0; p < points; ++p) {
        const lbp_tap& t = taps[p];
        const std::uint8_t* q00 = c + t.dy * pitch + t.dx;
        const std::uint8_t* q10 = q00 + t.ny * pitch;
        const std::int32_t s = t.w[0] * q00[0] + t.w[1] * q00[t.nx] + t.w[2] * q10[0] + t.w[3] * q10[t.nx];
        code |= s >= 65536 * static_cast<std::int32_t>(c[0]) ? (std::uint32_t{1} << p) : 0u;
    }
    return code;
}

/// LBP launch arguments of the CUDA backend (one launch covers crops [n0, n0 + gridDim.y)).
struct lbp_cuda_args {
    lbp_tap taps[32];
    grid_spec grid;
    index_t margin, code_rows, code_cols, bins, n0, out_stride;
    int points;
    bool table;  // labels of all 2^P codes built in shared memory first (P <= 12)
};

}  // namespace detail
FERX_NAMESPACE_END
