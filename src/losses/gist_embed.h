#pragma once
// GISTEmbedLoss: MultipleNegativesRanking-style cross-entropy whose in-batch negatives are filtered
// by a frozen guide model: a candidate the guide scores above the anchor's guided positive
// similarity (minus a margin) is treated as a false negative and masked out.
// Requirements: (anchor, positive) pairs or (anchor, positive, negative) triplets; a guide model.
// Inputs: columns anchor | positive | negative?; labels: none. EmbeddingBatch.guide holds the guide's
//   embeddings of the same columns (embedding level); at model level the loss computes them.
// Scores: [anchor-positive | anchor-anchor? | positive-positive? | anchor-negative?] / temperature,
//   cosine similarity, target = own positive (never masked).
// Model level: params "guide": <model dir>, loaded once, frozen, eval mode. Texts are re-tokenized
//   with the guide's tokenizer (model::Batch.texts) when its fingerprint differs from the model's or
//   its max_seq_length is shorter, as ST re-tokenizes; otherwise the token batch is reused.
// Distributed: anchors local; positives, negatives (and anchors, for anchor-anchor scores) gathered
//   with their guide embeddings in one all-gather, gradients back in one reduce-scatter; labels
//   offset + i. Anchor-anchor scores are local anchors against all ranks' anchors (ST uses the
//   local block only), so W ranks equal one process on the global batch.
// Memory: scores in tiles (tiled_softmax.h, parameter tile_size). Guide scores are compared with
//   the threshold in float64; ties within kGuideTieTolerance keep the candidate (candidate_block.h).
// Reference: Solatorio 2024 (GISTEmbed); sentence_transformers/.../losses/gist_embed.py (ST 6.0.1).
#include <memory>
#include <optional>
#include <string>

#include "losses/in_batch_gather.h"
#include "losses/loss.h"
#include "losses/tiled_softmax.h"

namespace negatron::losses {

struct GistEmbedOptions {
  std::string guide;                  // read by the factory (model level)
  std::optional<bool> gather_across_devices;  // goes into the LossContext
  double temperature = 0.01;
  std::string margin_strategy = "absolute";
  double margin = 0.0;
  bool contrast_anchors = true;
  bool contrast_positives = true;
  TileOptions tiling;

  template <class V>
  void visit(V& v) {
    v("guide", guide, "the guide model's folder (required at model level; frozen)");
    v("temperature", temperature, "divides the cosine scores (> 0)");
    v("margin_strategy", margin_strategy,
      "absolute: drop candidates the guide scores above pos - margin; relative: above pos - |pos| x margin");
    v("margin", margin, "the margin of margin_strategy");
    v("contrast_anchors", contrast_anchors, "add anchor-anchor scores");
    v("contrast_positives", contrast_positives, "add positive-positive scores");
    v("gather_across_devices", gather_across_devices, kGatherDoc);
    tiling.visit(v);
  }
  void validate() const;
};

struct GistInputs {
  at::Tensor anchors, anchor_guide;                  // [B, d], [B, g] local
  at::Tensor all_anchors, all_anchor_guide;          // [N, d], [N, g] global (anchor-anchor block)
  at::Tensor positives, positive_guide;              // [N, d], [N, g] global
  at::Tensor negatives, negative_guide;              // [N, d], [N, g] global, or undefined
  int64_t offset = 0;
};

/// Mean cross-entropy over the local anchors. Pure function of tensors.
at::Tensor gist_embed_loss(const GistInputs& in, const GistEmbedOptions& options);

class GistEmbedLoss : public Loss {
 public:
  GistEmbedLoss(GistEmbedOptions options, LossContext context, std::shared_ptr<model::SentenceEncoder> guide);
  const LossSpec& spec() const override { return spec_; }
  at::Tensor compute(const EmbeddingBatch& batch) override;
  /// Guide embeddings of every column (no grad), see the header.
  void add_side_inputs(model::SentenceEncoder& model, const model::Batch& batch, EmbeddingBatch& embeddings) override;

 private:
  GistEmbedOptions options_;
  LossContext context_;
  std::shared_ptr<model::SentenceEncoder> guide_;
  LossSpec spec_;
};

}  // namespace negatron::losses
