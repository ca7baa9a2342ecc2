#pragma once
// Metrics as JSON lines (one object per log/eval event), written by rank 0 only, each line written
// through at once so a crashed run keeps what it measured; optionally the same numbers as TensorBoard
// scalars. The file only ever holds whole lines: a failed write (full disk) is cut off again and
// reported naming the file (common/atomic_file.h).
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/atomic_file.h"

namespace negatron::report {

class TensorBoardWriter;

class MetricsLog {
 public:
  /// Appends to `path` (rank 0); other ranks write nothing. A non-empty `tensorboard_dir` adds a
  /// TensorBoard event file there.
  MetricsLog(const std::string& path, bool enabled, const std::string& tensorboard_dir = "");
  ~MetricsLog();
  /// A record {"type": T, "step": S, ...}: one JSON line, and every numeric field as the scalar
  /// "T/<field>" ("train/loss/<dataset>" for a train record's loss) at step S.
  void write(const nlohmann::json& record);
  const std::string& path() const { return path_; }
  /// The TensorBoard event file ("" when none is written).
  std::string tensorboard_path() const;

 private:
  void write_scalars(const nlohmann::json& record);

  std::string path_;
  bool enabled_;
  std::unique_ptr<AppendFile> out_;
  std::unique_ptr<TensorBoardWriter> tensorboard_;
  std::map<std::string, int64_t> last_step_of_tag_;  // per-dataset records repeat the shared fields
};

}  // namespace negatron::report
