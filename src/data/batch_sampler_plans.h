#pragma once
// Private to the sampler sources: the per-epoch state of GROUP_BY_LABEL and NO_DUPLICATES.
#include <deque>

#include "data/batch_sampler.h"

namespace negatron::data {

struct BatchSampler::GroupPlan {
  int64_t epoch = -1;
  std::vector<int64_t> rows;  // pairs of same-label rows, in the epoch's order
};

struct BatchSampler::NoDuplicatesPlan {
  struct Deferred {
    int64_t row;
    std::vector<uint64_t> hashes;
  };
  NoDuplicatesPlan(int64_t epoch, int64_t rows, uint64_t seed) : epoch(epoch), permutation(rows, seed) {}
  int64_t epoch;
  Permutation permutation;
  int64_t next_step = 0;  // the step the generator produces next
  int64_t cursor = 0;     // next fresh position in the permutation
  int64_t refill = 0;     // next position for topping up the last batches
  std::deque<Deferred> deferred;
  std::vector<int64_t> last;  // batch next_step - 1
};

}  // namespace negatron::data
