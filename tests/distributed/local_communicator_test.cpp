// World size 1: the local communicator and the gathers are the identity, with offset 0, so loss
// code runs unchanged on one process.
#include <gtest/gtest.h>
#include <torch/csrc/autograd/custom_function.h>

#include "distributed/communicator.h"
#include "distributed/data_parallel.h"
#include "distributed/gather.h"

namespace negatron::distributed {
namespace {

TEST(LocalCommunicator, CollectivesAreTheIdentity) {
  auto comm = make_local_communicator();
  EXPECT_EQ(comm->rank(), 0);
  EXPECT_EQ(comm->world_size(), 1);
  EXPECT_EQ(comm->backend(), "local");
  at::Tensor x = at::arange(6, at::kFloat).reshape({2, 3});
  const at::Tensor original = x.clone();
  EXPECT_TRUE(at::equal(comm->all_gather(x), original));
  EXPECT_TRUE(at::equal(comm->all_gather_rows(x, {2}), original));
  EXPECT_TRUE(at::equal(comm->reduce_scatter(x, {2}), original));
  EXPECT_THROW(comm->all_gather_rows(x, {3}), std::exception);
  comm->all_reduce(x, ReduceOp::kSum);
  comm->broadcast(x, 0);
  comm->barrier();
  EXPECT_TRUE(at::equal(x, original));
}

TEST(LocalGather, WithGradIsIdentityAndPassesGradientThrough) {
  auto comm = make_local_communicator();
  at::Tensor local = at::arange(6, at::kDouble).reshape({3, 2}).requires_grad_();
  const Gathered gathered = all_gather_with_grad(*comm, local);
  EXPECT_EQ(gathered.offset, 0);
  EXPECT_EQ(gathered.total, 3);
  EXPECT_TRUE(at::equal(gathered.global, local));
  // d/dlocal of sum(global * weights) is exactly `weights` when the gather is the identity.
  const at::Tensor weights = at::arange(6, at::kDouble).reshape({3, 2}) + 1.0;
  (gathered.global * weights).sum().backward();
  EXPECT_TRUE(at::equal(local.grad(), weights));
}

TEST(LocalGather, ColumnsAreTheIdentityWithTheirOwnGraphs) {
  auto comm = make_local_communicator();
  at::Tensor a = at::ones({3, 2}, at::kDouble).requires_grad_();
  const at::Tensor b = at::zeros({3}, at::kFloat);
  const GatheredColumns g = all_gather_columns(*comm, {a, b}, {3});
  ASSERT_EQ(g.global.size(), 2u);
  EXPECT_TRUE(g.global[0].is_same(a));
  EXPECT_TRUE(g.global[1].is_same(b));
  EXPECT_EQ(g.offset, 0);
  EXPECT_EQ(g.total, 3);
  EXPECT_THROW(all_gather_columns(*comm, {a, at::zeros({2})}), std::exception);  // rows differ
}

TEST(LocalGather, NoGradDetaches) {
  auto comm = make_local_communicator();
  at::Tensor local = at::ones({2, 2}, at::kFloat).requires_grad_();
  const Gathered gathered = all_gather_no_grad(*comm, local);
  EXPECT_FALSE(gathered.global.requires_grad());
  EXPECT_EQ(gathered.total, 2);
  EXPECT_EQ(gather_row_counts(*comm, 7), std::vector<int64_t>{7});
}

TEST(LocalDataParallel, AveragingAtWorldOneLeavesGradientsUnchanged) {
  auto comm = make_local_communicator();
  at::Tensor param = at::zeros({4}, at::kFloat).requires_grad_();
  param.mutable_grad() = at::arange(4, at::kFloat);
  average_gradients(*comm, {param});
  EXPECT_TRUE(at::equal(param.grad(), at::arange(4, at::kFloat)));
  EXPECT_EQ(max_replica_difference(*comm, {param}), 0.0);
}

TEST(PlanBuckets, SplitsBySizeDtypeAndKeepsOrder) {
  const std::vector<at::Tensor> tensors = {
      at::zeros({4}, at::kFloat),   // 16 bytes
      at::zeros({4}, at::kFloat),   // 16 -> fits a 32-byte bucket with the first
      at::zeros({1}, at::kFloat),   // 4  -> would make 36 > 32: new bucket
      at::zeros({2}, at::kDouble),  // dtype change: new bucket
      at::zeros({100}, at::kDouble) // larger than a bucket: a bucket of its own
  };
  const auto buckets = plan_buckets(tensors, 32);
  ASSERT_EQ(buckets.size(), 4u);
  EXPECT_EQ(buckets[0].size(), 2u);
  EXPECT_EQ(buckets[1].size(), 1u);
  EXPECT_EQ(buckets[2].size(), 1u);
  EXPECT_EQ(buckets[3].size(), 1u);
  EXPECT_TRUE(buckets[0][1].is_same(tensors[1]));
  EXPECT_TRUE(buckets[3][0].is_same(tensors[4]));
  EXPECT_THROW(plan_buckets(tensors, 0), std::exception);
}

}  // namespace
}  // namespace negatron::distributed
