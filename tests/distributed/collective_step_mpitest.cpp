// run_collectively under mpirun (np 1..4): a step that fails on some ranks fails on every rank with
// the lowest failing rank's message, and the ranks stay in step for the collectives that follow.
#include <gtest/gtest.h>

#include "distributed/collective_step.h"
#include "distributed/mpi_communicator.h"

namespace negatron::distributed {
namespace {

TEST(RunCollectively, EveryRankThrowsTheLowestFailingRanksError) {
  auto comm = make_mpi_communicator();
  const int world = comm->world_size(), rank = comm->rank();
  for (int failing = 0; failing < world; ++failing) {
    try {
      run_collectively(*comm, [&] {
        if (rank >= failing) NEG_FAIL("bad row on rank ", rank);
      });
      FAIL() << "no CollectiveFailure";
    } catch (const CollectiveFailure& e) {
      EXPECT_EQ(e.failed_rank(), failing);
      const std::string expected = (world > 1 ? "rank " + std::to_string(failing) + ": " : std::string()) +
                                   "bad row on rank " + std::to_string(failing);
      EXPECT_EQ(std::string(e.what()).rfind(expected, 0), 0u) << e.what();
    }
  }
  int ran = 0;
  EXPECT_NO_THROW(run_collectively(*comm, [&] { ran = 1; }));
  at::Tensor sum = at::ones({1});
  comm->all_reduce(sum);  // still in step
  EXPECT_EQ(sum.item<float>(), world);
  EXPECT_EQ(ran, 1);
}

}  // namespace
}  // namespace negatron::distributed
