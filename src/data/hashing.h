#pragma once
// 64-bit hashes used by datasets: fnv1a64 for shard checksums, text_hash for the per-row text
// hashes that NO_DUPLICATES compares (FNV-1a followed by the splitmix64 finalizer, so that similar
// texts spread over all 64 bits). Both are stable across platforms and releases: they are on disk.
#include <cstdint>
#include <string>
#include <string_view>

namespace negatron::data {

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;

uint64_t fnv1a64(const void* data, size_t size, uint64_t state = kFnvOffset);
uint64_t mix64(uint64_t x);
uint64_t text_hash(std::string_view text);
/// fnv1a64 of a whole file, streamed.
uint64_t file_checksum(const std::string& path);

}  // namespace negatron::data
