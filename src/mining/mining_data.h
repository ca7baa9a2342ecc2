#pragma once
// The texts `negatron mine` works on, arranged as mine_hard_negatives arranges them:
//   queries   the distinct anchors, in order of first appearance;
//   corpus    the distinct texts of the corpus file followed by the dataset's positives
//             (ST: dict.fromkeys(corpus + positives)); without a corpus file, the positives alone;
//   positives per query, the distinct corpus ids of its rows' positives, in row order.
// Rows are read and checked like `negatron prepare`'s (an anchor without a positive, an empty text,
// invalid UTF-8 are bad rows: an error naming file, line and column, or skipped with --on-error skip).
#include <cstdint>
#include <string>
#include <vector>

#include "mining/mine_options.h"

namespace negatron::mining {

struct MiningData {
  std::vector<std::string> queries, corpus;
  std::vector<std::vector<int64_t>> positives;  // [query] -> corpus ids
  /// ST's max_positives: dataset rows (not distinct positives) of the most frequent anchor.
  int64_t max_rows_per_anchor = 0;
  int64_t rows = 0, skipped_rows = 0;
  std::string anchor_column, positive_column;
};

/// Reads options.input (and options.corpus). `report_bad_rows` false: bad rows are dropped without
/// a word and never fail (for ranks other than the one that reports them).
MiningData read_mining_data(const MineOptions& options, bool report_bad_rows);

}  // namespace negatron::mining
