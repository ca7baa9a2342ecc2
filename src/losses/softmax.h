#pragma once
// SoftmaxLoss: a linear classifier on (u, v, |u - v|, u * v) features of each pair (which parts is
// configurable), trained with cross-entropy on the pair's class (e.g. NLI: entailment / neutral /
// contradiction), as in Sentence-BERT.
// Requirements: pairs with class labels in [0, num_labels).
// Inputs: (sentence_A, sentence_B) pairs | class label (int).
// Loss-owned parameters: classifier.weight, classifier.bias (nn.Linear init). ST does not save the
//   classifier; negatron writes it beside the model (checkpoints and final/) as
//   loss_parameters.safetensors, keys "loss.<dataset>.classifier.*", and restores it on --resume.
// Reference: Reimers & Gurevych 2019 (Sentence-BERT, arXiv:1908.10084);
//   sentence_transformers/sentence_transformer/losses/softmax.py (ST 6.0.1).
#include <ATen/ATen.h>

#include <cstdint>
#include <optional>

namespace negatron::losses {

struct SoftmaxOptions {
  std::optional<int64_t> num_labels;
  std::optional<int64_t> embedding_dimension;
  std::optional<int64_t> sentence_embedding_dimension;
  bool concatenation_sent_rep = true;
  bool concatenation_sent_difference = true;
  bool concatenation_sent_multiplication = false;
  template <class V>
  void visit(V& v) {
    v("num_labels", num_labels, "number of classes (required)");
    v("embedding_dimension", embedding_dimension, "classifier input width per part (null: the model's)");
    v("sentence_embedding_dimension", sentence_embedding_dimension, "sentence-transformers' name of embedding_dimension");
    v("concatenation_sent_rep", concatenation_sent_rep, "classifier sees u and v");
    v("concatenation_sent_difference", concatenation_sent_difference, "classifier sees |u - v|");
    v("concatenation_sent_multiplication", concatenation_sent_multiplication, "classifier sees u * v");
  }
  void validate() const;
  /// How many d-wide parts the classifier input has.
  int64_t feature_count() const;
};

/// The classifier input [B, feature_count * d]: u, v, |u - v|, u * v in that order, as selected.
at::Tensor softmax_features(const at::Tensor& u, const at::Tensor& v, const SoftmaxOptions& options);

}  // namespace negatron::losses
