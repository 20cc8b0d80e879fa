/// The context line of the CUDA benchmarks: `cuda_device`, the name of the device a run uses, so
/// that a figure says where it was measured (nothing is added where no device is present).
#pragma once

#include <ferx/cuda/runtime.cuh>

#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

namespace ferx_bench {

inline void add_cuda_device_context() {
    if (!ferx::cuda::device_available()) return;
    cudaDeviceProp prop{};
    int device = 0;
    if (cudaGetDevice(&device) == cudaSuccess && cudaGetDeviceProperties(&prop, device) == cudaSuccess)
        benchmark::AddCustomContext("cuda_device", prop.name);
}

}  // namespace ferx_bench
