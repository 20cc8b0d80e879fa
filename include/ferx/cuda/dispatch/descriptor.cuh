/// \file ferx/cuda/dispatch/descriptor.cuh
/// What the descriptor dispatchers share: splitting a batch into launches of at most 65535 crops
/// (grid.y) and checking each launch.
#pragma once

#include <ferx/core/view.hpp>
#include <ferx/cuda/runtime.cuh>

#include <algorithm>

FERX_NAMESPACE_BEGIN
namespace detail {
FERX_ARCH_NAMESPACE_BEGIN

/// Calls launch(first_crop, crops) for consecutive chunks of at most 65535 crops, checking
/// each launch. Asynchronous: the launch arguments are copied when a kernel is enqueued, so
/// nothing on the host has to outlive the call and the stream is not waited for.
template <class Launch>
void launch_per_crop_chunk(index_t crops, const char* where, Launch&& launch) {
    constexpr index_t max_grid_y = 65535;
    for (index_t n0 = 0; n0 < crops; n0 += max_grid_y) {
        launch(n0, std::min(max_grid_y, crops - n0));
        cuda::check_launch(where);
    }
}

FERX_ARCH_NAMESPACE_END
}  // namespace detail
FERX_NAMESPACE_END
