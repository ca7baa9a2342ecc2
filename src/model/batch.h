#pragma once
// What one training step feeds a loss: the token batches of a dataset's text columns, their labels
// and, for losses that re-tokenize for another model, the raw texts. The prefetcher builds it
// (data/prefetcher.h), losses consume it as it is; the label kind is the one a dataset's manifest
// declares and a loss's spec asks for.
#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "model/label_kind.h"
#include "model/token_batch.h"

namespace negatron::model {

struct Batch {
  std::vector<TokenBatch> columns;              // one per text column, in column order
  at::Tensor labels;                            // see LabelKind; undefined when none
  std::vector<std::vector<std::string>> texts;  // [column][row], when the dataset keeps its text
  /// Every rank's row count in rank order, from the batch plan: in-batch losses gather with it and
  /// exchange no sizes. Empty: unknown (the gather exchanges them).
  std::vector<int64_t> rank_rows;

  int64_t rows() const { return columns.empty() ? 0 : columns.front().rows(); }
  /// The tensors on `device` (non_blocking: see TokenBatch::to).
  Batch to(const at::Device& device, bool non_blocking = false) const;
};

}  // namespace negatron::model
