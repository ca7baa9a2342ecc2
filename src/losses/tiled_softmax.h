#pragma once
// The in-batch softmax behind every in-batch-negative loss (MultipleNegativesRankingLoss in all its
// directions, partition modes and hardness modes, its symmetric form, GISTEmbedLoss, and their
// cached forms, which GradCache wraps around these): per local row, the cross-entropy of its own
// candidate against the candidates of one or more blocks (candidate_block.h).
//
// Two evaluations of the same logits (tile_logits):
//   whole: every block's [R, C] logits at once, differentiated by autograd. Memory O(R x C).
//   tiled: rectangles of tile x tile logits, never more than one alive. Forward keeps a running
//          log-sum-exp per row and block (online softmax); backward recomputes each tile and adds
//          softmax x upstream gradient into the rows' and columns' gradients (two matrix products
//          for cos_sim / dot_score, autograd on the tile otherwise). Memory
//          O(tile^2 + (R + C) x d); time about one more matrix product than whole (the recompute).
//          Inf-CL (Wang et al. 2024, arXiv 2410.17243) does this for plain InfoNCE; here every
//          rule of the block (masks, hardness, guide filter) comes along because both evaluations
//          build their logits with tile_logits.
// Loss parameter `tile_size` (every in-batch loss and its cached form): null (default) = auto,
// tiles of kAutoTileSize rows x columns once a step's logits exceed kAutoTileSize^2 entries (the
// whole matrix below that); 0 = never tile; n > 0 = always tiles of n x n.
#include <nlohmann/json.hpp>
#include <vector>

#include "losses/candidate_block.h"

namespace negatron::losses {

constexpr int64_t kAutoTileSize = 2048;

struct TileOptions {
  /// null: auto; 0: never tile; n > 0: tiles of n rows x n candidates. Kept as JSON so that every
  /// wrong value (a string, 2.5, -1) gets the one message that lists the three valid forms.
  nlohmann::json tile_size = nullptr;
  template <class V>
  void visit(V& v) {
    v("tile_size", tile_size, "null: auto (tiles of 2048 once the logits pass 2048^2); 0: never; n > 0: n x n tiles");
  }
  void validate() const;
  /// The tile edge to use for R rows against `candidates` columns in all; 0 = the whole matrix.
  int64_t resolve(int64_t rows, int64_t candidates) const;
};

/// Per row i of the blocks (all have the same R rows): log Z_i - positive_i, where positive_i is the
/// logit of row i's own candidate in blocks[0] and log Z_i the log-partition over the candidates of
/// the blocks of one group; with several groups, the mean of their log-partitions (per-direction
/// softmaxes). [R], differentiable w.r.t. every block's rows and columns.
at::Tensor in_batch_cross_entropy(const std::vector<CandidateBlock>& blocks, const SimilarityKernel& similarity,
                                  const TileOptions& options);

}  // namespace negatron::losses
