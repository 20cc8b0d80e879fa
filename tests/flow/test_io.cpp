// Flow files: .flo and KITTI PNG round trips, the shared ground truth against OpenCV's reader,
// malformed files, and the zero-copy cv::Mat interop.
#include <ferx/flow/io.hpp>

#include <boost/test/unit_test.hpp>

#include "flow_test.hpp"

#include <opencv2/video/tracking.hpp>

#include <cstring>
#include <fstream>
#include <vector>

namespace {
std::vector<char> slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void spit(const std::filesystem::path& p, const std::vector<char>& b) {
    std::ofstream out(p, std::ios::binary);
    out.write(b.data(), static_cast<std::streamsize>(b.size()));
}
template <class F>
void expect_file_error(F&& f, const std::string& file, const std::string& words) {
    try {
        f();
        BOOST_ERROR("no ferx::error for " + words);
    } catch (const ferx::error& e) {
        BOOST_TEST(e.file() == file);
        BOOST_TEST(std::string(e.what()).find(words) != std::string::npos, e.what());
    }
}
}  // namespace

BOOST_AUTO_TEST_SUITE(flow_io)

BOOST_AUTO_TEST_CASE(flo_round_trip_is_exact) {
    ferx_test::temp_dir dir("ferx_flo");
    const auto f = flow_test::random_field(37, 53, 40.f, 7);
    const auto path = (dir.path / "a.flo").string();
    ferx::write_flo(path, ferx::view(f));
    const auto g = ferx::read_flo(path);
    BOOST_TEST_REQUIRE(g.shape()[0] == 37u);
    BOOST_TEST_REQUIRE(g.shape()[1] == 53u);
    BOOST_TEST(std::memcmp(f.data(), g.data(), f.size() * sizeof(ferx::flow_vector)) == 0);
    BOOST_TEST(std::filesystem::file_size(path) == 12u + 37u * 53u * 8u);
    // OpenCV reads what ferx writes
    const cv::Mat m = cv::readOpticalFlow(path);
    BOOST_TEST_REQUIRE(m.rows == 37);
    BOOST_TEST(m.at<cv::Vec2f>(5, 9)[0] == f(5, 9).u);
    BOOST_TEST(m.at<cv::Vec2f>(36, 52)[1] == f(36, 52).v);
}

BOOST_AUTO_TEST_CASE(reads_middlebury_ground_truth_as_opencv_does,
                     *boost::unit_test::precondition(ferx_test::file_present{flow_test::flow_dir() / "middlebury/Dimetrodon/flow10.flo", "Dimetrodon flow10.flo (../shared)"})) {
    const auto path = (flow_test::flow_dir() / "middlebury/Dimetrodon/flow10.flo").string();
    const auto f = ferx::read_flo(path);
    const cv::Mat m = cv::readOpticalFlow(path);
    BOOST_TEST_REQUIRE(int(f.shape()[0]) == m.rows);
    BOOST_TEST_REQUIRE(int(f.shape()[1]) == m.cols);
    BOOST_TEST(m.rows == 388);
    BOOST_TEST(m.cols == 584);
    BOOST_TEST(std::memcmp(f.data(), m.ptr(), f.size() * 8) == 0);
}

