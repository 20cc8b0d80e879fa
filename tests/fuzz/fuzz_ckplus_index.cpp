// libFuzzer harness: a CK+48 index.csv through ferx::ckplus48 and ferx::ckplus48_clips. The root
// links the real CK+48 class folders (FERX_FUZZ_SHARED_DIR/data/ckplus48), so the rows of a real
// index name files that exist.
#include "fuzz_support.hpp"

#include <ferx/data/ckplus.hpp>
#include <ferx/data/clips.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto root =
        fuzz::dataset_root("ckplus48", std::filesystem::path(FERX_FUZZ_SHARED_DIR) / "data" / "ckplus48",
                           {"anger", "contempt", "disgust", "fear", "happy", "sadness", "surprise"});
    const std::string index = fuzz::write_file("ckplus48/index.csv", {reinterpret_cast<const char*>(data), size});
    fuzz::refuses_cleanly([&] { (void)ferx::ckplus48(root); }, index);
    fuzz::refuses_cleanly([&] { (void)ferx::ckplus48_clips(root); }, index);
    return 0;
}
