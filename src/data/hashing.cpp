#include "data/hashing.h"

#include <fstream>
#include <vector>

#include "common/check.h"

namespace negatron::data {

uint64_t text_hash(std::string_view text) { return mix64(fnv1a64(text)); }

uint64_t file_checksum(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  NEG_CHECK(in, path, ": cannot open to checksum");
  std::vector<char> buffer(1 << 20);
  uint64_t state = kFnv1aOffset;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    state = fnv1a64(buffer.data(), static_cast<size_t>(in.gcount()), state);
  }
  return state;
}

}  // namespace negatron::data
