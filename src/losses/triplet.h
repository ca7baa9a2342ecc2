#pragma once
// TripletLoss: loss = mean(max(d(a, p) - d(a, n) + triplet_margin, 0)) over (anchor, positive,
// negative) rows.
// Requirements: (anchor, positive, negative) triplets.
// Inputs: (anchor, positive, negative) triplets | none.
// Relations: the batch triplet losses mine triplets from labelled single sentences instead.
// Reference: Schroff et al. 2015; sentence_transformers/sentence_transformer/losses/triplet.py (ST 6.0.1).
#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace negatron::losses {

struct TripletOptions {
  std::string distance_metric = "EUCLIDEAN";
  double triplet_margin = 5.0;
  template <class V>
  void visit(V& v) {
    v("distance_metric", distance_metric, "EUCLIDEAN | COSINE | MANHATTAN (TripletDistanceMetric.*)");
    v("triplet_margin", triplet_margin, "how much closer the positive must be than the negative (~0.3 with COSINE)");
  }
  void validate() const;
};

/// columns: (anchor, positive, negative).
at::Tensor triplet_loss(const std::vector<at::Tensor>& columns, const at::Tensor& labels,
                        const TripletOptions& options);

}  // namespace negatron::losses
