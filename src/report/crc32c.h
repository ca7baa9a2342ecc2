#pragma once
// CRC-32C (Castagnoli), the checksum of TFRecord framing in TensorBoard event files.
#include <cstddef>
#include <cstdint>

namespace negatron::report {

uint32_t crc32c(const void* data, size_t size);
/// TFRecord's masked form of a CRC (stored next to the data it covers).
uint32_t masked_crc32c(const void* data, size_t size);

}  // namespace negatron::report
