#pragma once
// A pseudo-random permutation of [0, n) computed element by element in O(1) memory: a balanced
// Feistel network on the smallest even number of bits covering n, with cycle walking for indices
// >= n. Samplers use one per (seed, epoch) so that every rank derives the same epoch order by
// arithmetic alone, however many rows the dataset has.
#include <cstdint>

namespace negatron::data {

class Permutation {
 public:
  Permutation(int64_t size, uint64_t seed);
  /// The position-th element; a bijection of [0, size()).
  int64_t operator()(int64_t position) const;
  int64_t size() const { return size_; }

 private:
  uint64_t encrypt(uint64_t x) const;
  int64_t size_;
  int half_bits_;
  uint64_t half_mask_;
  uint64_t round_keys_[6];
};

/// Seed of an (seed, epoch, stream) triple, so streams for different purposes are independent.
uint64_t derive_seed(uint64_t seed, uint64_t epoch, uint64_t stream = 0);

}  // namespace negatron::data
