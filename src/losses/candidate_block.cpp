#include "losses/candidate_block.h"

#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <limits>

namespace negatron::losses {

OwnDiagonal own_diagonal(int64_t own_offset, int64_t r0, int64_t c0, int64_t nr, int64_t nc) {
  OwnDiagonal d;
  d.offset = own_offset + r0 - c0;  // tile row i's own candidate is tile column i + offset
  d.first_row = std::max<int64_t>(0, -d.offset);
  d.length = std::max<int64_t>(0, std::min(nr, nc - d.offset) - d.first_row);
  return d;
}

at::Tensor tile_logits(const CandidateBlock& block, const SimilarityKernel& similarity, const at::Tensor& rows,
                       const at::Tensor& columns, int64_t r0, int64_t c0) {
  const int64_t nr = rows.size(0), nc = columns.size(0);
  const OwnDiagonal own = own_diagonal(block.own_offset, r0, c0, nr, nc);
  at::Tensor logits =
      similarity.is_dot
          ? at::addmm(at::zeros({}, rows.options()), rows, columns.t(), /*beta=*/0, /*alpha=*/block.scale)
          : similarity.kernel(rows, columns) * block.scale;
  if (block.own_penalty != 0 || block.other_penalty != 0) {
    // penalty * stop_grad(similarity), with similarity = logits / scale.
    const at::Tensor scores = logits.detach();
    at::Tensor penalty = scores * (block.other_penalty / block.scale);
    if (own.length > 0)
      penalty.diagonal(own.offset).copy_(scores.diagonal(own.offset) * (block.own_penalty / block.scale));
    logits.add_(penalty);
  }
  if (block.mask_own && own.length > 0) logits.diagonal(own.offset).fill_(-std::numeric_limits<double>::infinity());
  if (block.guide.defined()) {
    at::Tensor drop;
    {
      at::NoGradGuard no_grad;
      const at::Tensor guided = at::mm(block.guide.rows.narrow(0, r0, nr), block.guide.columns.narrow(0, c0, nc).t());
      drop = guided > (block.guide.limit.narrow(0, r0, nr) + kGuideTieTolerance).unsqueeze(1);
      if (block.guide.spare_own && own.length > 0) drop.diagonal(own.offset).fill_(false);
    }
    logits.masked_fill_(drop, -std::numeric_limits<double>::infinity());
  }
  return logits;
}

}  // namespace negatron::losses
