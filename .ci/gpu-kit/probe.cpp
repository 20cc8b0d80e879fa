// The GPU kit's device probe (run.sh's first step): prints the CUDA devices the runtime sees, or
// "no CUDA device" with the runtime's reason; exit 0 with a device, 3 without one.
#include <cuda_runtime_api.h>

#include <cstdio>

int main() {
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n == 0) {
        std::printf("no CUDA device (%s)\n", e != cudaSuccess ? cudaGetErrorString(e) : "the runtime sees none");
        return 3;
    }
    int driver = 0, runtime = 0;
    cudaDriverGetVersion(&driver);
    cudaRuntimeGetVersion(&runtime);
    std::printf("CUDA devices: %d (driver %d, runtime %d)\n", n, driver, runtime);
    for (int i = 0; i < n; ++i) {
        cudaDeviceProp p{};
        if (cudaGetDeviceProperties(&p, i) != cudaSuccess) continue;
        std::printf("  %d: %s, sm_%d%d, %.1f GiB\n", i, p.name, p.major, p.minor, double(p.totalGlobalMem) / (1u << 30));
    }
    return 0;
}
