#include "data/hashing.h"

#include <fstream>
#include <vector>

#include "common/check.h"

namespace negatron::data {

uint64_t fnv1a64(const void* data, size_t size, uint64_t state) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) {
    state ^= bytes[i];
    state *= 0x100000001b3ULL;
  }
  return state;
}

uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t text_hash(std::string_view text) { return mix64(fnv1a64(text.data(), text.size())); }

uint64_t file_checksum(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  NEG_CHECK(in, path, ": cannot open to checksum");
  std::vector<char> buffer(1 << 20);
  uint64_t state = kFnvOffset;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    state = fnv1a64(buffer.data(), static_cast<size_t>(in.gcount()), state);
  }
  return state;
}

}  // namespace negatron::data
