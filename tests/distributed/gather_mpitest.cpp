// all_gather_with_grad under mpirun (np 1..4) on the MPI backend, against one process on the
// global batch (see gather_reference.h), plus the no-grad gather's layout.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace negatron::distributed
