#define BOOST_TEST_MODULE ferx_onnx
#include <boost/test/unit_test.hpp>
#include <ferx_test_main.hpp>
