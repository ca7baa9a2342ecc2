// MpiCommunicator under mpirun (np 1..4). Expected values are built in-process by looping over
// the ranks' known contributions; integer-valued data, so comparisons are exact.
#include "distributed/mpi_communicator.h"

#include <gtest/gtest.h>

#include <numeric>

namespace negatron::distributed {
namespace {

/// Rank r's contribution to all_gather: r + 1 rows of 3 columns, value 100 r + 3 i + j.
at::Tensor gather_piece(int r, at::ScalarType dtype) {
  return (at::arange(3 * (r + 1), at::kDouble).reshape({r + 1, 3}) + 100.0 * r).to(dtype);
}

TEST(MpiCommunicator, RankWorldAndBackend) {
  auto comm = make_mpi_communicator();
  int rank = 0, world = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world);
  EXPECT_EQ(comm->rank(), rank);
  EXPECT_EQ(comm->world_size(), world);
  EXPECT_EQ(comm->local_rank(), rank);  // one node
  EXPECT_EQ(comm->backend(), "mpi");
}

TEST(MpiCommunicator, AllGatherUnequalRowsEveryDtype) {
  auto comm = make_mpi_communicator();
  for (at::ScalarType dtype : {at::kFloat, at::kDouble, at::kLong, at::kInt, at::kHalf, at::kBFloat16}) {
    std::vector<at::Tensor> expected;
    for (int r = 0; r < comm->world_size(); ++r) expected.push_back(gather_piece(r, dtype));
    const at::Tensor gathered = comm->all_gather(gather_piece(comm->rank(), dtype));
    EXPECT_EQ(gathered.scalar_type(), dtype);
    EXPECT_TRUE(at::equal(gathered, at::cat(expected))) << c10::toString(dtype);
  }
}

TEST(MpiCommunicator, AllGatherWithAnEmptyRankAndNonContiguousInput) {
  auto comm = make_mpi_communicator();
  const int rank = comm->rank();
  // Rank 0 contributes no rows; the others a transposed (non-contiguous) [rank, 2] view.
  at::Tensor local = (at::arange(2 * rank, at::kFloat).reshape({2, rank}) + 10 * rank).t();
  std::vector<at::Tensor> expected;
  for (int r = 0; r < comm->world_size(); ++r) {
    expected.push_back((at::arange(2 * r, at::kFloat).reshape({2, r}) + 10 * r).t());
  }
  EXPECT_TRUE(at::equal(comm->all_gather(local), at::cat(expected)));
}

TEST(MpiCommunicator, AllGatherRejectsMismatchedTrailingShapeOnEveryRank) {
  auto comm = make_mpi_communicator();
  if (comm->world_size() == 1) GTEST_SKIP() << "needs two ranks to disagree";
  const bool odd_one = comm->rank() == comm->world_size() - 1;
  const at::Tensor local = at::zeros({2, odd_one ? 4 : 3});
  try {
    comm->all_gather(local);
    ADD_FAILURE() << "no error";
  } catch (const std::exception& error) {
    EXPECT_NE(std::string(error.what()).find("rank " + std::to_string(comm->world_size() - 1) + " disagrees"),
              std::string::npos)
        << error.what();
  }
}

TEST(MpiCommunicator, AllReduceSumMaxMinEveryDtype) {
  auto comm = make_mpi_communicator();
  const int world = comm->world_size();
  // Rank r holds values (r + 1) * k - 2r for k = 0..4: linear in r, so each op has a closed form.
  auto piece = [](int r, at::ScalarType dtype) { return (at::arange(5, at::kDouble) * (r + 1) - 2 * r).to(dtype); };
  for (at::ScalarType dtype : {at::kFloat, at::kDouble, at::kLong, at::kInt}) {
    for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kMax, ReduceOp::kMin}) {
      at::Tensor expected = piece(0, dtype);
      for (int r = 1; r < world; ++r) {
        const at::Tensor p = piece(r, dtype);
        expected = op == ReduceOp::kSum ? expected + p : op == ReduceOp::kMax ? at::maximum(expected, p)
                                                                            : at::minimum(expected, p);
      }
      at::Tensor tensor = piece(comm->rank(), dtype);
      comm->all_reduce(tensor, op);
      EXPECT_TRUE(at::equal(tensor, expected)) << c10::toString(dtype) << " op " << static_cast<int>(op);
    }
  }
}

TEST(MpiCommunicator, AllReduceInPlaceOnNonContiguousView) {
  auto comm = make_mpi_communicator();
  at::Tensor base = at::ones({3, 2}, at::kDouble);
  at::Tensor view = base.t();
  comm->all_reduce(view, ReduceOp::kSum);
  EXPECT_TRUE(at::equal(base, at::full({3, 2}, static_cast<double>(comm->world_size()), at::kDouble)));
}

