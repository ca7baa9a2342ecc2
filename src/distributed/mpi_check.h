#pragma once
// MPI_CHECK(call): every MPI call goes through it. A failing call throws negatron::Error naming the
// call, this process's rank in MPI_COMM_WORLD and MPI's own error string. Communicators set
// MPI_ERRORS_RETURN on their communicator, so errors reach this macro instead of aborting inside MPI.
#include <mpi.h>

#include <string>

#include "common/check.h"

namespace negatron::distributed {

/// Rank in MPI_COMM_WORLD, or -1 when MPI is not (or no longer) initialised. Never throws.
int mpi_world_rank();
/// MPI's text for an error code.
std::string mpi_error_string(int code);

}  // namespace negatron::distributed

#define MPI_CHECK(call)                                                                       \
  do {                                                                                        \
    const int mpi_check_rc_ = (call);                                                         \
    NEG_CHECK(mpi_check_rc_ == MPI_SUCCESS, "MPI call ", #call, " failed on rank ",           \
              ::negatron::distributed::mpi_world_rank(), ": ", ::negatron::distributed::mpi_error_string(mpi_check_rc_)); \
  } while (0)
