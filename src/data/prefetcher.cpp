#include "data/prefetcher.h"

#include <cstring>

#include "common/check.h"

namespace negatron::data {
namespace {

at::Tensor labels_tensor(const DatasetManifest& manifest, const DatasetRows& rows, int64_t count) {
  switch (manifest.label_kind) {
    case LabelKind::kNone: return {};
    case LabelKind::kInt64: return at::tensor(rows.int_labels, at::kLong);
    case LabelKind::kFloat32: return at::tensor(rows.float_labels, at::kFloat);
    case LabelKind::kFloat32Vector: return at::tensor(rows.float_labels, at::kFloat).view({count, manifest.label_dimension});
  }
  return {};
}

}  // namespace

CollatedBatch collate_batch(const DatasetReader& reader, const SamplerBatch& batch, int32_t pad_id, bool with_text) {
  DatasetRows rows = reader.read(batch.rows, with_text);
  CollatedBatch out;
  out.dataset_index = batch.dataset_index;
  out.epoch = batch.epoch;
  out.step = batch.step;
  out.rows = batch.rows;
  out.rank_rows = batch.rank_rows;
  for (const auto& column : rows.ids) out.columns.push_back(model::collate_tokens(column, pad_id));
  out.labels = labels_tensor(reader.manifest(), rows, static_cast<int64_t>(batch.rows.size()));
  out.texts = std::move(rows.texts);
  return out;
}

Prefetcher::Prefetcher(MultiDatasetSampler sampler, std::vector<std::shared_ptr<const DatasetReader>> readers,
                       int32_t pad_id, PrefetchOptions options)
    : sampler_(std::move(sampler)),
      readers_(std::move(readers)),
      pad_id_(pad_id),
      options_(options),
      steps_per_epoch_(sampler_.steps_per_epoch()),
      state_(sampler_.state()) {
  NEG_CHECK(readers_.size() == sampler_.datasets(), "prefetcher: ", readers_.size(), " readers for ",
            sampler_.datasets(), " sampled datasets");
  NEG_CHECK(options_.window >= 1, "prefetcher: window must be >= 1, got ", options_.window);
  thread_ = std::thread([this] { run(); });
}

Prefetcher::~Prefetcher() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void Prefetcher::run() {
  try {
    while (true) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [&] { return stopping_ || static_cast<int64_t>(ready_.size()) < options_.window; });
        if (stopping_) return;
      }
      SamplerBatch batch = sampler_.next();
      CollatedBatch collated = collate_batch(*readers_.at(batch.dataset_index), batch, pad_id_, options_.with_text);
      collated.sampler_state = sampler_.state();
      {
        std::lock_guard<std::mutex> lock(mutex_);
        ready_.push_back(std::move(collated));
      }
      changed_.notify_all();
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    error_ = std::current_exception();
    changed_.notify_all();
  }
}

CollatedBatch Prefetcher::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return !ready_.empty() || error_; });
  if (ready_.empty()) std::rethrow_exception(error_);
  CollatedBatch batch = std::move(ready_.front());
  ready_.pop_front();
  state_ = batch.sampler_state;
  lock.unlock();
  changed_.notify_all();
  return batch;
}

}  // namespace negatron::data
