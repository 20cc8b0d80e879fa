#include <ferx/core/opencv.hpp>
#include <ferx/detect/integral.hpp>

#include <boost/test/unit_test.hpp>

#include "ferx_test.hpp"

#include <opencv2/imgproc.hpp>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace {

using ferx::index_t;

const std::vector<std::pair<int, int>> odd_sizes = {{1, 1},   {1, 17},   {17, 1},   {2, 3},
                                                    {31, 47}, {127, 255}, {239, 321}, {480, 641}};

/// Largest |a - b| between two Mats of the same size (as doubles).
double max_abs_diff(const cv::Mat& a, const cv::Mat& b) {
    cv::Mat da, db;
    a.convertTo(da, CV_64F);
    b.convertTo(db, CV_64F);
    return cv::norm(da, db, cv::NORM_INF);
}

double max_abs(const cv::Mat& a) {
    double lo = 0, hi = 0;
    cv::minMaxLoc(a, &lo, &hi);
    return std::max(std::abs(lo), std::abs(hi));
}

/// Exact comparison (integer sums, and double sums of integer images: every partial sum is an
/// integer below 2^53, so both libraries are exact).
void check_exact(const cv::Mat& ours, const cv::Mat& ref, const std::string& what) {
    const double diff = max_abs_diff(ours, ref);
    BOOST_TEST(diff == 0.0, what << ": max |ferx - opencv| = " << diff);
}

/// Float32 outputs. OpenCV accumulates in float and rounds at every addition, so it drifts from
/// the exact sums by up to about (H + W) ulps; ferx rounds exact sums once (integer sources) or
/// adds in float too (float sources). Against the exact sums (`exact`, computed in double), ferx
/// must be at least as accurate as OpenCV, up to one ulp of the largest sum.
void check_float(const cv::Mat& ours, const cv::Mat& cv_result, const cv::Mat& exact,
                 const std::string& what) {
    const double err_ferx = max_abs_diff(ours, exact);
    const double err_cv = max_abs_diff(cv_result, exact);
    const double ulp = std::numeric_limits<float>::epsilon() * std::max(1.0, max_abs(exact));
    BOOST_TEST(err_ferx <= std::max(err_cv, ulp),
               what << ": ferx error " << err_ferx << ", OpenCV error " << err_cv << ", 1 ulp " << ulp);
}

/// Double outputs of floating-point sources: both libraries add in double, in different orders;
/// they must agree within the rounding bound of such a recurrence, (H + W) ulps of the largest sum.
template <class V>
void check_double(const V& ours, const V& ref, const std::string& what) {
    const double tol = std::numeric_limits<double>::epsilon() * (ref.rows + ref.cols) * std::max(1.0, max_abs(ref));
    const double diff = max_abs_diff(ours, ref);
    BOOST_TEST(diff <= tol, what << ": max |a - b| = " << diff << " > " << tol);
}

template <class O>
void check_part(const cv::Mat& ours, const cv::Mat& cv_result, const cv::Mat& exact, bool integer_source,
                const std::string& what) {
    if (std::is_same<O, float>::value)
        check_float(ours, cv_result, exact, what);
    else if (integer_source)
        check_exact(ours, cv_result, what);
    else
        check_double(ours, cv_result, what);
}

/// ferx vs cv::integral for one source type T, sum type S, squared-sum type Q.
template <class T, class S, class Q>
void compare_with_opencv(const cv::Mat& src, const std::string& name) {
    cv::Mat s, q, t;
    cv::integral(src, s, q, t, ferx::cv_depth<S>(), ferx::cv_depth<Q>());
    cv::Mat src64, es, eq, et;  // exact (integer sources) or double-accurate sums
    src.convertTo(src64, CV_64F);
    cv::integral(src64, es, eq, et, CV_64F, CV_64F);
    auto r = ferx::integrals<S, Q>(ferx::exec::seq, ferx::view<T>(src));
    const std::string tag = name + " " + ferx::detail::cv_type_name(src.type()) + " -> " +
                            ferx::detail::cv_type_name(ferx::cv_depth<S>()) + "/" +
                            ferx::detail::cv_type_name(ferx::cv_depth<Q>());
    const bool int_src = std::is_integral<T>::value;
    check_part<S>(ferx::to_mat(r.sum), s, es, int_src, tag + " sum");
    check_part<Q>(ferx::to_mat(r.sqsum), q, eq, int_src, tag + " sqsum");
    check_part<S>(ferx::to_mat(r.tilted), t, et, int_src, tag + " tilted");
}

