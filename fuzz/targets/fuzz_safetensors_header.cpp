// The safetensors header parser: the 8-byte length, the JSON header, every tensor's dtype, shape and
// data_offsets against the data section.
#include "fuzz_support.h"
#include "model/safetensors_header.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  negatron::fuzz::expect_only_negatron_errors([&] {
    const std::string path = "fuzz.safetensors";
    const uint64_t header = negatron::model::safetensors_header_size(data, size, path);
    const std::string_view text(reinterpret_cast<const char*>(data) + 8, header);
    const auto entries = negatron::model::parse_safetensors_header(text, size - 8 - header, path);
    for (const auto& entry : entries) {
      if (entry.end > size - 8 - header) __builtin_trap();  // the parser promised in-range offsets
    }
  });
  return 0;
}
