// A tiny job for tests/distributed/crash_test.sh: rank 1 misbehaves after one good collective.
//   failure_probe throw  rank 1 throws; run_guarded must end the whole job (MPI_Abort).
//   failure_probe hang   rank 1 stalls; the others' collective watchdog (2 s) must end the job.
//   failure_probe ok     nobody fails; the job must exit 0 (normal MPI_Finalize path).
#include <chrono>
#include <string>
#include <thread>

#include "common/check.h"
#include "distributed/bootstrap.h"

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "throw";
  return negatron::distributed::run_guarded([&] {
    negatron::distributed::BootstrapOptions options;
    options.backend = "mpi";
    options.collective_timeout_s = mode == "hang" ? 2.0 : 0.0;
    const negatron::distributed::Runtime runtime = negatron::distributed::bootstrap(options);
    at::Tensor x = at::ones({4});
    runtime.comm->all_reduce(x);
    if (runtime.comm->rank() == 1 && mode == "throw") NEG_FAIL("injected failure on rank 1 (failure probe)");
    if (runtime.comm->rank() == 1 && mode == "hang") std::this_thread::sleep_for(std::chrono::seconds(120));
    runtime.comm->all_reduce(x);  // the other ranks wait here for rank 1
    return 0;
  });
}
