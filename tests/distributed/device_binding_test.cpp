// The device decision table (distributed/device_binding.h), row by row, on injected censuses: no GPU
// is needed to test what every launcher layout binds to.
#include "distributed/device_binding.h"

#include <gtest/gtest.h>

#include <map>

#include "support/error_of.h"

namespace negatron::distributed {
namespace {

using negatron::testing::error_of;

/// A host of `local_gpus.size()` ranks (world = those ranks), seen from `local_rank`.
DeviceCensus host_census(int local_rank, std::vector<std::vector<std::string>> local_gpus) {
  DeviceCensus c;
  c.host = "node7";
  c.rank = 10 + local_rank;
  c.local_rank = local_rank;
  c.world_size = static_cast<int>(local_gpus.size());
  for (int l = 0; l < c.world_size; ++l) {
    if (local_gpus[l].empty()) c.ranks_without_gpu.push_back(10 + l);
  }
  c.local_gpus = std::move(local_gpus);
  return c;
}

const at::Device kCpu(at::kCPU);
at::Device cuda(int index) { return at::Device(at::kCUDA, static_cast<at::DeviceIndex>(index)); }

TEST(DeviceBinding, EveryGpuVisibleToEveryRankUsesTheLocalRank) {
  const std::vector<std::string> four = {"0000:01:00.0", "0000:02:00.0", "0000:03:00.0", "0000:04:00.0"};
  for (int l = 0; l < 4; ++l) {
    EXPECT_EQ(choose_device("auto", host_census(l, {four, four, four, four})), cuda(l));
    EXPECT_EQ(choose_device("cuda", host_census(l, {four, four, four, four})), cuda(l));
  }
  // Fewer ranks than GPUs: still one each, by local rank.
  EXPECT_EQ(choose_device("auto", host_census(1, {four, four})), cuda(1));
}

TEST(DeviceBinding, ExactlyOneVisiblePerRankUsesIt) {
  // CUDA_VISIBLE_DEVICES per rank, srun --gpus-per-task=1, --gpu-bind=single:1.
  const std::vector<std::vector<std::string>> bound = {{"0000:01:00.0"}, {"0000:02:00.0"}, {"0000:03:00.0"}};
  for (int l = 0; l < 3; ++l) EXPECT_EQ(choose_device("auto", host_census(l, bound)), cuda(0));
  // Bus ids unknown: the counts alone decide.
  EXPECT_EQ(choose_device("auto", host_census(1, {{""}, {""}})), cuda(0));
}

TEST(DeviceBinding, MoreLocalRanksThanVisibleGpusIsAnErrorNamingHostRankAndCount) {
  const std::vector<std::string> two = {"0000:01:00.0", "0000:02:00.0"};
  const std::string message = error_of([&] { choose_device("auto", host_census(2, {two, two, two, two})); });
  EXPECT_NE(message.find("host node7 runs 4 rank(s) but rank 12 (local rank 2) sees 2 GPU(s)"), std::string::npos)
      << message;
  EXPECT_NE(message.find("more local ranks than visible GPUs"), std::string::npos) << message;
}

TEST(DeviceBinding, RanksSharingOneGpuAreAnError) {
  // Every rank sees the same single GPU (one GPU on the node, or one CUDA_VISIBLE_DEVICES for all).
  const std::vector<std::vector<std::string>> shared = {{"0000:01:00.0"}, {"0000:01:00.0"}};
  const std::string message = error_of([&] { choose_device("auto", host_census(0, shared)); });
  EXPECT_NE(message.find("host node7: local ranks 0, 1 would all use the GPU at 0000:01:00.0"), std::string::npos)
      << message;
  // Mixed binding that collides: local rank 0 sees all (takes 0000:01), rank 1 sees only 0000:01.
  const std::vector<std::vector<std::string>> mixed = {{"0000:01:00.0", "0000:02:00.0"}, {"0000:01:00.0"}};
  EXPECT_NE(error_of([&] { choose_device("auto", host_census(1, mixed)); }).find("would all use"), std::string::npos);
}

TEST(DeviceBinding, NoGpuAnywhereIsCpuUnlessCudaWasRequired) {
  EXPECT_EQ(choose_device("auto", host_census(1, {{}, {}})), kCpu);
  EXPECT_EQ(choose_device("cpu", host_census(1, {{}, {}})), kCpu);
  const std::string message = error_of([] { choose_device("cuda", host_census(1, {{}, {}})); });
  EXPECT_NE(message.find("device: cuda, but rank 11 on host node7 sees no GPU"), std::string::npos) << message;
}

TEST(DeviceBinding, CpuIsHonouredWhateverTheGpus) {
  const std::vector<std::string> one = {"0000:01:00.0"};
  EXPECT_EQ(choose_device("cpu", host_census(0, {one})), kCpu);
}

TEST(DeviceBinding, SomeRanksWithoutGpuFailsOnEveryRankNamingThem) {
  const std::vector<std::vector<std::string>> partial = {{"0000:01:00.0"}, {}};
  for (int l = 0; l < 2; ++l) {
    const std::string message = error_of([&] { choose_device("auto", host_census(l, partial)); });
    EXPECT_NE(message.find("rank(s) 11 see no GPU while others do"), std::string::npos) << message;
  }
}

TEST(DeviceBinding, UnknownDeviceRejected) {
  EXPECT_NE(error_of([] { choose_device("tpu", host_census(0, {{}})); }).find("unknown device 'tpu'"),
            std::string::npos);
}

TEST(DeviceBinding, LocalRankCrossCheckedWithTheLauncherThatStartedThisRank) {
  std::map<std::string, std::string> env;
  auto getenv_fn = [&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  EXPECT_EQ(checked_local_rank(3, 7, getenv_fn), 3);  // no launcher variables
  env = {{"OMPI_COMM_WORLD_RANK", "7"}, {"OMPI_COMM_WORLD_LOCAL_RANK", "3"}};
  EXPECT_EQ(checked_local_rank(3, 7, getenv_fn), 3);
  env["OMPI_COMM_WORLD_LOCAL_RANK"] = "1";
  const std::string message = error_of([&] { checked_local_rank(3, 7, getenv_fn); });
  EXPECT_NE(message.find("rank 7: MPI's shared-memory split gives local rank 3 but OMPI_COMM_WORLD_LOCAL_RANK=1"),
            std::string::npos)
      << message;
  // mpirun inside an sbatch script: the batch step's SLURM_* describe another process; ignored.
  env = {{"SLURM_PROCID", "0"}, {"SLURM_LOCALID", "0"}};
  EXPECT_EQ(checked_local_rank(3, 7, getenv_fn), 3);
  env = {{"SLURM_PROCID", "7"}, {"SLURM_LOCALID", "2"}};
  EXPECT_NE(error_of([&] { checked_local_rank(3, 7, getenv_fn); }).find("SLURM_LOCALID=2"), std::string::npos);
}

}  // namespace
}  // namespace negatron::distributed
