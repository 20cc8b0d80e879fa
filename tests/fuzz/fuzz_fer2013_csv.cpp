// libFuzzer harness: the original fer2013.csv (emotion,pixels,Usage rows of 48x48 pixels) through
// ferx::read_fer2013_csv.
#include "fuzz_support.hpp"

#include <ferx/data/fer2013.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string file = fuzz::write_file("fer2013.csv", {reinterpret_cast<const char*>(data), size});
    fuzz::refuses_cleanly([&] { (void)ferx::read_fer2013_csv(file); }, file);
    return 0;
}
