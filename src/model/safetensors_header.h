#pragma once
// The JSON header of a safetensors file, parsed and validated without torch (so it can be fuzzed on
// its own): every tensor has a known dtype, a shape of non-negative integers whose byte size does not
// overflow, and data_offsets inside the data section that match that size. Errors name the file and
// the tensor.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace negatron::model {

struct SafetensorsEntry {
  std::string name;
  std::string dtype;  // "F32", "BF16", ...
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte range inside the data section
};

/// Bytes per element of a safetensors dtype name; 0 if negatron does not know it.
size_t safetensors_dtype_size(const std::string& dtype);

/// Largest header negatron reads (the format's own limit is 100 MB).
constexpr uint64_t kMaxSafetensorsHeaderBytes = uint64_t{100} << 20;

/// The header's size from the file's first 8 bytes, checked against the file size.
uint64_t safetensors_header_size(const unsigned char first_bytes[8], uint64_t file_size, const std::string& path);

/// Tensors of a header (the __metadata__ entry is skipped), in the header's order.
std::vector<SafetensorsEntry> parse_safetensors_header(std::string_view header, uint64_t data_size,
                                                       const std::string& path);

}  // namespace negatron::model
