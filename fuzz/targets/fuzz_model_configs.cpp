// The JSON files of a model folder: config.json (TransformerConfig), modules.json, a Pooling config
// and a Dense config. The first byte picks the parser, the rest is the file.
#include "common/json_file.h"
#include "fuzz_support.h"
#include "model/module_config.h"
#include "model/transformer_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  negatron::fuzz::expect_only_negatron_errors([&] {
    const nlohmann::json json = negatron::parse_json(text, "fuzz.json");
    switch (data[0] % 4) {
      case 0: negatron::model::TransformerConfig::from_json(json, "config.json"); break;
      case 1: negatron::model::parse_modules_json(json, "modules.json"); break;
      case 2: negatron::model::PoolingOptions::from_json(json, "1_Pooling/config.json").to_json().dump(); break;
      case 3: negatron::model::DenseOptions::from_json(json, "2_Dense/config.json").to_json().dump(); break;
    }
  });
  return 0;
}
