// libFuzzer harness: OpenCV cascade XML (the current opencv-cascade-classifier format and the old
// opencv-haar-classifier one) through ferx::parse_cascade, from memory. A cascade that loads is
// "valid without further checks" (ferx/detect/cascade.hpp): one whose window is small is run
// over a small image, so that evaluating any accepted model is fuzzed too.
#include "fuzz_support.hpp"

#include <ferx/detect/cascade.hpp>
#include <ferx/detect/detect_multiscale.hpp>

#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string xml = fuzz::text(data, size);
    ferx::cascade c;
    if (!fuzz::refuses_cleanly([&] { c = ferx::parse_cascade(xml, "fuzz.xml"); }, "fuzz.xml")) return 0;
    if (c.window_width > 48 || c.window_height > 48) return 0;
    const int rows = c.window_height + 7, cols = c.window_width + 5;
    std::vector<std::uint8_t> pixels(static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols));
    for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>((i * 37u) ^ (i >> 3));
    const ferx::image_view<const std::uint8_t> img(pixels.data(), {rows, cols}, {cols, 1});
    ferx::detect_params p;
    p.scale_factor = 1.25;
    p.min_neighbors = 0;
    fuzz::refuses_cleanly([&] { (void)ferx::detect_multiscale(ferx::exec::seq, c, img, p); });
    return 0;
}
