#pragma once
// all_gather_columns / all_gather_with_grad: the one differentiable gather every in-batch-negative
// loss uses.
//
// Forward: the concatenation (dim 0, rank order) of every rank's local rows; local row counts may
// differ between ranks. Several tensors with the same local rows (a loss's candidate columns, GIST's
// guide embeddings; any dtypes and widths) travel side by side in ONE all-gather. Backward: ONE
// reduce-scatter hands each rank the SUM over ranks of the gradient w.r.t. its own rows, for every
// tensor that requires grad (those must share a dtype), packed likewise.
//
// Row counts: the batch plan knows every rank's rows (RankRows, carried with the batch); given
// them, nothing else is exchanged. Without them (empty), one small all-gather of the counts comes
// first.
//
// Gradient convention: each rank's loss is the mean over its local anchors scored against the
// global candidates; the trainer scales it by local_rows * world_size / global_rows and then
// AVERAGES parameter gradients over ranks. Together this equals the gradient of the single-process
// loss over the global batch. At world size 1 the gather is the identity and the offset is 0, so
// loss code is the same for every world size. Every rank must run the backward (the
// reduce-scatter is collective): a rank without anchors still backwards its (zero) loss.
#include "distributed/communicator.h"

namespace negatron::distributed {

/// Every rank's row count in rank order, as the batch plan knows it; empty = unknown.
using RankRows = std::vector<int64_t>;

struct Gathered {
  at::Tensor global;   // [sum of local rows, ...]
  int64_t offset = 0;  // index of this rank's first row in `global`
  int64_t total = 0;   // global row count
};

struct GatheredColumns {
  std::vector<at::Tensor> global;  // one per local tensor, [total, ...] each
  int64_t offset = 0;
  int64_t total = 0;
};

/// Differentiable gather of tensors that share their local rows (see above).
GatheredColumns all_gather_columns(Communicator& comm, const std::vector<at::Tensor>& locals,
                                   const RankRows& rank_rows = {});
/// One tensor.
Gathered all_gather_with_grad(Communicator& comm, const at::Tensor& local, const RankRows& rank_rows = {});
/// Same layout without gradient (labels, evaluation embeddings).
Gathered all_gather_no_grad(Communicator& comm, const at::Tensor& local, const RankRows& rank_rows = {});

/// Every rank's row count, in rank order (one small all-gather; none at world size 1).
std::vector<int64_t> gather_row_counts(Communicator& comm, int64_t local_rows);

}  // namespace negatron::distributed
