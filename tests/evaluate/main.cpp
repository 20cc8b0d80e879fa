#define BOOST_TEST_MODULE ferx_evaluate
#include <boost/test/unit_test.hpp>
