#pragma once
// Steps over several datasets, each with its own BatchSampler (and, in the trainer, its own loss).
// At every step all ranks draw from the same dataset, so gathered batches never mix sources,
// columns or losses. One dataset is the plain case (dataset_index is always 0).
//   ROUND_ROBIN   datasets in turn; the epoch ends when the dataset with the fewest batches is
//                 exhausted: steps = datasets * min(steps_i).
//   PROPORTIONAL  every batch of every dataset once per epoch, in an order shuffled by
//                 (seed, epoch): steps = sum(steps_i), so datasets are drawn in proportion to size.
// Sub-sampler i runs its own epoch e while the multi-dataset epoch is e.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/batch_sampler.h"

namespace negatron::data {

enum class MultiDatasetKind { kRoundRobin, kProportional };
/// "ROUND_ROBIN" or "PROPORTIONAL" (case-insensitive).
MultiDatasetKind parse_multi_dataset_kind(const std::string& name);
std::string multi_dataset_kind_name(MultiDatasetKind kind);

class MultiDatasetSampler {
 public:
  MultiDatasetSampler(std::vector<std::shared_ptr<BatchSampler>> samplers,
                      MultiDatasetKind kind = MultiDatasetKind::kProportional, uint64_t seed = 0);

  /// Known before the epoch starts, equal on every rank.
  int64_t steps_per_epoch() const { return steps_per_epoch_; }
  size_t datasets() const { return samplers_.size(); }
  /// Which dataset global step `step` of `epoch` draws from, and that dataset's own step.
  std::pair<int, int64_t> schedule(int64_t epoch, int64_t step);
  SamplerBatch batch(int64_t epoch, int64_t step);

  SamplerBatch next();
  SamplerPosition position() const { return position_; }
  nlohmann::json state() const;
  void restore(const nlohmann::json& state);

 private:
  void build_proportional_schedule(int64_t epoch);

  std::vector<std::shared_ptr<BatchSampler>> samplers_;
  MultiDatasetKind kind_;
  uint64_t seed_;
  int64_t steps_per_epoch_ = 0;
  SamplerPosition position_;
  int64_t schedule_epoch_ = -1;
  std::vector<std::pair<int, int64_t>> schedule_;  // PROPORTIONAL: (dataset, its step) per step
};

}  // namespace negatron::data
