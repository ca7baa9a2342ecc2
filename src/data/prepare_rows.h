#pragma once
// The rows `negatron prepare` stores, read from one part of its input: records are read, their texts
// checked (empty, invalid UTF-8) and their labels parsed; a bad row is reported as file:line (which
// fails the run unless skipping) or, for a reader that is not the part's owner, dropped silently.
// Each part is read by one rank; the label kind and map need the labels of every part (LabelScan),
// which prepare.cpp merges across ranks.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "data/prepare.h"
#include "data/prepare_labels.h"
#include "data/text_table.h"

namespace negatron::data {

/// A part of the input: records starting in [begin, end) (end < 0: to the end of the file).
struct InputPart {
  InputPosition begin;
  int64_t end = -1;
};

/// Good rows with their parsed labels: int64 one per row, float `width` per row.
struct RowBlock {
  std::vector<InputRow> rows;
  std::vector<int64_t> int_labels;
  std::vector<float> float_labels;
};

class CheckedRows {
 public:
  /// Reads `part` of options.input; labels are parsed with `plan` (kind none: not at all). Bad rows
  /// go to `bad` (BadRows::silent: dropped without a word).
  CheckedRows(const PrepareOptions& options, const LabelPlan& plan, const InputPart& part, BadRows& bad);
  /// The next `count` good rows (fewer only at the end of the part).
  RowBlock next(size_t count);
  /// Reads past `count` good rows, `chunk` records at a time.
  void skip(int64_t count, size_t chunk);
  /// Where the next record starts: bytes (Parquet: rows), for progress.
  int64_t position() const { return reader_.position(); }

 private:
  const PrepareOptions& options_;
  LabelPlan plan_;
  BadRows& bad_;
  TextTableReader reader_;
  std::vector<size_t> text_index_;
  std::optional<size_t> label_index_;
  bool distinct_ = true;  // no input column is selected twice, so fields can be moved out
};

/// The reader options of `options` for one part (bad records go to `bad`).
TextTableOptions part_table_options(const PrepareOptions& options, const InputPart& part, BadRows& bad);

/// Labels of the good rows of `part` (LabelScan::add), for the label kind and map.
LabelScan scan_labels(const PrepareOptions& options, const InputPart& part, size_t chunk);

/// Values in the first label of `part` that parses as a list of numbers (0: none): float32_vector
/// labels take their dimension from the input's first such row.
int64_t first_vector_dimension(const PrepareOptions& options, const InputPart& part, size_t chunk);

}  // namespace negatron::data
