#pragma once
// Publishing files atomically. Every file negatron writes goes through AtomicFile (whole files) or
// AppendFile (logs): the bytes go to a temporary file in the destination's folder
// (".<name>.tmp-<pid>-<n>"), every write is checked, the file is fsynced and closed (checked), then
// renamed over the destination, and the folder is fsynced. A failure at any point throws an Error
// naming the destination and the OS error ("No space left on device", "File too large"), removes
// the temporary file and leaves whatever was at the destination untouched.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace negatron {

class AtomicFile {
 public:
  /// Creates the temporary file next to `path` (the folder must exist).
  explicit AtomicFile(std::string path);
  /// Without a successful commit(): closes and removes the temporary file. Never throws.
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t size);
  void write(std::string_view bytes) { write(bytes.data(), bytes.size()); }

  /// A writer for libraries that must not see an exception (torch::save's stream writer throws from
  /// its destructor, which ends the process): it always reports every byte as written, keeps the
  /// first error, and commit() throws it.
  std::function<size_t(const void*, size_t)> sink();

  /// fsync, close, rename over the destination, fsync the folder. Throws on any failure.
  void commit();

  const std::string& path() const { return path_; }
  int64_t bytes_written() const { return bytes_; }

 private:
  [[noreturn]] void fail(const std::string& what, int error);
  void discard() noexcept;

  std::string path_, temp_;
  int fd_ = -1;
  int64_t bytes_ = 0;
  std::string deferred_error_;  // first error seen by sink()
};

/// write_file_atomically(path, bytes): AtomicFile in one call.
void write_file_atomically(const std::string& path, std::string_view bytes);

/// A log that only ever holds whole records (metrics.jsonl): append() writes one record at the end
/// of the file; if the write fails, the partial record is cut off again (the file is as before) and
/// an Error names the file and the OS error.
class AppendFile {
 public:
  explicit AppendFile(std::string path);
  ~AppendFile();
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;

  void append(std::string_view record);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

/// Fails early (before long work) when `path` could not be written: empty, a folder, or in a folder
/// that does not exist or is not writable.
void check_writable_destination(const std::string& path);

/// fsync of a file or folder; throws naming it (folders on filesystems that cannot sync them pass).
void fsync_path(const std::string& path);

}  // namespace negatron
