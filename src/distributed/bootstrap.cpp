#include "distributed/bootstrap.h"

#include <ATen/detail/CUDAHooksInterface.h>

#include <iostream>
#include <sstream>

#include "common/log.h"
#include "distributed/mpi_check.h"
#include "distributed/mpi_communicator.h"
#include "distributed/watchdog.h"
#if NEGATRON_WITH_NCCL
#include "distributed/nccl_communicator.h"
#endif

namespace negatron::distributed {
namespace {

int world_size_now() {
  int world = 1;
  MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &world));
  return world;
}

std::string join(const std::vector<int>& values) {
  std::ostringstream out;
  for (size_t i = 0; i < values.size(); ++i) out << (i ? ", " : "") << values[i];
  return out.str();
}

/// "auto" resolved against the GPU census; "nccl" without GPUs everywhere fails on every rank.
std::string resolve_backend(const std::string& requested, const std::vector<int>& without_gpu, int world) {
  NEG_CHECK(requested == "auto" || requested == "mpi" || requested == "nccl" || requested == "local",
            "unknown distributed backend '", requested, "' (expected auto|mpi|nccl|local)");
  if (requested == "local") {
    NEG_CHECK(world == 1, "backend 'local' needs world size 1, this job has ", world, " ranks");
    return "local";
  }
  if (requested == "nccl") {
    NEG_CHECK(without_gpu.empty(), "backend 'nccl' needs a GPU on every rank; rank(s) ", join(without_gpu),
              " have none");
  }
#if !NEGATRON_WITH_NCCL
  NEG_CHECK(requested != "nccl", "backend 'nccl' requested but negatron was built without NCCL");
  if (requested == "auto") return "mpi";
#endif
  if (requested == "auto") return without_gpu.empty() ? "nccl" : "mpi";
  return requested;
}

std::shared_ptr<Communicator> make_communicator(const std::string& backend, int local_rank) {
  if (backend == "local") return make_local_communicator();
#if NEGATRON_WITH_NCCL
  if (backend == "nccl") return make_nccl_communicator(MPI_COMM_WORLD, local_rank);
#endif
  return make_mpi_communicator(MPI_COMM_WORLD);
}

/// Logs the failure with the rank; with more than one rank, ends the whole job (MPI_Abort).
void report_failure(const std::string& what) {
  const int rank = mpi_world_rank();
  int world = 1;
  if (rank >= 0) MPI_Comm_size(MPI_COMM_WORLD, &world);
  log::error("rank ", rank, " failed: ", what);
  if (world > 1) {
    log::error("rank ", rank, " aborts the job (MPI_Abort) so the other ", world - 1, " rank(s) do not hang");
    std::cerr << std::flush;
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
}

}  // namespace

void ensure_mpi_initialized() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) return;
  int provided = 0;
  const int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided);
  NEG_CHECK(rc == MPI_SUCCESS, "MPI_Init_thread failed: ", mpi_error_string(rc));
  MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
  if (provided < MPI_THREAD_MULTIPLE) {
    log::warn("MPI provides thread level ", provided, " < MPI_THREAD_MULTIPLE; the collective watchdog may not be "
              "able to abort cleanly");
  }
}

int cuda_device_count() {
  const auto& hooks = at::detail::getCUDAHooks();
  return hooks.hasCUDA() ? static_cast<int>(hooks.deviceCount()) : 0;
}

std::vector<int> ranks_without_gpu(int local_rank) {
  const int world = world_size_now();
  const int has_gpu = local_rank < cuda_device_count() ? 1 : 0;
  std::vector<int> flags(world);
  MPI_CHECK(MPI_Allgather(&has_gpu, 1, MPI_INT, flags.data(), 1, MPI_INT, MPI_COMM_WORLD));
  std::vector<int> without;
  for (int r = 0; r < world; ++r) {
    if (!flags[r]) without.push_back(r);
  }
  return without;
}

Runtime bootstrap(const BootstrapOptions& options) {
  NEG_CHECK(options.collective_timeout_s >= 0, "collective_timeout_s must be >= 0, got ", options.collective_timeout_s);
  ensure_mpi_initialized();
  int rank = 0;
  MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
  const int world = world_size_now();
  log::set_rank(rank, world);
  const int local_rank = mpi_local_rank(MPI_COMM_WORLD);
  log::debug("node-local rank ", local_rank);  // which ranks share a node (tests/python/test_two_nodes.py)
  const std::vector<int> without_gpu = ranks_without_gpu(local_rank);
  const std::string backend = resolve_backend(options.backend, without_gpu, world);
  if (!without_gpu.empty() && static_cast<int>(without_gpu.size()) < world) {
    log::warn0("rank(s) ", join(without_gpu), " have no GPU; every rank runs on CPU");
  }
  Runtime runtime;
  runtime.comm = make_communicator(backend, local_rank);
  const bool use_cuda = without_gpu.empty() && backend != "mpi";
  runtime.device = use_cuda ? at::Device(at::kCUDA, static_cast<at::DeviceIndex>(local_rank)) : at::Device(at::kCPU);
  if (options.collective_timeout_s > 0) runtime.comm = with_watchdog(runtime.comm, options.collective_timeout_s);
  const std::string timeout =
      options.collective_timeout_s > 0 ? detail::concat(", collective timeout ", options.collective_timeout_s, " s") : "";
  log::info0("distributed: ", world, " rank(s), backend ", backend, ", device ", runtime.device.str(), timeout);
  return runtime;
}

int run_guarded(const std::function<int()>& body) {
  int code = 1;
  try {
    ensure_mpi_initialized();
    code = body();
  } catch (const std::exception& error) {
    report_failure(error.what());
  } catch (...) {
    report_failure("unknown exception");
  }
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
  return code;
}

}  // namespace negatron::distributed
