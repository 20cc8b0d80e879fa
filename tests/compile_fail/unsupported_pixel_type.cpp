// expect: the source pixel type must be uint8_t, uint16_t, int16_t, float or double
#include <ferx/detect/integral.hpp>
int main() {
    ferx::image<std::int32_t> img({4, 4});
    auto ii = ferx::integral<double>(ferx::exec::seq, img);
    return static_cast<int>(ii(0, 0));
}
