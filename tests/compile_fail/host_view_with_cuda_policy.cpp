// expect: host views need exec::seq or exec::par
#include <ferx/detect/integral.hpp>
int main() {
    ferx::image<std::uint8_t> img({4, 4});
    auto ii = ferx::integral(ferx::exec::cuda, img);
    return static_cast<int>(ii(0, 0));
}
