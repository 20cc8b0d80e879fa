// Label maps: class sets, synonyms, dropping, the 3-class binning, relabel of lists and batches.
#include <ferx/data/image_list.hpp>
#include <ferx/data/labels.hpp>

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

BOOST_AUTO_TEST_SUITE(data_labels)

BOOST_AUTO_TEST_CASE(class_orders) {
    const std::vector<std::string> fer = {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"};
    BOOST_TEST(ferx::fer2013_classes() == fer, boost::test_tools::per_element());
    const std::vector<std::string> ck = {"anger", "contempt", "disgust", "fear", "happy", "sadness", "surprise"};
    BOOST_TEST(ferx::ckplus_classes() == ck, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(synonyms_fold_together) {
    BOOST_TEST(ferx::canonical_emotion("Angry") == "anger");
    BOOST_TEST(ferx::canonical_emotion("sad") == "sadness");
    BOOST_TEST(ferx::canonical_emotion("HAPPINESS") == "happy");
    BOOST_TEST(ferx::canonical_emotion("surprised") == "surprise");
    BOOST_TEST(ferx::canonical_emotion("neutral") == "neutral");
}

BOOST_AUTO_TEST_CASE(maps_send_each_class_where_documented) {
    const auto fer = ferx::fer2013_map();
    const auto ck = ferx::ckplus_classes();
    // CK+ names onto the FER2013 order; contempt dropped.
    const std::vector<int> ck_to_fer = {0, -1, 1, 2, 3, 4, 5};
    for (std::size_t k = 0; k < ck.size(); ++k) BOOST_TEST(fer(ck[k]) == ck_to_fer[k]);
    BOOST_TEST(fer("neutral") == 6);

    const auto ck7 = ferx::ckplus7_map();
    const std::vector<int> fer_to_ck = {0, 2, 3, 4, 5, 6, -1};
    const auto fn = ferx::fer2013_classes();
    for (std::size_t k = 0; k < fn.size(); ++k) BOOST_TEST(ck7(fn[k]) == fer_to_ck[k]);

    const auto b6 = ferx::basic6_map();
    BOOST_TEST(b6.classes.size() == 6u);
    BOOST_TEST(b6("contempt") == -1);
    BOOST_TEST(b6("neutral") == -1);
    BOOST_TEST(b6("angry") == 0);
    BOOST_TEST(b6("surprise") == 5);

    const auto v3 = ferx::valence3_map();
    const std::vector<std::string> names = {"negative", "neutral", "positive"};
    BOOST_TEST(v3.classes == names, boost::test_tools::per_element());
    const std::vector<int> fer_to_v3 = {0, 0, 0, 2, 0, 2, 1};  // angry disgust fear happy sad surprise neutral
    for (std::size_t k = 0; k < fn.size(); ++k) BOOST_TEST(v3(fn[k]) == fer_to_v3[k]);
    BOOST_TEST(v3("contempt") == 0);
}

BOOST_AUTO_TEST_CASE(unknown_label_is_an_error) {
    try {
        ferx::fer2013_map()("bored");
        BOOST_FAIL("no error");
    } catch (const ferx::error& e) {
        BOOST_TEST(std::string(e.what()).find("'bored'") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(relabel_drops_and_remaps) {
    ferx::image_batch b;
    b.classes = ferx::ckplus_classes();
    b.labels = {1, 0, 4, 1, 6};  // contempt anger happy contempt surprise
    b.groups = {10, 11, 12, 13, 14};
    b.paths = {"a", "b", "c", "d", "e"};
    b.images = xt::xtensor<std::uint8_t, 3>({5, 2, 3});
    for (std::size_t i = 0; i < b.images.size(); ++i) b.images.data()[i] = static_cast<std::uint8_t>(i);
    const auto r = ferx::relabel(b, ferx::basic6_map());
    BOOST_TEST(r.size() == 3u);
    const std::vector<int> labels = {0, 3, 5}, groups = {11, 12, 14};
    BOOST_TEST(r.labels == labels, boost::test_tools::per_element());
    BOOST_TEST(r.groups == groups, boost::test_tools::per_element());
    BOOST_TEST(r.paths[2] == "e");
    BOOST_TEST(r.images.shape(0) == 3u);
    BOOST_TEST(r.images(1, 0, 0) == 12);  // first pixel of image 2 ("c")
    BOOST_TEST(r.images(2, 1, 2) == 29);  // last pixel of image 4 ("e")
    const std::vector<std::size_t> counts = {1, 0, 0, 1, 0, 1};
    BOOST_TEST(ferx::class_counts(r) == counts, boost::test_tools::per_element());

    ferx::image_batch wrong = b;
    wrong.labels[0] = 7;  // CK+ has 7 classes: 0..6
    BOOST_CHECK_THROW(ferx::class_counts(wrong), ferx::error);
    BOOST_CHECK_THROW(ferx::relabel(wrong, ferx::basic6_map()), ferx::error);
    wrong.labels = {0, 1};
    BOOST_CHECK_THROW(ferx::relabel(wrong, ferx::basic6_map()), ferx::error);

    ferx::image_list l;
    l.classes = {"happy", "weird"};
    l.labels = {0, 1};
    l.paths = {"x", "y"};
    BOOST_CHECK_THROW(ferx::relabel(l, ferx::valence3_map()), ferx::error);
}

BOOST_AUTO_TEST_SUITE_END()
