// OverlappedGradientAverager under mpirun (np 1..4) against average_gradients on the same model and
// batch: a plain backward (with a differentiable gather inside, whose blocking all_reduce runs
// while bucket all-reduces are in flight) and a GradCache-shaped step (a loss-owned parameter's
// gradient made before arm(), then several mini-batch backwards with only the last one armed).
// The gradients agree to 1e-12 in float64 (exactly at 2 ranks) and each step costs exactly one
// all-reduce per bucket, not one per mini-batch. The real GradCache loss on MiniLM is checked in
// tests/losses/overlap_gradcache_mpitest.cpp.
#include <gtest/gtest.h>

#include "distributed/mpi_communicator.h"
#include "overlap_reference.h"

namespace negatron::distributed {
namespace {

using testing::cached_step;
using testing::expect_same_grads;
using testing::Net;
using testing::plain_step;
using testing::rank_input;

using testing::check_against_average_gradients;

TEST(MpiOverlappedAverager, PlainBackwardMatchesAverageGradients) {
  for (int64_t bucket_bytes : {int64_t{64}, int64_t{200}, kDefaultBucketBytes}) {
    SCOPED_TRACE(bucket_bytes);
    check_against_average_gradients(*make_mpi_communicator(), plain_step, bucket_bytes);
  }
}

TEST(MpiOverlappedAverager, CachedMiniBatchesReduceOncePerStep) {
  for (int64_t bucket_bytes : {int64_t{64}, int64_t{200}, kDefaultBucketBytes}) {
    SCOPED_TRACE(bucket_bytes);
    check_against_average_gradients(*make_mpi_communicator(), cached_step, bucket_bytes);
  }
}

TEST(MpiOverlappedAverager, UnarmedStepStillAverages) {
  // A loss that never announces its last backward: finish() reduces everything after backward.
  auto comm = make_mpi_communicator();
  Net net;
  OverlappedGradientAverager averager(*comm, net.params(), 64);
  const at::Tensor x = rank_input(*comm, 0);
  cached_step(*comm, net, x, nullptr);
  average_gradients(*comm, net.params(), 64);
  const std::vector<at::Tensor> want = net.grads();
  net.zero_grad();
  averager.begin_step();
  cached_step(*comm, net, x, nullptr);
  averager.finish();
  expect_same_grads(net.grads(), want, comm->rank(), 0, comm->world_size());
  EXPECT_EQ(averager.stats().launched_during_backward, 0);
}

TEST(MpiOverlappedAverager, LateGradientIsReducedAgain) {
  // Step 1 trains without `head` in the armed backward; step 2 suddenly uses it there: its bucket
  // (started early, `head` not being expected) goes stale and finish() reduces it again.
  auto comm = make_mpi_communicator();
  if (comm->world_size() == 1) GTEST_SKIP() << "nothing is reduced at world size 1";
  Net net;
  OverlappedGradientAverager averager(*comm, net.params(), 64);
  auto without_head = [&](const at::Tensor& x, const std::function<void()>& arm) {
    at::Tensor loss = net.embed(x).pow(2).mean();
    if (arm) arm();
    loss.backward();
  };
  for (int step = 0; step < 2; ++step) {
    const at::Tensor x = rank_input(*comm, step);
    auto run = [&](const std::function<void()>& arm) {
      if (step == 0) without_head(x, arm); else plain_step(*comm, net, x, arm);
    };
    net.zero_grad();
    run(nullptr);
    average_gradients(*comm, net.params(), 64);
    const std::vector<at::Tensor> want = net.grads();
    net.zero_grad();
    averager.begin_step();
    run([&] { averager.arm(); });
    averager.finish();
    expect_same_grads(net.grads(), want, comm->rank(), step, comm->world_size());
    if (step == 1) EXPECT_EQ(averager.stats().rereduced, 1);
  }
}

TEST(MpiOverlappedAverager, RejectsDifferentGradientSetsOnEveryRank) {
  auto comm = make_mpi_communicator();
  if (comm->world_size() == 1) GTEST_SKIP() << "needs two ranks to disagree";
  Net net;
  OverlappedGradientAverager averager(*comm, net.params(), 64);
  averager.begin_step();
  const at::Tensor x = rank_input(*comm, 0);
  at::Tensor loss = net.embed(x).sum() + (comm->rank() == 1 ? net.unused.sum() : at::zeros({}, at::kDouble));
  averager.arm();
  loss.backward();
  try {
    averager.finish();
    ADD_FAILURE() << "no error";
  } catch (const std::exception& error) {
    EXPECT_NE(std::string(error.what()).find("rank(s) 1"), std::string::npos) << error.what();
  }
}

TEST(MpiOverlappedAverager, AsyncAllReduceSumsAndCounts) {
  auto comm = make_mpi_communicator();
  const int world = comm->world_size();
  at::Tensor a = at::full({4}, static_cast<double>(comm->rank() + 1), at::kDouble);
  at::Tensor b = at::full({2, 3}, static_cast<float>(comm->rank()), at::kFloat).t();  // not contiguous
  const int64_t before = comm->stats().all_reduce_calls;
  auto first = comm->all_reduce_async(a);
  auto second = comm->all_reduce_async(b, ReduceOp::kMax);
  second->wait();
  first->wait();
  first->wait();  // twice is fine
  EXPECT_EQ(comm->stats().all_reduce_calls - before, 2);
  EXPECT_TRUE(at::equal(a, at::full({4}, world * (world + 1) / 2.0, at::kDouble)));
  EXPECT_TRUE(at::equal(b, at::full({3, 2}, static_cast<float>(world - 1))));
  auto local = make_local_communicator();
  at::Tensor c = at::ones({3});
  local->all_reduce_async(c)->wait();
  EXPECT_TRUE(at::equal(c, at::ones({3})));
}

}  // namespace
}  // namespace negatron::distributed
