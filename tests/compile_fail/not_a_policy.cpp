// expect: the first argument must be a ferx execution policy
#include <ferx/detect/integral.hpp>
int main() {
    ferx::image<std::uint8_t> img({4, 4});
    auto ii = ferx::integral(42, img);
    return static_cast<int>(ii(0, 0));
}
