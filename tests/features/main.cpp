#define BOOST_TEST_MODULE ferx_features
#include <boost/test/unit_test.hpp>
#include <ferx_test_main.hpp>
