// libFuzzer harness: KITTI 16-bit PNG flow files through ferx::read_kitti_flow (OpenCV's PNG
// decoder, then ferx's checks). OpenCV itself is not instrumented: coverage is ferx's.
#include "fuzz_support.hpp"

#include <ferx/flow/io.hpp>

#include <opencv2/core/utility.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const bool once = [] {
        cv::setNumThreads(0);
        return true;
    }();
    (void)once;
    const std::string file = fuzz::write_file("flow.png", {reinterpret_cast<const char*>(data), size});
    fuzz::refuses_cleanly([&] { (void)ferx::read_kitti_flow(file); }, file);
    return 0;
}
