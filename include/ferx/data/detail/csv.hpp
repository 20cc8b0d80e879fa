/// \file ferx/data/detail/csv.hpp
/// A minimal CSV reader for dataset index files (plain comma-separated fields, no quoting, LF or
/// CRLF line ends), with errors that name the file and the line.
#pragma once

#include <ferx/core/error.hpp>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

FERX_NAMESPACE_BEGIN
namespace detail {

/// The fields of one CSV line (empty fields kept; a trailing CR removed).
inline std::vector<std::string> split_csv_line(std::string line) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
        const std::size_t comma = line.find(',', start);
        out.push_back(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return out;
}

/// Reads `file` line by line: checks that the header's first fields are `header`, then calls
/// `row(fields, line_number)` (1-based, the header is line 1) for each non-empty line whose
/// field count must be at least `header.size()` (exactly, if `exact`).
template <class Row>
void read_csv(const std::filesystem::path& file, const std::vector<std::string>& header, bool exact,
              const char* where, Row&& row) {
    if (!std::filesystem::is_regular_file(file)) throw error(where, "the CSV file does not exist", file.string());
    std::ifstream in(file);
    if (!in) throw error(where, "cannot open the CSV file", file.string());
    std::string line;
    if (!std::getline(in, line)) throw error(where, "the CSV file is empty (no header line)", file.string());
    const auto head = split_csv_line(line);
    bool ok = head.size() >= header.size() && (!exact || head.size() == header.size());
    for (std::size_t i = 0; ok && i < header.size(); ++i) ok = head[i] == header[i];
    if (!ok) {
        std::string want;
        for (const auto& h : header) want += (want.empty() ? "" : ",") + h;
        throw error(where, "line 1: the header must be '" + want + "'", file.string());
    }
    std::size_t number = 1;
    while (std::getline(in, line)) {
        ++number;
        if (line.empty() || line == "\r") continue;
        const auto fields = split_csv_line(line);
        if (fields.size() < header.size() || (exact && fields.size() != header.size()))
            throw error(where, "line " + std::to_string(number) + ": " + std::to_string(fields.size()) +
                                   " fields, expected " + std::to_string(header.size()),
                        file.string());
        row(fields, number);
    }
    if (in.bad()) throw error(where, "read error", file.string());
}

/// Parses a whole non-negative decimal integer field; false if it is not one.
inline bool parse_int(const std::string& s, int& out) {
    if (s.empty() || s.size() > 9) return false;
    int v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    out = v;
    return true;
}

}  // namespace detail
FERX_NAMESPACE_END
