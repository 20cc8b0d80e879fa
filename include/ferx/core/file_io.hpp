/// \file ferx/core/file_io.hpp
/// Files that are never half-written: every file ferx writes (model files, reports, CSV and JSON,
/// images, flow files) goes through `atomic_file`, which writes a temporary file in the target's
/// folder and renames it over the target only when every byte has been written, flushed and
/// synced. A failure part-way (a full disk, a file-size limit, an exception thrown by the code
/// producing the content, Ctrl-C) leaves the target as it was: an existing model survives a
/// failed save byte for byte, and no partial file appears under the target's name.
///
///     ferx::atomic_file f("report.csv", "my_program");
///     f.stream() << "a,b\n" << 1 << ',' << 2 << '\n';
///     f.commit();  // report.csv appears (or is replaced) here, complete; ferx::error if not
///
///     ferx::write_file_atomically("model.ferx", text, "my_program");
///
/// The temporary file is `.<name>.<pid>-<n>.tmp` beside the target (the same folder, so the
/// rename stays on one file system and is atomic on POSIX); it is removed when the write fails
/// or the `atomic_file` is destroyed without `commit`. A replaced file keeps its permission bits;
/// a new one gets the process's default (0666 less the umask). A process killed part-way can
/// leave its temporary file behind (never the target half-written); its name says what it is.
#pragma once

#include <ferx/core/config.hpp>
#include <ferx/core/error.hpp>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <ostream>
#include <streambuf>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#define FERX_HAS_POSIX_FILES 1
#else
#define FERX_HAS_POSIX_FILES 0
#endif

FERX_NAMESPACE_BEGIN

namespace detail {

/// An unbuffered streambuf over a C stream (whose own buffer does the buffering); the first
/// failed write is remembered, with its errno, and every later write is refused.
class cfile_streambuf : public std::streambuf {
public:
    explicit cfile_streambuf(std::FILE* f) : f_(f) {}
    bool failed() const noexcept { return error_ != 0; }
    int error_code() const noexcept { return error_; }
    void fail(int e) noexcept {
        if (error_ == 0) error_ = e != 0 ? e : EIO;
    }

protected:
    int_type overflow(int_type c) override {
        if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
        const char ch = traits_type::to_char_type(c);
        return xsputn(&ch, 1) == 1 ? c : traits_type::eof();
    }
    std::streamsize xsputn(const char* s, std::streamsize n) override {
        if (failed() || n <= 0) return failed() ? 0 : n;
        errno = 0;
        const std::size_t w = std::fwrite(s, 1, static_cast<std::size_t>(n), f_);
        if (w != static_cast<std::size_t>(n)) fail(errno);
        return static_cast<std::streamsize>(w);
    }
    int sync() override {
        if (failed()) return -1;
        errno = 0;
        if (std::fflush(f_) != 0) fail(errno);
        return failed() ? -1 : 0;
    }

private:
    std::FILE* f_;
    int error_ = 0;
};

inline std::string errno_text(int e) { return e != 0 ? std::string(std::strerror(e)) : std::string("unknown error"); }

}  // namespace detail

/// An output file that appears under its name only when complete (see the file comment).
/// Neither copyable nor movable (the stream it hands out points into it).
class atomic_file {
public:
    /// Creates the temporary file beside `path`; ferx::error (naming `where` and `path`) when the
    /// folder does not exist or is not writable. `where` names the caller in every error.
    explicit atomic_file(std::string path, std::string where = "ferx::atomic_file")
        : path_(std::move(path)), where_(std::move(where)) {
        if (path_.empty()) throw error(where_, "the output file name is empty");
        const std::filesystem::path target(path_);
        if (target.filename().empty()) throw error(where_, "the output path names a folder, not a file", path_);
        const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
        static std::atomic<unsigned long> counter{0};
        for (int attempt = 0; attempt < 100 && file_ == nullptr; ++attempt) {
            const std::string name = "." + target.filename().string() + "." + std::to_string(process_id()) + "-" +
                                     std::to_string(counter.fetch_add(1)) + ".tmp";
            temp_ = (dir / name).string();
            errno = 0;
            file_ = std::fopen(temp_.c_str(), "wbx");  // "x": fails when the name exists (C11)
            if (file_ == nullptr && errno != EEXIST)
                throw error(where_, "cannot create a file in the output folder (" + detail::errno_text(errno) + ")",
                            path_);
        }
        if (file_ == nullptr) throw error(where_, "cannot find a free temporary name in the output folder", path_);
        buf_ = std::make_unique<detail::cfile_streambuf>(file_);
        stream_ = std::make_unique<std::ostream>(buf_.get());
    }

