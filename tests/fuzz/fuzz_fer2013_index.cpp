// libFuzzer harness: a FER2013 index.csv (path,label,label_id,usage) through ferx::fer2013_folder.
// The root links the real split folders (FERX_FUZZ_SHARED_DIR/data/fer2013), so the rows of a
// real index name files that exist.
#include "fuzz_support.hpp"

#include <ferx/data/fer2013.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto root = fuzz::dataset_root(
        "fer2013", std::filesystem::path(FERX_FUZZ_SHARED_DIR) / "data" / "fer2013", {"train", "validation", "test"});
    const std::string index = fuzz::write_file("fer2013/index.csv", {reinterpret_cast<const char*>(data), size});
    fuzz::refuses_cleanly([&] { (void)ferx::fer2013_folder(root); }, index);
    fuzz::refuses_cleanly([&] { (void)ferx::fer2013_folder(root, ferx::fer2013_split::validation); }, index);
    return 0;
}
