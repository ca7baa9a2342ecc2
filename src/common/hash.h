#pragma once
// The hashes negatron stores on disk or compares across processes: shard checksums, text hashes
// (NO_DUPLICATES), tokenizer fingerprints, config and layout agreement between ranks, seeds.
// Unlike std::hash they are the same on every platform, compiler and release: never change what
// they return for a given input.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace negatron {

/// FNV-1a's 64-bit offset basis: the state before any byte.
constexpr uint64_t kFnv1aOffset = 0xcbf29ce484222325ULL;

/// FNV-1a (64 bit) of `size` bytes, continuing from `state` (kFnv1aOffset to start): pass the
/// previous result to hash a stream piece by piece.
uint64_t fnv1a64(const void* data, size_t size, uint64_t state);
/// FNV-1a (64 bit) of a whole string. No `state` parameter here: with one, fnv1a64(pointer, size)
/// would compile, hashing the pointer's C string with `size` as the state.
inline uint64_t fnv1a64(std::string_view bytes) { return fnv1a64(bytes.data(), bytes.size(), kFnv1aOffset); }

/// splitmix64's finalizer: every input bit reaches every output bit (FNV's low bits alone are weak).
uint64_t mix64(uint64_t x);
/// One splitmix64 step, mix64(x + golden gamma): well-spread seeds from consecutive integers.
uint64_t splitmix64(uint64_t x);

}  // namespace negatron
