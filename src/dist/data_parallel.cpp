#include "dist/data_parallel.h"

#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cstring>
#include <sstream>

#include "common/check.h"
#include "dist/config_agreement.h"

namespace negatron::dist {
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
  set.layout_hash = fnv1a_64(layout.str());
  return set;
}

/// Every rank must reduce the same gradients, else the flat buckets would not line up.
void check_same_layout(Communicator& comm, uint64_t layout_hash, size_t count) {
  int64_t as_signed = 0;
  std::memcpy(&as_signed, &layout_hash, sizeof(layout_hash));
  const at::Tensor all = comm.all_gather(at::full({1}, as_signed, at::kLong)).cpu();
  const int64_t* hashes = all.data_ptr<int64_t>();
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

void average_gradients(Communicator& comm, const std::vector<at::Tensor>& params, int64_t bucket_bytes) {
  if (comm.world_size() == 1) return;
  at::NoGradGuard no_grad;
  const GradientSet set = collect_gradients(params);
  check_same_layout(comm, set.layout_hash, set.grads.size());
  for (const auto& bucket : plan_buckets(set.grads, bucket_bytes)) average_bucket(comm, bucket);
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
    const double diff = (param.detach() - reference).abs().max().to(at::kDouble).cpu().item<double>();
    worst = std::max(worst, diff);
  }
  return worst;
}

std::vector<double> gather_differences(Communicator& comm, const std::vector<at::Tensor>& params) {
  const at::Tensor mine = at::full({1}, local_difference_from_rank0(comm, params), at::kDouble);
  const at::Tensor all = comm.all_gather(mine).cpu();
  return std::vector<double>(all.data_ptr<double>(), all.data_ptr<double>() + all.numel());
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

}  // namespace negatron::dist
