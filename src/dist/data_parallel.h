#pragma once
// Data parallelism as plain functions over a parameter list (the trainer calls them; model code
// never does):
//   broadcast_parameters  rank 0's values into every replica, once after construction/loading.
//   average_gradients     after backward: .grad averaged over ranks, packed into flat buckets
//                         (default 25 MiB) so a BERT's ~200 tensors cost a few collectives.
//   max_replica_difference / check_replicas_consistent  debug check that replicas agree.
// Gradient convention: see dist/gather.h. Averaging (not summing) here is what makes W ranks equal
// one process on the global batch when each rank's loss is scaled by rows_local*W/rows_global.
#include <vector>

#include "dist/communicator.h"

namespace negatron::dist {

constexpr int64_t kDefaultBucketBytes = 25 * 1024 * 1024;

/// Copies `root`'s values into `tensors` on every rank, in place (parameters and buffers alike).
void broadcast_parameters(Communicator& comm, const std::vector<at::Tensor>& tensors, int root = 0);

/// Replaces p.grad by its average over ranks for every p that requires grad and has a grad.
/// Parameters without requires_grad (a frozen guide model) or without a grad are skipped; all ranks
/// must skip the same ones, which is checked (one 8-byte all_gather) and reported by rank.
void average_gradients(Communicator& comm, const std::vector<at::Tensor>& params,
                       int64_t bucket_bytes = kDefaultBucketBytes);

/// max over ranks and elements of |p - p on rank 0| (the same value on every rank).
double max_replica_difference(Communicator& comm, const std::vector<at::Tensor>& params);
/// Throws, on every rank, naming the ranks whose parameters differ from rank 0's by > tolerance.
void check_replicas_consistent(Communicator& comm, const std::vector<at::Tensor>& params, double tolerance = 0.0);

/// Consecutive tensors grouped while dtype and device match and the group stays within
/// bucket_bytes (a tensor larger than that is a bucket of its own). Exposed for tests.
std::vector<std::vector<at::Tensor>> plan_buckets(const std::vector<at::Tensor>& tensors, int64_t bucket_bytes);

}  // namespace negatron::dist
