// Linked into the GPU kit's binaries only (.ci/gpu-kit/kit.cmake): the kit carries no
// imgcodecs (nor its codecs and their dependencies), so cv::imread is defined here as a reader
// of the binary PGM (P5) files that the kit build wrote from the real images with OpenCV's own
// cv::imread(..., IMREAD_GRAYSCALE) (ferx_kit_predecode). Kit files keep their original names
// (faces/angry.jpg holds PGM bytes) so the folder listings of the tests stay as they are. Every
// image the CUDA tests and benchmarks read is read grey; a colour read returns an empty cv::Mat
// with a message (the kit holds no colour pixels), as does any file that is not PGM.
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <string>

namespace {

bool read_token(std::istream& in, std::string& tok) {
    tok.clear();
    int c;
    while ((c = in.get()) != EOF) {
        if (c == '#') {
            while ((c = in.get()) != EOF && c != '\n') {}
        } else if (!std::isspace(c)) {
            tok.push_back(static_cast<char>(c));
            break;
        }
    }
    while ((c = in.peek()) != EOF && !std::isspace(c)) tok.push_back(static_cast<char>(in.get()));
    return !tok.empty();
}

cv::Mat fail(const std::string& file, const char* why) {
    std::fprintf(stderr, "ferx GPU kit: cv::imread('%s'): %s\n", file.c_str(), why);
    return {};
}

}  // namespace

namespace cv {

Mat imread(const String& filename, int flags) {
    std::ifstream in(filename, std::ios::binary);
    if (!in) return {};  // as OpenCV: an empty Mat for a missing file, no message
    std::string magic, w, h, maxval;
    if (!read_token(in, magic) || magic != "P5") return fail(filename, "not a binary PGM (P5) file");
    if (flags != IMREAD_GRAYSCALE) return fail(filename, "the kit holds grey pixels only (IMREAD_GRAYSCALE)");
    if (!read_token(in, w) || !read_token(in, h) || !read_token(in, maxval) || maxval != "255")
        return fail(filename, "bad PGM header (expected width, height, 255)");
    in.get();  // the single whitespace after maxval
    const int cols = std::stoi(w), rows = std::stoi(h);
    if (cols <= 0 || rows <= 0) return fail(filename, "bad PGM size");
    Mat m(rows, cols, CV_8U);
    in.read(reinterpret_cast<char*>(m.data), static_cast<std::streamsize>(m.total()));
    if (in.gcount() != static_cast<std::streamsize>(m.total())) return fail(filename, "truncated PGM");
    return m;
}

}  // namespace cv

// OpenCV core's OpenGL interop (never used by ferx's tests and benchmarks) references these GLX
// entry points; the kit carries no libGLX (and X11 below it), so they resolve here to "absent":
// no GL function, no current context or display.
extern "C" {
void (*glXGetProcAddressARB(const unsigned char*))() { return nullptr; }
void (*glXGetProcAddress(const unsigned char*))() { return nullptr; }
void* glXGetCurrentContext() { return nullptr; }
void* glXGetCurrentDisplay() { return nullptr; }
}
