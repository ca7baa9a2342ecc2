#pragma once
// CosineSimilarityLoss: regresses the cosine similarity of each pair onto its gold score:
// loss = loss_fct(cos_score_transformation(cos(a_i, b_i)), label_i).
// Requirements: pairs with float similarity labels (e.g. STS scores scaled to [0, 1]).
// Inputs: (sentence_A, sentence_B) pairs | float similarity score.
// Relations: CoSENTLoss and AnglELoss usually train better on the same data.
// Reference: sentence_transformers/sentence_transformer/losses/cosine_similarity.py (ST 6.0.1).
#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace negatron::losses {

struct CosineSimilarityOptions {
  std::string loss_fct = "MSELoss";
  std::string cos_score_transformation = "Identity";
  template <class V>
  void visit(V& v) {
    v("loss_fct", loss_fct, "MSELoss | L1Loss | SmoothL1Loss | HuberLoss (torch.nn.*; mean reduction)");
    v("cos_score_transformation", cos_score_transformation, "Identity | Tanh | Sigmoid | ReLU (torch.nn.*)");
  }
  void validate() const;
};

/// columns: (sentence_A, sentence_B); labels [B].
at::Tensor cosine_similarity_loss(const std::vector<at::Tensor>& columns, const at::Tensor& labels,
                                  const CosineSimilarityOptions& options);

}  // namespace negatron::losses
