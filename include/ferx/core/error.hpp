/// \file ferx/core/error.hpp
/// `ferx::error`: the one exception type ferx throws for bad input and failed calls.
#pragma once

#include <ferx/core/config.hpp>

#include <stdexcept>
#include <string>
#include <utility>

FERX_NAMESPACE_BEGIN

/// Raised for every user-facing failure: bad arguments, malformed files, CUDA errors.
/// `what()` reads "where: reason [file: path]"; the parts are also available one by one.
class error : public std::runtime_error {
public:
    /// \param where  the function or component at fault, e.g. "ferx::integral"
    /// \param reason what was wrong, as a sentence a user can act on
    /// \param file   the file involved, if any (a cascade, a model, an image)
    error(std::string where, std::string reason, std::string file = {})
        : std::runtime_error(compose(where, reason, file)),
          where_(std::move(where)),
          reason_(std::move(reason)),
          file_(std::move(file)) {}

    const std::string& where() const noexcept { return where_; }
    const std::string& reason() const noexcept { return reason_; }
    const std::string& file() const noexcept { return file_; }

private:
    static std::string compose(const std::string& where, const std::string& reason,
                               const std::string& file) {
        std::string msg = where.empty() ? reason : where + ": " + reason;
        if (!file.empty()) msg += " [file: " + file + "]";
        return msg;
    }

    std::string where_, reason_, file_;
};

namespace detail {
/// Checks user input in every build type (never compiled out, unlike assert).
inline void require(bool ok, const char* where, const std::string& reason) {
    if (!ok) throw error(where, reason);
}
}  // namespace detail

FERX_NAMESPACE_END
