#pragma once
// The one interface distributed code goes through. Implementations: LocalCommunicator (world size 1,
// also the test double), MpiCommunicator (CPU tensors), NcclCommunicator (CUDA tensors). It is
// created once in cli/ and injected; nothing reads it from a global. Model and loss code never ask
// for the world size to branch on it: at world size 1 every collective is the identity.
#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace negatron::dist {

enum class ReduceOp { kSum, kMax, kMin };

/// Bytes and calls per collective kind, for benchmarks (bytes this rank sent).
struct CommStats {
  int64_t all_gather_calls = 0, all_gather_bytes = 0;
  int64_t all_reduce_calls = 0, all_reduce_bytes = 0;
  int64_t broadcast_calls = 0, broadcast_bytes = 0;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  /// Rank among the processes of this node (picks the GPU).
  virtual int local_rank() const = 0;
  virtual std::string backend() const = 0;  // "local", "mpi", "nccl"

  /// Concatenation along dim 0 of every rank's tensor, in rank order. Local sizes may differ
  /// (the last batch of an epoch); trailing dims and dtype must match.
  virtual at::Tensor all_gather(const at::Tensor& tensor) = 0;
  /// In place.
  virtual void all_reduce(at::Tensor& tensor, ReduceOp op = ReduceOp::kSum) = 0;
  /// In place, from `root`.
  virtual void broadcast(at::Tensor& tensor, int root = 0) = 0;
  virtual void barrier() = 0;
  /// Ends the whole job (MPI_Abort); never returns. Used when one rank fails.
  [[noreturn]] virtual void abort(const std::string& message, int code = 1) = 0;

  const CommStats& stats() const { return stats_; }

 protected:
  CommStats stats_;
};

/// World size 1: every collective is the identity.
std::shared_ptr<Communicator> make_local_communicator();

}  // namespace negatron::dist
