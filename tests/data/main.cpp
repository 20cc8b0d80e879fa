#define BOOST_TEST_MODULE ferx_data
#include <boost/test/unit_test.hpp>
#include <ferx_test_main.hpp>
