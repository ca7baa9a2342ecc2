#pragma once
// W ranks == 1 process: the check that the gather's gradient convention (distributed/gather.h) and the
// trainer's averaging (distributed/data_parallel.h) together reproduce single-process autograd on the
// global batch. Shared by the MPI (CPU) and NCCL (CUDA) tests.
//
// Every rank builds the same seeded global inputs G [N, d] and weight W [d, d]; rank r owns rows
// [offset_r, offset_r + r + 2) (unequal on purpose). Each rank embeds its rows E_r = G_r W,
// gathers E with gradient, and takes an in-batch-negatives loss over its local anchors against all
// N candidates, labels offset by its row offset, scaled by rows_local * world / N. After backward,
// W.grad is averaged over ranks. Reference: the same loss on all of G in one process (scale 1).
#include <gtest/gtest.h>
#include <torch/csrc/autograd/custom_function.h>

#include "distributed/data_parallel.h"
#include "distributed/gather.h"

namespace negatron::distributed::testing {

/// mean_i [logsumexp_j(s_ij) - s_i,offset+i] * scale, with s = 5 * anchors @ candidates^T.
inline at::Tensor in_batch_loss(const at::Tensor& anchors, const at::Tensor& candidates, int64_t offset,
                                double scale) {
  const at::Tensor scores = at::matmul(anchors, candidates.t()) * 5.0;
  const at::Tensor labels = at::arange(offset, offset + anchors.size(0), scores.options().dtype(at::kLong));
  const at::Tensor positive = scores.gather(1, labels.unsqueeze(1)).squeeze(1);
  return (at::logsumexp(scores, {1}) - positive).mean() * scale;
}

inline std::vector<int64_t> unequal_rows(int world) {
  std::vector<int64_t> rows;
  for (int r = 0; r < world; ++r) rows.push_back(r + 2);
  return rows;
}

/// Runs the check on `device` with `comm`; tolerance 1e-9 absolute in float64.
inline void expect_gather_with_grad_matches_single_process(Communicator& comm, at::Device device) {
  constexpr double kTolerance = 1e-9;
  const int world = comm.world_size(), rank = comm.rank();
  const std::vector<int64_t> rows = unequal_rows(world);
  int64_t total = 0, offset = 0;
  for (int r = 0; r < world; ++r) {
    if (r == rank) offset = total;
    total += rows[r];
  }
  at::manual_seed(1234);
  const at::Tensor global_inputs = at::randn({total, 6}, at::kDouble);
  const at::Tensor weight_init = at::randn({6, 6}, at::kDouble) * 0.3;

  // Reference: one process, the whole global batch.
  at::Tensor ref_inputs = global_inputs.clone().requires_grad_();
  at::Tensor ref_weight = weight_init.clone().requires_grad_();
  const at::Tensor ref_embeddings = at::matmul(ref_inputs, ref_weight);
  const at::Tensor ref_loss = in_batch_loss(ref_embeddings, ref_embeddings, 0, 1.0);
  ref_loss.backward();

  // Distributed: this rank's slice, on `device`.
  at::Tensor inputs = global_inputs.narrow(0, offset, rows[rank]).to(device).requires_grad_();
  at::Tensor weight = weight_init.to(device).requires_grad_();
  const at::Tensor embeddings = at::matmul(inputs, weight);
  const Gathered gathered = all_gather_with_grad(comm, embeddings);
  ASSERT_EQ(gathered.offset, offset);
  ASSERT_EQ(gathered.total, total);
  const double scale = static_cast<double>(rows[rank]) * world / static_cast<double>(total);
  const at::Tensor loss = in_batch_loss(embeddings, gathered.global, gathered.offset, scale);
  loss.backward();
  average_gradients(comm, {weight});

  // Forward: the mean over ranks of the scaled losses is the global loss.
  at::Tensor loss_sum = loss.detach().clone();
  comm.all_reduce(loss_sum, ReduceOp::kSum);
  EXPECT_NEAR(loss_sum.cpu().item<double>() / world, ref_loss.item<double>(), kTolerance);
  // Parameters: the averaged gradient is the single-process gradient.
  EXPECT_LE((weight.grad().cpu() - ref_weight.grad()).abs().max().item<double>(), kTolerance);
  // Inputs are not averaged: each rank holds world x the global gradient of its own rows.
  const at::Tensor ref_slice = ref_inputs.grad().narrow(0, offset, rows[rank]);
  EXPECT_LE((inputs.grad().cpu() / world - ref_slice).abs().max().item<double>(), kTolerance);
}

}  // namespace negatron::distributed::testing
