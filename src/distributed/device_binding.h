#pragma once
// Which device a rank trains on: one decision table over what the ranks of a node see, a pure
// function so that every row is tested without a GPU (tests/distributed/device_binding_test.cpp).
//
//   device: cpu                                        -> CPU
//   no rank of the job sees a GPU                      -> CPU (device: auto); error (device: cuda)
//   some ranks see a GPU, others none                  -> error on every rank, naming those without
//   the rank sees at least as many GPUs as its node    -> cuda:<local rank>   (every GPU visible to
//     has ranks                                            every rank: plain mpirun, srun without binding)
//   the rank sees exactly one GPU                      -> cuda:0              (one per rank: CUDA_VISIBLE_DEVICES
//                                                                              per rank, --gpus-per-task=1, --gpu-bind)
//   otherwise (1 < visible < local ranks)              -> error naming host, rank, visible count, local ranks
//   two local ranks would drive the same physical GPU  -> error naming host, the ranks and the GPU's bus id
//     (when bus ids are known)
// Never a silent CPU fallback: NCCL would refuse a shared GPU anyway, and a CPU run of a GPU job
// is hours slower.
#include <ATen/ATen.h>

#include <functional>
#include <string>
#include <vector>

namespace negatron::distributed {

/// What the ranks see, from the point of view of one rank (bootstrap gathers it over MPI).
struct DeviceCensus {
  std::string host;
  int rank = 0;        // in the job
  int local_rank = 0;  // on this host
  /// Per local rank of this host (index = local rank): the PCI bus ids of the GPUs it sees, in CUDA
  /// order ("" where unknown). Its size is the number of ranks on this host.
  std::vector<std::vector<std::string>> local_gpus;
  /// Ranks of the whole job that see no GPU.
  std::vector<int> ranks_without_gpu;
  int world_size = 1;
};

/// The decision table above; `requested` is the config's device: auto | cpu | cuda.
at::Device choose_device(const std::string& requested, const DeviceCensus& census);

/// The node-local rank from MPI's shared-memory split, cross-checked with the launcher's own when
/// that launcher started this very rank: OMPI_COMM_WORLD_LOCAL_RANK when OMPI_COMM_WORLD_RANK equals
/// the MPI rank, SLURM_LOCALID when SLURM_PROCID does (mpirun inside an sbatch script inherits the
/// batch step's SLURM_* variables, which describe another process). A mismatch is an error naming both.
int checked_local_rank(int mpi_local_rank, int world_rank,
                       const std::function<const char*(const char*)>& getenv_fn);

}  // namespace negatron::distributed
