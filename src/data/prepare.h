#pragma once
// `negatron prepare` as a library call: a table (JSONL/CSV/TSV/label/Parquet file) -> a dataset
// directory of tokenized shards. Rows are checked (malformed, missing key, empty text, invalid UTF-8,
// non-numeric label); each problem is reported as file:line (Parquet: file:row) and either fails the
// run or skips the row. The input is streamed in chunks of rows, each tokenized on all threads, and
// shards are written as they fill (data/dataset_writer.h: built in a temporary directory, published
// only when complete).
//
// On N ranks (mpirun) the input is split into N parts at record boundaries (data/input_split.h) and
// the result is the dataset one process writes, byte for byte: shard k holds good rows
// [k * shard_rows, (k + 1) * shard_rows) wherever they came from. Passes, each rank on its own part:
//   1. label scan (label type auto, or int without a map): LabelScan of every part, merged;
//   2. count: ranks 0..N-2 count their good rows (and report their bad ones), so rank r learns the
//      index g_r of its first row;
//   3. write: rank r writes the shards whose first row lies in its part, [g_r, g_r+1): it skips the
//      rows of a shard begun by an earlier rank and reads on into later parts to fill its last one.
// Every pass ends in run_collectively: a failure on any rank fails all ranks together, with the
// error of the lowest failing rank (the one a single process would have met first).
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "data/manifest.h"
#include "distributed/communicator.h"
#include "model/tokenizer.h"

namespace negatron::data {

struct PrepareOptions {
  std::string input;
  std::string output;
  /// Input format ("" = from the extension), header and encoding, as TextTableOptions.
  std::string format;
  bool has_header = true;
  std::string encoding = "utf-8";
  /// Text columns to keep, by input name ("0", "1", ... without a header), in output order.
  std::vector<std::string> columns;
  /// input name -> stored name.
  std::vector<std::pair<std::string, std::string>> renames;
  /// "" = no label column. Kind "auto": int64 if every value is an integer, else float32 if every
  /// value is a number, else int64 through a label map of the sorted distinct strings.
  std::string label_column;
  std::string label_type = "auto";
  /// JSON array of class names: label i is the i-th name (e.g. banking77 categories.json).
  std::string label_map_file;
  /// Float labels are multiplied by this (e.g. 0.2 maps STS-B scores 0..5 to 0..1).
  double label_scale = 1.0;
  int64_t max_seq_length = 0;  // tokens per text, specials included
  int64_t shard_rows = 100000;
  /// Input rows read, checked and tokenized at a time: the input is streamed, so memory is bounded
  /// by chunk_rows raw rows plus one shard of tokenized rows, whatever the input size.
  int64_t chunk_rows = 10000;
  bool keep_text = false;
  bool skip_bad_rows = false;  // --on-error skip
  int threads = 0;             // 0 = the cores divided among the ranks
  bool progress = true;
  nlohmann::json source;       // provenance recorded in the manifest
};

/// Teacher labels for a block of rows: texts[column][row] -> row-major float labels.
struct Teacher {
  LabelKind kind = LabelKind::kFloat32Vector;
  int64_t dimension = 0;
  std::string description;  // recorded in the manifest, e.g. "embedding of column 0 by <dir>"
  std::function<std::vector<float>(const std::vector<std::vector<std::string>>& texts)> label;
};

struct PrepareResult {
  int64_t rows = 0, skipped_rows = 0, shards = 0;
  double seconds = 0;
};

/// `teacher` (may be null) replaces the label column with teacher labels. Collective over `comm`:
/// every rank calls it with the same options. The result (rows, skipped rows, shards) is the whole
/// dataset's on every rank.
PrepareResult prepare_dataset(const PrepareOptions& options, const model::Tokenizer& tokenizer,
                              distributed::Communicator& comm, const Teacher* teacher = nullptr);
/// On this process alone.
PrepareResult prepare_dataset(const PrepareOptions& options, const model::Tokenizer& tokenizer,
                              const Teacher* teacher = nullptr);

}  // namespace negatron::data