TEST(MpiCommunicator, AllReduceRejectsUnsupportedDtypeNamingIt) {
  auto comm = make_mpi_communicator();
  at::Tensor half = at::ones({2}, at::kHalf);
  try {
    comm->all_reduce(half, ReduceOp::kSum);
    ADD_FAILURE() << "no error";
  } catch (const std::exception& error) {
    EXPECT_NE(std::string(error.what()).find("Half"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("all_reduce"), std::string::npos) << error.what();
  }
}

TEST(MpiCommunicator, BroadcastFromLastRankAndStats) {
  auto comm = make_mpi_communicator();
  const int root = comm->world_size() - 1;
  at::Tensor tensor = at::full({4, 3}, static_cast<float>(comm->rank()));
  comm->broadcast(tensor, root);
  EXPECT_TRUE(at::equal(tensor, at::full({4, 3}, static_cast<float>(root))));
  at::Tensor local = at::ones({2, 3});
  comm->all_gather(local);
  comm->barrier();
  EXPECT_EQ(comm->stats().broadcast_calls, 1);
  EXPECT_EQ(comm->stats().broadcast_bytes, comm->rank() == root ? 48 : 0);
  EXPECT_EQ(comm->stats().all_gather_calls, 1);
  EXPECT_EQ(comm->stats().all_gather_bytes, 24);
}

/// Rank r's rows in the plan tests: rank 0 has none, rank r > 0 has r + 1.
std::vector<int64_t> plan_rows(int world) {
  std::vector<int64_t> rows;
  for (int r = 0; r < world; ++r) rows.push_back(r == 0 ? 0 : r + 1);
  return rows;
}

TEST(MpiCommunicator, AllGatherRowsFromThePlanWithAnEmptyRank) {
  auto comm = make_mpi_communicator();
  const std::vector<int64_t> rows = plan_rows(comm->world_size());
  std::vector<at::Tensor> expected;
  for (int r = 0; r < comm->world_size(); ++r) expected.push_back(gather_piece(r, at::kDouble).narrow(0, 0, rows[r]));
  const at::Tensor local = gather_piece(comm->rank(), at::kDouble).narrow(0, 0, rows[comm->rank()]);
  const int64_t before = comm->stats().all_gather_calls;
  EXPECT_TRUE(at::equal(comm->all_gather_rows(local, rows), at::cat(expected)));
  EXPECT_EQ(comm->stats().all_gather_calls - before, 1);
}

TEST(MpiCommunicator, ReduceScatterSumsEachRanksRowsEveryDtype) {
  auto comm = make_mpi_communicator();
  const int world = comm->world_size(), rank = comm->rank();
  for (const std::vector<int64_t>& rows : {plan_rows(world), std::vector<int64_t>(world, 3)}) {  // uneven, even
    const int64_t total = std::accumulate(rows.begin(), rows.end(), int64_t{0});
    const int64_t offset = std::accumulate(rows.begin(), rows.begin() + rank, int64_t{0});
    // Rank r passes (r + 1) * base + r, so the sum is W(W+1)/2 * base + W(W-1)/2.
    const at::Tensor base = at::arange(total * 2, at::kDouble).reshape({total, 2});
    for (at::ScalarType dtype : {at::kFloat, at::kDouble, at::kLong, at::kInt}) {
      const at::Tensor mine = (base * (rank + 1) + rank).to(dtype);
      const at::Tensor sum = (base * (world * (world + 1) / 2) + world * (world - 1) / 2).to(dtype);
      const int64_t calls = comm->stats().reduce_scatter_calls, bytes = comm->stats().reduce_scatter_bytes;
      const at::Tensor got = comm->reduce_scatter(mine.t().contiguous().t(), rows);  // column-major input
      EXPECT_EQ(got.scalar_type(), dtype);
      EXPECT_TRUE(at::equal(got, sum.narrow(0, offset, rows[rank]))) << c10::toString(dtype);
      EXPECT_EQ(comm->stats().reduce_scatter_calls - calls, 1);
      EXPECT_EQ(comm->stats().reduce_scatter_bytes - bytes, mine.nbytes());
    }
  }
}

TEST(MpiCommunicator, PlanThatDoesNotFitIsRejectedBeforeAnyTraffic) {
  auto comm = make_mpi_communicator();
  const int world = comm->world_size();
  const at::Tensor local = at::zeros({2, 3});
  // Every rank sees its own mistake, so no rank is left waiting in a collective.
  EXPECT_THROW(comm->all_gather_rows(local, std::vector<int64_t>(world + 1, 2)), std::exception);
  EXPECT_THROW(comm->all_gather_rows(local, std::vector<int64_t>(world, 3)), std::exception);
  EXPECT_THROW(comm->reduce_scatter(at::zeros({2 * world + 1, 3}), std::vector<int64_t>(world, 2)), std::exception);
  EXPECT_THROW(comm->reduce_scatter(local, std::vector<int64_t>(world, -1)), std::exception);
}

}  // namespace
}  // namespace negatron::distributed
