#include "mining/batched_encoding.h"

#include <algorithm>
#include <numeric>

#include "common/progress.h"

namespace negatron::mining {

std::vector<std::vector<int64_t>> length_batches(const std::vector<std::string>& texts, int64_t batch_size) {
  std::vector<int64_t> order(texts.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return texts[a].size() > texts[b].size(); });
  std::vector<std::vector<int64_t>> batches;
  for (size_t start = 0; start < order.size(); start += static_cast<size_t>(batch_size)) {
    const size_t stop = std::min(order.size(), start + static_cast<size_t>(batch_size));
    batches.emplace_back(order.begin() + start, order.begin() + stop);
  }
  return batches;
}

EncodedRows encode_batches(model::SentenceEncoder& encoder, const std::vector<std::string>& texts,
                           const std::vector<std::vector<int64_t>>& batches, size_t first, size_t end,
                           distributed::Communicator& comm, at::Device device, bool progress) {
  model::EncodeOptions options;
  options.normalize = true;
  std::vector<at::Tensor> embeddings;
  std::vector<int64_t> ids;
  int64_t total = 0;
  for (size_t b = first; b < end; ++b) total += static_cast<int64_t>(batches[b].size());
  Progress bar("encode", total, progress, "texts");
  for (size_t b = first; b < end; ++b) {
    if (static_cast<int>(b % comm.world_size()) == comm.rank()) {
      std::vector<std::string> batch;
      for (int64_t id : batches[b]) batch.push_back(texts[id]);
      options.batch_size = static_cast<int64_t>(batch.size());  // one forward: exactly this batch
      embeddings.push_back(encoder.encode(batch, options));
      ids.insert(ids.end(), batches[b].begin(), batches[b].end());
    }
    bar.advance(static_cast<int64_t>(batches[b].size()));  // all ranks advance alike; rank 0 shows it
  }
  bar.finish();
  EncodedRows rows;
  rows.embeddings = (embeddings.empty() ? at::empty({0, encoder.embedding_dimension()}, at::kFloat) : at::cat(embeddings))
                        .to(device);
  rows.ids = at::tensor(ids, at::kLong).to(device);
  return rows;
}

}  // namespace negatron::mining
