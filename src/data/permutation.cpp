#include "data/permutation.h"

#include "common/check.h"
#include "common/hash.h"

namespace negatron::data {

uint64_t derive_seed(uint64_t seed, uint64_t epoch, uint64_t stream) {
  return mix64(mix64(mix64(seed) ^ (epoch + 0x9e3779b97f4a7c15ULL)) ^ (stream * 0xd1b54a32d192ed03ULL));
}

Permutation::Permutation(int64_t size, uint64_t seed) : size_(size) {
  NEG_CHECK(size >= 0, "Permutation: negative size ", size);
  int bits = 2;
  while (bits < 62 && (uint64_t{1} << bits) < static_cast<uint64_t>(size)) bits += 2;
  half_bits_ = bits / 2;
  half_mask_ = (uint64_t{1} << half_bits_) - 1;
  for (int r = 0; r < 6; ++r) round_keys_[r] = derive_seed(seed, 0, r + 1);
}

uint64_t Permutation::encrypt(uint64_t x) const {
  uint64_t left = x >> half_bits_, right = x & half_mask_;
  for (uint64_t key : round_keys_) {
    const uint64_t next = left ^ (mix64(right ^ key) & half_mask_);
    left = right;
    right = next;
  }
  return (left << half_bits_) | right;
}

int64_t Permutation::operator()(int64_t position) const {
  NEG_CHECK(0 <= position && position < size_, "Permutation: position ", position, " out of [0, ", size_, ")");
  uint64_t x = static_cast<uint64_t>(position);
  do {
    x = encrypt(x);  // cycle walking: the domain is < 4 * size, so ~4 rounds at most on average
  } while (x >= static_cast<uint64_t>(size_));
  return static_cast<int64_t>(x);
}

}  // namespace negatron::data
