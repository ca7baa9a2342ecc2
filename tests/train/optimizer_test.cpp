#include "train/optimizer.h"

#include <gtest/gtest.h>

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
  auto optimizer = make_adamw({{"layer.weight", w}, {"layer.bias", b}}, o);
  w.mutable_grad() = at::tensor({0.5, 0.25}, at::kDouble);
  b.mutable_grad() = at::tensor({-1.0}, at::kDouble);
  optimizer->step();
  EXPECT_NEAR(w[0].item<double>(), 1.0 * (1 - 0.1 * 0.5) - 0.1, 1e-12);
  EXPECT_NEAR(w[1].item<double>(), -2.0 * (1 - 0.1 * 0.5) - 0.1, 1e-12);
  EXPECT_NEAR(b[0].item<double>(), 3.0 + 0.1, 1e-12);  // no decay on biases
}

}  // namespace
}  // namespace negatron::train
