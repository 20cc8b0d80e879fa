// expect: must be compiled by nvcc
#include <ferx/detect/integral.hpp>
int main() {
    ferx::device_image_view<const std::uint8_t> src;
    ferx::device_image_view<std::int32_t> sum;
    ferx::integral(ferx::exec::cuda, src, sum);
}
