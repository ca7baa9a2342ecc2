// The YAML training config: YAML -> JSON, the option tree with its key checks, validation, and the
// dump and flatten that rank 0 prints and ranks compare.
#include "fuzz_support.h"
#include "train/config_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  negatron::fuzz::expect_only_negatron_errors([&] {
    const auto config = negatron::train::parse_config(text, "fuzz.yaml", {"training.seed=7"});
    negatron::train::dump_config(config);
    negatron::train::flatten_config(config);
  });
  return 0;
}
