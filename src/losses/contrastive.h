#pragma once
// ContrastiveLoss: pairs labelled 1 (similar) are pulled together, pairs labelled 0 pushed apart
// until their distance exceeds the margin: l = 0.5 * (y * d^2 + (1 - y) * max(margin - d, 0)^2);
// mean (size_average) or sum over pairs. Non-binary labels weight the two terms (as ST).
// Requirements: pairs with binary labels.
// Inputs: (anchor, other) pairs | 1 if positive, 0 if negative.
// Params: distance_metric ("COSINE_DISTANCE" | "EUCLIDEAN" | "MANHATTAN", optionally prefixed
//   "SiameseDistanceMetric."), margin (0.5), size_average (true).
// Relations: OnlineContrastiveLoss keeps only the hard pairs.
// Reference: Hadsell et al. 2006; sentence_transformers/sentence_transformer/losses/contrastive.py (ST 6.0.1).
#include <ATen/ATen.h>

#include <string>

namespace negatron::losses {

enum class SiameseDistance { kEuclidean, kManhattan, kCosineDistance };

/// Case-insensitive; the error names the loss and lists the valid names.
SiameseDistance siamese_distance_by_name(const std::string& name, const std::string& loss);
/// [N] distances of row pairs (torch pairwise_distance with eps 1e-6; 1 - cosine_similarity).
at::Tensor siamese_distance(const at::Tensor& a, const at::Tensor& b, SiameseDistance metric);

struct ContrastiveOptions {
  SiameseDistance distance_metric = SiameseDistance::kCosineDistance;
  double margin = 0.5;
  bool size_average = true;
};

at::Tensor contrastive_loss(const at::Tensor& a, const at::Tensor& b, const at::Tensor& labels,
                            const ContrastiveOptions& options);

}  // namespace negatron::losses
