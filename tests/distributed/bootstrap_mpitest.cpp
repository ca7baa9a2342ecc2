// bootstrap() under mpirun (np 1..4): rank bookkeeping, backend and device choice, and the
// collective GPU decision (on a CPU machine: "nccl" fails on every rank instead of hanging).
#include "distributed/bootstrap.h"

#include <gtest/gtest.h>
#include <mpi.h>

#include "support/error_of.h"

namespace negatron::distributed {
namespace {

using negatron::testing::error_of;

bool every_rank_has_gpu() {
  int local_rank = 0;
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  MPI_Comm_rank(node, &local_rank);
  MPI_Comm_free(&node);
  return ranks_without_gpu(local_rank).empty();
}

TEST(Bootstrap, AutoPicksNcclOnGpusElseMpiOnCpu) {
  const Runtime runtime = bootstrap({});
  int rank = 0, world = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world);
  EXPECT_EQ(runtime.comm->rank(), rank);
  EXPECT_EQ(runtime.comm->world_size(), world);
  EXPECT_EQ(runtime.comm->local_rank(), rank);  // one node
#if NEGATRON_WITH_NCCL
  const bool gpus = every_rank_has_gpu();
#else
  const bool gpus = false;
#endif
  EXPECT_EQ(runtime.comm->backend(), gpus ? "nccl" : "mpi");
  EXPECT_EQ(runtime.device, gpus ? at::Device(at::kCUDA, static_cast<at::DeviceIndex>(rank)) : at::Device(at::kCPU));
}

TEST(Bootstrap, NcclWithoutGpusFailsOnEveryRankNamingThem) {
  if (every_rank_has_gpu()) GTEST_SKIP() << "every rank has a GPU here";
  const std::string message = error_of([] { bootstrap({"nccl", 0}); });
  EXPECT_TRUE(message.find("have none") != std::string::npos || message.find("without NCCL") != std::string::npos)
      << message;
}

TEST(Bootstrap, LocalOnlyAtWorldSizeOneAndUnknownBackendsRejected) {
  int world = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &world);
  if (world == 1) {
    EXPECT_EQ(bootstrap({"local", 0}).comm->backend(), "local");
  } else {
    EXPECT_NE(error_of([] { bootstrap({"local", 0}); }).find("needs world size 1"), std::string::npos);
  }
  EXPECT_NE(error_of([] { bootstrap({"gloo", 0}); }).find("unknown distributed backend 'gloo'"), std::string::npos);
}

TEST(Bootstrap, WatchdogWrappedCommunicatorWorks) {
  const Runtime runtime = bootstrap({"mpi", 30.0});
  at::Tensor x = at::ones({3});
  runtime.comm->all_reduce(x, ReduceOp::kSum);
  EXPECT_TRUE(at::equal(x, at::full({3}, static_cast<float>(runtime.comm->world_size()))));
  EXPECT_EQ(runtime.comm->stats().all_reduce_calls, 1);
}

}  // namespace
}  // namespace negatron::distributed
