#pragma once
// One block of an in-batch softmax: this rank's R rows (anchors, or positives for the doc_to_*
// directions) scored against C candidates, with the per-entry rules of the in-batch losses: the own
// candidate masked out, hardness penalties, GISTEmbed's guide filter. tile_logits builds any
// rectangle of a block's logits; the whole-matrix and the tiled evaluation (tiled_softmax.h) both
// call it, so they cannot disagree on a rule.
#include <ATen/ATen.h>

#include "losses/similarity.h"

namespace negatron::losses {

/// GISTEmbed's false-negative filter: row i's candidate j scores -inf when the guide model scores
/// the pair above the row's limit (see kGuideTieTolerance).
struct GuideFilter {
  at::Tensor rows, columns;  // [R, g], [C, g]: guide embeddings, L2-normalised, float64
  at::Tensor limit;          // [R] float64
  bool spare_own = false;    // the own candidate (the positive) is never filtered
  bool defined() const { return rows.defined(); }
};

struct CandidateBlock {
  at::Tensor rows;         // [R, d] local rows (embeddings as they are; the softmax prepares them)
  at::Tensor columns;      // [C, d] candidates
  double scale = 1.0;      // logits = scale * kernel(rows, columns)
  int group = 0;           // blocks of one group share one softmax partition
  int64_t own_offset = 0;  // row i's own candidate (its pair, or itself) is column own_offset + i
  bool mask_own = false;   // the own candidate scores -inf (a row is no negative of itself)
  /// Hardness: + penalty * stop_grad(similarity) on the own candidate / on every other candidate.
  double own_penalty = 0, other_penalty = 0;
  GuideFilter guide;       // optional
};

/// A guide score within this (float64) tolerance of the limit counts as equal to it, i.e. kept: the
/// same pair scored in two tiles may differ in its last bits, and identical guide embeddings
/// (duplicate texts) must be kept alike in every tiling. sentence-transformers leaves such ties to
/// its matrix product's rounding.
constexpr double kGuideTieTolerance = 1e-12;

/// Logits of the rectangle rows [r0, r0 + rows.size(0)) x columns [c0, c0 + columns.size(0)) of
/// `block`, given those slices of block.rows / block.columns, prepared. Differentiable w.r.t. them; penalties
/// and filters are constants. For the dot kernels the scale rides in the matrix product (one pass
/// over the tile, not two).
at::Tensor tile_logits(const CandidateBlock& block, const SimilarityKernel& similarity, const at::Tensor& rows,
                       const at::Tensor& columns, int64_t r0, int64_t c0);

/// Where the own candidates lie in an [nr, nc] tile at (r0, c0): tile.diagonal(offset) holds those
/// of tile rows [first_row, first_row + length).
struct OwnDiagonal {
  int64_t offset = 0, first_row = 0, length = 0;
};
OwnDiagonal own_diagonal(int64_t own_offset, int64_t r0, int64_t c0, int64_t nr, int64_t nc);

}  // namespace negatron::losses
