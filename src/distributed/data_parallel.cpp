#include "distributed/data_parallel.h"

#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <sstream>
#include <unordered_set>

#include "common/check.h"
#include "common/hash.h"
#include "common/host_read.h"

namespace negatron::distributed {
namespace {

/// The gradients average_gradients reduces, and a hash of which parameters they belong to.
struct GradientSet {
  std::vector<at::Tensor> grads;
  uint64_t layout_hash = 0;
};

GradientSet collect_gradients(const std::vector<at::Tensor>& params) {
  GradientSet set;
  std::ostringstream layout;
  for (size_t i = 0; i < params.size(); ++i) {
    const at::Tensor& grad = params[i].grad();
    if (!params[i].requires_grad() || !grad.defined()) continue;
    set.grads.push_back(grad);
    layout << i << ':' << grad.numel() << ':' << static_cast<int>(grad.scalar_type()) << ';';
  }
  set.layout_hash = fnv1a64(layout.str());
  return set;
}

/// Every rank must reduce the same gradients, else the flat buckets would not line up.
void check_same_layout(Communicator& comm, uint64_t layout_hash, size_t count) {
  int64_t as_signed = 0;
  std::memcpy(&as_signed, &layout_hash, sizeof(layout_hash));
  const std::vector<int64_t> hashes = read_vector<int64_t>(comm.all_gather(at::full({1}, as_signed, at::kLong)));
  std::ostringstream differing;
  for (int r = 1; r < comm.world_size(); ++r) {
    if (hashes[r] != hashes[0]) differing << ' ' << r;
  }
  NEG_CHECK(differing.str().empty(), "average_gradients: rank(s)", differing.str(),
            " have gradients for a different set of parameters than rank 0 (a parameter unused on some rank?); "
            "rank ", comm.rank(), " has ", count, " gradients");
}

void average_bucket(Communicator& comm, const std::vector<at::Tensor>& grads) {
  std::vector<at::Tensor> flat_views;
  for (const at::Tensor& grad : grads) flat_views.push_back(grad.reshape({-1}));
  at::Tensor flat = at::cat(flat_views);
  comm.all_reduce(flat, ReduceOp::kSum);
  flat.div_(comm.world_size());
  int64_t offset = 0;
  for (const at::Tensor& grad : grads) {
    const at::Tensor slice = flat.narrow(0, offset, grad.numel()).view(grad.sizes());
    const_cast<at::Tensor&>(grad).copy_(slice);
    offset += grad.numel();
  }
}

}  // namespace

std::vector<std::vector<at::Tensor>> plan_buckets(const std::vector<at::Tensor>& tensors, int64_t bucket_bytes) {
  NEG_CHECK(bucket_bytes > 0, "bucket_bytes must be > 0, got ", bucket_bytes);
  std::vector<std::vector<at::Tensor>> buckets;
  int64_t filled = 0;
  for (const at::Tensor& tensor : tensors) {
    const int64_t bytes = static_cast<int64_t>(tensor.nbytes());
    const bool fits = !buckets.empty() && buckets.back().front().scalar_type() == tensor.scalar_type() &&
                      buckets.back().front().device() == tensor.device() && filled + bytes <= bucket_bytes;
    if (!fits) {
      buckets.emplace_back();
      filled = 0;
    }
    buckets.back().push_back(tensor);
    filled += bytes;
  }
  return buckets;
}

void broadcast_parameters(Communicator& comm, const std::vector<at::Tensor>& tensors, int root) {
  at::NoGradGuard no_grad;
  for (const at::Tensor& tensor : tensors) {
    at::Tensor data = tensor.detach();  // shares storage: the broadcast writes into the parameter
    comm.broadcast(data, root);
  }
}

void average_gradients(Communicator& comm, const std::vector<at::Tensor>& params, int64_t bucket_bytes,
                       bool check_layout) {
  if (comm.world_size() == 1) return;
  at::NoGradGuard no_grad;
  const GradientSet set = collect_gradients(params);
  if (check_layout) check_same_layout(comm, set.layout_hash, set.grads.size());
  for (const auto& bucket : plan_buckets(set.grads, bucket_bytes)) average_bucket(comm, bucket);
}

namespace {

/// Tells the averager that a parameter's .grad has been accumulated (AccumulateGrad calls it).
class ReadyHook : public torch::autograd::PostAccumulateGradHook {
 public:
  ReadyHook(OverlappedGradientAverager& owner, size_t slot) : owner_(owner), slot_(slot) {}
  void operator()(const torch::autograd::Variable& /*param*/) override { owner_.on_gradient_ready(slot_); }