BOOST_AUTO_TEST_CASE(malformed_flo_files_are_errors_naming_the_file) {
    ferx_test::temp_dir dir("ferx_flo_bad");
    const auto good = (dir.path / "good.flo").string();
    const auto small = flow_test::random_field(4, 5, 3.f, 1);
    ferx::write_flo(good, ferx::view(small));
    const auto bytes = slurp(good);
    const auto p = (dir.path / "bad.flo").string();

    spit(p, std::vector<char>(bytes.begin(), bytes.end() - 3));
    expect_file_error([&] { ferx::read_flo(p); }, p, "header needs");
    spit(p, std::vector<char>(bytes.begin(), bytes.begin() + 7));
    expect_file_error([&] { ferx::read_flo(p); }, p, "too short");
    auto wrong_tag = bytes;
    wrong_tag[0] = 'X';
    spit(p, wrong_tag);
    expect_file_error([&] { ferx::read_flo(p); }, p, "tag");
    auto wrong_size = bytes;
    const std::int32_t w = 500;
    std::memcpy(wrong_size.data() + 4, &w, 4);
    spit(p, wrong_size);
    expect_file_error([&] { ferx::read_flo(p); }, p, "header needs");
    auto negative = bytes;
    const std::int32_t h = -4;
    std::memcpy(negative.data() + 8, &h, 4);
    spit(p, negative);
    expect_file_error([&] { ferx::read_flo(p); }, p, "implausible size");
    auto nan = bytes;
    const float q = std::numeric_limits<float>::quiet_NaN();
    std::memcpy(nan.data() + 12 + 8 * 7 + 4, &q, 4);
    spit(p, nan);
    expect_file_error([&] { ferx::read_flo(p); }, p, "non-finite vector at row 1, column 2");
    expect_file_error([&] { ferx::read_flo((dir.path / "missing.flo").string()); }, (dir.path / "missing.flo").string(), "cannot open");

    auto f = flow_test::random_field(2, 2, 1.f, 3);
    f(1, 1).u = std::numeric_limits<float>::infinity();
    expect_file_error([&] { ferx::write_flo(p, ferx::view(f)); }, p, "non-finite");
}

BOOST_AUTO_TEST_CASE(kitti_round_trip_keeps_validity_and_quantises_to_a_64th) {
    ferx_test::temp_dir dir("ferx_kitti");
    const auto f = flow_test::random_field(21, 30, 100.f, 11);
    ferx::image<std::uint8_t> valid(std::array<std::size_t, 2>{21, 30});
    for (std::size_t i = 0; i < valid.size(); ++i) valid.data()[i] = (i % 3) != 0;
    const auto path = (dir.path / "k.png").string();
    ferx::write_kitti_flow(path, ferx::view(f), ferx::view(valid));
    const auto r = ferx::read_kitti_flow(path);
    BOOST_TEST_REQUIRE(r.flow.shape()[0] == 21u);
    double worst = 0;
    for (int y = 0; y < 21; ++y)
        for (int x = 0; x < 30; ++x) {
            BOOST_TEST(r.valid(y, x) == valid(y, x));
            if (valid(y, x)) {
                worst = std::max({worst, std::fabs(double(r.flow(y, x).u) - f(y, x).u), std::fabs(double(r.flow(y, x).v) - f(y, x).v)});
            } else {
                BOOST_TEST((r.flow(y, x) == ferx::flow_vector{}));
            }
        }
    BOOST_TEST(worst <= 0.5 / 64 + 1e-5);
    auto big = ferx::make_flow_field(1, 1);
    big(0, 0).u = 600.f;
    expect_file_error([&] { ferx::write_kitti_flow(path, ferx::view(big)); }, path, "512");
}

BOOST_AUTO_TEST_CASE(reads_kitti_ground_truth,
                     *boost::unit_test::precondition(ferx_test::file_present{flow_test::flow_dir() / "kitti/flow_occ_000010_10.png", "KITTI flow_occ_000010_10.png (../shared)"})) {
    const auto path = (flow_test::flow_dir() / "kitti/flow_occ_000010_10.png").string();
    const auto r = ferx::read_kitti_flow(path);
    const cv::Mat m = cv::imread(path, cv::IMREAD_UNCHANGED);
    BOOST_TEST_REQUIRE(m.type() == CV_16UC3);
    BOOST_TEST(int(r.flow.shape()[0]) == 375);
    BOOST_TEST(int(r.flow.shape()[1]) == 1242);
    std::size_t n_valid = 0, n_ferx = 0;
    for (int y = 0; y < m.rows; ++y)
        for (int x = 0; x < m.cols; ++x) {
            const auto px = m.at<cv::Vec3w>(y, x);
            n_valid += px[0];
            n_ferx += r.valid(y, x);
            if (px[0] && (y * 7 + x) % 101 == 0) {
                BOOST_TEST(r.flow(y, x).u == (float(px[2]) - 32768.f) / 64.f);
                BOOST_TEST(r.flow(y, x).v == (float(px[1]) - 32768.f) / 64.f);
            }
        }
    BOOST_TEST(n_ferx == n_valid);
    BOOST_TEST(n_valid > 10000u);  // sparse, but LiDAR covers a good part of the frame
}

