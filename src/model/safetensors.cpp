#include "model/safetensors.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/check.h"
#include "model/safetensors_header.h"

namespace negatron::model {
namespace {

struct DtypeName {
  const char* name;
  at::ScalarType type;
};

constexpr DtypeName kDtypes[] = {
    {"F64", at::kDouble}, {"F32", at::kFloat}, {"F16", at::kHalf},  {"BF16", at::kBFloat16},
    {"I64", at::kLong},   {"I32", at::kInt},   {"I16", at::kShort}, {"I8", at::kChar},
    {"U8", at::kByte},    {"BOOL", at::kBool},
};

at::ScalarType dtype_from_name(const std::string& name) {
  for (const auto& d : kDtypes) {
    if (name == d.name) return d.type;
  }
  NEG_FAIL("safetensors: no tensor type for dtype '", name, "'");
}

const char* dtype_name(at::ScalarType type) {
  for (const auto& d : kDtypes) {
    if (type == d.type) return d.name;
  }
  NEG_FAIL("safetensors: cannot store dtype ", c10::toString(type));
}

}  // namespace

TensorMap load_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  NEG_CHECK(in, "cannot open ", path);
  const auto file_size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  unsigned char length_bytes[8] = {};
  in.read(reinterpret_cast<char*>(length_bytes), 8);
  const uint64_t header_size = safetensors_header_size(length_bytes, file_size, path);
  std::string header(header_size, '\0');
  in.read(header.data(), static_cast<std::streamsize>(header_size));
  std::vector<char> data(file_size - 8 - header_size);
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  NEG_CHECK(in, path, ": read failed");

  TensorMap tensors;
  for (const SafetensorsEntry& entry : parse_safetensors_header(header, data.size(), path)) {
    at::Tensor tensor = at::empty(entry.shape, at::TensorOptions().dtype(dtype_from_name(entry.dtype)));
    if (entry.end > entry.begin) std::memcpy(tensor.data_ptr(), data.data() + entry.begin, entry.end - entry.begin);
    tensors.emplace(entry.name, std::move(tensor));
  }
  return tensors;
}

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<at::Tensor> contiguous;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    at::Tensor t = tensor.detach().to(at::kCPU).contiguous();
    const uint64_t bytes = static_cast<uint64_t>(t.numel()) * t.element_size();
    header[name] = {{"dtype", dtype_name(t.scalar_type())}, {"shape", t.sizes().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    contiguous.push_back(std::move(t));
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keep the data section 8-byte aligned
  AtomicFile out(path);
  unsigned char length_bytes[8];
  const uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) length_bytes[i] = static_cast<unsigned char>((n >> (8 * i)) & 0xff);
  out.write(length_bytes, 8);
  out.write(text);
  for (const auto& t : contiguous) out.write(t.data_ptr(), static_cast<size_t>(t.numel() * t.element_size()));
  out.commit();
}

}  // namespace negatron::model
