#pragma once
// Dataset hashes, on disk in every prepared dataset: text_hash for the per-row text hashes that
// NO_DUPLICATES compares (FNV-1a, then mix64 so that similar texts spread over all 64 bits) and
// file_checksum (FNV-1a of the file bytes) for shard checksums. See common/hash.h.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/hash.h"

namespace negatron::data {

uint64_t text_hash(std::string_view text);
/// fnv1a64 of a whole file, streamed.
uint64_t file_checksum(const std::string& path);

}  // namespace negatron::data
