#pragma once
// HDF5 files are built in memory (the core driver, no backing store) and their bytes published with
// AtomicFile. HDF5 itself then never meets a disk error: on disk, a full disk makes H5Fclose fail,
// which HDF5 1.10 only prints (the C++ destructors swallow it) and which leaves a half-closed file
// id behind that the library's shutdown (H5close, at process exit) dereferences: SIGSEGV. Built in
// memory, a failure can only be ours, checked, naming the file and the OS error.
#include <H5Cpp.h>

#include <string>

namespace negatron::data {

class Hdf5Image {
 public:
  /// `checksummed_metadata`: the newest format versions, which checksum all metadata (shards).
  explicit Hdf5Image(bool checksummed_metadata = false);
  H5::H5File& file() { return file_; }
  /// Flushes and returns the whole file as bytes (the file stays open).
  std::string bytes();

 private:
  H5::H5File file_;
};

/// Writes the image's bytes to `path` atomically (common/atomic_file.h). HDF5 errors while building
/// it are reported naming `path`.
void publish_hdf5(Hdf5Image& image, const std::string& path);

}  // namespace negatron::data
