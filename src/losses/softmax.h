#pragma once
// SoftmaxLoss: a linear classifier on (u, v, |u - v|, u * v) features of each pair (which parts is
// configurable), trained with cross-entropy on the pair's class (e.g. NLI: entailment / neutral /
// contradiction), as in Sentence-BERT.
// Requirements: pairs with class labels in [0, num_labels).
// Inputs: (sentence_A, sentence_B) pairs | class label (int).
// Params: num_labels (required), embedding_dimension (default: the model's; required without a
//   model; alias sentence_embedding_dimension), concatenation_sent_rep (true),
//   concatenation_sent_difference (true), concatenation_sent_multiplication (false).
// Loss-owned parameters: classifier.weight, classifier.bias (nn.Linear init). ST does not save the
//   classifier; negatron writes it beside the model (checkpoints and final/) as
//   loss_parameters.safetensors, keys "loss.<dataset>.classifier.*", and restores it on --resume.
// Reference: Reimers & Gurevych 2019 (Sentence-BERT, arXiv:1908.10084);
//   sentence_transformers/sentence_transformer/losses/softmax.py (ST 6.0.1).
#include <ATen/ATen.h>

namespace negatron::losses {

struct SoftmaxFeatures {
  bool sent_rep = true;
  bool sent_difference = true;
  bool sent_multiplication = false;
  int64_t count() const { return (sent_rep ? 2 : 0) + (sent_difference ? 1 : 0) + (sent_multiplication ? 1 : 0); }
};

/// The classifier input [B, count * d]: u, v, |u - v|, u * v in that order, as selected.
at::Tensor softmax_features(const at::Tensor& u, const at::Tensor& v, const SoftmaxFeatures& features);

}  // namespace negatron::losses
