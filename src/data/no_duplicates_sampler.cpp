// NO_DUPLICATES: the sequential generator behind BatchSampler::no_duplicates_batch.
#include <unordered_set>

#include "common/check.h"
#include "data/batch_sampler_plans.h"

namespace negatron::data {

namespace {

class BatchBuilder {
 public:
  BatchBuilder(int64_t size, int64_t width) : size_(size), width_(width) {}
  bool full() const { return static_cast<int64_t>(rows_.size()) == size_; }
  /// Takes the row unless one of its text hashes is already in the batch.
  bool take(int64_t row, const uint64_t* hashes) {
    for (int64_t c = 0; c < width_; ++c) {
      if (seen_.count(hashes[c])) return false;
    }
    seen_.insert(hashes, hashes + width_);
    rows_.push_back(row);
    return true;
  }
  std::vector<int64_t>& rows() { return rows_; }

 private:
  int64_t size_, width_;
  std::unordered_set<uint64_t> seen_;
  std::vector<int64_t> rows_;
};

}  // namespace

std::vector<int64_t> BatchSampler::no_duplicates_batch(int64_t epoch, int64_t step) {
  auto& plan = no_duplicates_plan_;
  if (plan && plan->epoch == epoch && plan->next_step == step + 1) return plan->last;
  if (!plan || plan->epoch != epoch || plan->next_step > step) {
    plan = std::make_unique<NoDuplicatesPlan>(epoch, source_.rows, derive_seed(options_.seed, epoch, 1));
  }
  const int64_t size = options_.batch_size_global, width = source_.hash_width, rows = source_.rows;
  // Reads `count` rows of the permutation from `position` and offers them to the batch.
  auto offer = [&](BatchBuilder& batch, int64_t& position, bool defer) {
    const int64_t count = std::min(size - static_cast<int64_t>(batch.rows().size()), rows - position);
    std::vector<int64_t> candidates(count);
    for (int64_t i = 0; i < count; ++i) candidates[i] = plan->permutation(position + i);
    position += count;
    const std::vector<uint64_t> hashes = source_.hashes(candidates);
    for (int64_t i = 0; i < count && !batch.full(); ++i) {
      const uint64_t* h = hashes.data() + i * width;
      if (!batch.take(candidates[i], h) && defer) plan->deferred.push_back({candidates[i], {h, h + width}});
    }
  };
  while (plan->next_step <= step) {
    BatchBuilder batch(size, width);
    for (auto it = plan->deferred.begin(); it != plan->deferred.end() && !batch.full();) {
      it = batch.take(it->row, it->hashes.data()) ? plan->deferred.erase(it) : it + 1;
    }
    while (!batch.full() && plan->cursor < rows) offer(batch, plan->cursor, true);
    while (!batch.full() && plan->refill < rows) offer(batch, plan->refill, false);
    NEG_CHECK(batch.full(), "NO_DUPLICATES: cannot fill global batch ", plan->next_step, " of epoch ", epoch,
              " with ", size, " rows of distinct texts; the dataset (", rows, " rows) has too few distinct texts");
    plan->last = std::move(batch.rows());
    ++plan->next_step;
  }
  return plan->last;
}

}  // namespace negatron::data
