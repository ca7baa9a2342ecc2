// tokenizer.json: the loader (model, normalizer, pre-tokenizer, post-processor, added tokens) and,
// when it loads, encoding a few texts with the result.
#include "fuzz_support.h"
#include "model/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  negatron::fuzz::scratch_file("tokenizer.json", std::string_view(reinterpret_cast<const char*>(data), size));
  negatron::fuzz::expect_only_negatron_errors([&] {
    const auto tokenizer = negatron::model::Tokenizer::from_folder(negatron::fuzz::scratch_folder());
    for (const char* text : {"Hello, world! [MASK] naïve café", "", "\xff\xfe broken \xe2\x82", "a b c d e f g"}) {
      tokenizer.encode(text, 0);
      tokenizer.encode(text, 8);
    }
    tokenizer.pad_id();
  });
  return 0;
}
