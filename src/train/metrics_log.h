#pragma once
// Metrics as JSON lines (one object per log/eval event), written by rank 0 only, flushed per line
// so a crashed run keeps what it measured.
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

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
  std::ofstream out_;
};

}  // namespace negatron::train
