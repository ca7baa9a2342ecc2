#pragma once
// Process bootstrap, in one place: MPI, rank and local rank, log tags, device and backend.
//
//   int main(...) { return negatron::distributed::run_guarded([&] {
//     Runtime rt = bootstrap(options);   // rt.comm, rt.device
//     ... train ...
//     return 0; }); }
//
// MPI is always initialised (MPI_THREAD_MULTIPLE requested, for the watchdog): under mpirun/srun
// it joins the job, without a launcher it runs as a singleton of world size 1.
// Device: cuda:<local rank> when every rank of the job has a GPU at its local rank, else CPU.
// Backend: "auto" = nccl on CUDA, mpi on CPU; "mpi", "nccl" and "local" (world size 1) force one.
// The GPU decision is collective (every rank learns which ranks lack a GPU), so a job where one
// rank has no GPU falls back (auto) or fails on every rank (nccl) instead of hanging in NCCL init.
#include <ATen/ATen.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "distributed/communicator.h"

namespace negatron::distributed {

struct BootstrapOptions {
  /// "auto" | "mpi" | "nccl" | "local".
  std::string backend = "auto";
  /// Abort the job when one collective runs longer than this many seconds; 0 = off.
  double collective_timeout_s = 0;
};

struct Runtime {
  std::shared_ptr<Communicator> comm;
  at::Device device = at::kCPU;
};

/// Initialises MPI if needed, tags log lines with the rank, picks device and backend.
Runtime bootstrap(const BootstrapOptions& options = {});

/// Runs a command body. If it throws on any rank, logs the error with the rank and, when the job
/// has more than one rank, calls MPI_Abort so the other ranks end within seconds instead of
/// hanging in their next collective. Otherwise finalises MPI and returns the body's exit code.
/// Objects holding communicators must not outlive `body`.
int run_guarded(const std::function<int()>& body);

/// MPI_Init_thread unless already initialised; sets MPI_ERRORS_RETURN on MPI_COMM_WORLD.
void ensure_mpi_initialized();

/// Ranks of MPI_COMM_WORLD without a CUDA device at their local rank (same list on every rank).
std::vector<int> ranks_without_gpu(int local_rank);

/// CUDA devices torch sees on this process (0 without CUDA or without a driver).
int cuda_device_count();

}  // namespace negatron::distributed
