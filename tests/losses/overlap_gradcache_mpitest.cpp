// The overlapped gradient averager with real losses on all-MiniLM-L6-v2 (float64, dropout off)
// under mpirun (np 1..4): MultipleNegativesRankingLoss (one backward) and its cached form
// (GradCache, 3 mini-batches per column, 2 columns: 7 backwards per step) give the same averaged
// gradients as forward_backward + average_gradients (1e-12; bit-identical at 2 ranks), and a cached
// step costs one all-reduce per bucket, not one per mini-batch. The mechanism is what the trainer
// does with distributed.overlap_grad_reduce on (src/train/trainer.cpp, train_step).
#include <gtest/gtest.h>

#include "distributed/data_parallel.h"
#include "distributed/mpi_communicator.h"
#include "losses/registry.h"
#include "support/minilm.h"

namespace negatron::losses {
namespace {

using model::SentenceEncoder;

std::shared_ptr<SentenceEncoder> minilm() {
  static std::shared_ptr<SentenceEncoder> model = [] {
    auto m = testing_support::load_minilm_float64();
    m->eval();
    return m;
  }();
  return model;
}

/// This rank's 7 (anchor, positive) rows: a rank-dependent rotation of 10 pairs.
model::Batch rank_batch(SentenceEncoder& model, int rank, int step) {
  const std::vector<std::string> anchors = {
      "A man is playing a guitar.", "The cat sleeps on the warm windowsill.", "Stocks fell sharply.",
      "How do I reset my card PIN?", "Two dogs run through the snow.", "What is the capital of France?",
      "She reads a book.", "Rain is expected tomorrow.", "The train was late again.", "He fixed the old bike."};
  const std::vector<std::string> positives = {
      "Someone plays an instrument.", "A cat naps in the sun.", "Markets dropped today.", "Changing my card PIN",
      "Dogs playing in snow.", "Paris is the capital of France.", "A woman is reading.", "Tomorrow it will rain.",
      "The railway service was delayed.", "A bicycle was repaired."};
  model::Batch batch;
  batch.texts.resize(2);
  for (int i = 0; i < 7; ++i) {
    const size_t k = static_cast<size_t>(3 * rank + 2 * step + i) % anchors.size();
    batch.texts[0].push_back(anchors[k]);
    batch.texts[1].push_back(positives[k]);
  }
  for (const auto& column : batch.texts) batch.columns.push_back(model.tokenize(column));
  return batch;
}

std::vector<at::Tensor> take_grads(const std::vector<at::Tensor>& params) {
  std::vector<at::Tensor> out;
  for (const auto& p : params) out.push_back(p.grad().defined() ? p.grad().clone() : at::Tensor());
  return out;
}

void zero_grads(const std::vector<at::Tensor>& params) {
  for (auto p : params) p.mutable_grad() = at::Tensor();
}

void check(const std::string& name, nlohmann::json params) {
  auto comm = distributed::make_mpi_communicator();
  auto model = minilm();
  LossArgs args;
  args.params = std::move(params);
  args.context.comm = comm;
  auto loss = make_loss(name, args);
  const std::vector<at::Tensor> parameters = model->parameters();
  distributed::OverlappedGradientAverager averager(*comm, parameters);
  for (int step = 0; step < 2; ++step) {
    const model::Batch batch = rank_batch(*model, comm->rank(), step);
    zero_grads(parameters);
    const int64_t before_reference = comm->stats().all_reduce_calls;
    const double want_loss = loss->forward_backward(*model, batch).item<double>();
    const int64_t loss_calls = comm->stats().all_reduce_calls - before_reference;  // the gathers' backward
    distributed::average_gradients(*comm, parameters);
    const std::vector<at::Tensor> want = take_grads(parameters);

    zero_grads(parameters);
    const int64_t before = comm->stats().all_reduce_calls;
    averager.begin_step();
    loss->set_final_backward_callback([&] { averager.arm(); });
    const double got_loss = loss->forward_backward(*model, batch).item<double>();
    loss->set_final_backward_callback({});
    averager.finish();
    const int64_t calls = comm->stats().all_reduce_calls - before;
    EXPECT_EQ(got_loss, want_loss);
    EXPECT_EQ(calls, loss_calls + averager.stats().buckets) << name << " step " << step;
    EXPECT_EQ(averager.stats().rereduced, 0) << name << " step " << step;
    if (comm->world_size() > 1 && step > 0) EXPECT_GT(averager.stats().launched_during_backward, 0) << name;
    const std::vector<at::Tensor> got = take_grads(parameters);
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got[i].defined(), want[i].defined()) << name << " parameter " << i;
      if (!got[i].defined()) continue;
      if (comm->world_size() <= 2) {
        EXPECT_TRUE(at::equal(got[i], want[i])) << name << " parameter " << i << " step " << step;
      }
      const double scale = std::max(1.0, want[i].abs().max().item<double>());
      EXPECT_LE((got[i] - want[i]).abs().max().item<double>(), 1e-12 * scale)
          << name << " parameter " << i << " step " << step << " rank " << comm->rank();
    }
  }
  if (comm->world_size() > 1) EXPECT_GT(averager.stats().buckets, 1);  // ~180 MB of float64 in 25 MiB buckets
}

TEST(OverlappedAveragerWithLosses, MultipleNegativesRanking) { check("MultipleNegativesRankingLoss", {}); }

TEST(OverlappedAveragerWithLosses, CachedMultipleNegativesRankingThreeMiniBatches) {
  check("CachedMultipleNegativesRankingLoss", {{"mini_batch_size", 3}});
}

}  // namespace
}  // namespace negatron::losses
