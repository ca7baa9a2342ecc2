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

namespace negatron::distributed {

enum class ReduceOp { kSum, kMax, kMin };

/// An all-reduce in flight (Communicator::all_reduce_async). wait() returns once the result is in
/// the tensor that was passed (on CUDA: once work queued afterwards on the caller's current stream
/// is ordered after it), and may be called more than once. Until then the tensor must be neither
/// read nor written. Destroying a handle without wait() is for error paths only: the buffer is
/// then kept alive (leaked) rather than freed under a collective that may still run.
class PendingReduction {
 public:
  virtual ~PendingReduction() = default;
  virtual void wait() = 0;
  /// Lets the backend advance the reduction without blocking (MPI moves nonblocking collectives
  /// forward only inside MPI calls); the default does nothing.
  virtual void progress() {}
};

/// Bytes and calls per collective kind, for benchmarks (bytes this rank sent).
struct CommStats {
  int64_t all_gather_calls = 0, all_gather_bytes = 0;
  int64_t all_reduce_calls = 0, all_reduce_bytes = 0;
  int64_t broadcast_calls = 0, broadcast_bytes = 0;
  int64_t reduce_scatter_calls = 0, reduce_scatter_bytes = 0;
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
  /// all_gather when every rank's row count is already known (the batch plan): rank r contributes
  /// rank_rows[r] rows, and this rank's tensor must have rank_rows[rank()]. One collective and no
  /// size exchange, so trailing shape and dtype are not compared across ranks (every rank runs the
  /// same code on the same model; all_gather checks them). Counted as an all_gather. The default
  /// calls all_gather (correct, with the exchange); MPI, NCCL and Local override it.
  virtual at::Tensor all_gather_rows(const at::Tensor& tensor, const std::vector<int64_t>& rank_rows);
  /// The transpose of all_gather_rows (the gather's backward): every rank passes
  /// [sum(rank_rows), ...] of one dtype and shape; each gets back its own rows
  /// [rank_rows[rank()], ...] of the elementwise SUM over ranks. Counted as a reduce_scatter
  /// (bytes: the tensor passed in). The default all-reduces the whole tensor and slices (correct,
  /// twice the traffic); MPI (MPI_Reduce_scatter), NCCL (ncclReduceScatter) and Local override it.
  virtual at::Tensor reduce_scatter(const at::Tensor& tensor, const std::vector<int64_t>& rank_rows);
  /// In place.
  virtual void all_reduce(at::Tensor& tensor, ReduceOp op = ReduceOp::kSum) = 0;
  /// all_reduce started without waiting for it; wait() on the handle completes it. Handles are
  /// completed in any order, but every rank must start its async all-reduces in the same order.
  /// Counted in stats() as an all_reduce when started. The default runs the blocking all_reduce
  /// (correct, not overlapped); MPI (MPI_Iallreduce on its own duplicate communicator) and NCCL
  /// (a communication stream) override it.
  virtual std::unique_ptr<PendingReduction> all_reduce_async(at::Tensor& tensor, ReduceOp op = ReduceOp::kSum);
  /// In place, from `root`.
  virtual void broadcast(at::Tensor& tensor, int root = 0) = 0;
  virtual void barrier() = 0;
  /// Ends the whole job (MPI_Abort); never returns. Used when one rank fails.
  [[noreturn]] virtual void abort(const std::string& message, int code = 1) = 0;

  const CommStats& stats() const { return stats_; }

 protected:
  CommStats stats_;
};

/// A reduction that is already complete (what the default all_reduce_async returns).
class CompletedReduction : public PendingReduction {
 public:
  void wait() override {}
};

inline std::unique_ptr<PendingReduction> Communicator::all_reduce_async(at::Tensor& tensor, ReduceOp op) {
  all_reduce(tensor, op);
  return std::make_unique<CompletedReduction>();
}

/// For all_gather_rows / reduce_scatter: throws (naming `collective` and the rank) unless
/// `rank_rows` has one non-negative entry per rank and (unless local_rows < 0) this rank's entry is
/// `local_rows`.
void check_rank_rows(const Communicator& comm, const std::vector<int64_t>& rank_rows, int64_t local_rows,
                     const char* collective);

/// World size 1: every collective is the identity.
std::shared_ptr<Communicator> make_local_communicator();

}  // namespace negatron::distributed
