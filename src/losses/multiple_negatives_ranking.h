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
#include <optional>
#include <string>
#include <vector>

#include "losses/in_batch_gather.h"
#include "losses/loss.h"
#include "losses/similarity.h"
#include "losses/tiled_softmax.h"

namespace negatron::losses {

struct MultipleNegativesRankingOptions {
  double scale = 20.0;
  std::string similarity_fct = "cos_sim";
  std::optional<bool> gather_across_devices;  // goes into the LossContext
  std::vector<std::string> directions = {"query_to_doc"};
  std::string partition_mode = "joint";
  std::optional<std::string> hardness_mode;
  double hardness_strength = 0.0;
  TileOptions tiling;

  template <class V>
  void visit(V& v) {
    visit_common(v);
    v("directions", directions, "query_to_doc (required), query_to_query, doc_to_query, doc_to_doc");
    v("partition_mode", partition_mode,
      "joint: one softmax over all directions; per_direction: the mean of one per direction");
    v("hardness_mode", hardness_mode, "in_batch_negatives | hard_negatives | all_negatives: adds "
      "hardness_strength x stop_grad(similarity) to those negatives' logits (null: none)");
    v("hardness_strength", hardness_strength, ">= 0; ignored without hardness_mode");
  }
  /// The parameters MultipleNegativesSymmetricRankingLoss shares.
  template <class V>
  void visit_common(V& v) {
    v("scale", scale, "multiplies the similarities (1 / temperature; > 0)");
    v("similarity_fct", similarity_fct, "cos_sim | dot_score | euclidean_sim | manhattan_sim");
    v("gather_across_devices", gather_across_devices, kGatherDoc);
    tiling.visit(v);
  }
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
