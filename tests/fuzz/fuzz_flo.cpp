// libFuzzer harness: Middlebury .flo files through ferx::read_flo.
#include "fuzz_support.hpp"

#include <ferx/flow/io.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string file = fuzz::write_file("fuzz.flo", {reinterpret_cast<const char*>(data), size});
    fuzz::refuses_cleanly([&] { (void)ferx::read_flo(file); }, file);
    return 0;
}
