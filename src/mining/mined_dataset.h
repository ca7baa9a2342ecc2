#pragma once
// The rows `negatron mine` outputs, as corpus/query ids (texts are looked up when a shard is written),
// and their writing as a prepared dataset: shard k by rank k mod N, through DatasetWriter.
#include <cstdint>
#include <string>
#include <vector>

#include "data/manifest.h"
#include "distributed/communicator.h"
#include "mining/mining_data.h"
#include "mining/negative_selection.h"
#include "model/tokenizer.h"

namespace negatron::mining {

/// One query's outcome: its positives' scores (in MiningData::positives order) and its negatives.
struct QueryNegatives {
  std::vector<float> positive_scores;
  std::vector<Negative> negatives;
};

/// Output rows: row r is query[r], positive[r], negatives[r * width .. (r + 1) * width), and (with
/// scores) scores[r * (width + 1) ..] = positive score, negative scores.
struct MinedRows {
  int64_t width = 1;  // negatives per row: 1 (triplet) or num_negatives (n-tuple)
  std::vector<int64_t> query, positive, negatives;
  std::vector<float> scores;
  int64_t missing = 0;  // triplet: negative slots left empty; n-tuple: (query, positive) pairs dropped
  int64_t rows() const { return static_cast<int64_t>(query.size()); }
};

/// mine_hard_negatives' rows, in its order: queries, their positives, then (triplet) the negatives
/// that were found, best first; n-tuples only where all num_negatives were found.
MinedRows assemble_rows(const MiningData& data, const std::vector<QueryNegatives>& outcome, const MineOptions& options);

/// The dataset's columns: anchor, positive, negative | negative_1..n, and the "scores" label.
data::DatasetManifest mined_layout(const MiningData& data, const MineOptions& options, const model::Tokenizer& tokenizer,
                                   int64_t max_seq_length);

/// Collective: writes `rows` to options.output (shard k by rank k mod N) and publishes it.
data::DatasetManifest write_mined_dataset(const MinedRows& rows, const MiningData& data, const data::DatasetManifest& layout,
                                          const MineOptions& options, const model::Tokenizer& tokenizer,
                                          distributed::Communicator& comm);

}  // namespace negatron::mining
