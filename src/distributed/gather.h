#pragma once
// all_gather_with_grad: the one differentiable gather every in-batch-negative loss uses.
//
// Forward: the concatenation (dim 0, rank order) of every rank's local rows; local row counts may
// differ between ranks. Backward: each rank receives the SUM over ranks of the gradient w.r.t. its
// own rows (all-reduce of the global gradient, then its slice).
//
// Gradient convention: each rank's loss is the mean over its local anchors scored against the
// global candidates; the trainer scales it by local_rows * world_size / global_rows and then
// AVERAGES parameter gradients over ranks. Together this equals the gradient of the single-process
// loss over the global batch. At world size 1 the gather is the identity and the offset is 0, so
// loss code is the same for every world size.
#include "distributed/communicator.h"

namespace negatron::distributed {

struct Gathered {
  at::Tensor global;   // [sum of local rows, ...]
  int64_t offset = 0;  // index of this rank's first row in `global`
  int64_t total = 0;   // global row count
};

/// Differentiable gather (see above).
Gathered all_gather_with_grad(Communicator& comm, const at::Tensor& local);
/// Same layout without gradient (guide-model embeddings, labels).
Gathered all_gather_no_grad(Communicator& comm, const at::Tensor& local);

/// Every rank's row count, in rank order.
std::vector<int64_t> gather_row_counts(Communicator& comm, int64_t local_rows);

}  // namespace negatron::distributed
