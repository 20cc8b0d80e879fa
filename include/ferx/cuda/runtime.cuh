/// \file ferx/cuda/runtime.cuh
/// CUDA runtime helpers: every call checked and raised as ferx::error, device presence, streams.
/// Included only from translation units compiled by nvcc.
#pragma once

#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>

#include <cuda_runtime.h>

#include <string>

FERX_NAMESPACE_BEGIN
namespace cuda {

/// Throws ferx::error naming the call and CUDA's message unless `status` is cudaSuccess.
inline void check(cudaError_t status, const char* where, const char* call) {
    if (status != cudaSuccess)
        throw error(where, std::string(call) + " failed: " + cudaGetErrorName(status) + " (" +
                               cudaGetErrorString(status) + ")");
}

/// Number of CUDA devices this process can use (0 when there is no driver or no device).
inline int device_count() {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        (void)cudaGetLastError();  // clear the sticky "no device" error
        return 0;
    }
    return n;
}

/// True where a CUDA device is present and usable.
inline bool device_available() { return device_count() > 0; }

/// Throws ferx::error unless a device is present: a `cuda` policy never falls back to the CPU.
inline void require_device(const char* where) {
    if (!device_available())
        throw error(where, "the exec::cuda policy was given but no CUDA device is available");
}

/// Checks the launch that was just enqueued (bad configuration, missing kernel image).
inline void check_launch(const char* where) { check(cudaGetLastError(), where, "kernel launch"); }

/// An owned CUDA stream (RAII). `ferx::exec::cuda.on(s)` runs algorithms on it.
class stream {
public:
    stream() { check(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking), "ferx::cuda::stream", "cudaStreamCreate"); }
    stream(const stream&) = delete;
    stream& operator=(const stream&) = delete;
    stream(stream&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
    stream& operator=(stream&& o) noexcept {
        std::swap(s_, o.s_);
        return *this;
    }
    ~stream() {
        if (s_) cudaStreamDestroy(s_);
    }
    cudaStream_t get() const noexcept { return s_; }
    operator cudaStream_t() const noexcept { return s_; }
    /// The policy that runs on this stream.
    exec::cuda_policy policy() const noexcept { return exec::cuda.on(s_); }
    void synchronize() const { check(cudaStreamSynchronize(s_), "ferx::cuda::stream", "cudaStreamSynchronize"); }

private:
    cudaStream_t s_ = nullptr;
};

/// Waits for the work enqueued on the policy's stream; raises asynchronous errors.
inline void synchronize(const exec::cuda_policy& policy) {
    check(cudaStreamSynchronize(policy.stream()), "ferx::cuda::synchronize", "cudaStreamSynchronize");
}

}  // namespace cuda
FERX_NAMESPACE_END
