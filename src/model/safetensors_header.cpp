#include "model/safetensors_header.h"

#include <limits>

#include "common/check.h"
#include "common/json_file.h"

namespace negatron::model {
namespace {

struct DtypeSize {
  const char* name;
  size_t size;
};

constexpr DtypeSize kDtypeSizes[] = {{"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
                                     {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U8", 1},   {"BOOL", 1}};

std::string supported_dtypes() {
  std::string out;
  for (const auto& d : kDtypeSizes) out += (out.empty() ? "" : ", ") + std::string(d.name);
  return out;
}

SafetensorsEntry parse_entry(const JsonFile& file, const std::string& name, const nlohmann::json& entry,
                             uint64_t data_size) {
  const std::string where = "tensor '" + name + "'";
  NEG_CHECK(entry.is_object(), file.origin(), ": ", where, " must be an object with dtype, shape and data_offsets");
  SafetensorsEntry out;
  out.name = name;
  out.dtype = file.required<std::string>(entry, "dtype", name + ".");
  const size_t element = safetensors_dtype_size(out.dtype);
  NEG_CHECK(element > 0, file.origin(), ": ", where, " has unsupported dtype '", out.dtype, "' (supported: ",
            supported_dtypes(), ")");
  const nlohmann::json& shape = file.require(entry, "shape", name + ".");
  NEG_CHECK(shape.is_array(), file.origin(), ": ", where, " has a shape that is not a list (", shape.type_name(),
            ")");
  uint64_t bytes = element;
  for (size_t i = 0; i < shape.size(); ++i) {
    const auto dim = file.get<int64_t>(shape[i], name + ".shape[" + std::to_string(i) + "]");
    NEG_CHECK(dim >= 0, file.origin(), ": ", where, " has a negative dimension ", dim);
    NEG_CHECK(dim == 0 || bytes <= std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(dim),
              file.origin(), ": ", where, " has a shape too large to address");
    bytes *= static_cast<uint64_t>(dim);
    out.shape.push_back(dim);
  }
  const nlohmann::json& offsets = file.require(entry, "data_offsets", name + ".");
  NEG_CHECK(offsets.is_array() && offsets.size() == 2, file.origin(), ": ", where,
            " has malformed data_offsets (expected [begin, end])");
  out.begin = file.get<uint64_t>(offsets[0], name + ".data_offsets[0]");
  out.end = file.get<uint64_t>(offsets[1], name + ".data_offsets[1]");
  NEG_CHECK(out.begin <= out.end && out.end <= data_size, file.origin(), ": ", where, " data_offsets [", out.begin,
            ", ", out.end, ") out of range (data section is ", data_size, " bytes; file truncated?)");
  NEG_CHECK(out.end - out.begin == bytes, file.origin(), ": ", where, " has ", out.end - out.begin,
            " bytes, its shape needs ", bytes);
  return out;
}

}  // namespace

size_t safetensors_dtype_size(const std::string& dtype) {
  for (const auto& d : kDtypeSizes) {
    if (dtype == d.name) return d.size;
  }
  return 0;
}

uint64_t safetensors_header_size(const unsigned char first_bytes[8], uint64_t file_size, const std::string& path) {
  NEG_CHECK(file_size >= 8, path, ": too short for a safetensors file (", file_size, " bytes)");
  uint64_t size = 0;
  for (int i = 7; i >= 0; --i) size = (size << 8) | first_bytes[i];
  NEG_CHECK(size <= file_size - 8, path, ": header length ", size, " exceeds the file size ", file_size);
  NEG_CHECK(size <= kMaxSafetensorsHeaderBytes, path, ": header length ", size, " exceeds the format's limit of ",
            kMaxSafetensorsHeaderBytes, " bytes");
  return size;
}

std::vector<SafetensorsEntry> parse_safetensors_header(std::string_view header, uint64_t data_size,
                                                       const std::string& path) {
  const nlohmann::json json = parse_json(header, path + " (header)");
  NEG_CHECK(json.is_object(), path, ": header is not a JSON object");
  const JsonFile file(path);
  std::vector<SafetensorsEntry> out;
  for (const auto& item : json.items()) {
    if (item.key() == "__metadata__") continue;
    out.push_back(parse_entry(file, item.key(), item.value(), data_size));
  }
  return out;
}

}  // namespace negatron::model
