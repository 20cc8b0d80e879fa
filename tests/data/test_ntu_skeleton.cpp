// The NTU RGB+D .skeleton reader: a small file written here (every field read back), the real
// sample of ../shared, and malformed files (truncated, bad and huge counts, non-numbers, NaN,
// wrong value counts, trailing text), each a ferx::error naming the line, the place and the file.
#include <ferx/data/ntu_skeleton.hpp>

#include "data_test.hpp"

#include <sstream>

namespace {

using data_test::expect_error;

std::string joint_line(int j) {
    std::ostringstream s;
    s << 0.5 + j << " " << -0.25 * j << " " << 3.5 << " " << 200 + j << " " << 100 << " " << 1000.5 << " " << 500
      << " 0.1 0.2 0.3 0.4 " << (j % 3);
    return s.str();
}

std::string body_text(const std::string& id, int joints) {
    std::string s = id + " 0 1 1 0 0 0 0.02764709 -0.05 2\n" + std::to_string(joints) + "\n";
    for (int j = 0; j < joints; ++j) s += joint_line(j) + "\n";
    return s;
}

// 3 frames: one body, none, two bodies (4 joints each when `joints` is 4).
std::string small_file(int joints = 4) {
    return "3\n1\n" + body_text("72057594037931101", joints) + "0\n2\n" + body_text("7", joints) +
           body_text("8", joints);
}

ferx::ntu_skeleton_options four_joints() {
    ferx::ntu_skeleton_options o;
    o.joints = 4;
    return o;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(data_ntu_skeleton)

BOOST_AUTO_TEST_CASE(small_file_reads_every_field) {
    const auto s = ferx::parse_ntu_skeleton(small_file(), "small.skeleton", four_joints());
    BOOST_TEST(s.source == "small.skeleton");
    BOOST_TEST_REQUIRE(s.frames.size() == 3u);
    BOOST_TEST(s.frames[0].bodies.size() == 1u);
    BOOST_TEST(s.frames[1].bodies.empty());
    BOOST_TEST_REQUIRE(s.frames[2].bodies.size() == 2u);
    const auto& b = s.frames[0].bodies[0];
    BOOST_TEST(b.id == 72057594037931101ull);
    BOOST_TEST(b.clipped_edges == 0);
    BOOST_TEST(b.hand_left_confidence == 1);
    BOOST_TEST(b.hand_left_state == 1);
    BOOST_TEST(b.hand_right_confidence == 0);
    BOOST_TEST(b.lean_x == 0.02764709);
    BOOST_TEST(b.lean_y == -0.05);
    BOOST_TEST(b.tracking_state == 2);
    BOOST_TEST(s.frames[2].bodies[1].id == 8u);
    BOOST_TEST_REQUIRE(b.joints.size() == 4u);
    const auto& j = b.joints[3];
    BOOST_TEST(j.x == 3.5);
    BOOST_TEST(j.y == -0.75);
    BOOST_TEST(j.z == 3.5);
    BOOST_TEST(j.depth_x == 203.0);
    BOOST_TEST(j.depth_y == 100.0);
    BOOST_TEST(j.color_x == 1000.5);
    BOOST_TEST(j.color_y == 500.0);
    BOOST_TEST(j.orientation_w == 0.1);
    BOOST_TEST(j.orientation_z == 0.4);
    BOOST_TEST(j.tracking_state == 0);
    // CRLF line ends, tabs and trailing blank lines are accepted; the stream reader agrees.
    std::string crlf;
    for (char c : small_file()) {
        if (c == '\n') crlf += "\r\n";
        else crlf += (c == ' ' ? '\t' : c);
    }
    BOOST_TEST(ferx::parse_ntu_skeleton(crlf + "\n\n", "crlf", four_joints()).frames[2].bodies[1].joints[2].x == 2.5);
    std::istringstream in(small_file());
    BOOST_TEST(ferx::read_ntu_skeleton(in, "stream", four_joints()).frames[2].bodies.size() == 2u);
    // An empty sequence is a valid file.
    BOOST_TEST(ferx::parse_ntu_skeleton("0\n", "empty").frames.empty());
}

BOOST_AUTO_TEST_CASE(real_sample, *boost::unit_test::precondition(ferx_test::shared_data_present())) {
    const auto path = ferx_test::shared_dir() / "data" / "skeleton" / "ntu" / "S001C001P001R001A001.skeleton";
    const auto s = ferx::load_ntu_skeleton(path);
    BOOST_TEST(s.frames.size() == 103u);
    for (const auto& f : s.frames) {
        BOOST_TEST_REQUIRE(f.bodies.size() == 1u);
        BOOST_TEST(f.bodies[0].joints.size() == 25u);
        BOOST_TEST(f.bodies[0].id == 72057594037931101ull);
    }
    // The file's first joint line: 0.2181153 0.1725972 3.785547 277.419 ...
    const auto& j = s.frames[0].bodies[0].joints[0];
    BOOST_TEST(j.x == 0.2181153);
    BOOST_TEST(j.y == 0.1725972);
    BOOST_TEST(j.z == 3.785547);
    BOOST_TEST(j.depth_x == 277.419);
    BOOST_TEST(j.tracking_state == 2);
}

BOOST_AUTO_TEST_CASE(malformed_files_name_line_place_and_file) {
    const auto o = four_joints();
    auto parse = [&](const std::string& text) { return [text, o] { ferx::parse_ntu_skeleton(text, "bad.skeleton", o); }; };
    const std::string good = small_file();
    // Truncated: in the middle of a joint list, and before a frame.
    expect_error(parse(good.substr(0, good.size() - 40)), {"line", "joint 3 of body 1 of frame 2", "bad.skeleton"});
    expect_error(parse("3\n1\n" + body_text("1", 4)), {"line 9", "the body count of frame 1", "truncated", "bad.skeleton"});
    expect_error(parse(""), {"line 1", "the frame count", "truncated"});
    // Bad counts.
    expect_error(parse("-1\n"), {"line 1", "the frame count is negative", "'-1'"});
    expect_error(parse("1\n1\n" + body_text("1", 3)), {"line 4", "joint count of body 0 of frame 0 is 3, expected 4"});
    expect_error(parse("1\n1\n" + body_text("1", 0)), {"line 4", "joint count of body 0 of frame 0 is 0"});
    expect_error(parse("2\n1\n" + body_text("1", 4)), {"line 9", "body count of frame 1", "truncated"});
    expect_error(parse("1\n1\n" + body_text("1", 4) + "1\n"), {"line 9", "unexpected text after the last frame", "declares 1 frames"});
    expect_error(parse("1.5\n"), {"line 1", "the frame count is not an integer", "'1.5'"});
    // Huge declared counts are refused before any allocation.
    expect_error(parse("999999999999\n0\n"), {"line 1", "the frame count is 999999999999, more than the 2 bytes left"});
    expect_error(parse("99999999999999999999999\n"), {"line 1", "the frame count is out of range"});
    expect_error(parse("1\n4000000000\n"), {"line 2", "the body count of frame 0 is 4000000000, more than the 0 bytes left"});
    expect_error(parse("1\n1\n1 0 1 1 0 0 0 0 0 2\n123456789\n0 0 0 0 0 0 0 0 0 0 0 0\n"),
                 {"line 4", "the joint count of body 0 of frame 0 is 123456789, more than"});
    // Non-numbers, NaN and infinities, wrong value counts.
    std::string bad_x = good;
    bad_x.replace(bad_x.find("0.5 -0 3.5"), 3, "abc");
    expect_error(parse(bad_x), {"line 5", "x of joint 0 of body 0 of frame 0 is not a number: 'abc'"});
    std::string nan = good;
    nan.replace(nan.find("3.5 203"), 3, "nan");
    expect_error(parse(nan), {"line 8", "z of joint 3 of body 0 of frame 0 is not finite: 'nan'"});
    std::string inf = good;
    inf.replace(inf.find("1000.5"), 6, "-inf");
    expect_error(parse(inf), {"line 5", "colorX of joint 0 of body 0 of frame 0 is not finite"});
    std::string few = good;
    few.replace(few.find(" 0.4 1\n"), 7, " 1\n");
    expect_error(parse(few), {"line 6", "expected 12 values for joint 1 of body 0 of frame 0, found 11"});
    expect_error(parse("1\n1\n1 0 1 1 0 0 0 0.1 2\n4\n"), {"line 3", "expected 10 values for the header of body 0 of frame 0, found 9"});
    expect_error(parse("1\n1\nx 0 1 1 0 0 0 0 0 2\n4\n"), {"line 3", "the body id is not an integer: 'x'"});
    expect_error(parse("1\n1\n1 0 1 1 0 0 0 nan 0 2\n4\n"), {"line 3", "leanX is not finite"});
    expect_error(parse("1 2\n"), {"line 1", "expected 1 value for the frame count, found 2"});
    // File-level limits and a missing file.
    ferx::ntu_skeleton_options tiny = o;
    tiny.max_file_bytes = 10;
    expect_error([&] { ferx::parse_ntu_skeleton(good, "big.skeleton", tiny); }, {"more than max_file_bytes = 10", "big.skeleton"});
    std::istringstream in(good);
    expect_error([&] { ferx::read_ntu_skeleton(in, "big stream", tiny); }, {"more than max_file_bytes", "big stream"});
    expect_error([] { ferx::load_ntu_skeleton("/nonexistent/x.skeleton"); }, {"cannot open", "/nonexistent/x.skeleton"});
}

BOOST_AUTO_TEST_CASE(every_truncation_of_a_file_is_an_error_or_a_prefix) {
    // Cut the small file at every byte: either a ferx::error, or (cut inside the trailing
    // newline / last number) a file that still parses to the same frame and body counts.
    const std::string good = small_file();
    for (std::size_t n = 0; n < good.size(); ++n) {
        try {
            const auto s = ferx::parse_ntu_skeleton(good.substr(0, n), "cut", four_joints());
            BOOST_TEST(s.frames.size() == 3u);
            BOOST_TEST(s.frames[2].bodies.size() == 2u);
        } catch (const ferx::error& e) {
            BOOST_TEST(std::string(e.what()).find("[file: cut]") != std::string::npos);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