 private:
  OverlappedGradientAverager& owner_;
  size_t slot_;
};

}  // namespace

OverlappedGradientAverager::OverlappedGradientAverager(Communicator& comm, const std::vector<at::Tensor>& params,
                                                       int64_t bucket_bytes, bool even_at_world_size_1)
    : comm_(comm) {
  NEG_CHECK(bucket_bytes > 0, "bucket_bytes must be > 0, got ", bucket_bytes);
  if (comm_.world_size() == 1 && !even_at_world_size_1) return;  // nothing to average: no hooks
  // Reverse registration order: the last layers' gradients are final first in backward.
  std::unordered_set<const void*> seen;
  std::vector<at::Tensor> order;
  for (auto it = params.rbegin(); it != params.rend(); ++it) {
    if (!it->defined() || !it->requires_grad()) continue;  // frozen: excluded
    if (!seen.insert(it->unsafeGetTensorImpl()).second) continue;  // listed twice: one slot
    NEG_CHECK(it->is_leaf(), "OverlappedGradientAverager: parameter ", std::distance(it, params.rend()) - 1,
              " is not a leaf tensor");
    NEG_CHECK(torch::autograd::impl::post_acc_grad_hooks(*it) == nullptr,
              "OverlappedGradientAverager: a parameter already has a post-accumulate-grad hook");
    order.push_back(*it);
  }
  size_t slot = 0;
  for (const auto& tensors : plan_buckets(order, bucket_bytes)) {
    Bucket bucket;
    for (const at::Tensor& param : tensors) {
      Slot s;
      s.param = param;
      s.bucket = buckets_.size();
      slots_.push_back(std::move(s));
      bucket.slots.push_back(slot++);
    }
    buckets_.push_back(std::move(bucket));
  }
  stats_.buckets = static_cast<int64_t>(buckets_.size());
  for (size_t i = 0; i < slots_.size(); ++i) {
    torch::autograd::impl::set_post_acc_grad_hooks(slots_[i].param, std::make_unique<ReadyHook>(*this, i));
  }
}

OverlappedGradientAverager::~OverlappedGradientAverager() {
  for (Slot& slot : slots_) torch::autograd::impl::set_post_acc_grad_hooks(slot.param, nullptr);
}

void OverlappedGradientAverager::begin_step() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (Slot& slot : slots_) slot.fired = slot.included = false;
  for (Bucket& bucket : buckets_) {
    bucket.waiting = 0;
    for (size_t s : bucket.slots) bucket.waiting += slots_[s].expected ? 1 : 0;
    bucket.launched = bucket.stale = false;
    bucket.flat = at::Tensor();
    bucket.pending.reset();
  }
  next_launch_ = 0;
  armed_ = armed_this_step_ = false;
  in_step_ = true;
  stats_.launched_during_backward = 0;
  stats_.rereduced = 0;
}

void OverlappedGradientAverager::arm() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!in_step_ || armed_) return;
  armed_ = armed_this_step_ = true;
  launch_ready_buckets();  // buckets whose parameters all got their gradients before arm()
}

void OverlappedGradientAverager::on_gradient_ready(size_t slot_index) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!armed_) return;
  Slot& slot = slots_[slot_index];
  Bucket& bucket = buckets_[slot.bucket];
  if (bucket.launched) {
    bucket.stale = true;  // a gradient not expected by the time its bucket started
  } else if (slot.expected && !slot.fired) {
    --bucket.waiting;
  }
  slot.fired = true;
  launch_ready_buckets();
  for (size_t b = 0; b < next_launch_; ++b) buckets_[b].pending->progress();  // MPI: advance in flight
}

void OverlappedGradientAverager::launch_ready_buckets() {
  while (next_launch_ < buckets_.size() && buckets_[next_launch_].waiting == 0) {
    launch(buckets_[next_launch_++]);
    ++stats_.launched_during_backward;
  }
}

at::Tensor OverlappedGradientAverager::flatten(const Bucket& bucket) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> pieces;
  pieces.reserve(bucket.slots.size());
  for (size_t s : bucket.slots) {
    const at::Tensor& param = slots_[s].param;
    const at::Tensor& grad = param.grad();
    pieces.push_back(grad.defined() ? grad.reshape({-1}) : at::zeros({param.numel()}, param.options()));
  }
  return at::cat(pieces);
}

