#pragma once
// at::ScalarType and ReduceOp -> MPI handles. Reductions need a typed MPI datatype; data movement
// (gather, broadcast) is dtype-agnostic and sends bytes.
#include <ATen/ATen.h>
#include <mpi.h>

#include "distributed/communicator.h"

namespace negatron::distributed {

/// MPI datatype for reductions over `dtype`: float, double, int64, int32 (also int8/uint8).
/// Throws naming the dtype and `collective` for anything else (Half, BFloat16, Bool, complex...).
MPI_Datatype mpi_reduce_datatype(at::ScalarType dtype, const char* collective);
MPI_Op mpi_reduce_op(ReduceOp op);
const char* reduce_op_name(ReduceOp op);

}  // namespace negatron::distributed
