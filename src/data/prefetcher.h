#pragma once
// Reads and collates this rank's batches on a background thread, a bounded window ahead of the
// consumer: memory is window x batch, never the dataset. Each batch carries the sampler state to
// store in a checkpoint taken after it; restoring that state resumes with the very next batch.
#include <ATen/ATen.h>

#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "data/dataset_reader.h"
#include "data/multi_dataset_sampler.h"
#include "model/transformer.h"

namespace negatron::data {

struct CollatedBatch {
  int dataset_index = 0;
  int64_t epoch = 0, step = 0;
  std::vector<int64_t> rows;                      // dataset rows, this rank's part
  std::vector<int64_t> rank_rows;                 // every rank's row count (SamplerBatch::rank_rows)
  std::vector<model::TokenBatch> columns;         // one per text column, right-padded
  at::Tensor labels;                              // int64 [b] | float32 [b] | float32 [b, d]; undefined if none
  std::vector<std::vector<std::string>> texts;    // [column][i], when asked for and stored
  nlohmann::json sampler_state;                   // state after this batch
};

struct PrefetchOptions {
  /// Batches read ahead of the consumer.
  int64_t window = 8;
  /// Also return raw texts (datasets prepared with --keep-text).
  bool with_text = false;
};

/// Reads and collates one batch (what the prefetch thread does); exposed for tests and tools.
CollatedBatch collate_batch(const DatasetReader& reader, const SamplerBatch& batch, int32_t pad_id, bool with_text);

class Prefetcher {
 public:
  /// readers[i] serves the sampler's dataset i; the sampler is owned and advanced by the thread.
  Prefetcher(MultiDatasetSampler sampler, std::vector<std::shared_ptr<const DatasetReader>> readers, int32_t pad_id,
             PrefetchOptions options = {});
  ~Prefetcher();
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  int64_t steps_per_epoch() const { return steps_per_epoch_; }
  /// Blocks until the next batch is ready; rethrows a reading error (naming the shard).
  CollatedBatch next();
  /// The state to checkpoint now: resuming from it continues after the last batch returned.
  nlohmann::json state() const { return state_; }

 private:
  void run();

  MultiDatasetSampler sampler_;
  std::vector<std::shared_ptr<const DatasetReader>> readers_;
  int32_t pad_id_;
  PrefetchOptions options_;
  int64_t steps_per_epoch_;
  nlohmann::json state_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<CollatedBatch> ready_;
  std::exception_ptr error_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace negatron::data