void OverlappedGradientAverager::launch(Bucket& bucket) {
  for (size_t s : bucket.slots) slots_[s].included = slots_[s].param.grad().defined();
  bucket.flat = flatten(bucket);
  bucket.pending = comm_.all_reduce_async(bucket.flat, ReduceOp::kSum);
  bucket.launched = true;
}

void OverlappedGradientAverager::finish(bool check_layout) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (slots_.empty()) return;  // world size 1
  NEG_CHECK(in_step_, "OverlappedGradientAverager::finish() without begin_step()");
  armed_ = false;
  in_step_ = false;
  while (next_launch_ < buckets_.size()) launch(buckets_[next_launch_++]);  // in bucket order
  // Every rank has started the same reductions in the same order (their sizes come from the
  // parameters, not from which gradients exist), so waiting cannot hang even if the check fails.
  for (Bucket& bucket : buckets_) {
    bucket.pending->wait();
    bucket.pending.reset();
  }
  // Every rank must have gradients for the same parameters and have seen the same buckets go
  // stale (both follow from the graph); one hash over both, as average_gradients checks.
  std::ostringstream layout;
  size_t with_grad = 0;
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& slot = slots_[i];
    const at::Tensor& grad = slot.param.grad();
    if (grad.defined() != slot.included) buckets_[slot.bucket].stale = true;
    if (!grad.defined()) continue;
    ++with_grad;
    layout << i << ':' << grad.numel() << ':' << static_cast<int>(grad.scalar_type()) << (slot.fired ? "f;" : ";");
  }
  for (size_t b = 0; b < buckets_.size(); ++b) {
    if (buckets_[b].stale) layout << 's' << b << ';';
  }
  if (check_layout) check_same_layout(comm_, fnv1a64(layout.str()), with_grad);

  at::NoGradGuard no_grad;
  const int world = comm_.world_size();
  for (Bucket& bucket : buckets_) {
    if (bucket.stale) {  // the same on every rank (checked above): reduce the final gradients again
      bucket.flat = flatten(bucket);
      comm_.all_reduce(bucket.flat, ReduceOp::kSum);
      ++stats_.rereduced;
    }
    bucket.flat.div_(world);
    int64_t offset = 0;
    for (size_t s : bucket.slots) {
      at::Tensor grad = slots_[s].param.grad();
      const int64_t numel = slots_[s].param.numel();
      if (grad.defined()) grad.copy_(bucket.flat.narrow(0, offset, numel).view(grad.sizes()));
      offset += numel;
    }
    bucket.flat = at::Tensor();
  }
  if (armed_this_step_) {  // a step without arm() says nothing about which gradients come late
    for (Slot& slot : slots_) {
      slot.ever_fired = slot.ever_fired || slot.fired;
      slot.expected = slot.ever_fired;
    }
  }
}

namespace {

/// This rank's max |p - p on rank 0| (0 on rank 0).
double local_difference_from_rank0(Communicator& comm, const std::vector<at::Tensor>& params) {
  at::NoGradGuard no_grad;
  double worst = 0.0;
  for (const at::Tensor& param : params) {
    at::Tensor reference = param.detach().clone();
    comm.broadcast(reference, 0);
    if (param.numel() == 0) continue;
    const double diff = read_scalar<double>((param.detach() - reference).abs().max().to(at::kDouble));
    worst = std::max(worst, diff);
  }
  return worst;
}

std::vector<double> gather_differences(Communicator& comm, const std::vector<at::Tensor>& params) {
  const at::Tensor mine = at::full({1}, local_difference_from_rank0(comm, params), at::kDouble);
  return read_vector<double>(comm.all_gather(mine));
}

}  // namespace

double max_replica_difference(Communicator& comm, const std::vector<at::Tensor>& params) {
  const std::vector<double> all = gather_differences(comm, params);
  return *std::max_element(all.begin(), all.end());
}

void check_replicas_consistent(Communicator& comm, const std::vector<at::Tensor>& params, double tolerance) {
  const std::vector<double> all = gather_differences(comm, params);
  std::ostringstream differing;
  for (size_t r = 1; r < all.size(); ++r) {
    if (all[r] > tolerance) differing << " rank " << r << " (max |diff| " << all[r] << ")";
  }
  NEG_CHECK(differing.str().empty(), "replicas diverged from rank 0 beyond tolerance ", tolerance, ":",
            differing.str(), "; seen on rank ", comm.rank());
}

}  // namespace negatron::distributed
