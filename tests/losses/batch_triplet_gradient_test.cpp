// Finite-difference checks (float64) of losses whose autograd graph is assembled by hand here rather
// than mirrored op for op from sentence-transformers: BatchSemiHardTripletLoss (sort + binary search
// instead of ST's [B^2, B] tile) and AnglELoss (the complex-division angle similarity).
#include <gtest/gtest.h>

#include "losses/registry.h"

namespace negatron::losses {
namespace {

/// Max |autograd - central difference| over all entries of every column, relative to max |autograd|.
double finite_difference_error(Loss& loss, const EmbeddingBatch& batch, double step = 1e-6) {
  EmbeddingBatch tracked = batch;
  for (auto& c : tracked.columns) c = c.clone().requires_grad_(true);
  loss.compute(tracked).backward();
  double worst = 0, scale = 0;
  for (size_t k = 0; k < batch.columns.size(); ++k) {
    const at::Tensor analytic = tracked.columns[k].grad();
    auto loss_at = [&](int64_t i, double delta) {
      EmbeddingBatch probe = batch;
      probe.columns[k] = batch.columns[k].clone();
      probe.columns[k].view(-1)[i] += delta;
      return loss.compute(probe).item<double>();
    };
    for (int64_t i = 0; i < batch.columns[k].numel(); ++i) {
      const double numeric = (loss_at(i, step) - loss_at(i, -step)) / (2 * step);
      worst = std::max(worst, std::abs(numeric - analytic.view(-1)[i].item<double>()));
    }
    scale = std::max(scale, analytic.abs().max().item<double>());
  }
  return worst / scale;
}

std::unique_ptr<Loss> make(const std::string& name, const nlohmann::json& params) {
  LossArgs args;
  args.params = params;
  return make_loss(name, args);
}

TEST(FiniteDifference, BatchSemiHardTripletLoss) {
  at::manual_seed(0);
  EmbeddingBatch batch;
  batch.columns = {at::randn({12, 5}, at::kDouble)};
  batch.labels = at::tensor(std::vector<int64_t>{0, 1, 2, 0, 1, 2, 0, 1, 2, 3, 3, 0});
  for (const char* metric : {"euclidean_distance", "cosine_distance"}) {
    auto loss = make("BatchSemiHardTripletLoss", {{"distance_metric", metric}, {"margin", 0.5}});
    EXPECT_LT(finite_difference_error(*loss, batch), 1e-6) << metric;
  }
}

TEST(FiniteDifference, AnglELossOddWidth) {
  at::manual_seed(1);
  EmbeddingBatch batch;
  batch.columns = {at::randn({6, 5}, at::kDouble), at::randn({6, 5}, at::kDouble)};
  batch.labels = at::rand({6}, at::kDouble);
  auto loss = make("AnglELoss", {{"scale", 5.0}});
  EXPECT_LT(finite_difference_error(*loss, batch), 1e-6);
}

}  // namespace
}  // namespace negatron::losses
