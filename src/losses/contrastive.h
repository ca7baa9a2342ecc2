#pragma once
// ContrastiveLoss: pairs labelled 1 (similar) are pulled together, pairs labelled 0 pushed apart
// until their distance exceeds the margin: l = 0.5 * (y * d^2 + (1 - y) * max(margin - d, 0)^2);
// mean (size_average) or sum over pairs. Non-binary labels weight the two terms (as ST).
// Requirements: pairs with binary labels.
// Inputs: (anchor, other) pairs | 1 if positive, 0 if negative.
// Relations: OnlineContrastiveLoss keeps only the hard pairs.
// Reference: Hadsell et al. 2006; sentence_transformers/sentence_transformer/losses/contrastive.py (ST 6.0.1).
#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace negatron::losses {

enum class SiameseDistance { kEuclidean, kManhattan, kCosineDistance };

/// Case-insensitive, optionally "SiameseDistanceMetric."-prefixed; the error lists the valid names.
SiameseDistance siamese_distance_by_name(const std::string& name);
/// [N] distances of row pairs (torch pairwise_distance with eps 1e-6; 1 - cosine_similarity).
at::Tensor siamese_distance(const at::Tensor& a, const at::Tensor& b, SiameseDistance metric);

/// OnlineContrastiveLoss's parameters; ContrastiveLoss adds size_average.
struct SiameseOptions {
  std::string distance_metric = "COSINE_DISTANCE";
  double margin = 0.5;
  template <class V>
  void visit(V& v) {
    v("distance_metric", distance_metric, "COSINE_DISTANCE | EUCLIDEAN | MANHATTAN (SiameseDistanceMetric.*)");
    v("margin", margin, "negative pairs at least this far apart add no loss");
  }
  void validate() const { siamese_distance_by_name(distance_metric); }
};

struct ContrastiveOptions : SiameseOptions {
  bool size_average = true;
  template <class V>
  void visit(V& v) {
    SiameseOptions::visit(v);
    v("size_average", size_average, "mean over pairs (false: sum)");
  }
};

/// columns: (anchor, other); labels [B].
at::Tensor contrastive_loss(const std::vector<at::Tensor>& columns, const at::Tensor& labels,
                            const ContrastiveOptions& options);

}  // namespace negatron::losses
