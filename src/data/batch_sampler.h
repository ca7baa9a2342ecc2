#pragma once
// Per-rank batch samplers. Every global batch has batch_size_global rows, split evenly: rank r
// gets rows [r * b, (r + 1) * b) of it, b = batch_size_global / world_size. The global batch is a
// function of (seed, epoch, step, dataset) only, never of the world size, so a run resumed on
// another number of ranks sees the same global batches. The ragged tail of an epoch is dropped
// (drop_last), so steps_per_epoch is known before the epoch starts and is the same on every rank.
//
// Kinds, as in sentence-transformers:
//   BATCH_SAMPLER   consecutive slices of the epoch's permutation.
//   NO_DUPLICATES   no text hash repeats inside a *global* batch; conflicting rows are deferred to
//                   later batches; the last batches may top up with rows already used this epoch.
//                   Sequential: batch(e, s) replays from the epoch start if asked out of order.
//   GROUP_BY_LABEL  rows of each label are paired in permutation order; a batch is
//                   batch_size_global / 2 pairs, so each label present has >= 2 rows (on every
//                   rank too, since the local batch size must be even).
// balance_tokens: instead of the r-th slice, rank r gets rows of the global batch chosen so that
// every rank computes about the same number of tokens (data/rank_balance.h; GROUP_BY_LABEL pairs
// move together). The global batch is the same; only its split over ranks changes.
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/permutation.h"

namespace negatron::data {

class DatasetReader;

enum class BatchSamplerKind { kBatchSampler, kNoDuplicates, kGroupByLabel };
/// "BATCH_SAMPLER", "NO_DUPLICATES", "GROUP_BY_LABEL" (case-insensitive).
BatchSamplerKind parse_batch_sampler_kind(const std::string& name);
std::string batch_sampler_kind_name(BatchSamplerKind kind);

struct SamplerOptions {
  BatchSamplerKind kind = BatchSamplerKind::kBatchSampler;
  uint64_t seed = 0;
  int64_t batch_size_global = 0;  // divisible by world_size
  int rank = 0;
  int world_size = 1;
  bool balance_tokens = false;  // needs SamplerSource::token_cost; a no-op at world size 1
  int64_t batch_size_local() const { return batch_size_global / world_size; }
};

/// What the data-dependent samplers need from a dataset (a DatasetReader, or a test double).
struct SamplerSource {
  int64_t rows = 0;
  /// NO_DUPLICATES: `width` text hashes per row, row-major, for the given rows.
  std::function<std::vector<uint64_t>(const std::vector<int64_t>&)> hashes;
  int64_t hash_width = 0;
  /// GROUP_BY_LABEL: the label of every row.
  std::function<std::vector<int64_t>()> labels;
  /// balance_tokens: the compute cost of each of the given rows (its token count).
  std::function<std::vector<int64_t>(const std::vector<int64_t>&)> token_cost;
};
/// token_cost = tokens summed over the text columns, each capped at `max_tokens_per_text` (the
/// model's max_seq_length: longer texts are truncated before they cost anything; 0 = no cap).
SamplerSource sampler_source(std::shared_ptr<const DatasetReader> reader, int64_t max_tokens_per_text = 0);

struct SamplerBatch {
  int dataset_index = 0;
  int64_t epoch = 0, step = 0;
  std::vector<int64_t> rows;  // this rank's rows of the global batch
  /// Every rank's row count in rank order: losses that gather across ranks take the layout from
  /// here instead of exchanging sizes.
  std::vector<int64_t> rank_rows;
};

/// Epoch and step of the next batch; the JSON a checkpoint stores.
struct SamplerPosition {
  int64_t epoch = 0, step = 0;
};

class BatchSampler {
 public:
  BatchSampler(SamplerSource source, SamplerOptions options);
  ~BatchSampler();

  int64_t steps_per_epoch() const { return steps_per_epoch_; }
  const SamplerOptions& options() const { return options_; }
  /// All ranks' rows of global batch (epoch, step), in rank order.
  std::vector<int64_t> global_batch(int64_t epoch, int64_t step);
  /// This rank's slice of global_batch(epoch, step).
  SamplerBatch batch(int64_t epoch, int64_t step);

  /// Sequential use: the batch at position(), then advance (rolling over to the next epoch).
  SamplerBatch next();
  SamplerPosition position() const { return position_; }
  nlohmann::json state() const;
  /// Continues exactly where state() was taken; rejects a state of another seed, kind, batch size.
  void restore(const nlohmann::json& state);

 private:
  std::vector<int64_t> group_by_label_batch(int64_t epoch, int64_t step);
  std::vector<int64_t> no_duplicates_batch(int64_t epoch, int64_t step);

  SamplerSource source_;
  SamplerOptions options_;
  int64_t steps_per_epoch_ = 0;
  SamplerPosition position_;
  struct GroupPlan;         // GROUP_BY_LABEL: the pair order of one epoch
  struct NoDuplicatesPlan;  // NO_DUPLICATES: the sequential generator of one epoch
  std::vector<int64_t> labels_;
  std::unique_ptr<GroupPlan> group_plan_;
  std::unique_ptr<NoDuplicatesPlan> no_duplicates_plan_;
};

nlohmann::json position_to_json(const SamplerPosition& position);
SamplerPosition position_from_json(const nlohmann::json& json, const std::string& origin);

}  // namespace negatron::data
