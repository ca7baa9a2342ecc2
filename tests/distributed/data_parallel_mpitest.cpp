// Data-parallel helpers under mpirun (np 1..4), each against values rebuilt in-process.
#include "distributed/data_parallel.h"

#include <gtest/gtest.h>

#include "distributed/mpi_communicator.h"

namespace negatron::distributed {
namespace {

/// Rank r's gradient for a parameter: (r + 1) * base + r, so the average is known in closed form.
at::Tensor rank_gradient(const at::Tensor& base, int r) { return base * (r + 1) + r; }

struct Params {
  at::Tensor matrix = at::zeros({3, 4}, at::kFloat).requires_grad_();
  at::Tensor vector = at::zeros({5}, at::kDouble).requires_grad_();
  at::Tensor frozen = at::zeros({2}, at::kFloat);                     // no requires_grad: skipped
  at::Tensor unused = at::zeros({2}, at::kFloat).requires_grad_();    // no grad on any rank: skipped
  std::vector<at::Tensor> all() const { return {matrix, vector, frozen, unused}; }
};

void expect_average(const at::Tensor& grad, const at::Tensor& base, int world, double tolerance) {
  at::Tensor expected = at::zeros_like(base, at::kDouble);
  for (int r = 0; r < world; ++r) expected += rank_gradient(base.to(at::kDouble), r);
  expected /= world;
  EXPECT_LE((grad.to(at::kDouble) - expected).abs().max().item<double>(), tolerance);
}

TEST(MpiDataParallel, AverageGradientsWithTinyAndDefaultBuckets) {
  auto comm = make_mpi_communicator();
  const at::Tensor matrix_base = at::arange(12, at::kFloat).reshape({3, 4}) * 0.5;
  const at::Tensor vector_base = at::arange(5, at::kDouble) - 2.0;
  for (int64_t bucket_bytes : {int64_t{16}, kDefaultBucketBytes}) {
    Params params;
    params.matrix.mutable_grad() = rank_gradient(matrix_base, comm->rank());
    params.vector.mutable_grad() = rank_gradient(vector_base, comm->rank());
    average_gradients(*comm, params.all(), bucket_bytes);
    expect_average(params.matrix.grad(), matrix_base, comm->world_size(), 1e-6);  // float32
    expect_average(params.vector.grad(), vector_base, comm->world_size(), 1e-12);
    EXPECT_FALSE(params.frozen.grad().defined());
    EXPECT_FALSE(params.unused.grad().defined());
  }
}

TEST(MpiDataParallel, AverageGradientsRejectsDifferentGradientSetsOnEveryRank) {
  auto comm = make_mpi_communicator();
  if (comm->world_size() == 1) GTEST_SKIP() << "needs two ranks to disagree";
  Params params;
  params.matrix.mutable_grad() = at::ones({3, 4});
  if (comm->rank() != 1) params.vector.mutable_grad() = at::ones({5}, at::kDouble);
  try {
    average_gradients(*comm, params.all());
    ADD_FAILURE() << "no error";
  } catch (const std::exception& error) {
    EXPECT_NE(std::string(error.what()).find("rank(s) 1"), std::string::npos) << error.what();
  }
}

TEST(MpiDataParallel, BroadcastParametersCopiesRankZerosValues) {
  auto comm = make_mpi_communicator();
  auto make = [](int seed) {
    at::manual_seed(seed);
    return std::vector<at::Tensor>{at::randn({4, 3}).requires_grad_(), at::randn({7}, at::kDouble)};
  };
  const std::vector<at::Tensor> mine = make(100 + comm->rank());
  const std::vector<at::Tensor> rank0 = make(100);  // the reference: rank 0's values, rebuilt here
  broadcast_parameters(*comm, mine);
  for (size_t i = 0; i < mine.size(); ++i) EXPECT_TRUE(at::equal(mine[i].detach(), rank0[i])) << i;
  EXPECT_EQ(max_replica_difference(*comm, mine), 0.0);
  EXPECT_NO_THROW(check_replicas_consistent(*comm, mine));
}

TEST(MpiDataParallel, ReplicaCheckNamesTheDivergedRank) {
  auto comm = make_mpi_communicator();
  const int last = comm->world_size() - 1;
  at::Tensor param = at::ones({3, 3});
  if (comm->rank() == last && last > 0) param[1][2] = 1.25;
  const double expected = last > 0 ? 0.25 : 0.0;
  EXPECT_DOUBLE_EQ(max_replica_difference(*comm, {param}), expected);
  if (last == 0) return;
  try {
    check_replicas_consistent(*comm, {param}, 0.1);
    ADD_FAILURE() << "no error";
  } catch (const std::exception& error) {
    EXPECT_NE(std::string(error.what()).find("rank " + std::to_string(last)), std::string::npos) << error.what();
  }
  EXPECT_NO_THROW(check_replicas_consistent(*comm, {param}, 0.5));
}

}  // namespace
}  // namespace negatron::distributed
