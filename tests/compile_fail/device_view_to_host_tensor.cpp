// expect: copies host views
#include <ferx/core/tensor.hpp>
int main() {
    ferx::device_image_view<float> d;
    auto t = ferx::to_tensor(d);
    return static_cast<int>(t.size());
}
