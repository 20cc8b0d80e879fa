// A program written the way a user of an installed ferx writes one: it sees ferx only through
// find_package(ferx) (CMake) or the Conan package, never through ferx's source tree.
// It checks ferx::integral with exec::seq and exec::par against sums computed here by brute force.
#include <ferx/core/config.hpp>
#include <ferx/core/error.hpp>
#include <ferx/core/execution.hpp>
#include <ferx/core/tensor.hpp>
#include <ferx/core/thread_pool.hpp>
#include <ferx/detect/integral.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <iostream>
#include <string>

namespace {

using image_u8 = xt::xtensor<std::uint8_t, 2>;
using sums_i32 = xt::xtensor<std::int32_t, 2>;

// A deterministic test pattern that uses the whole 0..255 range.
image_u8 make_image(std::size_t rows, std::size_t cols) {
    image_u8 img = image_u8::from_shape({rows, cols});
    for (std::size_t y = 0; y < rows; ++y)
        for (std::size_t x = 0; x < cols; ++x)
            img(y, x) = static_cast<std::uint8_t>((y * 37 + x * 11 + y * x * 5) % 256);
    return img;
}

// sum(Y, X) = sum of img(y, x) for y < Y, x < X: the definition, with no recurrence.
std::int64_t brute_sum(const image_u8& img, std::size_t yy, std::size_t xx) {
    std::int64_t s = 0;
    for (std::size_t y = 0; y < yy; ++y)
        for (std::size_t x = 0; x < xx; ++x) s += img(y, x);
    return s;
}

int failures = 0;

void fail(const std::string& what) {
    if (failures < 20) std::cerr << "ferx consumer MISMATCH: " << what << '\n';
    ++failures;
}

bool check_shape(const char* name, const image_u8& img, const sums_i32& ii) {
    if (ii.dimension() == 2 && ii.shape()[0] == img.shape()[0] + 1 &&
        ii.shape()[1] == img.shape()[1] + 1)
        return true;
    fail(std::string(name) + ": the integral image is not (H+1)x(W+1) = " +
         std::to_string(img.shape()[0] + 1) + "x" + std::to_string(img.shape()[1] + 1));
    return false;
}

void check_entry(const char* name, const image_u8& img, const sums_i32& ii, std::size_t y,
                 std::size_t x) {
    const std::int64_t want = brute_sum(img, y, x);
    if (static_cast<std::int64_t>(ii(y, x)) != want)
        fail(std::string(name) + "(" + std::to_string(y) + ", " + std::to_string(x) +
             ") = " + std::to_string(ii(y, x)) + ", expected " + std::to_string(want));
}

void check_same(const char* name, const sums_i32& got, const sums_i32& ref) {
    if (got.shape() != ref.shape()) {
        fail(std::string(name) + ": shape differs from exec::seq");
        return;
    }
    for (std::size_t y = 0; y < ref.shape()[0]; ++y)
        for (std::size_t x = 0; x < ref.shape()[1]; ++x)
            if (got(y, x) != ref(y, x))
                fail(std::string(name) + "(" + std::to_string(y) + ", " + std::to_string(x) +
                     ") = " + std::to_string(got(y, x)) + ", exec::seq gives " +
                     std::to_string(ref(y, x)));
}

}  // namespace

int main() {
    try {
        // 1. A small 7x9 image: every entry of both results against the brute-force sums.
        const image_u8 small = make_image(7, 9);
        const sums_i32 seq = ferx::integral(ferx::exec::seq, small);
        const sums_i32 par = ferx::integral(ferx::exec::par, small);
        if (check_shape("seq 7x9", small, seq) && check_shape("par 7x9", small, par)) {
            for (std::size_t y = 0; y <= 7; ++y)
                for (std::size_t x = 0; x <= 9; ++x) {
                    check_entry("seq 7x9", small, seq, y, x);
                    check_entry("par 7x9", small, par, y, x);
                }
        }
        // A few values written out, so a wrong brute force cannot hide a wrong library.
        // Row 0 of the image is 0, 11, 22, ..., 88 (sum 396); (1, 0) is 37.
        if (seq(0, 0) != 0 || seq(0, 9) != 0 || seq(7, 0) != 0 || seq(1, 9) != 396 ||
            seq(2, 1) != 37)
            fail("seq 7x9: known values (0, 0, 0, 396, 37) differ");

        // 2. A larger image on a pool of 4 threads, tall enough for exec::par to split it into
        //    bands of rows: the whole result against exec::seq, some entries against brute force.
        const image_u8 large = make_image(301, 123);
        ferx::thread_pool pool(4);
        const sums_i32 lseq = ferx::integral(ferx::exec::seq, large);
        const sums_i32 lpar = ferx::integral(ferx::exec::par.on(pool), large);
        if (check_shape("seq 301x123", large, lseq) && check_shape("par 301x123", large, lpar)) {
            check_same("par 301x123", lpar, lseq);
            const std::size_t ys[] = {0, 1, 64, 75, 76, 150, 151, 226, 300, 301};
            const std::size_t xs[] = {0, 1, 61, 122, 123};
            for (std::size_t y : ys)
                for (std::size_t x : xs) check_entry("seq 301x123", large, lseq, y, x);
        }
    } catch (const std::exception& e) {
        std::cerr << "ferx consumer FAILED: " << e.what() << '\n';
        return 1;
    }

    if (failures != 0) {
        std::cerr << "ferx consumer FAILED: " << failures << " mismatch(es)\n";
        return 1;
    }
    std::cout << "ferx consumer OK " << ferx::version.major << '.' << ferx::version.minor << '.'
              << ferx::version.patch << '\n';
    return 0;
}
