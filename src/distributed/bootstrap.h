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
// Device: distributed/device_binding.h's decision table over a census of what every rank sees
// (gathered collectively, so a job that cannot bind fails on every rank instead of hanging in NCCL
// init); the chosen CUDA device becomes the process's current device, once, here.
// Backend: "auto" = nccl on CUDA, mpi on CPU; "mpi", "nccl" and "local" (world size 1) force one.
#include <ATen/ATen.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "distributed/communicator.h"
#include "distributed/device_binding.h"

namespace negatron::distributed {

struct BootstrapOptions {
  /// "auto" | "mpi" | "nccl" | "local".
  std::string backend = "auto";
  /// Abort the job when one collective runs longer than this many seconds; 0 = off.
  double collective_timeout_s = 0;
  /// "auto" | "cpu" | "cuda" (the config's device).
  std::string device = "auto";
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

/// Collective over MPI_COMM_WORLD: what every rank of this host sees, and which ranks of the job see
/// no GPU (device_binding.h).
DeviceCensus take_device_census();

}  // namespace negatron::distributed
