#pragma once
// NcclCommunicator: the Communicator over NCCL for CUDA tensors (built only with NCCL).
// Bootstrap: rank 0 makes the ncclUniqueId, MPI_Bcast hands it out, ncclCommInitRank on the
// device given (the local rank). Collectives run on one communication stream of their own (so
// they execute in the order issued, like ProcessGroupNCCL's): it waits for the caller's current
// stream first, and for a blocking collective the current stream then waits for it, so results
// order with the surrounding torch kernels without host synchronisation.
//   all_reduce_async: the same without the wait back; the handle's wait() makes the caller's
//               current stream wait for the all-reduce's event (gradient buckets launched from
//               backward hooks overlap with the rest of the backward this way).
//   all_gather: unequal row counts by padding every rank's rows to the maximum, one ncclAllGather,
//               then trimming each rank's padding away (after one small ncclAllGather of the
//               row counts; all_gather_rows takes them from the caller and skips it).
//   reduce_scatter: every rank's block padded to the largest, one ncclReduceScatter, trimmed.
//   CPU tensors passed in are staged to the device; results come back on the caller's device.
//   Errors: ncclGetErrorString (+ ncclGetLastError), the communicator is aborted (ncclCommAbort),
//   then negatron::Error names the call and the rank.
#include <mpi.h>

#include "distributed/communicator.h"

namespace negatron::distributed {

#if NEGATRON_WITH_NCCL
/// Collective over `comm` (every rank must call it); `device_index` is this rank's CUDA device.
std::shared_ptr<Communicator> make_nccl_communicator(MPI_Comm comm, int device_index);
#endif

}  // namespace negatron::distributed
