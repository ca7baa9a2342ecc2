#pragma once
// Which candidates become a query's negatives: mine_hard_negatives' rules, one query at a time, in
// float32 as sentence-transformers computes them. Given the query's k = range_max + max_positives best
// corpus texts (exact_top_k.h order), drop padding, the query's own positives (unless
// include_positives), and candidates that fail the margins against its smallest positive score
// (absolute: score + absolute_margin > positive; relative: score > positive - |positive| * margin) or
// max_score / min_score; of the survivors, in order, keep ranks [range_min, range_max) and take the
// first num_negatives ("top") or num_negatives at random ("random", re-sorted best first). Missing
// negatives stay as score -inf, id -1, so every query gets exactly num_negatives slots.
#include <cstdint>
#include <random>
#include <vector>

#include "mining/mine_options.h"

namespace negatron::mining {

struct Negative {
  float score;
  int64_t id;  // corpus id; -1: none found
};

/// Candidates removed by each rule, over all queries (for the report mine_hard_negatives prints).
struct SelectionCounts {
  int64_t candidates = 0, absolute_margin = 0, relative_margin = 0, max_score = 0, min_score = 0;
};

struct QueryCandidates {
  const float* scores;          // k scores, best first
  const int64_t* ids;           // k corpus ids (-1: padding)
  int64_t k;
  const std::vector<int64_t>* positives;  // corpus ids of the query's positives
  float min_positive_score;     // the smallest of the query's positive scores
};

/// range_max: the resolved one (options.range_max or its default). `rng` is used by "random" only.
std::vector<Negative> select_negatives(const QueryCandidates& query, const MineOptions& options, int64_t range_max,
                                       std::mt19937_64& rng, SelectionCounts& counts);

/// options.range_max, or mine_hard_negatives' default for it.
int64_t resolved_range_max(const MineOptions& options, int64_t max_rows_per_anchor);

}  // namespace negatron::mining
