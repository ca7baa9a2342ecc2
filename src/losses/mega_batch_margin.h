#pragma once
// MegaBatchMarginLoss: for every anchor a_i, its positive p_i should have cosine >= positive_margin,
// and the hardest other positive of the batch (max over j != i of cos(a_i, p_j)) cosine <=
// negative_margin: loss = mean(max(pm - cos(a_i, p_i), 0) + max(max_j cos(a_i, p_j) - nm, 0)).
// Requirements: very large batches (the "mega batch"), so that the hardest in-batch negative is hard.
// Inputs: (anchor, positive) pairs | none.
// Params: positive_margin (0.8), negative_margin (0.3), use_mini_batched_version (true),
//   mini_batch_size (50), mini_batch_num_tokens (null), show_progress_bar (ignored).
// Mini-batched (ST 6): the batch is embedded without grad, the loss and its embedding gradients are
// computed once, then mini-batches are re-embedded with grad (GradCache, see gradcache.h) - the loss
// and gradients equal the full-batch ones with memory bounded by mini_batch_size. Not mini-batched:
// one forward over the whole batch.
// Reference: Wieting & Gimpel 2018 (ParaNMT-50M, arXiv:1711.05732);
//   sentence_transformers/sentence_transformer/losses/mega_batch_margin.py (ST 6.0.1).
#include <ATen/ATen.h>

namespace negatron::losses {

at::Tensor mega_batch_margin_loss(const at::Tensor& anchors, const at::Tensor& positives, double positive_margin,
                                  double negative_margin);

}  // namespace negatron::losses
