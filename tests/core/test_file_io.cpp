// Files that are never half-written (ferx/core/file_io.hpp): a commit replaces the target whole
// and leaves nothing else in the folder; a write that fails part-way (a real write error injected
// with a file-size limit in a child process, or an exception thrown while the content is being
// produced) leaves an existing file byte-identical and removes the temporary file; a replaced
// file keeps its permission bits; bad targets give a ferx::error naming the file.
#include <ferx/core/error.hpp>
#include <ferx/core/file_io.hpp>
#include <ferx/core/opencv.hpp>

#include <boost/test/unit_test.hpp>

#include "ferx_test.hpp"

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {
std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 13) % 26);
    return s;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(file_io)

BOOST_AUTO_TEST_CASE(commit_replaces_the_target_whole_and_leaves_no_temporary) {
    ferx_test::temp_dir dir;
    const std::string target = dir.file("out.txt");
    ferx::write_file_atomically(target, "old contents\n");
    BOOST_TEST(ferx_test::file_bytes(target) == "old contents\n");
    {
        ferx::atomic_file f(target, "test");
        BOOST_TEST(!f.temporary_path().empty());
        BOOST_TEST(fs::path(f.temporary_path()).parent_path() == dir.path);
        f.stream() << "line " << 1 << '\n';
        f.write(pattern(100000));  // past the C stream's buffer: several writes
        // Until the commit, readers of the target see the old file.
        BOOST_TEST(ferx_test::file_bytes(target) == "old contents\n");
        f.commit();
        BOOST_TEST(f.temporary_path().empty());
        BOOST_CHECK_THROW(f.commit(), ferx::error);  // twice is a mistake, said as such
    }
    BOOST_TEST(ferx_test::file_bytes(target) == "line 1\n" + pattern(100000));
    BOOST_TEST(ferx_test::folder_names(dir.path) == std::vector<std::string>{"out.txt"});
}

BOOST_AUTO_TEST_CASE(an_exception_while_writing_leaves_the_old_file) {
    ferx_test::temp_dir dir;
    const std::string target = dir.file("model.ferx");
    ferx::write_file_atomically(target, pattern(5000));
    try {
        ferx::atomic_file f(target, "test");
        f.write(pattern(70000));
        throw std::runtime_error("the producer failed part-way");
    } catch (const std::runtime_error&) {
    }
    BOOST_TEST(ferx_test::file_bytes(target) == pattern(5000));
    BOOST_TEST(ferx_test::folder_names(dir.path) == std::vector<std::string>{"model.ferx"});
}

BOOST_AUTO_TEST_CASE(an_injected_write_error_leaves_the_old_file_byte_identical) {
    ferx_test::temp_dir dir;
    const std::string target = dir.file("big.bin");
    const std::string old = pattern(3000);
    ferx::write_file_atomically(target, old);
    // Sizes below, at and past the C stream's buffer: the error surfaces in a write or in the
    // final flush, and both must be caught.
    for (std::size_t size : {6000u, 4096u + 100u, 200000u}) {
        const std::string said = ferx_test::run_with_file_size_limit(3500, [&] {
            ferx::write_file_atomically(target, pattern(size), "ferx::test_writer");
        });
        BOOST_TEST_INFO("content of " << size << " bytes: " << said);
        BOOST_TEST(said.rfind("ferx::error: ferx::test_writer: cannot", 0) == 0);
        BOOST_TEST(said.find("File too large") != std::string::npos);
        BOOST_TEST(said.find("[file: " + target + "]") != std::string::npos);
        BOOST_TEST(ferx_test::file_bytes(target) == old);
        BOOST_TEST(ferx_test::folder_names(dir.path) == std::vector<std::string>{"big.bin"});
    }
    // The same child without the failure writes the file: the limit, not the harness, failed it.
    BOOST_TEST(ferx_test::run_with_file_size_limit(1u << 20, [&] { ferx::write_file_atomically(target, pattern(6000)); }) ==
               "no error");
    BOOST_TEST(ferx_test::file_bytes(target) == pattern(6000));
}

BOOST_AUTO_TEST_CASE(a_replaced_file_keeps_its_permissions) {
    ferx_test::temp_dir dir;
    const std::string target = dir.file("report.md");
    ferx::write_file_atomically(target, "v1");
    BOOST_REQUIRE(::chmod(target.c_str(), 0640) == 0);
    ferx::write_file_atomically(target, "v2");
    struct stat st {};
    BOOST_REQUIRE(::stat(target.c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 07777) == 0640u);
    BOOST_TEST(ferx_test::file_bytes(target) == "v2");
}

BOOST_AUTO_TEST_CASE(bad_targets_name_the_file) {
    ferx_test::temp_dir dir;
    const std::string missing = (dir.path / "no" / "such" / "folder.txt").string();
    try {
        ferx::write_file_atomically(missing, "x", "ferx::test_writer");
        BOOST_ERROR("no error for a missing folder");
    } catch (const ferx::error& e) {
        BOOST_TEST(e.file() == missing);
        BOOST_TEST(e.where() == "ferx::test_writer");
        BOOST_TEST(e.reason().find("No such file or directory") != std::string::npos, e.what());
    }
    // A folder in the target's place: the rename fails, nothing is left behind.
    fs::create_directories(dir.path / "taken");
    BOOST_CHECK_THROW(ferx::write_file_atomically((dir.path / "taken").string(), "x"), ferx::error);
    BOOST_TEST(ferx_test::folder_names(dir.path) == std::vector<std::string>{"taken"});
    BOOST_CHECK_THROW(ferx::write_file_atomically("", "x"), ferx::error);
    BOOST_CHECK_THROW(ferx::write_file_atomically((dir.path / "").string(), "x"), ferx::error);
    // A read-only folder refuses the temporary file; root ignores permissions, so this part runs
    // only for other users.
    if (::geteuid() != 0) {
        fs::create_directories(dir.path / "ro");
        BOOST_REQUIRE(::chmod((dir.path / "ro").c_str(), 0555) == 0);
        BOOST_CHECK_THROW(ferx::write_file_atomically((dir.path / "ro" / "x.txt").string(), "x"), ferx::error);
        ::chmod((dir.path / "ro").c_str(), 0755);
    } else {
        BOOST_TEST_MESSAGE("running as root: the read-only-folder case is left out (root writes anyway)");
    }
}

BOOST_AUTO_TEST_CASE(write_image_encodes_by_extension_and_checks) {
    ferx_test::temp_dir dir;
    const cv::Mat img = ferx_test::random_grey(21, 34, 5, true);
    const std::string png = dir.file("x.png");
    ferx::write_image(png, img);
    const cv::Mat back = cv::imread(png, cv::IMREAD_UNCHANGED);
    BOOST_REQUIRE(!back.empty());
    BOOST_TEST(cv::norm(back, img, cv::NORM_INF) == 0.0);
    BOOST_CHECK_THROW(ferx::write_image(dir.file("x"), img), ferx::error);          // no extension
    BOOST_CHECK_THROW(ferx::write_image(dir.file("x.notaformat"), img), ferx::error);
    BOOST_CHECK_THROW(ferx::write_image(dir.file("y.png"), cv::Mat()), ferx::error);
    BOOST_TEST(ferx_test::folder_names(dir.path) == std::vector<std::string>{"x.png"});
}

BOOST_AUTO_TEST_SUITE_END()
