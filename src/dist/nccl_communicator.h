#pragma once
// NcclCommunicator: the Communicator over NCCL for CUDA tensors (built only with NCCL).
// Bootstrap: rank 0 makes the ncclUniqueId, MPI_Bcast hands it out, ncclCommInitRank on the
// device given (the local rank). Collectives run on torch's current CUDA stream, so they order
// with the surrounding torch kernels without extra synchronisation.
//   all_gather: unequal row counts by padding every rank's rows to the maximum, one ncclAllGather,
//               then trimming each rank's padding away.
//   CPU tensors passed in are staged to the device; results come back on the caller's device.
//   Errors: ncclGetErrorString (+ ncclGetLastError), the communicator is aborted (ncclCommAbort),
//   then negatron::Error names the call and the rank.
#include <mpi.h>

#include "dist/communicator.h"

namespace negatron::dist {

#if NEGATRON_WITH_NCCL
/// Collective over `comm` (every rank must call it); `device_index` is this rank's CUDA device.
std::shared_ptr<Communicator> make_nccl_communicator(MPI_Comm comm, int device_index);
#endif

}  // namespace negatron::dist
