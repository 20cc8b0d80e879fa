#define BOOST_TEST_MODULE ferx_cuda
#include <boost/test/unit_test.hpp>
