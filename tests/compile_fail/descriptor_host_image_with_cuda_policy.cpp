// expect: host images need exec::seq or exec::par
#include <ferx/features/hog.hpp>
int main() {
    ferx::image<std::uint8_t> img({48, 48});
    auto f = ferx::describe(ferx::exec::cuda, img, ferx::hog_params<>{});
    return static_cast<int>(f(0));
}
