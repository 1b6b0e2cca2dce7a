#include "certs/pem_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "certs/certificates.hpp"

namespace sevenport::certs {

namespace {

constexpr std::size_t max_pem_file_size = 1024 * 1024;

[[noreturn]] void throw_errno(const std::filesystem::path& path, std::string_view doing,
                              int error) {
  throw CertError(path.string() + ": " + std::string(doing) + ": " + std::strerror(error));
}

// Closes a descriptor on scope exit; keeps the error paths below short.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now and reports close()'s own error, which for a written file can be the write error.
  int close() {
    const int result = ::close(fd_);
    fd_ = -1;
    return result;
  }

 private:
  int fd_;
};

// Removes the temporary file of a failed write, then reports the failure.
[[noreturn]] void discard(const char* temp_name, const std::filesystem::path& path, int error) {
  ::unlink(temp_name);
  throw_errno(path, "cannot write", error);
}

}  // namespace

std::string read_pem_file(const std::filesystem::path& path) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw_errno(path, "cannot read", errno);
  std::string contents;
  char buffer[8192];
  for (;;) {
    const ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw_errno(path, "cannot read", errno);
    }
    if (got == 0) break;
    contents.append(buffer, static_cast<std::size_t>(got));
    if (contents.size() > max_pem_file_size) throw CertError(path.string() + ": too large");
  }
  return contents;
}

void write_pem_file(const std::filesystem::path& path, std::string_view contents, FileMode mode) {
  // Same directory as the target, so rename() is atomic; the dot keeps it out of plain listings.
  const std::string pattern =
      (path.parent_path() / ("." + path.filename().string() + ".XXXXXX")).string();
  std::vector<char> temp_name(pattern.begin(), pattern.end());
  temp_name.push_back('\0');
  // mkostemp creates the file mode 0600, so a key is never readable by others, not even before
  // the fchmod below.
  FileDescriptor fd(::mkostemp(temp_name.data(), O_CLOEXEC));
  if (fd.get() < 0) throw_errno(path, "cannot write", errno);

  if (::fchmod(fd.get(), static_cast<mode_t>(mode)) != 0) discard(temp_name.data(), path, errno);
  std::size_t written = 0;
  while (written < contents.size()) {
    const ssize_t put = ::write(fd.get(), contents.data() + written, contents.size() - written);
    if (put < 0) {
      if (errno == EINTR) continue;
      discard(temp_name.data(), path, errno);
    }
    written += static_cast<std::size_t>(put);
  }
  // Without fsync, a crash soon after the rename can leave an empty file under the final name.
  if (::fsync(fd.get()) != 0) discard(temp_name.data(), path, errno);
  if (fd.close() != 0) discard(temp_name.data(), path, errno);
  if (::rename(temp_name.data(), path.c_str()) != 0) discard(temp_name.data(), path, errno);
}

}  // namespace sevenport::certs
