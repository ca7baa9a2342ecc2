#include "train/optimizer.h"

#include <gtest/gtest.h>

#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>

#include <cmath>

namespace negatron::train {
namespace {

// transformers' get_linear_schedule_with_warmup / get_cosine_schedule_with_warmup, written out.
TEST(Schedule, MatchesTransformersFormulas) {
  EXPECT_DOUBLE_EQ(lr_factor("linear", 0, 100, 10), 0.0);
  EXPECT_DOUBLE_EQ(lr_factor("linear", 5, 100, 10), 0.5);
  EXPECT_DOUBLE_EQ(lr_factor("linear", 10, 100, 10), 1.0);
  EXPECT_DOUBLE_EQ(lr_factor("linear", 55, 100, 10), 0.5);
  EXPECT_DOUBLE_EQ(lr_factor("cosine", 55, 100, 10), 0.5 * (1 + std::cos(M_PI * 0.5)));
  EXPECT_DOUBLE_EQ(lr_factor("constant", 3, 100, 10), 1.0);
  EXPECT_DOUBLE_EQ(lr_factor("constant_with_warmup", 3, 100, 10), 0.3);
}

TEST(WeightDecay, ExemptsBiasesAndLayerNorm) {
  EXPECT_TRUE(exempt_from_weight_decay("transformer.encoder.layer.0.attention.self.query.bias"));
  EXPECT_TRUE(exempt_from_weight_decay("transformer.embeddings.LayerNorm.weight"));
  EXPECT_FALSE(exempt_from_weight_decay("transformer.encoder.layer.0.attention.self.query.weight"));
}

// One AdamW step against the closed form of the first step: p - lr * (sign(g) + wd * p) for decayed
// parameters (m_hat / sqrt(v_hat) = g / |g| at step 1, up to eps).
TEST(AdamW, FirstStepMatchesClosedForm) {
  TrainingOptions o;
  o.learning_rate = 0.1;
  o.weight_decay = 0.5;
  o.adam_epsilon = 0;
  at::Tensor w = at::tensor({1.0, -2.0}, at::kDouble).requires_grad_();
  at::Tensor b = at::tensor({3.0}, at::kDouble).requires_grad_();
  AdamW optimizer({{"layer.weight", w}, {"layer.bias", b}}, o);
  w.mutable_grad() = at::tensor({0.5, 0.25}, at::kDouble);
  b.mutable_grad() = at::tensor({-1.0}, at::kDouble);
  optimizer.step(0.1);
  EXPECT_NEAR(w[0].item<double>(), 1.0 * (1 - 0.1 * 0.5) - 0.1, 1e-12);
  EXPECT_NEAR(w[1].item<double>(), -2.0 * (1 - 0.1 * 0.5) - 0.1, 1e-12);
  EXPECT_NEAR(b[0].item<double>(), 3.0 + 0.1, 1e-12);  // no decay on biases
}

// The fused optimizer against torch::optim::AdamW (the per-parameter implementation negatron used
// before) with the same two groups, over 20 steps of a linear warm-up/decay schedule, clipped
// gradients (torch::nn::utils::clip_grad_norm_ as the reference), and a parameter that gets no
// gradient on odd steps (its step count, hence its bias correction, advances only with gradients).
struct Trajectory {
  std::vector<at::Tensor> params;
};

std::vector<NamedParameter> make_params(at::ScalarType dtype) {
  at::manual_seed(3);
  return {{"encoder.dense.weight", at::randn({7, 5}, dtype).requires_grad_()},
          {"encoder.dense.bias", at::randn({7}, dtype).requires_grad_()},
          {"encoder.LayerNorm.weight", at::randn({5}, dtype).requires_grad_()},
          {"head.weight", at::randn({3, 4}, dtype).requires_grad_()}};
}

void set_grads(std::vector<NamedParameter>& params, int step) {
  at::manual_seed(100 + step);
  for (size_t i = 0; i < params.size(); ++i) {
    at::Tensor& p = params[i].tensor;
    if (i == 3 && step % 2 == 1) {
      p.mutable_grad().reset();
      continue;
    }
    p.mutable_grad() = at::randn(p.sizes(), p.options()) * (step + 1);
  }
}

void expect_fused_matches_torch(at::ScalarType dtype, double tolerance) {
  TrainingOptions o;
  o.learning_rate = 1e-2;
  o.weight_decay = 0.1;
  auto ours = make_params(dtype);
  auto theirs = make_params(dtype);
  AdamW fused(ours, o);
  std::vector<at::Tensor> decayed, exempt;
  for (const auto& p : theirs) (exempt_from_weight_decay(p.name) ? exempt : decayed).push_back(p.tensor);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decayed, std::make_unique<torch::optim::AdamWOptions>(
                                   torch::optim::AdamWOptions(o.learning_rate).weight_decay(o.weight_decay)));
  groups.emplace_back(exempt, std::make_unique<torch::optim::AdamWOptions>(
                                  torch::optim::AdamWOptions(o.learning_rate).weight_decay(0.0)));
  torch::optim::AdamW reference(groups, torch::optim::AdamWOptions(o.learning_rate));
  std::vector<at::Tensor> their_tensors;
  for (const auto& p : theirs) their_tensors.push_back(p.tensor);
  for (int step = 0; step < 20; ++step) {
    const double lr = o.learning_rate * lr_factor("linear", step, 20, 4);
    set_grads(ours, step);
    set_grads(theirs, step);
    clip_grad_norm(fused.parameters(), 2.0);
    torch::nn::utils::clip_grad_norm_(their_tensors, 2.0);
    fused.step(lr);
    for (auto& group : reference.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
    reference.step();
    for (size_t i = 0; i < ours.size(); ++i) {
      const double diff = (ours[i].tensor - theirs[i].tensor).abs().max().item<double>();
      ASSERT_LE(diff, tolerance) << ours[i].name << " at step " << step;
    }
  }
}

TEST(AdamW, FusedMatchesTorchOptimAdamWOver20StepsFloat64) { expect_fused_matches_torch(at::kDouble, 1e-12); }
TEST(AdamW, FusedMatchesTorchOptimAdamWOver20StepsFloat32) { expect_fused_matches_torch(at::kFloat, 1e-6); }

TEST(AdamW, FoundInfSkipsTheStepOnTheDeviceAndTheNextStepIsUnaffected) {
  TrainingOptions o;
  o.learning_rate = 1e-2;
  auto skipped = make_params(at::kDouble);
  auto plain = make_params(at::kDouble);
  AdamW with_skip(skipped, o), without(plain, o);
  set_grads(skipped, 0);
  set_grads(plain, 0);
  with_skip.step(1e-2, at::zeros({1}));
  without.step(1e-2);
  set_grads(skipped, 1);  // a step found non-finite: nothing may change
  with_skip.step(1e-2, at::ones({1}));
  for (size_t i = 0; i < skipped.size(); ++i) EXPECT_TRUE(at::equal(skipped[i].tensor, plain[i].tensor));
  for (int step = 1; step < 4; ++step) {  // continuing equals never having seen the skipped step
    set_grads(skipped, step);
    set_grads(plain, step);
    with_skip.step(1e-2, at::zeros({1}));
    without.step(1e-2);
  }
  for (size_t i = 0; i < skipped.size(); ++i) EXPECT_TRUE(at::equal(skipped[i].tensor, plain[i].tensor));
}

TEST(AdamW, StateRoundTripsThroughAFile) {
  TrainingOptions o;
  auto a = make_params(at::kDouble);
  auto b = make_params(at::kDouble);
  AdamW first(a, o), second(b, o);
  for (int step = 0; step < 3; ++step) {
    set_grads(a, step);
    first.step(1e-2);
  }
  const std::string path = ::testing::TempDir() + "/adamw_state.pt";
  first.save(path);
  {
    at::NoGradGuard no_grad;
    for (size_t i = 0; i < a.size(); ++i) b[i].tensor.copy_(a[i].tensor);
  }
  second.load(path);
  set_grads(a, 3);
  set_grads(b, 3);
  first.step(1e-2);
  second.step(1e-2);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(at::equal(a[i].tensor, b[i].tensor)) << a[i].name;
  auto fewer = make_params(at::kDouble);
  fewer.pop_back();
  AdamW mismatched(fewer, o);
  try {
    mismatched.load(path);
    FAIL() << "loading 4 parameter states into 3 parameters must fail";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("holds 4 parameter states, the model trains 3"), std::string::npos) << e.what();
  }
}

TEST(ClipGradNorm, MatchesTorchAndReturnsTheNormOnTheDevice) {
  auto ours = make_params(at::kDouble);
  auto theirs = make_params(at::kDouble);
  set_grads(ours, 0);
  set_grads(theirs, 0);
  std::vector<at::Tensor> ours_t, theirs_t;
  for (auto& p : ours) ours_t.push_back(p.tensor);
  for (auto& p : theirs) theirs_t.push_back(p.tensor);
  const at::Tensor norm = clip_grad_norm(ours_t, 0.5);
  const double reference = torch::nn::utils::clip_grad_norm_(theirs_t, 0.5);
  EXPECT_EQ(norm.dim(), 0);
  EXPECT_NEAR(norm.item<double>(), reference, 1e-12 * reference);
  for (size_t i = 0; i < ours.size(); ++i) EXPECT_TRUE(at::allclose(ours_t[i].grad(), theirs_t[i].grad(), 0, 1e-15));
}

}  // namespace
}  // namespace negatron::train
