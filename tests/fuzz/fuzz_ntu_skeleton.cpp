// libFuzzer harness: NTU RGB+D .skeleton text through ferx::parse_ntu_skeleton (the buffer entry
// point) and, where it parses, EfficientGCN's preprocessing (ferx::efficientgcn_input).
#include "fuzz_support.hpp"

#include <ferx/data/ntu_skeleton.hpp>
#include <ferx/data/skeleton_input.hpp>

#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::string name = "fuzz.skeleton";
    fuzz::refuses_cleanly([&] {
        const auto s = ferx::parse_ntu_skeleton(text, name);
        (void)ferx::efficientgcn_input(s);
    }, name);
    return 0;
}
