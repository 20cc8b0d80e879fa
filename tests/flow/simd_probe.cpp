// Writes the flows of Farneback (box and Gaussian windows, an initial flow) and TV-L1 on a
// synthetic pair of odd size to the file argv[1]. Built twice (tests/flow/CMakeLists.txt): with the
// SSE2 loops and with FERX_FARNEBACK_SSE2=0 / FERX_TVL1_SSE2=0, the portable loops; the CTest
// flow_simd_equals_portable compares the two files byte for byte. (Two executables, since one
// holding both would define the same inline functions twice.)
#include <ferx/flow/farneback.hpp>
#include <ferx/flow/tvl1.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s OUT\n", argv[0]);
        return 2;
    }
    // 101 x 143: every loop has a tail that is not a multiple of four
    const ferx::index_t rows = 101, cols = 143;
    std::vector<float> a(static_cast<std::size_t>(rows * cols)), b(a.size());
    for (ferx::index_t y = 0; y < rows; ++y)
        for (ferx::index_t x = 0; x < cols; ++x) {
            const auto pattern = [](double u, double v) {
                return 128 + 60 * std::sin(0.21 * u + 0.05 * v) * std::cos(0.17 * v - 0.03 * u) + 30 * std::sin(0.013 * u * v);
            };
            a[std::size_t(y * cols + x)] = float(pattern(double(x), double(y)));
            b[std::size_t(y * cols + x)] = float(pattern(double(x) - 1.3 - 0.01 * double(y), double(y) + 0.7));
        }
    const ferx::image_view<const float> va(a.data(), {rows, cols}), vb(b.data(), {rows, cols});
    std::FILE* out = std::fopen(argv[1], "wb");
    if (!out) return 1;
    const auto put = [&](const ferx::flow_field& f) { std::fwrite(f.data(), sizeof(ferx::flow_vector), f.size(), out); };
    ferx::farneback_params p;
    p.levels = 2;
    put(ferx::farneback(ferx::exec::seq, va, vb, p));
    p.gaussian_window = true;
    ferx::flow_field f = ferx::farneback(ferx::exec::seq, va, vb, p);
    put(f);
    p.gaussian_window = false;
    p.use_initial_flow = true;
    ferx::farneback(ferx::exec::seq, va, vb, ferx::view(f), p);
    put(f);
    ferx::tvl1_params t;
    t.nscales = 3;
    t.warps = 3;
    put(ferx::tvl1(ferx::exec::seq, va, vb, t));
    return std::fclose(out) == 0 ? 0 : 1;
}
