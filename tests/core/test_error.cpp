#include <ferx/core/error.hpp>

#include <boost/test/unit_test.hpp>

#include <stdexcept>
#include <string>

BOOST_AUTO_TEST_SUITE(error)

BOOST_AUTO_TEST_CASE(says_what_where_and_which_file) {
    const ferx::error e("ferx::load_cascade", "missing <stages> element", "/tmp/x.xml");
    BOOST_TEST(e.where() == "ferx::load_cascade");
    BOOST_TEST(e.reason() == "missing <stages> element");
    BOOST_TEST(e.file() == "/tmp/x.xml");
    BOOST_TEST(std::string(e.what()) ==
               "ferx::load_cascade: missing <stages> element [file: /tmp/x.xml]");
    const ferx::error no_file("ferx::integral", "the source image is empty");
    BOOST_TEST(std::string(no_file.what()) == "ferx::integral: the source image is empty");
}

BOOST_AUTO_TEST_CASE(is_a_runtime_error) {
    BOOST_CHECK_THROW(throw ferx::error("w", "r"), std::runtime_error);
    BOOST_CHECK_THROW(ferx::detail::require(false, "w", "r"), ferx::error);
    BOOST_CHECK_NO_THROW(ferx::detail::require(true, "w", "r"));
}

BOOST_AUTO_TEST_SUITE_END()
