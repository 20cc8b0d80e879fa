/// A small reader of NumPy `.npy` files (format 1.0 / 2.0 / 3.0, little-endian float32 '<f4' or
/// float64 '<f8', C order) for the tests that compare with references saved by NumPy.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace ferx_test {

/// The values (as float) and the shape of an array.
struct npy_array {
    std::vector<std::int64_t> shape;
    std::vector<float> values;
};

/// Reads `file`; std::runtime_error naming the file for anything but a C-order '<f4' / '<f8' array.
inline npy_array load_npy(const std::filesystem::path& file) {
    auto fail = [&](const std::string& why) { throw std::runtime_error("load_npy: " + why + " [file: " + file.string() + "]"); };
    std::ifstream in(file, std::ios::binary);
    if (!in) fail("cannot open");
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) fail("not a .npy file");
    const int major = static_cast<unsigned char>(bytes[6]);
    std::size_t header_len = 0, offset = 0;
    if (major == 1) {
        header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
        offset = 10;
    } else {
        if (bytes.size() < 12) fail("truncated header");
        for (int k = 0; k < 4; ++k) header_len |= static_cast<std::size_t>(static_cast<unsigned char>(bytes[8 + k])) << (8 * k);
        offset = 12;
    }
    if (offset + header_len > bytes.size()) fail("truncated header");
    const std::string header = bytes.substr(offset, header_len);
    offset += header_len;
    std::size_t item = 0;
    if (header.find("'descr': '<f4'") != std::string::npos) item = 4;
    else if (header.find("'descr': '<f8'") != std::string::npos) item = 8;
    else fail("only little-endian float32 and float64 arrays are read: " + header);
    if (header.find("'fortran_order': False") == std::string::npos) fail("Fortran order is not read");
    const auto open = header.find("'shape': (");
    if (open == std::string::npos) fail("no shape in the header");
    npy_array a;
    std::size_t i = open + 10;
    std::int64_t count = 1;
    while (i < header.size() && header[i] != ')') {
        if (header[i] >= '0' && header[i] <= '9') {
            std::int64_t v = 0;
            while (i < header.size() && header[i] >= '0' && header[i] <= '9') v = v * 10 + (header[i++] - '0');
            a.shape.push_back(v);
            count *= v;
        } else {
            ++i;
        }
    }
    if (bytes.size() - offset != static_cast<std::size_t>(count) * item) fail("the data does not match the shape");
    a.values.resize(static_cast<std::size_t>(count));
    for (std::size_t k = 0; k < a.values.size(); ++k) {
        if (item == 4) {
            std::memcpy(&a.values[k], bytes.data() + offset + 4 * k, 4);
        } else {
            double d;
            std::memcpy(&d, bytes.data() + offset + 8 * k, 8);
            a.values[k] = static_cast<float>(d);
        }
    }
    return a;
}

}  // namespace ferx_test
