// integral_image: integral images of a real photograph, and what they are for.
//
//   integral_image [image] [--out blurred.png] [--box 31] [--threads N]
//
// Reads an image as grey (default: OpenCV's sample photograph messi5.jpg from Debian's
// opencv-doc), computes its sum, squared-sum and tilted integral images with ferx::exec::seq and
// ferx::exec::par, checks that both agree, then uses the sum and squared sum to compute a box
// mean filter and the local standard deviation (the variance normalisation of Viola-Jones
// windows) in O(1) per pixel, and writes the box-filtered image.
#include <ferx/core/opencv.hpp>
#include <ferx/detect/integral.hpp>

#include <opencv2/imgproc.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>

namespace {

const char* default_image = "/usr/share/doc/opencv-doc/examples/data/messi5.jpg";

template <class F>
double time_ms(F&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

int usage(const char* argv0) {
    std::cerr << "usage: " << argv0 << " [image] [--out blurred.png] [--box N] [--threads N]\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::string path = default_image, out_path = "integral_image_box_mean.png";
    int box = 31;
    std::size_t threads = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if ((a == "--out" || a == "--box" || a == "--threads") && i + 1 >= argc) return usage(argv[0]);
        if (a == "--out")
            out_path = argv[++i];
        else if (a == "--box")
            box = std::atoi(argv[++i]);
        else if (a == "--threads")
            threads = static_cast<std::size_t>(std::atoi(argv[++i]));
        else if (a == "-h" || a == "--help")
            return usage(argv[0]);
        else
            path = a;
    }
    if (box < 1 || box % 2 == 0) {
        std::cerr << "--box must be a positive odd number\n";
        return 2;
    }
    try {
        const cv::Mat grey = ferx::read_image(path);
        const auto src = ferx::view<std::uint8_t>(grey);  // zero-copy
        std::cout << "image      " << path << " (" << grey.cols << "x" << grey.rows << ")\n";

        ferx::thread_pool pool(threads);
        ferx::integral_images<std::int32_t, double, 2> seq, par;
        const double t_seq = time_ms([&] { seq = ferx::integrals(ferx::exec::seq, src); });
        const double t_par = time_ms([&] { par = ferx::integrals(ferx::exec::par.on(pool), src); });
        const bool same = seq.sum == par.sum && seq.sqsum == par.sqsum && seq.tilted == par.tilted;
        std::cout << "integrals  sum + squared sum + tilted: seq " << t_seq << " ms, par (" << pool.size()
                  << " threads) " << t_par << " ms, identical: " << (same ? "yes" : "NO") << "\n";

        const auto h = static_cast<ferx::index_t>(grey.rows), w = static_cast<ferx::index_t>(grey.cols);
        const double n = double(h) * double(w);
        const auto sum = ferx::view(std::as_const(seq.sum));
        const auto sq = ferx::view(std::as_const(seq.sqsum));
        const double mean = ferx::box_sum(sum, 0, 0, h, w) / n;
        const double stddev = std::sqrt(ferx::box_sum(sq, 0, 0, h, w) / n - mean * mean);
        std::cout << "whole      mean " << mean << ", standard deviation " << stddev << "\n";

        // Box mean and local standard deviation, four lookups each per pixel (borders clipped).
        cv::Mat box_mean(grey.size(), CV_8U), local_sd(grey.size(), CV_32F);
        const ferx::index_t r = box / 2;
        for (ferx::index_t y = 0; y < h; ++y)
            for (ferx::index_t x = 0; x < w; ++x) {
                const ferx::index_t y0 = std::max<ferx::index_t>(0, y - r), y1 = std::min(h, y + r + 1);
                const ferx::index_t x0 = std::max<ferx::index_t>(0, x - r), x1 = std::min(w, x + r + 1);
                const double area = double(y1 - y0) * double(x1 - x0);
                const double m = ferx::box_sum(sum, y0, x0, y1, x1) / area;
                const double v = ferx::box_sum(sq, y0, x0, y1, x1) / area - m * m;
                box_mean.at<std::uint8_t>(int(y), int(x)) = cv::saturate_cast<std::uint8_t>(m);
                local_sd.at<float>(int(y), int(x)) = static_cast<float>(std::sqrt(std::max(0.0, v)));
            }
        // The same box mean from OpenCV, as a check (its border handling differs, so compare
        // the interior only).
        cv::Mat cv_mean;
        cv::blur(grey, cv_mean, cv::Size(box, box));
        const cv::Rect inner(box, box, std::max(0, grey.cols - 2 * box), std::max(0, grey.rows - 2 * box));
        const double diff = inner.area() > 0 ? cv::norm(box_mean(inner), cv_mean(inner), cv::NORM_INF) : 0.0;
        double sd_min = 0, sd_max = 0;
        cv::minMaxLoc(local_sd, &sd_min, &sd_max);
        std::cout << "box mean   " << box << "x" << box << ", max |ferx - cv::blur| inside the borders: " << diff
                  << " grey level(s)\n";
        std::cout << "local sd   " << box << "x" << box << " windows: from " << sd_min << " to " << sd_max << "\n";
        ferx::write_image(out_path, box_mean, "integral_image");
        std::cout << "wrote      " << out_path << "\n";
        return same ? 0 : 1;
    } catch (const ferx::error& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
}
