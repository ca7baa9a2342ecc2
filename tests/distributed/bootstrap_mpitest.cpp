// bootstrap() under mpirun (np 1..4): rank bookkeeping, backend and device choice, and the
// collective GPU decision (on a CPU machine: "nccl" fails on every rank instead of hanging).
#include "distributed/bootstrap.h"

#include <gtest/gtest.h>
#include <mpi.h>

#include "support/error_of.h"

namespace negatron::distributed {
namespace {

using negatron::testing::error_of;

bool every_rank_has_gpu() { return take_device_census().ranks_without_gpu.empty(); }

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
  EXPECT_EQ(runtime.device, gpus ? choose_device("auto", take_device_census()) : at::Device(at::kCPU));
}

TEST(Bootstrap, NcclWithoutGpusFailsOnEveryRankNamingThem) {
  if (every_rank_has_gpu()) GTEST_SKIP() << "every rank has a GPU here";
  const std::string message = error_of([] { bootstrap({"nccl", 0, "auto"}); });
  EXPECT_TRUE(message.find("needs a GPU on every rank") != std::string::npos ||
              message.find("without NCCL") != std::string::npos)
      << message;
}

TEST(Bootstrap, LocalOnlyAtWorldSizeOneAndUnknownBackendsRejected) {
  int world = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &world);
  if (world == 1) {
    EXPECT_EQ(bootstrap({"local", 0, "auto"}).comm->backend(), "local");
  } else {
    EXPECT_NE(error_of([] { bootstrap({"local", 0, "auto"}); }).find("needs world size 1"), std::string::npos);
  }
  EXPECT_NE(error_of([] { bootstrap({"gloo", 0, "auto"}); }).find("unknown distributed backend 'gloo'"), std::string::npos);
}

TEST(Bootstrap, CensusSeesOneHostWithEveryRank) {
  const DeviceCensus census = take_device_census();
  int rank = 0, world = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world);
  EXPECT_EQ(census.rank, rank);
  EXPECT_EQ(census.local_rank, rank);  // one node, local ranks in world-rank order
  EXPECT_EQ(static_cast<int>(census.local_gpus.size()), world);
  EXPECT_FALSE(census.host.empty());
  if (!census.ranks_without_gpu.empty()) {  // a CPU machine: no rank sees a GPU
    EXPECT_EQ(static_cast<int>(census.ranks_without_gpu.size()), world);
  }
}

TEST(Bootstrap, DeviceCudaWithoutGpusFailsOnEveryRankNamingRankAndHost) {
  if (every_rank_has_gpu()) GTEST_SKIP() << "every rank has a GPU here";
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const std::string message = error_of([] { bootstrap({"auto", 0, "cuda"}); });
  EXPECT_NE(message.find("device: cuda, but rank " + std::to_string(rank) + " on host "), std::string::npos) << message;
  EXPECT_EQ(bootstrap({"auto", 0, "cpu"}).device, at::Device(at::kCPU));
}

TEST(Bootstrap, WatchdogWrappedCommunicatorWorks) {
  const Runtime runtime = bootstrap({"mpi", 30.0, "auto"});
  at::Tensor x = at::ones({3});
  runtime.comm->all_reduce(x, ReduceOp::kSum);
  EXPECT_TRUE(at::equal(x, at::full({3}, static_cast<float>(runtime.comm->world_size()))));
  EXPECT_EQ(runtime.comm->stats().all_reduce_calls, 1);
}

}  // namespace
}  // namespace negatron::distributed
