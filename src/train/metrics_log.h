#pragma once
// Metrics as JSON lines (one object per log/eval event), written by rank 0 only, each line written
// through at once so a crashed run keeps what it measured. The file only ever holds whole lines: a
// failed write (full disk) is cut off again and reported naming the file (common/atomic_file.h).
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/atomic_file.h"

namespace negatron::train {

class MetricsLog {
 public:
  /// Appends to `path` (rank 0); other ranks write nothing.
  MetricsLog(const std::string& path, bool enabled);
  void write(const nlohmann::json& record);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool enabled_;
  std::unique_ptr<AppendFile> out_;
};

}  // namespace negatron::train
