/// \file ferx/cuda/blas.cuh
/// cuBLAS helpers shared by the CUDA backends that multiply matrices (SVM prediction, the nn
/// ops): every status checked and raised as ferx::error, and an owned handle bound to a stream.
/// Included only from translation units compiled by nvcc. Link CUDA::cublas.
#pragma once

#include <ferx/core/error.hpp>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

FERX_NAMESPACE_BEGIN
namespace cuda {

/// Throws ferx::error unless a cuBLAS call succeeded.
inline void check_cublas(cublasStatus_t status, const char* where, const char* call) {
    if (status != CUBLAS_STATUS_SUCCESS)
        throw error(where, std::string(call) + " failed with cuBLAS status " + std::to_string(static_cast<int>(status)));
}

/// An owned cuBLAS handle bound to a stream (RAII).
class blas_handle {
public:
    explicit blas_handle(cudaStream_t stream) {
        check_cublas(cublasCreate(&h_), "ferx::cuda::blas_handle", "cublasCreate");
        check_cublas(cublasSetStream(h_, stream), "ferx::cuda::blas_handle", "cublasSetStream");
    }
    blas_handle(const blas_handle&) = delete;
    blas_handle& operator=(const blas_handle&) = delete;
    ~blas_handle() {
        if (h_) cublasDestroy(h_);
    }
    cublasHandle_t get() const noexcept { return h_; }

private:
    cublasHandle_t h_ = nullptr;
};

}  // namespace cuda
FERX_NAMESPACE_END
