#pragma once
// torch::save / torch::load of one value (optimizer state, an RNG state tensor), with negatron's error
// rules. torch's stream writer throws from its destructor when a write fails, which ends the process
// (std::terminate): so torch writes into AtomicFile's sink, which never fails, and commit() reports
// the first error naming the file. PyTorch's loader errors (corrupt, truncated or foreign files)
// are reported naming the file.
#include <c10/util/Exception.h>
#include <torch/serialize.h>
#include <sys/stat.h>

#include <string>

#include "common/atomic_file.h"
#include "common/check.h"

namespace negatron::train {

/// The first line of a PyTorch error (the rest is a C++ stack trace).
inline std::string torch_error_summary(const c10::Error& e) {
  const std::string message = e.what_without_backtrace();
  return message.substr(0, message.find('\n'));
}

template <typename T>
void save_torch_file(const T& value, const std::string& path) {
  AtomicFile file(path);
  torch::save(value, file.sink());
  file.commit();
}

template <typename T>
void load_torch_file(T& value, const std::string& path, const std::string& what) {
  struct stat info {};
  NEG_CHECK(::stat(path.c_str(), &info) == 0, path, " is missing (", what, ")");
  try {
    torch::load(value, path);
  } catch (const c10::Error& e) {
    NEG_FAIL(path, ": cannot read ", what, ": corrupt, truncated, or written for another model (",
             torch_error_summary(e), ")");
  }
}

}  // namespace negatron::train
