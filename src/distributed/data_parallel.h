#pragma once
// Data parallelism as plain functions over a parameter list (the trainer calls them; model code
// never does):
//   broadcast_parameters  rank 0's values into every replica, once after construction/loading.
//   average_gradients     after backward: .grad averaged over ranks, packed into flat buckets
//                         (default 25 MiB) so a BERT's ~200 tensors cost a few collectives.
//   OverlappedGradientAverager  the same average, started during backward: per-parameter
//                         post-accumulate-grad hooks launch each bucket's async all-reduce as soon
//                         as its gradients are final (see the class).
//   max_replica_difference / check_replicas_consistent  debug check that replicas agree.
// Gradient convention: see distributed/gather.h. Averaging (not summing) here is what makes W ranks equal
// one process on the global batch when each rank's loss is scaled by rows_local*W/rows_global.
#include <memory>
#include <mutex>
#include <vector>

#include "distributed/communicator.h"

namespace negatron::distributed {

constexpr int64_t kDefaultBucketBytes = 25 * 1024 * 1024;

/// Copies `root`'s values into `tensors` on every rank, in place (parameters and buffers alike).
void broadcast_parameters(Communicator& comm, const std::vector<at::Tensor>& tensors, int root = 0);

/// Replaces p.grad by its average over ranks for every p that requires grad and has a grad.
/// Parameters without requires_grad (a frozen guide model) or without a grad are skipped; all ranks
/// must skip the same ones, which `check_layout` checks (one 8-byte all_gather and a host read of
/// it) and reports by rank. The trainer checks the first step of each dataset only (the layout
/// follows from the loss's graph), so steady-state steps read nothing back.
void average_gradients(Communicator& comm, const std::vector<at::Tensor>& params,
                       int64_t bucket_bytes = kDefaultBucketBytes, bool check_layout = true);

/// average_gradients overlapped with the backward pass (DDP-style), for a fixed parameter list.
///
/// Buckets are planned once over the parameters that require grad, in reverse order (roughly the
/// order backward finishes them), with plan_buckets. Each parameter gets a post-accumulate-grad
/// hook. Per step:
///   begin_step()  before forward/backward (after zero_grad);
///   arm()         right before the backward after which no gradient changes this step (the loss
///                 calls it: Loss::forward_backward before its backward, GradCache before its last
///                 mini-batch's); hooks before arm() do nothing, so GradCache's per-mini-batch
///                 backwards never start a reduction;
///   finish()      after backward: starts every bucket not started yet, checks that all ranks saw
///                 the same gradients, waits, and writes the averages into p.grad().
/// While armed, a bucket is flattened and its all_reduce_async started once all its *expected*
/// parameters have fired, and buckets start strictly in bucket order (so every rank issues the
/// same reductions in the same order, whatever the timing). Expected = every parameter on the
/// first step, then those whose hook has fired in an armed backward on some earlier step (agreed
/// across ranks): a parameter that never gets a gradient (BERT's pooler) stops holding its bucket
/// back after step 1, and one whose gradient was complete before arm() (a loss-owned parameter in
/// GradCache's cached backward) is taken as it is. A parameter that fires after its bucket started
/// (a gradient seen for the first time) marks the bucket stale: finish() reduces it again,
/// blocking (stats().rereduced). Parameters without a gradient contribute zeros and keep no
/// gradient, as average_gradients skips them; all ranks must agree on which have one (one 8-byte
/// all_gather per step checks it, with average_gradients' error).
/// Results equal average_gradients' up to the summation order MPI picks for a bucket (identical at
/// 2 ranks). At world size 1 nothing is hooked and every call is a no-op (unless asked).
class OverlappedGradientAverager {
 public:
  struct Stats {
    int64_t buckets = 0;                   // planned
    int64_t launched_during_backward = 0;  // last step: buckets started from a hook or arm()
    int64_t rereduced = 0;                 // last step: stale buckets reduced again by finish()
  };

  /// `even_at_world_size_1`: hook and reduce although there is nothing to average (tests, and
  /// distributed.overlap_grad_reduce=true on one GPU, exercise the mechanism this way).
  OverlappedGradientAverager(Communicator& comm, const std::vector<at::Tensor>& params,
                             int64_t bucket_bytes = kDefaultBucketBytes, bool even_at_world_size_1 = false);
  ~OverlappedGradientAverager();  // removes the hooks
  OverlappedGradientAverager(const OverlappedGradientAverager&) = delete;
  OverlappedGradientAverager& operator=(const OverlappedGradientAverager&) = delete;

  void begin_step();
  void arm();
  /// check_layout: as average_gradients' (the same all_gather and host read).
  void finish(bool check_layout = true);
  const Stats& stats() const { return stats_; }

  /// Called by the hooks (public for them only).
  void on_gradient_ready(size_t slot);

 private:
  struct Bucket {
    std::vector<size_t> slots;
    size_t waiting = 0;  // expected slots that have not fired yet this step
    bool launched = false, stale = false;
    at::Tensor flat;
    std::unique_ptr<PendingReduction> pending;
  };
  struct Slot {
    at::Tensor param;
    size_t bucket = 0;
    bool expected = true, ever_fired = false;  // across steps
    bool fired = false, included = false;      // this step
  };

  void launch_ready_buckets();  // with mutex_ held
  void launch(Bucket& bucket);  // with mutex_ held
  at::Tensor flatten(const Bucket& bucket);

  Communicator& comm_;
  std::vector<Slot> slots_;
  std::vector<Bucket> buckets_;
  size_t next_launch_ = 0;
  bool armed_ = false, armed_this_step_ = false, in_step_ = false;
  Stats stats_;
  std::mutex mutex_;
};

/// max over ranks and elements of |p - p on rank 0| (the same value on every rank).
double max_replica_difference(Communicator& comm, const std::vector<at::Tensor>& params);
/// Throws, on every rank, naming the ranks whose parameters differ from rank 0's by > tolerance.
void check_replicas_consistent(Communicator& comm, const std::vector<at::Tensor>& params, double tolerance = 0.0);

/// Consecutive tensors grouped while dtype and device match and the group stays within
/// bucket_bytes (a tensor larger than that is a bucket of its own). Exposed for tests.
std::vector<std::vector<at::Tensor>> plan_buckets(const std::vector<at::Tensor>& tensors, int64_t bucket_bytes);

}  // namespace negatron::distributed
