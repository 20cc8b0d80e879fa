// expect: integer sums need an integer source
#include <ferx/detect/integral.hpp>
int main() {
    ferx::image<float> img({4, 4});
    auto ii = ferx::integral<std::int32_t>(ferx::exec::seq, img);
    return static_cast<int>(ii(0, 0));
}
