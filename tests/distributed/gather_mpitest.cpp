// all_gather_with_grad under mpirun (np 1..4) on the MPI backend, against one process on the
// global batch (see gather_reference.h), plus the no-grad gather's layout.
#include <gtest/gtest.h>

#include <numeric>

#include "distributed/mpi_communicator.h"
#include "gather_reference.h"

namespace negatron::distributed {
namespace {

TEST(MpiGather, WithGradMatchesSingleProcessAutograd) {
  auto comm = make_mpi_communicator();
  testing::expect_gather_with_grad_matches_single_process(*comm, at::kCPU);
}

TEST(MpiGather, NoGradGathersInRankOrderWithOffsets) {
  auto comm = make_mpi_communicator();
  const int world = comm->world_size(), rank = comm->rank();
  const std::vector<int64_t> rows = testing::unequal_rows(world);
  at::Tensor local = at::full({rows[rank], 2}, static_cast<float>(rank)).requires_grad_();
  const Gathered gathered = all_gather_no_grad(*comm, local);
  EXPECT_FALSE(gathered.global.requires_grad());
  std::vector<at::Tensor> expected;
  int64_t offset = 0, my_offset = 0;
  for (int r = 0; r < world; ++r) {
    if (r == rank) my_offset = offset;
    expected.push_back(at::full({rows[r], 2}, static_cast<float>(r)));
    offset += rows[r];
  }
  EXPECT_TRUE(at::equal(gathered.global, at::cat(expected)));
  EXPECT_EQ(gathered.offset, my_offset);
  EXPECT_EQ(gathered.total, offset);
  EXPECT_EQ(gather_row_counts(*comm, rows[rank]), rows);
}

TEST(MpiGather, ColumnsPackedOneCollectiveEachWay) {
  // Three tensors of this rank's rows travel together: a float64 matrix and a 1-D float64 vector
  // with gradients, a float32 matrix without. Rank 1 has no rows. Each rank's loss is
  // sum(global_a * w_r) + sum(global_v * u_r), so rank q's rows get the sum over r of w_r / u_r there.
  auto comm = make_mpi_communicator();
  const int world = comm->world_size(), rank = comm->rank();
  std::vector<int64_t> rows;
  for (int r = 0; r < world; ++r) rows.push_back(r == 1 ? 0 : r + 2);
  const int64_t total = std::accumulate(rows.begin(), rows.end(), int64_t{0});
  const int64_t offset = std::accumulate(rows.begin(), rows.begin() + rank, int64_t{0});
  const at::Tensor all_a = at::arange(total * 3, at::kDouble).reshape({total, 3});
  const at::Tensor all_v = at::arange(total, at::kDouble) * -0.5;
  const at::Tensor all_c = at::arange(total * 2, at::kFloat).reshape({total, 2}) + 0.25;
  at::Tensor a = all_a.narrow(0, offset, rows[rank]).clone().requires_grad_();
  at::Tensor v = all_v.narrow(0, offset, rows[rank]).clone().requires_grad_();
  const at::Tensor c = all_c.narrow(0, offset, rows[rank]).clone();
  auto w = [&](int r) { return at::arange(total * 3, at::kDouble).reshape({total, 3}) * (r + 1); };
  auto u = [&](int r) { return at::full({total}, 2.0 * r - 1.0, at::kDouble); };

  const CommStats before = comm->stats();
  const GatheredColumns g = all_gather_columns(*comm, {a, c, v}, rows);
  EXPECT_EQ(g.offset, offset);
  EXPECT_EQ(g.total, total);
  EXPECT_TRUE(at::equal(g.global[0], all_a));
  EXPECT_TRUE(at::equal(g.global[1], all_c));
  EXPECT_TRUE(at::equal(g.global[2], all_v));
  EXPECT_FALSE(g.global[1].requires_grad());
  ((g.global[0] * w(rank)).sum() + (g.global[2] * u(rank)).sum()).backward();
  at::Tensor want_a = at::zeros({total, 3}, at::kDouble), want_v = at::zeros({total}, at::kDouble);
  for (int r = 0; r < world; ++r) {
    want_a += w(r);
    want_v += u(r);
  }
  EXPECT_TRUE(at::equal(a.grad(), want_a.narrow(0, offset, rows[rank])));
  EXPECT_TRUE(at::equal(v.grad(), want_v.narrow(0, offset, rows[rank])));
  const CommStats& after = comm->stats();
  EXPECT_EQ(after.all_gather_calls - before.all_gather_calls, world > 1 ? 1 : 0);
  EXPECT_EQ(after.reduce_scatter_calls - before.reduce_scatter_calls, world > 1 ? 1 : 0);
  EXPECT_EQ(after.all_reduce_calls - before.all_reduce_calls, 0);
}

TEST(MpiGather, WithoutAPlanTheRowCountsAreExchangedFirst) {
  auto comm = make_mpi_communicator();
  const int64_t before = comm->stats().all_gather_calls;
  const at::Tensor local = at::ones({comm->rank() + 1, 2});
  const Gathered g = all_gather_no_grad(*comm, local);
  EXPECT_EQ(g.total, static_cast<int64_t>(comm->world_size()) * (comm->world_size() + 1) / 2);
  EXPECT_EQ(comm->stats().all_gather_calls - before, comm->world_size() > 1 ? 2 : 0);
}

}  // namespace
}  // namespace negatron::distributed
