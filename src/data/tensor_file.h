#pragma once
// HDF5 files of named tensors (float32, float64 or int64, any rank; "a/b" names make groups): the
// inputs and outputs of `negatron loss`. Every HDF5 error comes back naming the file and dataset.
#include <ATen/ATen.h>

#include <memory>
#include <string>
#include <vector>

namespace negatron::data {

class TensorFileReader {
 public:
  explicit TensorFileReader(std::string path);
  ~TensorFileReader();
  bool has(const std::string& name) const;
  /// int64 for integer datasets, float64 for 8-byte floats, float32 for other floats.
  at::Tensor read(const std::string& name) const;
  /// group/0, group/1, ... while they exist (none: empty).
  std::vector<at::Tensor> read_numbered(const std::string& group) const;

 private:
  struct File;
  std::string path_;
  std::unique_ptr<File> file_;
};

/// Built in memory and published atomically by close() (data/hdf5_image.h); destroyed without
/// close(), nothing is written and `path` is left as it was.
class TensorFileWriter {
 public:
  explicit TensorFileWriter(std::string path);
  ~TensorFileWriter();
  /// Stored as float32 or int64 when it is one, else as float64.
  void write(const std::string& name, const at::Tensor& value);
  void close();

 private:
  struct File;
  std::string path_;
  std::unique_ptr<File> file_;
};

}  // namespace negatron::data
