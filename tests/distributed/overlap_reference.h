#pragma once
// Shared by the MPI (CPU) and NCCL (CUDA) tests of OverlappedGradientAverager: a tiny float64 net
// with a differentiable gather inside its loss, a plain step (one backward) and a GradCache-shaped
// step (a loss-owned parameter's gradient made before arm(), then one backward per mini-batch with
// only the last armed), and the check against average_gradients: same gradients (1e-12 relative,
// bit-identical at <= 2 ranks) and exactly one all-reduce per bucket per step.
#include <ATen/core/grad_mode.h>
#include <gtest/gtest.h>

#include <functional>

#include "distributed/data_parallel.h"
#include "distributed/gather.h"

namespace negatron::distributed::testing {

/// A tiny two-layer net in float64; `head` plays a loss-owned parameter, `frozen` a guide model's,
/// `unused` BERT's pooler (requires grad, never gets one).
struct Net {
  at::Tensor w1, b1, w2, b2, frozen, unused, head;
  explicit Net(at::Device device = at::kCPU) {
    at::manual_seed(7);
    const auto f64 = at::TensorOptions().dtype(at::kDouble);
    auto on = [&](at::Tensor t) { return t.to(device); };
    w1 = on(at::randn({6, 5}, f64)).requires_grad_();
    b1 = on(at::randn({6}, f64)).requires_grad_();
    w2 = on(at::randn({4, 6}, f64)).requires_grad_();
    b2 = on(at::randn({4}, f64)).requires_grad_();
    frozen = on(at::randn({4}, f64));
    unused = on(at::randn({3}, f64)).requires_grad_();
    head = on(at::randn({4}, f64)).requires_grad_();
  }
  std::vector<at::Tensor> params() const { return {w1, b1, w2, b2, frozen, unused, head}; }
  at::Tensor embed(const at::Tensor& x) const { return at::linear(at::tanh(at::linear(x, w1, b1)), w2, b2); }
  void zero_grad() {
    for (auto& p : params()) p.mutable_grad() = at::Tensor();
  }
  std::vector<at::Tensor> grads() const {
    std::vector<at::Tensor> out;
    for (const auto& p : params()) out.push_back(p.grad().defined() ? p.grad().clone() : at::Tensor());
    return out;
  }
};

/// This rank's rows (differ per rank and per step; ranks have different row counts).
inline at::Tensor rank_input(const Communicator& comm, int step, at::Device device = at::kCPU) {
  at::manual_seed(1000 + 17 * comm.rank() + step);
  return at::randn({3 + comm.rank(), 5}, at::kDouble).to(device);
}

/// Loss over the gathered embeddings (each rank scores its rows against every rank's).
inline at::Tensor in_batch_loss(Communicator& comm, const Net& net, const at::Tensor& local_embeddings) {
  const Gathered all = all_gather_with_grad(comm, local_embeddings);
  const at::Tensor scores = at::matmul(local_embeddings * net.head, all.global.t());
  return at::logsumexp(scores, 1).mean() + (local_embeddings * net.frozen).sum() * 0.01;
}

/// One backward; `arm` runs right before it.
inline void plain_step(Communicator& comm, Net& net, const at::Tensor& x, const std::function<void()>& arm) {
  at::Tensor loss = in_batch_loss(comm, net, net.embed(x));
  if (arm) arm();
  loss.backward();
}

/// GradCache's shape: embeddings without grad, the loss backward on them (head's gradient is
/// final here, before arm()), then one backward per mini-batch of 2 rows; `arm` before the last.
inline void cached_step(Communicator& comm, Net& net, const at::Tensor& x, const std::function<void()>& arm) {
  at::Tensor reps;
  {
    at::NoGradGuard no_grad;
    reps = net.embed(x);
  }
  reps.requires_grad_(true);
  in_batch_loss(comm, net, reps).backward();
  const at::Tensor cache = reps.grad();
  const int64_t rows = x.size(0);
  for (int64_t begin = 0; begin < rows; begin += 2) {
    const int64_t end = std::min(begin + 2, rows);
    at::Tensor rep = net.embed(x.narrow(0, begin, end - begin));
    if (end == rows && arm) arm();
    rep.backward(cache.narrow(0, begin, end - begin));
  }
}

using Step = void (*)(Communicator&, Net&, const at::Tensor&, const std::function<void()>&);

/// Within 1e-12 (relative to max(1, |want|)); bit-identical at 2 ranks, where a sum of two values
/// does not depend on the order MPI adds them in.
inline void expect_same_grads(const std::vector<at::Tensor>& got, const std::vector<at::Tensor>& want, int rank, int step,
                       int world) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].defined(), want[i].defined()) << "parameter " << i << " step " << step << " rank " << rank;
    if (!got[i].defined()) continue;
    if (world <= 2) EXPECT_TRUE(at::equal(got[i], want[i])) << "parameter " << i << " step " << step;
    const double scale = std::max(1.0, want[i].abs().max().item<double>());
    EXPECT_LE((got[i] - want[i]).abs().max().item<double>(), 1e-12 * scale)
        << "parameter " << i << " step " << step << " rank " << rank;
  }
}

/// Three steps of `step_fn`, each run once with average_gradients after backward and once with
/// the averager; `force` hooks even at world size 1 (to exercise the mechanism on one GPU).
inline void check_against_average_gradients(Communicator& comm_ref, Step step_fn, int64_t bucket_bytes,
                                            at::Device device = at::kCPU, bool force = false) {
  Communicator* comm = &comm_ref;
  Net net(device);
  OverlappedGradientAverager averager(*comm, net.params(), bucket_bytes, force);
  if (comm->world_size() == 1 && !force) EXPECT_EQ(averager.stats().buckets, 0);
  for (int step = 0; step < 3; ++step) {
    const at::Tensor x = rank_input(*comm, step, device);
    // Reference: backward, then average_gradients.
    net.zero_grad();
    const int64_t before_reference = comm->stats().all_reduce_calls;
    step_fn(*comm, net, x, nullptr);
    const int64_t backward_calls = comm->stats().all_reduce_calls - before_reference;  // the gather's
    average_gradients(*comm, net.params(), bucket_bytes);
    const std::vector<at::Tensor> want = net.grads();
    // Overlapped, on the same values.
    net.zero_grad();
    const int64_t before = comm->stats().all_reduce_calls;
    averager.begin_step();
    step_fn(*comm, net, x, [&] { averager.arm(); });
    averager.finish();
    const int64_t calls = comm->stats().all_reduce_calls - before;
    expect_same_grads(net.grads(), want, comm->rank(), step, comm->world_size());
    EXPECT_FALSE(net.frozen.grad().defined());
    EXPECT_FALSE(net.unused.grad().defined());
    // One all-reduce per bucket per step, whatever the number of backward passes.
    EXPECT_EQ(calls, backward_calls + averager.stats().buckets) << "step " << step;
    EXPECT_EQ(averager.stats().rereduced, 0) << "step " << step;
    if ((comm->world_size() > 1 || force) && step > 0) {
      // From step 2 on, `unused` no longer holds its bucket back: buckets start inside backward.
      EXPECT_GT(averager.stats().launched_during_backward, 0) << "step " << step;
    }
  }
}

}  // namespace negatron::distributed::testing
