// Host emulation of the CUDA launches of ferx/cuda/dispatch/tvl1.cuh (see run.sh).
#pragma once
#include <barrier>
#include <tuple>
#include <thread>
#include <vector>
inline thread_local std::barrier<>* emu_bar = nullptr;
inline void __syncthreads() { if (emu_bar) emu_bar->arrive_and_wait(); }
inline long emu_launches = 0;
template <class K, class... A>
void emu_launch(dim3 g, dim3 b, K k, A... a) {
    ++emu_launches;
    for (unsigned by = 0; by < g.y; ++by)
        for (unsigned bx = 0; bx < g.x; ++bx)
            for (unsigned ty = 0; ty < b.y; ++ty)
                for (unsigned tx = 0; tx < b.x; ++tx) {
                    gridDim = g; blockDim = b; blockIdx = {bx, by, 0}; threadIdx = {tx, ty, 0};
                    k(a...);
                }
}
// Blocks with __syncthreads: 8 threads per block (the kernel's result does not depend on it), real threads and a barrier.
template <class K, class... A>
void emu_launch_sync(dim3 g, dim3, K k, A... a) {
    ++emu_launches;
    if constexpr (sizeof...(A) == 2) {  // (tvl1_iter_view v, int it): skipped when converged, as the kernel's first line
        const auto tup = std::make_tuple(a...);
        if (*std::get<0>(tup).stop < std::get<1>(tup)) return;
    }
    const dim3 b(8);
    for (unsigned bx = 0; bx < g.x; ++bx) {
        std::barrier<> bar(b.x);
        std::vector<std::thread> ts;
        for (unsigned tx = 0; tx < b.x; ++tx)
            ts.emplace_back([&, tx] {
                gridDim = g; blockDim = b; blockIdx = {bx, 0, 0}; threadIdx = {tx, 0, 0};
                emu_bar = &bar;
                k(a...);
                emu_bar = nullptr;
            });
        for (auto& t : ts) t.join();
    }
}
