/// Included once per test executable, by its main.cpp (after BOOST_TEST_MODULE and Boost.Test):
/// what every ferx test program does before its first test case.
#pragma once

#include <boost/test/unit_test.hpp>

#include <cstdlib>

#include <opencv2/core/utility.hpp>

namespace ferx_test {

/// $FERX_TEST_OPENCV_THREADS, where set, is given to cv::setNumThreads before the tests run (0:
/// OpenCV runs its parallel loops on the calling thread). The tsan preset sets it to 0: OpenCV's
/// TBB workers are not instrumented, so ThreadSanitizer misses their synchronisation and reports
/// races inside OpenCV (e.g. CascadeClassifier::detectMultiScale, the peer of test_detect).
/// OpenCV's own OPENCV_FOR_THREADS_NUM does not stop its TBB backend.
struct opencv_threads_from_env {
    opencv_threads_from_env() {
        if (const char* n = std::getenv("FERX_TEST_OPENCV_THREADS")) cv::setNumThreads(std::atoi(n));
    }
};

}  // namespace ferx_test

using ferx_test_opencv_threads_from_env = ferx_test::opencv_threads_from_env;
BOOST_TEST_GLOBAL_FIXTURE(ferx_test_opencv_threads_from_env);
