/// Preconditions shared by the CUDA test files: tests that run kernels skip, with a message,
/// where no device is present; tests of the no-device behaviour skip where one is.
#pragma once

#include <ferx/cuda/runtime.cuh>

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <string>

namespace ferx_test {

/// The folder of OpenCV's data files (the cascade XML files), ending in '/':
/// $FERX_OPENCV_DATA_DIR (the GPU kit's run.sh sets it to the kit's copy), else Debian's
/// /usr/share/opencv4/.
inline std::string opencv_data_dir() {
    const char* env = std::getenv("FERX_OPENCV_DATA_DIR");
    return env ? std::string(env) + "/" : std::string("/usr/share/opencv4/");
}

struct gpu_present {
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
        boost::test_tools::assertion_result r(ferx::cuda::device_available());
        r.message() << "no CUDA device present; skipping the tests that run CUDA kernels";
        return r;
    }
};

struct gpu_absent {
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
        boost::test_tools::assertion_result r(!ferx::cuda::device_available());
        r.message() << "a CUDA device is present; the no-device behaviour cannot be observed here";
        return r;
    }
};

}  // namespace ferx_test
