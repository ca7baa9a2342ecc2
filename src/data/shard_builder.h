#pragma once
// Rows of texts (and their labels) tokenized on several threads into a ShardBlock, the in-memory
// shard that DatasetWriter writes: the step prepare and mine share.
#include <cstdint>
#include <string>
#include <vector>

#include "data/shard.h"
#include "model/tokenizer.h"

namespace negatron::data {

struct ShardBuilderOptions {
  int64_t max_seq_length = 0;  // tokens per text, specials included (0: no truncation)
  bool keep_text = false;
  int threads = 1;
};

class ShardBuilder {
 public:
  ShardBuilder(const model::Tokenizer& tokenizer, size_t columns, const ShardBuilderOptions& options);

  /// Appends rows (texts[row][column]) with their labels: int64 one per row, or float `width` per row
  /// (either may be empty when the dataset has no such label).
  void append(const std::vector<std::vector<std::string>>& texts, const std::vector<int64_t>& int_labels,
              const std::vector<float>& float_labels);
  int64_t rows() const { return block_.rows(); }
  /// The block built so far; the builder starts an empty one.
  ShardBlock take();

 private:
  const model::Tokenizer& tokenizer_;
  size_t columns_;
  ShardBuilderOptions options_;
  ShardBlock block_;
};

}  // namespace negatron::data
