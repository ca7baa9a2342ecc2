#pragma once
// Options of `negatron mine`, named after sentence-transformers' mine_hard_negatives
// (sentence_transformers/util/hard_negatives.py) wherever they mean the same, with its defaults.
#include <cstdint>
#include <optional>
#include <string>

namespace negatron::mining {

struct MineOptions {
  // Input: a table of (anchor, positive) rows, read like `negatron prepare`'s input.
  std::string input;
  std::string format;  // "" = from the extension
  bool has_header = true;
  std::string encoding = "utf-8";
  /// ST: the first and second columns when not given (JSONL has no column order: give them).
  std::string anchor_column_name, positive_column_name;
  /// Extra candidate negatives besides the dataset's positives (ST `corpus`), and its text column.
  std::string corpus;
  std::string corpus_column;
  bool skip_bad_rows = false;  // --on-error skip

  std::string model;
  /// Candidates are ranks [range_min, range_max) of the closest corpus texts that survive the
  /// filters below. range_max unset: range_min + num_negatives + max positives per anchor, plus
  /// 9 * num_negatives when a margin or max_score is given (as ST).
  int64_t range_min = 0;
  std::optional<int64_t> range_max;
  std::optional<double> max_score, min_score, absolute_margin, relative_margin;
  int64_t num_negatives = 3;
  std::string sampling_strategy = "top";  // top | random
  uint64_t seed = 12345;                  // random: query q draws from its own generator (seed, q)
  bool include_positives = false;         // forces output_format n-tuple, as ST
  std::string output_format = "triplet";  // triplet | n-tuple
  bool output_scores = false;             // adds a float32_vector label "scores": [positive, negatives...]

  int64_t batch_size = 32;           // texts per encoder forward
  int64_t max_seq_length = 0;        // 0: the model's
  /// Query-by-corpus scores held at once per rank; queries are scored in chunks that fit.
  int64_t score_memory_mb = 256;

  // Output: a prepared dataset, as `negatron prepare` writes it.
  std::string output;
  int64_t shard_rows = 100000;
  bool keep_text = false;
  int threads = 0;  // tokenizer threads per rank (0: the cores divided among the ranks)
  bool progress = true;
};

/// Throws naming the option for values mine_hard_negatives rejects (and the formats negatron lacks).
void validate(const MineOptions& options);

}  // namespace negatron::mining
