#include "model/safetensors.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/check.h"

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

at::ScalarType dtype_from_name(const std::string& name, const std::string& path, const std::string& tensor) {
  for (const auto& d : kDtypes) {
    if (name == d.name) return d.type;
  }
  NEG_FAIL(path, ": tensor '", tensor, "' has unsupported dtype '", name, "'");
}

const char* dtype_name(at::ScalarType type) {
  for (const auto& d : kDtypes) {
    if (type == d.type) return d.name;
  }
  NEG_FAIL("safetensors: cannot store dtype ", c10::toString(type));
}

uint64_t read_u64_le(const unsigned char* bytes) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

at::Tensor tensor_from_entry(const std::string& path, const std::string& name, const nlohmann::json& entry,
                             const std::vector<char>& data) {
  NEG_CHECK(entry.is_object() && entry.contains("dtype") && entry.contains("shape") && entry.contains("data_offsets"),
            path, ": tensor '", name, "' lacks dtype, shape or data_offsets");
  const at::ScalarType type = dtype_from_name(entry["dtype"].get<std::string>(), path, name);
  std::vector<int64_t> shape;
  int64_t numel = 1;
  for (const auto& dim : entry["shape"]) {
    NEG_CHECK(dim.is_number_integer() && dim.get<int64_t>() >= 0, path, ": tensor '", name, "' has a bad shape");
    shape.push_back(dim.get<int64_t>());
    numel *= shape.back();
  }
  const auto& offsets = entry["data_offsets"];
  NEG_CHECK(offsets.is_array() && offsets.size() == 2 && offsets[0].is_number_unsigned() &&
                offsets[1].is_number_unsigned(),
            path, ": tensor '", name, "' has malformed data_offsets");
  const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
  NEG_CHECK(begin <= end && end <= data.size(), path, ": tensor '", name, "' data_offsets [", begin, ", ", end,
            ") out of range (data section is ", data.size(), " bytes; file truncated?)");
  const uint64_t expected = static_cast<uint64_t>(numel) * c10::elementSize(type);
  NEG_CHECK(end - begin == expected, path, ": tensor '", name, "' has ", end - begin, " bytes, shape needs ",
            expected);
  at::Tensor tensor = at::empty(shape, at::TensorOptions().dtype(type));
  if (expected > 0) std::memcpy(tensor.data_ptr(), data.data() + begin, expected);
  return tensor;
}

}  // namespace

TensorMap load_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  NEG_CHECK(in, "cannot open ", path);
  const auto file_size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  NEG_CHECK(file_size >= 8, path, ": too short for a safetensors file (", file_size, " bytes)");
  unsigned char length_bytes[8];
  in.read(reinterpret_cast<char*>(length_bytes), 8);
  const uint64_t header_size = read_u64_le(length_bytes);
  NEG_CHECK(header_size <= file_size - 8, path, ": header length ", header_size, " exceeds the file size ",
            file_size);
  std::string header(header_size, '\0');
  in.read(header.data(), static_cast<std::streamsize>(header_size));
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(header);
  } catch (const nlohmann::json::exception& e) {
    NEG_FAIL(path, ": header is not valid JSON (", e.what(), ")");
  }
  NEG_CHECK(json.is_object(), path, ": header is not a JSON object");
  std::vector<char> data(file_size - 8 - header_size);
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  NEG_CHECK(in, path, ": read failed");

  TensorMap tensors;
  for (const auto& item : json.items()) {
    if (item.key() == "__metadata__") continue;
    tensors.emplace(item.key(), tensor_from_entry(path, item.key(), item.value(), data));
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
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    NEG_CHECK(out, "cannot write ", tmp);
    unsigned char length_bytes[8];
    uint64_t n = text.size();
    for (int i = 0; i < 8; ++i) length_bytes[i] = static_cast<unsigned char>((n >> (8 * i)) & 0xff);
    out.write(reinterpret_cast<const char*>(length_bytes), 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const auto& t : contiguous) {
      out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * t.element_size()));
    }
    NEG_CHECK(out.good(), "write failed: ", tmp);
  }
  NEG_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, "cannot rename ", tmp, " to ", path);
}

}  // namespace negatron::model
