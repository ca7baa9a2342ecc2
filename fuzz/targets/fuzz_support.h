#pragma once
// Shared by the fuzz targets. A target calls a parser on the fuzzer's bytes and catches only
// negatron::Error, the one way negatron reports bad input: any other exception (a bare JSON or YAML
// library error, std::bad_alloc, std::out_of_range), a crash, a sanitizer report, a hang or a blown
// memory limit is a finding.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "common/check.h"

namespace negatron::fuzz {

/// A per-process scratch folder in /dev/shm (tmpfs), for parsers that take a path.
inline const std::string& scratch_folder() {
  static const std::string folder = [] {
    std::string base = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    std::string path = base + "/negatron-fuzz-" + std::to_string(::getpid());
    ::mkdir(path.c_str(), 0700);
    return path;
  }();
  return folder;
}

/// Writes `bytes` to scratch_folder()/name and returns the path.
inline std::string scratch_file(const std::string& name, std::string_view bytes) {
  const std::string path = scratch_folder() + "/" + name;
  FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) __builtin_trap();
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), file) != bytes.size()) __builtin_trap();
  std::fclose(file);
  return path;
}

template <typename F>
void expect_only_negatron_errors(F&& parse) {
  try {
    parse();
  } catch (const negatron::Error&) {
  }
}

}  // namespace negatron::fuzz
