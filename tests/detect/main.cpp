#define BOOST_TEST_MODULE ferx_detect
#include <boost/test/unit_test.hpp>
#include <ferx_test_main.hpp>
