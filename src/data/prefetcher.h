#pragma once
// Reads and collates this rank's batches on a background thread, a bounded window ahead of the
// consumer: at most `window` batches and, past the first, at most `max_bytes` of them wait, so
// memory is a few batches (one or two at global batches of tens of thousands), never the dataset. Each batch carries the sampler state to
// store in a checkpoint taken after it; restoring that state resumes with the very next batch.
// Collation also records where each column's real tokens are (model::TokenLayout), so the encoder
// packs tokens without reading the device. For a GPU, the thread collates into pinned host memory and
// copies the batch with non_blocking copies on a side stream, so the copy overlaps the previous
// step's compute; next() orders the consumer's stream after that copy. On CPU nothing is copied.
#include <ATen/ATen.h>
#include <c10/core/Event.h>

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "data/dataset_reader.h"
#include "data/multi_dataset_sampler.h"
#include "model/batch.h"

namespace negatron::data {

struct CollatedBatch {
  int dataset_index = 0;
  int64_t epoch = 0, step = 0;
  std::vector<int64_t> rows;      // dataset rows, this rank's part
  model::Batch inputs;            // what the dataset's loss trains on, on the prefetcher's device
  nlohmann::json sampler_state;   // state after this batch
};

struct PrefetchOptions {
  /// Batches read ahead of the consumer, at most.
  int64_t window = 8;
  /// Also return raw texts (datasets prepared with --keep-text).
  bool with_text = false;
  /// Where next() delivers batches (a CUDA device: pinned buffers, copies on a side stream).
  at::Device device = at::kCPU;
  /// No further batch is read ahead while the waiting ones hold this many bytes (one always may wait).
  int64_t max_bytes = int64_t{64} << 20;
  /// checks[i] (if set) sees each host-side batch of dataset i before it is delivered (a loss's label
  /// values); what it throws fails next() with its message.
  std::vector<std::function<void(const CollatedBatch&)>> checks;
};

/// Reads and collates one batch on the host (what the prefetch thread does); exposed for tests and
/// tools. `pinned`: page-locked tensors, for non_blocking copies to a GPU.
CollatedBatch collate_batch(const DatasetReader& reader, const SamplerBatch& batch, int32_t pad_id, bool with_text,
                            bool pinned = false);

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
  /// Batches read ahead and waiting for next().
  int64_t waiting() const;

 private:
  struct Ready {
    CollatedBatch batch;
    int64_t bytes = 0;
    std::shared_ptr<c10::Event> copied;  // recorded on the copy stream after the batch's copies (GPU only)
  };
  void run();
  /// On the prefetch thread: the batch's tensors to options_.device on the copy stream.
  Ready deliver(CollatedBatch host) const;

  MultiDatasetSampler sampler_;
  std::vector<std::shared_ptr<const DatasetReader>> readers_;
  int32_t pad_id_;
  PrefetchOptions options_;
  int64_t steps_per_epoch_;
  nlohmann::json state_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Ready> ready_;
  int64_t waiting_bytes_ = 0;
  std::exception_ptr error_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace negatron::data
