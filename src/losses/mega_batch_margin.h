#pragma once
// MegaBatchMarginLoss: for every anchor a_i, its positive p_i should have cosine >= positive_margin,
// and the hardest other positive of the batch (max over j != i of cos(a_i, p_j)) cosine <=
// negative_margin: loss = mean(max(pm - cos(a_i, p_i), 0) + max(max_j cos(a_i, p_j) - nm, 0)).
// Requirements: very large batches (the "mega batch"), so that the hardest in-batch negative is hard.
// Inputs: (anchor, positive) pairs | none.
// Mini-batched (ST 6): the batch is embedded without grad, the loss and its embedding gradients are
// computed once, then mini-batches are re-embedded with grad (GradCache, see gradcache.h) - the loss
// and gradients equal the full-batch ones with memory bounded by mini_batch_size. Not mini-batched:
// one forward over the whole batch.
// Reference: Wieting & Gimpel 2018 (ParaNMT-50M, arXiv:1711.05732);
//   sentence_transformers/sentence_transformer/losses/mega_batch_margin.py (ST 6.0.1).
#include <ATen/ATen.h>

#include <vector>

#include "losses/gradcache.h"

namespace negatron::losses {

struct MegaBatchMarginOptions {
  double positive_margin = 0.8;
  double negative_margin = 0.3;
  bool use_mini_batched_version = true;
  GradCacheOptions cache = {/*mini_batch_size=*/50};
  template <class V>
  void visit(V& v) {
    v("positive_margin", positive_margin, "cosine an anchor's own positive should reach");
    v("negative_margin", negative_margin, "cosine the hardest other positive should stay under");
    v("use_mini_batched_version", use_mini_batched_version, "embed in mini-batches with GradCache (same result)");
    cache.visit(v);
  }
  void validate() const {
    if (use_mini_batched_version) cache.validate();
  }
};

/// columns: (anchor, positive).
at::Tensor mega_batch_margin_loss(const std::vector<at::Tensor>& columns, const at::Tensor& labels,
                                  const MegaBatchMarginOptions& options);

}  // namespace negatron::losses