    atomic_file(const atomic_file&) = delete;
    atomic_file& operator=(const atomic_file&) = delete;

    /// Not committed: the temporary file is removed and the target left as it was.
    ~atomic_file() { discard(); }

    /// The stream the content goes to (binary: bytes are written as given).
    std::ostream& stream() {
        if (committed_ || file_ == nullptr) throw error(where_, "the file was already committed or discarded", path_);
        return *stream_;
    }

    /// Appends raw bytes.
    void write(std::string_view bytes) { stream().write(bytes.data(), static_cast<std::streamsize>(bytes.size())); }

    /// Flushes, syncs and closes the temporary file and renames it over the target. ferx::error
    /// naming the file and the system's reason when any step fails; the target is then untouched
    /// and the temporary file removed.
    void commit() {
        if (committed_ || file_ == nullptr) throw error(where_, "the file was already committed or discarded", path_);
        stream_->flush();
        if (buf_->failed()) fail_and_throw("cannot write the file", buf_->error_code());
#if FERX_HAS_POSIX_FILES
        if (::fsync(::fileno(file_)) != 0 && errno != EINVAL && errno != EROFS) fail_and_throw("cannot sync the file", errno);
        keep_mode();
#endif
        std::FILE* f = std::exchange(file_, nullptr);
        errno = 0;
        if (std::fclose(f) != 0) fail_and_throw("cannot close the file", errno);
        std::error_code ec;
        std::filesystem::rename(temp_, path_, ec);
        if (ec) fail_and_throw("cannot rename the finished file over the target (" + ec.message() + ")", 0);
        committed_ = true;
        temp_.clear();
#if FERX_HAS_POSIX_FILES
        sync_folder();
#endif
    }

    /// Drops what was written: removes the temporary file (the target stays as it was).
    void discard() noexcept {
        if (file_ != nullptr) {
            std::fclose(file_);
            file_ = nullptr;
        }
        if (!committed_ && !temp_.empty()) {
            std::error_code ec;
            std::filesystem::remove(temp_, ec);
            temp_.clear();
        }
    }

    const std::string& path() const noexcept { return path_; }
    /// The temporary file's name (empty once committed or discarded).
    const std::string& temporary_path() const noexcept { return temp_; }

private:
    static long process_id() {
#if FERX_HAS_POSIX_FILES
        return static_cast<long>(::getpid());
#else
        return 0;
#endif
    }

    [[noreturn]] void fail_and_throw(const std::string& what, int e) {
        discard();
        throw error(where_, e != 0 ? what + " (" + detail::errno_text(e) + ")" : what, path_);
    }

#if FERX_HAS_POSIX_FILES
    // A replaced file keeps its permission bits (the temporary file was created 0666 & ~umask).
    void keep_mode() {
        struct stat st {};
        if (::stat(path_.c_str(), &st) == 0) ::fchmod(::fileno(file_), st.st_mode & 07777);
    }
    // The rename is durable once the folder's entry is on disk; best effort (some file systems
    // refuse to sync a folder, which loses nothing but durability across a power cut).
    void sync_folder() const noexcept {
        const std::filesystem::path target(path_);
        const std::string dir = target.has_parent_path() ? target.parent_path().string() : std::string(".");
        const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
            (void)::fsync(fd);
            ::close(fd);
        }
    }
#endif

    std::string path_, where_, temp_;
    std::FILE* file_ = nullptr;
    std::unique_ptr<detail::cfile_streambuf> buf_;
    std::unique_ptr<std::ostream> stream_;
    bool committed_ = false;
};

/// Writes `bytes` to `path` through an `atomic_file`: the target is replaced only when the whole
/// content is on disk. ferx::error naming `where`, the file and the reason when it fails.
inline void write_file_atomically(const std::string& path, std::string_view bytes,
                                  const std::string& where = "ferx::write_file_atomically") {
    atomic_file f(path, where);
    f.write(bytes);
    f.commit();
}

FERX_NAMESPACE_END
