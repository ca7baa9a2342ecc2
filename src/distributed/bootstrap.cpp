#include "distributed/bootstrap.h"

#include <c10/core/impl/VirtualGuardImpl.h>

#include <cstdlib>
#include <iostream>
#include <sstream>

#include "common/log.h"
#include "distributed/mpi_check.h"
#include "distributed/mpi_communicator.h"
#include "distributed/watchdog.h"
#if NEGATRON_WITH_NCCL
#include <cuda_runtime_api.h>

#include "distributed/nccl_communicator.h"
#endif

namespace negatron::distributed {
namespace {

int world_size_now() {
  int world = 1;
  MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &world));
  return world;
}

/// "auto" resolved against the chosen device; "nccl" needs CUDA, "mpi" moves CPU tensors.
std::string resolve_backend(const std::string& requested, const at::Device& device, int world) {
  NEG_CHECK(requested == "auto" || requested == "mpi" || requested == "nccl" || requested == "local",
            "unknown distributed backend '", requested, "' (expected auto|mpi|nccl|local)");
  if (requested == "local") {
    NEG_CHECK(world == 1, "backend 'local' needs world size 1, this job has ", world, " ranks");
    return "local";
  }
#if !NEGATRON_WITH_NCCL
  NEG_CHECK(requested != "nccl", "backend 'nccl' requested but negatron was built without NCCL");
#endif
  if (requested == "auto") return device.is_cuda() ? "nccl" : "mpi";
  NEG_CHECK(requested != "nccl" || device.is_cuda(), "backend 'nccl' needs a GPU on every rank, but this job "
            "trains on the CPU (device ", device.str(), ")");
  NEG_CHECK(requested != "mpi" || !device.is_cuda(), "backend 'mpi' moves CPU tensors; with device ", device.str(),
            " use backend nccl (or auto), or set device: cpu");
  return requested;
}

/// PCI bus ids of the CUDA devices this process sees, in CUDA order ("" where unknown; none without
/// a driver). Read with the CUDA runtime: this neither creates a context nor initialises torch's CUDA.
std::vector<std::string> visible_gpus() {
  std::vector<std::string> out;
#if NEGATRON_WITH_NCCL
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // no driver or no device: clear the sticky error, see no GPU
    return out;
  }
  for (int i = 0; i < count; ++i) {
    char bus_id[32] = {0};
    out.emplace_back(cudaDeviceGetPCIBusId(bus_id, sizeof bus_id, i) == cudaSuccess ? bus_id : "");
  }
#endif
  return out;
}

std::string host_name() {
  char name[MPI_MAX_PROCESSOR_NAME] = {0};
  int length = 0;
  MPI_CHECK(MPI_Get_processor_name(name, &length));
  return std::string(name, length);
}

/// Every rank's list of strings, gathered over `comm` (one string per rank, '\n'-joined lists).
std::vector<std::string> all_gather_strings(MPI_Comm comm, const std::string& mine) {
  int size = 0;
  MPI_CHECK(MPI_Comm_size(comm, &size));
  int length = static_cast<int>(mine.size());
  std::vector<int> lengths(size), offsets(size);
  MPI_CHECK(MPI_Allgather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, comm));
  int total = 0;
  for (int r = 0; r < size; ++r) {
    offsets[r] = total;
    total += lengths[r];
  }
  std::string all(static_cast<size_t>(total), '\0');
  MPI_CHECK(MPI_Allgatherv(mine.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(), MPI_CHAR, comm));
  std::vector<std::string> out;
  for (int r = 0; r < size; ++r) out.push_back(all.substr(offsets[r], lengths[r]));
  return out;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::shared_ptr<Communicator> make_communicator(const std::string& backend, const at::Device& device) {
  if (backend == "local") return make_local_communicator();
#if NEGATRON_WITH_NCCL
  if (backend == "nccl") return make_nccl_communicator(MPI_COMM_WORLD, device.index());
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

DeviceCensus take_device_census() {
  DeviceCensus census;
  MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &census.rank));
  census.world_size = world_size_now();
  census.host = host_name();
  census.local_rank = checked_local_rank(mpi_local_rank(MPI_COMM_WORLD), census.rank, [](const char* name) {
    return std::getenv(name);
  });
  const std::vector<std::string> mine = visible_gpus();
  std::string joined;
  for (const auto& id : mine) joined += id + "\n";
  MPI_Comm node = MPI_COMM_NULL;
  MPI_CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, census.rank, MPI_INFO_NULL, &node));
  std::vector<std::string> per_local;
  try {
    per_local = all_gather_strings(node, joined);
  } catch (...) {
    MPI_Comm_free(&node);
    throw;
  }
  MPI_Comm_free(&node);
  for (const auto& lines : per_local) census.local_gpus.push_back(split_lines(lines));
  const int sees = mine.empty() ? 0 : 1;
  std::vector<int> flags(census.world_size);
  MPI_CHECK(MPI_Allgather(&sees, 1, MPI_INT, flags.data(), 1, MPI_INT, MPI_COMM_WORLD));
  for (int r = 0; r < census.world_size; ++r) {
    if (!flags[r]) census.ranks_without_gpu.push_back(r);
  }
  return census;
}

Runtime bootstrap(const BootstrapOptions& options) {
  NEG_CHECK(options.collective_timeout_s >= 0, "collective_timeout_s must be >= 0, got ", options.collective_timeout_s);
  ensure_mpi_initialized();
  int rank = 0;
  MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
  const int world = world_size_now();
  log::set_rank(rank, world);
  const DeviceCensus census = take_device_census();
  // backend mpi trains on CPUs whatever the GPUs (it moves CPU tensors): auto then means cpu.
  const std::string device_request = options.backend == "mpi" && options.device == "auto" ? "cpu" : options.device;
  log::debug("node-local rank ", census.local_rank);  // which ranks share a node (tests/python/test_two_nodes.py)
  Runtime runtime;
  runtime.device = choose_device(device_request, census);
  const std::string backend = resolve_backend(options.backend, runtime.device, world);
  if (runtime.device.is_cuda()) {
    // The process's current device, set once: every later CUDA call of this thread (and the
    // streams, events and allocations that default to the current device) goes to it.
    c10::impl::VirtualGuardImpl(at::kCUDA).setDevice(runtime.device);
  }
  runtime.comm = make_communicator(backend, runtime.device);
  if (options.collective_timeout_s > 0) runtime.comm = with_watchdog(runtime.comm, options.collective_timeout_s);
  const std::string timeout =
      options.collective_timeout_s > 0 ? detail::concat(", collective timeout ", options.collective_timeout_s, " s") : "";
  log::info0("distributed: ", world, " rank(s), backend ", backend, ", device ", runtime.device.str(), timeout);
  if (runtime.device.is_cuda()) {
    log::info("host ", census.host, " local rank ", census.local_rank, ": ", runtime.device.str(), " (",
              census.local_gpus[census.local_rank].size(), " visible)");
  }
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
