#pragma once
// MultipleNegativesRankingLoss (InfoNCE, in-batch negatives).
//
// For each anchor (query) the paired positive (document) must score higher than every other
// candidate: all positives of the batch and all hard negatives. Optional directions add the
// symmetric term (doc_to_query) and same-type terms (query_to_query, doc_to_doc, GTE).
// Requirements: (anchor, positive) pairs, triplets or (anchor, positive, negative_1..n) tuples.
// Inputs: columns anchor | positive | negative_1 ... negative_n; labels: none.
// Relations: MultipleNegativesSymmetricRankingLoss = directions {query_to_doc, doc_to_query},
//   per_direction; Cached* = GradCache around this loss; GISTEmbedLoss adds a guide model.
// Distributed: anchors are this rank's rows. Candidates are every doc column (and the anchors for
//   query_to_query / doc_to_query), gathered in one all-gather (one reduce-scatter back). Global
//   column layout of the query_to_doc scores: [all ranks' positives (N rows) | all ranks'
//   negative_1 (N rows) | ...], N = global rows; local anchor i has label offset + i, and its own
//   hard negative j sits at column j * N + offset + i. The loss is the mean over local anchors.
// Memory: the scores are evaluated in tiles (tiled_softmax.h, parameter tile_size), so a step needs
//   O(tile^2 + rows x dim), not O(local rows x global rows x columns).
// Reference: van den Oord et al. 2018; Li et al. 2023 (GTE); Lan et al. 2025 (hardness);
//   sentence_transformers/sentence_transformer/losses/multiple_negatives_ranking.py (ST 6.0.1).
#include <string>
#include <vector>

#include "losses/loss.h"
#include "losses/similarity.h"
#include "losses/tiled_softmax.h"

namespace negatron::losses {

struct MultipleNegativesRankingOptions {
  /// Multiplies the similarities (1 / temperature). Must be > 0.
  double scale = 20.0;
  /// "cos_sim" or "dot_score" (any similarity_by_name name).
  std::string similarity_fct = "cos_sim";
  /// Subset of query_to_doc (required), query_to_query, doc_to_query, doc_to_doc.
  std::vector<std::string> directions = {"query_to_doc"};
  /// "joint": one softmax over all directions; "per_direction": mean of one softmax per direction
  /// (not with query_to_query / doc_to_doc).
  std::string partition_mode = "joint";
  /// "" (none), "in_batch_negatives", "hard_negatives" or "all_negatives": adds
  /// hardness_strength * stop_grad(sim) to those negatives' logits.
  std::string hardness_mode;
  /// >= 0; ignored without hardness_mode.
  double hardness_strength = 0.0;
  /// tile_size: see tiled_softmax.h (null = auto).
  TileOptions tiling;

  void validate() const;
  bool has(const std::string& direction) const;
};

/// The gathered inputs of the pure loss.
struct InBatchInputs {
  at::Tensor anchors;                // [B, d] this rank's anchors
  at::Tensor anchors_global;         // [N, d]; needed for query_to_query / doc_to_query
  std::vector<at::Tensor> docs;      // per doc column: [N, d] global (positives first); this
                                     // rank's positives are docs[0] rows [offset, offset + B)
  int64_t offset = 0;                // index of this rank's first row in the global rows
};

/// Mean over the B local anchors of the per-anchor loss (0 when B is 0). Pure function of tensors.
at::Tensor multiple_negatives_ranking_loss(const InBatchInputs& in, const MultipleNegativesRankingOptions& options);

class ParamReader;
/// Reads ST's parameter names (scale, similarity_fct, gather_across_devices and, unless `symmetric`,
/// directions, partition_mode, hardness_mode, hardness_strength) and tile_size; shared by the
/// MNRL-based registrations (symmetric, cached). gather_across_devices goes into `context`.
MultipleNegativesRankingOptions read_mnrl_options(ParamReader& params, LossContext& context, bool symmetric);

class MultipleNegativesRankingLoss : public Loss {
 public:
  MultipleNegativesRankingLoss(MultipleNegativesRankingOptions options, LossContext context,
                               std::string name = "MultipleNegativesRankingLoss");
  const LossSpec& spec() const override { return spec_; }
  at::Tensor compute(const EmbeddingBatch& batch) override;
  const MultipleNegativesRankingOptions& options() const { return options_; }

 private:
  MultipleNegativesRankingOptions options_;
  LossContext context_;
  LossSpec spec_;
};

}  // namespace negatron::losses