BOOST_AUTO_TEST_CASE(kitti_reader_rejects_other_images) {
    ferx_test::temp_dir dir("ferx_kitti_bad");
    const auto p = (dir.path / "grey.png").string();
    cv::imwrite(p, cv::Mat(4, 4, CV_8UC1, cv::Scalar(3)));
    expect_file_error([&] { ferx::read_kitti_flow(p); }, p, "3-channel 16-bit");
    const auto q = (dir.path / "b2.png").string();
    cv::imwrite(q, cv::Mat(4, 4, CV_16UC3, cv::Scalar(2, 32768, 32768)));
    expect_file_error([&] { ferx::read_kitti_flow(q); }, q, "validity channel");
    const auto t = (dir.path / "truncated.png").string();
    auto bytes = slurp(q);
    bytes.resize(bytes.size() / 2);
    spit(t, bytes);
    try {
        ferx::read_kitti_flow(t);
        BOOST_ERROR("no ferx::error for a truncated PNG");
    } catch (const ferx::error& e) {
        BOOST_TEST(e.file() == t);
    }
}

// A PNG header of a w x h 16-bit RGB image followed by a few bytes of data: no decoder reads
// this far (ferx's header check comes first), so the chunk CRCs are left zero.
std::vector<char> png_header(std::uint32_t w, std::uint32_t h, int depth = 16, int colour = 2) {
    std::vector<char> b = {'\x89', 'P', 'N', 'G', '\r', '\n', '\x1a', '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
    for (std::uint32_t v : {w, h})
        for (int k = 3; k >= 0; --k) b.push_back(static_cast<char>((v >> (8 * k)) & 0xff));
    for (int v : {depth, colour, 0, 0, 0, 0, 0, 0, 0}) b.push_back(static_cast<char>(v));
    b.resize(b.size() + 64, 0);
    return b;
}

// The resource limit of the fuzz harnesses (tests/fuzz, docs/limits.md): a PNG whose header
// declares far more pixels than its bytes can hold made OpenCV allocate the whole image
// (30000x30000x3 16-bit: 5 GB) before it failed; the header is now checked against the file's
// size before decoding.
BOOST_AUTO_TEST_CASE(kitti_reader_checks_the_declared_size_before_decoding) {
    ferx_test::temp_dir dir("ferx_kitti_size");
    const auto p = (dir.path / "huge.png").string();
    spit(p, png_header(30000, 30000));
    expect_file_error([&] { ferx::read_kitti_flow(p); }, p, "declares 30000x30000 pixels, more than its 97 bytes can hold");
    spit(p, png_header(70000, 2));
    expect_file_error([&] { ferx::read_kitti_flow(p); }, p, "implausible size 70000x2");
    spit(p, png_header(4, 4, 8, 6));
    expect_file_error([&] { ferx::read_kitti_flow(p); }, p, "3-channel 16-bit PNG, got one of 8 bits per sample, colour type 6 (RGBA)");
    spit(p, std::vector<char>{'G', 'I', 'F', '8', '9', 'a', 0, 0, 0, 0});
    expect_file_error([&] { ferx::read_kitti_flow(p); }, p, "not a PNG file");
}

BOOST_AUTO_TEST_CASE(mat_interop_is_zero_copy) {
    auto f = flow_test::random_field(6, 7, 2.f, 5);
    cv::Mat m = ferx::flow_to_mat(ferx::view(f));
    BOOST_TEST(m.type() == CV_32FC2);
    BOOST_TEST(static_cast<void*>(m.data) == static_cast<void*>(f.data()));
    m.at<cv::Vec2f>(2, 3)[1] = 42.f;
    BOOST_TEST(f(2, 3).v == 42.f);
    cv::Mat big(10, 10, CV_32FC2, cv::Scalar(1, 2));
    cv::Mat roi = big(cv::Rect(2, 3, 4, 5));
    auto v = ferx::flow_view_of(roi);
    BOOST_TEST(v.rows() == 5);
    BOOST_TEST(v.stride(0) == 10);
    BOOST_TEST(v(4, 3).v == 2.f);
    cv::Mat wrong(3, 3, CV_32FC1);
    BOOST_CHECK_THROW(ferx::flow_view_of(wrong), ferx::error);
}

BOOST_AUTO_TEST_SUITE_END()
