#pragma once
// Commands whose ranks agree on failures (distributed/collective_step.h: prepare, mine): when a step
// failed, every rank holds the same CollectiveFailure; rank 0 prints it once and every rank returns
// exit code 1 (no MPI_Abort needed: the ranks are in step and clean up after themselves).
#include <functional>

#include "common/log.h"
#include "distributed/collective_step.h"

namespace negatron::cli {

inline int run_reporting_collective_failure(distributed::Communicator& comm, const std::function<void()>& body) {
  try {
    body();
  } catch (const distributed::CollectiveFailure& failure) {
    if (comm.rank() == 0) log::error(failure.what());
    return 1;
  }
  return 0;
}

}  // namespace negatron::cli
