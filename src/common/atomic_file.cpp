#include "common/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/check.h"

namespace negatron {
namespace {

std::string folder_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string name_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

/// ".<name>.tmp-<pid>-<n>" in the destination's folder; the name is shortened so the temporary
/// name stays within NAME_MAX.
std::string temporary_name(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  const std::string folder = folder_of(path);
  const std::string name = name_of(path).substr(0, 200);
  return (path.find('/') == std::string::npos ? "" : folder + "/") + "." + name + ".tmp-" +
         std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

/// write(2) until done; returns 0 or the errno of the failure (a write of 0 bytes counts as ENOSPC).
int write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return ENOSPC;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return 0;
}

}  // namespace

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)), temp_(temporary_name(path_)) {
  NEG_CHECK(!path_.empty() && path_.back() != '/', "cannot write a file at '", path_, "': not a file name");
  fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd_ < 0) {
    const int error = errno;
    NEG_FAIL("cannot write ", path_, ": cannot create a file in ", folder_of(path_), " (", std::strerror(error), ")");
  }
}

AtomicFile::~AtomicFile() { discard(); }

void AtomicFile::discard() noexcept {
  if (fd_ >= 0) ::close(fd_);
  if (!temp_.empty()) ::unlink(temp_.c_str());
  fd_ = -1;
  temp_.clear();
}

void AtomicFile::fail(const std::string& what, int error) {
  discard();
  NEG_FAIL("cannot write ", path_, ": ", what, " (", std::strerror(error), "); the previous ", name_of(path_),
           ", if any, is unchanged");
}

void AtomicFile::write(const void* data, size_t size) {
  NEG_CHECK(fd_ >= 0, "cannot write ", path_, ": the file is already closed");
  const int error = write_all(fd_, static_cast<const char*>(data), size);
  if (error != 0) fail("write failed after " + std::to_string(bytes_) + " bytes", error);
  bytes_ += static_cast<int64_t>(size);
}

std::function<size_t(const void*, size_t)> AtomicFile::sink() {
  return [this](const void* data, size_t size) -> size_t {
    if (!deferred_error_.empty() || fd_ < 0) return size;
    const int error = write_all(fd_, static_cast<const char*>(data), size);
    if (error != 0) {
      deferred_error_ = "write failed after " + std::to_string(bytes_) + " bytes (" + std::strerror(error) + ")";
    } else {
      bytes_ += static_cast<int64_t>(size);
    }
    return size;
  };
}

void AtomicFile::commit() {
  NEG_CHECK(fd_ >= 0, "cannot write ", path_, ": the file is already closed");
  if (!deferred_error_.empty()) {
    const std::string message = deferred_error_;
    discard();
    NEG_FAIL("cannot write ", path_, ": ", message, "; the previous ", name_of(path_), ", if any, is unchanged");
  }
  if (::fsync(fd_) != 0) fail("fsync failed", errno);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail("close failed", errno);
  if (::rename(temp_.c_str(), path_.c_str()) != 0) fail("cannot rename " + temp_ + " over it", errno);
  temp_.clear();
  fsync_path(folder_of(path_));
}

void write_file_atomically(const std::string& path, std::string_view bytes) {
  AtomicFile file(path);
  file.write(bytes);
  file.commit();
}

AppendFile::AppendFile(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
  if (fd_ < 0) {
    const int error = errno;
    NEG_FAIL("cannot open ", path_, " for appending (", std::strerror(error), ")");
  }
}

AppendFile::~AppendFile() {
  if (fd_ >= 0) ::close(fd_);
}

void AppendFile::append(std::string_view record) {
  struct stat info {};
  if (::fstat(fd_, &info) != 0) {
    const int error = errno;
    NEG_FAIL("cannot append to ", path_, " (", std::strerror(error), ")");
  }
  const int error = write_all(fd_, record.data(), record.size());
  if (error == 0) return;
  const bool restored = ::ftruncate(fd_, info.st_size) == 0;
  NEG_FAIL("cannot append to ", path_, " (", std::strerror(error), ")",
           restored ? "; the partial record was removed, the earlier records are intact" : "");
}

void check_writable_destination(const std::string& path) {
  NEG_CHECK(!path.empty() && path.back() != '/', "cannot write a file at '", path, "': not a file name");
  struct stat info {};
  NEG_CHECK(::stat(path.c_str(), &info) != 0 || !S_ISDIR(info.st_mode), "cannot write ", path, ": it is a folder");
  const std::string folder = folder_of(path);
  NEG_CHECK(::stat(folder.c_str(), &info) == 0 && S_ISDIR(info.st_mode), "cannot write ", path, ": the folder ",
            folder, " does not exist");
  NEG_CHECK(::access(folder.c_str(), W_OK) == 0, "cannot write ", path, ": the folder ", folder, " is not writable (",
            std::strerror(errno), ")");
}

void fsync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    NEG_FAIL("cannot open ", path, " to fsync it (", std::strerror(error), ")");
  }
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  // Some filesystems cannot fsync a folder (EINVAL); the data itself was synced already.
  NEG_CHECK(rc == 0 || error == EINVAL || error == EROFS, "fsync of ", path, " failed (", std::strerror(error), ")");
}

}  // namespace negatron
