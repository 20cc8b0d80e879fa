// expect: pixels must be uint8_t, uint16_t, float or double
#include <ferx/features/lbp.hpp>
int main() {
    ferx::image<std::int32_t> img({48, 48});
    auto f = ferx::describe(ferx::exec::seq, img, ferx::lbp_params<>{});
    return static_cast<int>(f(0));
}
