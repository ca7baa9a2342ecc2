#include "distributed/device_binding.h"

#include <map>
#include <sstream>

#include "common/check.h"

namespace negatron::distributed {
namespace {

std::string join(const std::vector<int>& values) {
  std::ostringstream out;
  for (size_t i = 0; i < values.size(); ++i) out << (i ? ", " : "") << values[i];
  return out.str();
}

/// The device index a rank that sees `visible` GPUs on a host of `local_ranks` ranks takes, or -1.
int device_index(int local_rank, int local_ranks, int visible) {
  if (visible >= local_ranks) return local_rank;
  if (visible == 1) return 0;
  return -1;
}

}  // namespace

at::Device choose_device(const std::string& requested, const DeviceCensus& c) {
  NEG_CHECK(requested == "auto" || requested == "cpu" || requested == "cuda", "unknown device '", requested,
            "' (expected auto, cpu or cuda)");
  if (requested == "cpu") return at::kCPU;
  const int local_ranks = static_cast<int>(c.local_gpus.size());
  NEG_CHECK(c.local_rank >= 0 && c.local_rank < local_ranks, "device census of host ", c.host, ": local rank ",
            c.local_rank, " outside the ", local_ranks, " rank(s) of the host");
  const int visible = static_cast<int>(c.local_gpus[c.local_rank].size());
  if (static_cast<int>(c.ranks_without_gpu.size()) == c.world_size) {
    NEG_CHECK(requested != "cuda", "device: cuda, but rank ", c.rank, " on host ", c.host,
              " sees no GPU (nor does any other rank); use device: auto or cpu to train on CPUs");
    return at::kCPU;
  }
  NEG_CHECK(c.ranks_without_gpu.empty(), "rank(s) ", join(c.ranks_without_gpu),
            " see no GPU while others do (rank ", c.rank, " on host ", c.host, " sees ", visible,
            "); give every rank a GPU, or set device: cpu to train on CPUs");
  const int index = device_index(c.local_rank, local_ranks, visible);
  NEG_CHECK(index >= 0, "host ", c.host, " runs ", local_ranks, " rank(s) but rank ", c.rank, " (local rank ",
            c.local_rank, ") sees ", visible,
            " GPU(s): more local ranks than visible GPUs; start at most one rank per GPU, or make each rank see "
            "exactly one (CUDA_VISIBLE_DEVICES, srun --gpus-per-task=1)");
  // Two local ranks on one physical GPU (say CUDA_VISIBLE_DEVICES=0 for all of them): NCCL refuses.
  std::map<std::string, std::vector<int>> users;
  for (int l = 0; l < local_ranks; ++l) {
    const int i = device_index(l, local_ranks, static_cast<int>(c.local_gpus[l].size()));
    if (i >= 0 && !c.local_gpus[l][i].empty()) users[c.local_gpus[l][i]].push_back(l);
  }
  for (const auto& [bus_id, ranks] : users) {
    NEG_CHECK(ranks.size() == 1, "host ", c.host, ": local ranks ", join(ranks), " would all use the GPU at ", bus_id,
              " (rank ", c.rank, " sees ", visible, " GPU(s)): more local ranks than GPUs; give each rank its own");
  }
  return at::Device(at::kCUDA, static_cast<at::DeviceIndex>(index));
}

int checked_local_rank(int mpi_local_rank, int world_rank,
                       const std::function<const char*(const char*)>& getenv_fn) {
  const std::pair<const char*, const char*> launchers[] = {{"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_LOCAL_RANK"},
                                                           {"SLURM_PROCID", "SLURM_LOCALID"}};
  for (const auto& [rank_var, local_var] : launchers) {
    const char* launcher_rank = getenv_fn(rank_var);
    const char* launcher_local = getenv_fn(local_var);
    if (!launcher_rank || !launcher_local || std::to_string(world_rank) != launcher_rank) continue;
    NEG_CHECK(std::to_string(mpi_local_rank) == launcher_local, "rank ", world_rank, ": MPI's shared-memory split gives local rank ",
              mpi_local_rank, " but ", local_var, "=", launcher_local,
              "; the launcher and MPI disagree on which ranks share a node, so GPU binding would be wrong");
  }
  return mpi_local_rank;
}

}  // namespace negatron::distributed
