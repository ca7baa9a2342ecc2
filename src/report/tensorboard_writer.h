#pragma once
// TensorBoard event files (training.report_to: [tensorboard]), in the format TensorBoard's readers
// expect: TFRecord framing (length, masked CRC-32C of the length, a serialized Event, masked
// CRC-32C of the Event), a first Event with file_version "brain.Event:2", then Events carrying
// scalar Summaries. Flushed per write, like metrics.jsonl, so a crashed run keeps its curves.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/atomic_file.h"

namespace negatron::report {

class TensorBoardWriter {
 public:
  /// Creates `log_dir` and a new events.out.tfevents.<seconds>.<host>.<pid> file in it.
  explicit TensorBoardWriter(const std::string& log_dir);
  /// One Event at `step` with every (tag, value) as a scalar.
  void add_scalars(int64_t step, const std::vector<std::pair<std::string, double>>& scalars);
  const std::string& path() const { return path_; }

 private:
  void write_event(const std::string& serialized);

  std::string path_;
  std::unique_ptr<AppendFile> out_;  // whole records only: a failed write is cut off again
};

}  // namespace negatron::report