/// All source/output type combinations that cv::integral supports.
void compare_all_types(const cv::Mat& grey8, const std::string& name) {
    compare_with_opencv<std::uint8_t, std::int32_t, double>(grey8, name);
    compare_with_opencv<std::uint8_t, std::int32_t, float>(grey8, name);
    compare_with_opencv<std::uint8_t, float, double>(grey8, name);
    compare_with_opencv<std::uint8_t, float, float>(grey8, name);
    compare_with_opencv<std::uint8_t, double, double>(grey8, name);
    cv::Mat u16, s16, f32, f64;
    grey8.convertTo(u16, CV_16U, 257.0);
    grey8.convertTo(s16, CV_16S, 256.0, -32768.0);
    grey8.convertTo(f32, CV_32F, 1.0 / 255.0);
    grey8.convertTo(f64, CV_64F, 1.0 / 255.0);
    compare_with_opencv<std::uint16_t, double, double>(u16, name);
    compare_with_opencv<std::int16_t, double, double>(s16, name);
    compare_with_opencv<float, float, double>(f32, name);
    compare_with_opencv<float, float, float>(f32, name);
    compare_with_opencv<float, double, double>(f32, name);
    compare_with_opencv<double, double, double>(f64, name);
}

/// The definitions, evaluated term by term (O(H^2 W^2)): independent of both implementations.
struct brute_force {
    std::vector<std::vector<double>> sum, sq, tilted;
    explicit brute_force(const cv::Mat& src) {
        const int h = src.rows, w = src.cols;
        sum.assign(h + 1, std::vector<double>(w + 1, 0.0));
        sq = sum;
        tilted = sum;
        for (int Y = 0; Y <= h; ++Y)
            for (int X = 0; X <= w; ++X)
                for (int y = 0; y < Y; ++y)
                    for (int x = 0; x < w; ++x) {
                        const double v = src.at<std::uint8_t>(y, x);
                        if (x < X) {
                            sum[Y][X] += v;
                            sq[Y][X] += v * v;
                        }
                        if (std::abs(x - X + 1) <= Y - y - 1) tilted[Y][X] += v;
                    }
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(integral)

BOOST_AUTO_TEST_CASE(equals_the_definition_on_small_images) {
    for (auto [h, w] : std::vector<std::pair<int, int>>{{1, 1}, {1, 6}, {5, 1}, {4, 4}, {7, 11}, {13, 5}}) {
        cv::Mat src = ferx_test::random_mat<std::uint8_t>(h, w, CV_8U, static_cast<std::uint32_t>(h * 100 + w));
        const brute_force ref(src);
        for (int pass = 0; pass < 2; ++pass) {
            ferx::thread_pool pool(3);
            auto r = pass == 0 ? ferx::integrals<std::int64_t>(ferx::exec::seq, ferx::view<std::uint8_t>(src))
                               : ferx::integrals<std::int64_t>(ferx::exec::par.on(pool), ferx::view<std::uint8_t>(src));
            for (int Y = 0; Y <= h; ++Y)
                for (int X = 0; X <= w; ++X) {
                    BOOST_TEST(r.sum(Y, X) == ref.sum[Y][X]);
                    BOOST_TEST(r.sqsum(Y, X) == ref.sq[Y][X]);
                    BOOST_TEST(r.tilted(Y, X) == ref.tilted[Y][X], h << "x" << w << " tilted(" << Y << "," << X << ")");
                }
        }
    }
}

BOOST_AUTO_TEST_CASE(matches_opencv_on_random_images_of_odd_sizes) {
    std::uint32_t seed = 7;
    for (auto [h, w] : odd_sizes) {
        cv::Mat src = ferx_test::random_mat<std::uint8_t>(h, w, CV_8U, ++seed);
        compare_all_types(src, "random " + std::to_string(h) + "x" + std::to_string(w));
    }
}

BOOST_AUTO_TEST_CASE(matches_opencv_on_full_range_16_bit_and_float_images) {
    cv::Mat u16 = ferx_test::random_mat<std::uint16_t>(101, 67, CV_16U, 3);
    compare_with_opencv<std::uint16_t, double, double>(u16, "random u16");
    cv::Mat s16 = ferx_test::random_mat<std::int16_t>(67, 101, CV_16S, 4);
    compare_with_opencv<std::int16_t, double, double>(s16, "random s16");
    cv::Mat f32 = ferx_test::random_mat<float>(99, 77, CV_32F, 5);
    compare_with_opencv<float, float, double>(f32, "random f32");
    compare_with_opencv<float, double, double>(f32, "random f32");
    cv::Mat f64 = ferx_test::random_mat<double>(77, 99, CV_64F, 6);
    compare_with_opencv<double, double, double>(f64, "random f64");
}

BOOST_AUTO_TEST_CASE(matches_opencv_on_real_images,
                     *boost::unit_test::precondition(ferx_test::shared_data_present())) {
    const auto data = ferx_test::shared_dir() / "data";
    std::vector<std::filesystem::path> files = ferx_test::image_files(data / "faces");
    BOOST_REQUIRE(!files.empty());
    const auto ck = ferx_test::image_files(data / "ckplus48" / "happy");
    const auto fer = ferx_test::image_files(data / "fer2013" / "test" / "surprise");
    BOOST_REQUIRE(!ck.empty());
    BOOST_REQUIRE(!fer.empty());
    files.insert(files.end(), ck.begin(), ck.begin() + std::min<std::size_t>(5, ck.size()));
    files.insert(files.end(), fer.begin(), fer.begin() + std::min<std::size_t>(5, fer.size()));
    for (const auto& f : files) compare_all_types(ferx::read_image(f.string()), f.filename().string());
}

BOOST_AUTO_TEST_CASE(par_equals_seq_exactly_for_integer_sources) {
    std::uint32_t seed = 100;
    for (std::size_t threads : {2u, 3u, 7u}) {
        ferx::thread_pool pool(threads);
        for (auto [h, w] : std::vector<std::pair<int, int>>{{64, 50}, {129, 77}, {300, 211}, {1000, 37}, {721, 1283}}) {
            cv::Mat src = ferx_test::random_mat<std::uint8_t>(h, w, CV_8U, ++seed);
            auto v = ferx::view<std::uint8_t>(src);
            const auto a = ferx::integrals<std::int32_t>(ferx::exec::seq, v);
            const auto b = ferx::integrals<std::int32_t>(ferx::exec::par.on(pool), v);
            BOOST_TEST(a.sum == b.sum, threads << " threads " << h << "x" << w << " sum");
            BOOST_TEST(a.sqsum == b.sqsum, threads << " threads " << h << "x" << w << " sqsum");
            BOOST_TEST(a.tilted == b.tilted, threads << " threads " << h << "x" << w << " tilted");
            const auto fa = ferx::integrals<float, float>(ferx::exec::seq, v);
            const auto fb = ferx::integrals<float, float>(ferx::exec::par.on(pool), v);
            BOOST_TEST(fa.sum == fb.sum);
            BOOST_TEST(fa.sqsum == fb.sqsum);
            BOOST_TEST(fa.tilted == fb.tilted);
            cv::Mat s16 = ferx_test::random_mat<std::int16_t>(h, w, CV_16S, ++seed);
            const auto da = ferx::integrals<double>(ferx::exec::seq, ferx::view<std::int16_t>(s16));
            const auto db = ferx::integrals<double>(ferx::exec::par.on(pool), ferx::view<std::int16_t>(s16));
            BOOST_TEST(da.sum == db.sum);
            BOOST_TEST(da.sqsum == db.sqsum);
            BOOST_TEST(da.tilted == db.tilted);
        }
    }
}

BOOST_AUTO_TEST_CASE(par_is_close_to_seq_for_floating_point_sources) {
    ferx::thread_pool pool(3);
    cv::Mat src = ferx_test::random_mat<float>(513, 300, CV_32F, 9);
    auto v = ferx::view<float>(src);
    const auto a = ferx::integrals<double>(ferx::exec::seq, v);
    const auto b = ferx::integrals<double>(ferx::exec::par.on(pool), v);
    check_double(ferx::to_mat(a.sum), ferx::to_mat(b.sum), "par vs seq f32 sum");
    check_double(ferx::to_mat(a.sqsum), ferx::to_mat(b.sqsum), "par vs seq f32 sqsum");
    check_double(ferx::to_mat(a.tilted), ferx::to_mat(b.tilted), "par vs seq f32 tilted");
}

namespace {
/// Runs `f` with the host row kernels limited to an instruction set, then restores the limit.
template <class F>
auto with_isa(ferx::detail::integral_isa isa, F&& f) {
    auto& limit = ferx::detail::integral_isa_limit();
    const int saved = limit.load();
    limit.store(static_cast<int>(isa));
    struct restore {
        std::atomic<int>& l;
        int v;
        ~restore() { l.store(v); }
    } guard{limit, saved};
    return f();
}

template <class T, class S, class Q>
void compare_isas(const cv::Mat& src, const std::string& name) {
    using ferx::detail::integral_isa;
    const auto v = ferx::view<T>(src);
    const auto run = [&] { return ferx::integrals<S, Q>(ferx::exec::seq, v); };
    const auto scalar = with_isa(integral_isa::scalar, run);
    for (auto isa : {integral_isa::sse2, integral_isa::avx2, integral_isa::avx512}) {
        const auto r = with_isa(isa, run);
        BOOST_TEST(r.sum == scalar.sum, name << " isa " << int(isa) << " sum");
        BOOST_TEST(r.sqsum == scalar.sqsum, name << " isa " << int(isa) << " sqsum");
        BOOST_TEST(r.tilted == scalar.tilted, name << " isa " << int(isa) << " tilted");
    }
}
/// The sum alone (no squares, no tilted sum), 8-bit to int32: the case with an AVX-512 kernel.
void compare_isas_sum_only(const cv::Mat& src, const std::string& name) {
    using ferx::detail::integral_isa;
    const auto v = ferx::view<std::uint8_t>(src);
    const auto run = [&] {
        ferx::image<std::int32_t> sum({static_cast<std::size_t>(src.rows + 1), static_cast<std::size_t>(src.cols + 1)}, -7);
        ferx::integral(ferx::exec::seq, v, ferx::view(sum));
        return sum;
    };
    const auto scalar = with_isa(integral_isa::scalar, run);
    for (auto isa : {integral_isa::sse2, integral_isa::avx2, integral_isa::avx512})
        BOOST_TEST((with_isa(isa, run) == scalar), name << " isa " << int(isa) << " sum only");
}
}  // namespace

BOOST_AUTO_TEST_CASE(every_row_kernel_gives_the_bits_of_the_portable_one) {
    // Instruction sets the CPU lacks fall back to the best it has, so this holds everywhere.
    std::uint32_t seed = 300;
    // Widths: tails of every kernel's steps (32-, 16- and 8-pixel steps, scalar rest); odd and
    // even row counts (the AVX2 and AVX-512 kernels take rows in pairs).
    for (auto [h, w] : std::vector<std::pair<int, int>>{
             {1, 1}, {3, 37}, {65, 129}, {200, 641}, {2, 31}, {5, 57}, {4, 63}, {7, 16}, {6, 96}}) {
        const std::string name = std::to_string(h) + "x" + std::to_string(w);
        cv::Mat u8 = ferx_test::random_mat<std::uint8_t>(h, w, CV_8U, ++seed);
        compare_isas_sum_only(u8, name + " u8/i32");
        cv::Mat white(h, w, CV_8U, cv::Scalar(255));  // the largest 16-bit partial sums
        compare_isas_sum_only(white, name + " u8/i32 all 255");
        compare_isas<std::uint8_t, std::int32_t, double>(u8, name + " u8/i32");
        compare_isas<std::uint8_t, float, float>(u8, name + " u8/f32");
        compare_isas<std::uint8_t, double, double>(u8, name + " u8/f64");
        compare_isas<std::uint8_t, std::int64_t, double>(u8, name + " u8/i64");
        cv::Mat u16 = ferx_test::random_mat<std::uint16_t>(h, w, CV_16U, ++seed);
        compare_isas<std::uint16_t, double, double>(u16, name + " u16/f64");
        compare_isas<std::uint16_t, float, float>(u16, name + " u16/f32");
        cv::Mat s16 = ferx_test::random_mat<std::int16_t>(h, w, CV_16S, ++seed);
        compare_isas<std::int16_t, double, double>(s16, name + " s16/f64");
    }
}

BOOST_AUTO_TEST_CASE(batches_equal_their_frames_one_by_one) {
    std::vector<cv::Mat> frames;
    for (int i = 0; i < 5; ++i) frames.push_back(ferx_test::random_mat<std::uint8_t>(130, 47, CV_8U, 50 + i));
    const auto clip = ferx::to_volume<std::uint8_t>(frames);
    for (std::size_t threads : {2u, 8u}) {  // frames >= threads: frame-parallel; else band-parallel
        ferx::thread_pool pool(threads);
        const auto seq = ferx::integrals(ferx::exec::seq, ferx::view(clip));
        const auto par = ferx::integrals(ferx::exec::par.on(pool), ferx::view(clip));
        BOOST_TEST(seq.sum.shape()[0] == 5u);
        BOOST_TEST(seq.sum.shape()[1] == 131u);
        BOOST_TEST(seq.sum.shape()[2] == 48u);
        for (int i = 0; i < 5; ++i) {
            const auto one = ferx::integrals(ferx::exec::seq, ferx::view<std::uint8_t>(std::as_const(frames[static_cast<std::size_t>(i)])));
            BOOST_TEST(ferx::to_tensor(ferx::view(seq.sum)[i]) == one.sum);
            BOOST_TEST(ferx::to_tensor(ferx::view(seq.sqsum)[i]) == one.sqsum);
            BOOST_TEST(ferx::to_tensor(ferx::view(seq.tilted)[i]) == one.tilted);
        }
        BOOST_TEST(par.sum == seq.sum);
        BOOST_TEST(par.sqsum == seq.sqsum);
        BOOST_TEST(par.tilted == seq.tilted);
    }
}

BOOST_AUTO_TEST_CASE(convenience_overloads_and_default_types) {
    ferx::image<std::uint8_t> img({3, 4});
    for (std::size_t i = 0; i < img.size(); ++i) img.data()[i] = static_cast<std::uint8_t>(i + 1);
    auto s = ferx::integral(ferx::exec::seq, img);  // uint8 -> int32, as cv::integral
    static_assert(std::is_same<decltype(s), ferx::image<std::int32_t>>::value, "int32 default");
    BOOST_TEST(s(3, 4) == 78);  // 1 + ... + 12
    BOOST_TEST(s(2, 2) == 1 + 2 + 5 + 6);
    ferx::image<float> fimg({2, 2});
    fimg.fill(0.5f);
    auto fs = ferx::integral(ferx::exec::par, fimg);  // float -> double by default
    static_assert(std::is_same<decltype(fs), ferx::image<double>>::value, "double default");
    BOOST_TEST(fs(2, 2) == 2.0);
    // box sums from the integral image
    BOOST_TEST(ferx::box_sum<std::int32_t>(ferx::view(std::as_const(s)), 1, 1, 3, 3) == 6 + 7 + 10 + 11);
    // only the parts asked for are computed
    auto parts = ferx::integrals(ferx::exec::seq, ferx::view(img), ferx::integral_parts::sum_tilted);
    BOOST_TEST(parts.sqsum.size() == 0u);
    BOOST_TEST(parts.tilted.size() == 20u);
}

BOOST_AUTO_TEST_CASE(bad_input_raises_ferx_error) {
    ferx::image<std::uint8_t> empty({0, 0});
    BOOST_CHECK_THROW(ferx::integral(ferx::exec::seq, empty), ferx::error);
    BOOST_CHECK_THROW(ferx::integral(ferx::exec::par, ferx::image_view<const std::uint8_t>{}), ferx::error);

    ferx::image<std::uint8_t> img({10, 12});
    img.fill(1);
    ferx::image<std::int32_t> wrong({10, 12});  // must be 11 x 13
    BOOST_CHECK_THROW(ferx::integral(ferx::exec::seq, ferx::view(img), ferx::view(wrong)), ferx::error);
    ferx::image<std::int32_t> sum({11, 13});
    ferx::image<double> wrong_sq({11, 12});
    BOOST_CHECK_THROW(ferx::integral(ferx::exec::seq, ferx::view(img), ferx::view(sum), ferx::view(wrong_sq)),
                      ferx::error);
    try {
        ferx::integral(ferx::exec::seq, ferx::view(img), ferx::view(wrong));
    } catch (const ferx::error& e) {
        BOOST_TEST(e.where() == "ferx::integral");
        BOOST_TEST(std::string(e.what()).find("1x11x13") != std::string::npos, e.what());
    }
    // columns that are not packed
    ferx::image_view<const std::uint8_t> strided(img.data(), {5, 6}, {24, 2});
    ferx::image<std::int32_t> out({6, 7});
    BOOST_CHECK_THROW(ferx::integral(ferx::exec::seq, strided, ferx::view(out)), ferx::error);
    // unsupported pixel type arriving at run time, through a cv::Mat
    cv::Mat f(8, 8, CV_32F, cv::Scalar(0));
    BOOST_CHECK_THROW(ferx::integral(ferx::exec::seq, ferx::view<std::uint8_t>(f)), ferx::error);
}

BOOST_AUTO_TEST_CASE(int32_sums_that_could_overflow_are_refused_and_wider_types_work) {
    // 3000 x 3000 x 255 > 2^31 - 1: refused for int32, computed exactly in int64 and double.
    ferx::image<std::uint8_t> big({3000, 3000});
    big.fill(255);
    try {
        ferx::integral<std::int32_t>(ferx::exec::seq, big);
        BOOST_FAIL("an int32 sum of a 3000x3000 8-bit image was not refused");
    } catch (const ferx::error& e) {
        BOOST_TEST(std::string(e.what()).find("overflow") != std::string::npos, e.what());
    }
    const auto s64 = ferx::integral<std::int64_t>(ferx::exec::par, big);
    BOOST_TEST(s64(3000, 3000) == std::int64_t{3000} * 3000 * 255);
    const auto sd = ferx::integral<double>(ferx::exec::seq, big);
    BOOST_TEST(sd(3000, 3000) == 3000.0 * 3000.0 * 255.0);
    // the largest frame the documented bound admits: 4K UHD
    ferx::image<std::uint8_t> uhd({2160, 3840});
    uhd.fill(255);
    const auto s32 = ferx::integral(ferx::exec::seq, uhd);
    BOOST_TEST(s32(2160, 3840) == 2160 * 3840 * 255);
    // 16-bit sources overflow int32 much sooner
    ferx::image<std::uint16_t> u16({200, 200});
    BOOST_CHECK_THROW(ferx::integral<std::int32_t>(ferx::exec::seq, u16), ferx::error);
}

BOOST_AUTO_TEST_SUITE_END()
