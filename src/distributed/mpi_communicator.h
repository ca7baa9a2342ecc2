#pragma once
// MpiCommunicator: the Communicator over MPI for CPU tensors. It works on a duplicate of the given
// communicator (so its traffic never mixes with other MPI users) with MPI_ERRORS_RETURN, and every
// MPI call is checked (MPI_CHECK names the call and the rank).
//   all_gather: unequal row counts via MPI_Allgatherv (rows, dtype and trailing size are checked
//               to agree across ranks first; a mismatch throws on every rank alike).
//   all_gather_rows: the same with row counts from the caller (the batch plan): one MPI_Allgatherv.
//   reduce_scatter: MPI_Reduce_scatter_block when every rank gets as many rows, else
//               MPI_Reduce_scatter; sum, on the reduction dtypes of all_reduce.
//   all_reduce: sum/max/min in place for float, double, int64, int32 (int8/uint8).
//   all_reduce_async: MPI_Iallreduce on a second duplicate communicator (so async reductions
//               started from backward hooks never interleave with the blocking collectives in a
//               rank-dependent order); the handle's wait() is MPI_Wait.
//   broadcast, barrier: any dtype; abort: MPI_Abort with a message naming the rank.
#include <mpi.h>

#include "distributed/communicator.h"

namespace negatron::distributed {

/// `comm` is duplicated; MPI must be initialised and `comm` must outlive nothing (the duplicate is
/// freed by the communicator unless MPI is already finalised).
std::shared_ptr<Communicator> make_mpi_communicator(MPI_Comm comm = MPI_COMM_WORLD);

/// Rank within the node (MPI_Comm_split_type SHARED) of this process in `comm`.
int mpi_local_rank(MPI_Comm comm);

}  // namespace negatron::distributed
