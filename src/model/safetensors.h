#pragma once
// Reader and writer for the safetensors format (8-byte little-endian header length, JSON header,
// raw little-endian tensor bytes). No pickle, ever. Every offset is bounds-checked; errors name
// the file and the tensor.
#include <ATen/ATen.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace negatron::model {

using TensorMap = std::map<std::string, at::Tensor>;

/// Loads every tensor (F64/F32/F16/BF16/I64/I32/I16/I8/U8/BOOL) with its stored dtype, on CPU.
TensorMap load_safetensors(const std::string& path);

/// Writes tensors (converted to contiguous CPU) in the given order; metadata goes to __metadata__.
/// Published atomically (common/atomic_file.h): a failure leaves the previous file untouched.
void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

}  // namespace negatron::model
