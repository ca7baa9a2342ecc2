#include "data/prefetcher.h"

#include <c10/core/DeviceGuard.h>
#include <c10/core/StreamGuard.h>
#include <c10/core/impl/VirtualGuardImpl.h>

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

CollatedBatch collate_batch(const DatasetReader& reader, const SamplerBatch& batch, int32_t pad_id, bool with_text,
                            bool pinned) {
  DatasetRows rows = reader.read(batch.rows, with_text);
  CollatedBatch out;
  out.dataset_index = batch.dataset_index;
  out.epoch = batch.epoch;
  out.step = batch.step;
  out.rows = batch.rows;
  for (const auto& column : rows.ids) out.inputs.columns.push_back(model::collate_tokens(column, pad_id, pinned));
  out.inputs.labels = labels_tensor(reader.manifest(), rows, static_cast<int64_t>(batch.rows.size()));
  if (pinned && out.inputs.labels.defined()) out.inputs.labels = out.inputs.labels.pin_memory();
  out.inputs.texts = std::move(rows.texts);
  out.inputs.rank_rows = batch.rank_rows;
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

namespace {

/// Every tensor of a delivered batch, for recordStream.
std::vector<at::Tensor> tensors_of(const model::Batch& batch) {
  std::vector<at::Tensor> out;
  for (const auto& c : batch.columns) {
    for (const at::Tensor& t : {c.input_ids, c.attention_mask, c.token_type_ids, c.layout.index, c.layout.cu_seqlens}) {
      if (t.defined()) out.push_back(t);
    }
  }
  if (batch.labels.defined()) out.push_back(batch.labels);
  return out;
}

/// What a waiting batch holds in memory: its tensors and texts.
int64_t batch_bytes(const model::Batch& batch) {
  int64_t bytes = 0;
  for (const at::Tensor& t : tensors_of(batch)) bytes += static_cast<int64_t>(t.nbytes());
  for (const auto& column : batch.texts) {
    for (const auto& text : column) bytes += static_cast<int64_t>(sizeof(std::string) + text.size());
  }
  return bytes;
}

}  // namespace

void Prefetcher::run() {
  try {
    while (true) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [&] {
          return stopping_ || (static_cast<int64_t>(ready_.size()) < options_.window &&
                               (ready_.empty() || waiting_bytes_ < options_.max_bytes));
        });
        if (stopping_) return;
      }
      SamplerBatch batch = sampler_.next();
      CollatedBatch collated = collate_batch(*readers_.at(batch.dataset_index), batch, pad_id_, options_.with_text,
                                             /*pinned=*/options_.device.is_cuda());
      collated.sampler_state = sampler_.state();
      const auto dataset = static_cast<size_t>(collated.dataset_index);
      if (dataset < options_.checks.size() && options_.checks[dataset]) options_.checks[dataset](collated);
      Ready ready = deliver(std::move(collated));
      ready.bytes = batch_bytes(ready.batch.inputs);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        waiting_bytes_ += ready.bytes;
        ready_.push_back(std::move(ready));
      }
      changed_.notify_all();
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    error_ = std::current_exception();
    changed_.notify_all();
  }
}

Prefetcher::Ready Prefetcher::deliver(CollatedBatch host) const {
  Ready out;
  if (options_.device.is_cpu()) {
    out.batch = std::move(host);
    return out;
  }
  const c10::impl::VirtualGuardImpl device_api(options_.device.type());
  const c10::Stream copy_stream = device_api.getStreamFromGlobalPool(options_.device, /*isHighPriority=*/false);
  const c10::StreamGuard on_copy_stream(copy_stream);
  out.batch.dataset_index = host.dataset_index;
  out.batch.epoch = host.epoch;
  out.batch.step = host.step;
  out.batch.rows = std::move(host.rows);
  out.batch.sampler_state = std::move(host.sampler_state);
  // Pinned sources: the copies are asynchronous, and the caching host allocator keeps each pinned
  // block until its copy has run, even though `host` is released when this returns.
  out.batch.inputs = host.inputs.to(options_.device, /*non_blocking=*/true);
  out.copied = std::make_shared<c10::Event>(options_.device.type());
  out.copied->record(copy_stream);
  return out;
}

int64_t Prefetcher::waiting() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int64_t>(ready_.size());
}

CollatedBatch Prefetcher::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return !ready_.empty() || error_; });
  if (ready_.empty()) std::rethrow_exception(error_);
  Ready ready = std::move(ready_.front());
  ready_.pop_front();
  waiting_bytes_ -= ready.bytes;
  state_ = ready.batch.sampler_state;
  lock.unlock();
  changed_.notify_all();
  if (ready.copied) {
    // The consumer's stream waits for the copy (on the device, not the host), and the caching
    // allocator learns that the consumer's stream uses these blocks (they were allocated on the
    // copy stream).
    const c10::impl::VirtualGuardImpl device_api(options_.device.type());
    const c10::Stream consumer = device_api.getStream(options_.device);
    ready.copied->block(consumer);
    for (at::Tensor& t : tensors_of(ready.batch.inputs)) t.record_stream(consumer);
  }
  return std::move(ready.batch);
}

}  // namespace negatron::data
