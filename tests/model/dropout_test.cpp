// parallel_dropout against its definition: Bernoulli(1 - p) keeps scaled by 1 / (1 - p), the same mask
// on every thread count and for the same generator state, gradients through the mask; and the CPU
// attention math path against at::scaled_dot_product_attention.
#include <gtest/gtest.h>

#include <ATen/Parallel.h>

#include <cmath>

#include "model/bert.h"
#include "model/dropout.h"

namespace negatron::model {
namespace {

at::Tensor draw(const at::Tensor& x, double p, uint64_t seed) {
  at::manual_seed(seed);
  return parallel_dropout(x, p, true);
}

TEST(ParallelDropout, KeepsAboutOneMinusPAndScalesTheKept) {
  const at::Tensor x = at::rand({1000, 1001}, at::kDouble) + 1.0;  // no zeros: zero output = dropped
  for (double p : {0.1, 0.5, 0.9}) {
    const at::Tensor out = draw(x, p, 7);
    const at::Tensor kept = out.ne(0);
    const double fraction = kept.to(at::kDouble).mean().item<double>();
    // n = 1,001,000 draws: the standard error of the fraction is below 5e-4.
    EXPECT_NEAR(fraction, 1.0 - p, 3e-3) << "p = " << p;
    EXPECT_TRUE(at::allclose(out.masked_select(kept), x.masked_select(kept) / (1.0 - p), 1e-15, 0.0));
  }
}

TEST(ParallelDropout, NeighbouringElementsAreIndependent) {
  // Two draws come from one hash: check pairs (2i, 2i+1) and (2i+1, 2i+2) keep together as often
  // as independent Bernoulli(0.5) draws do (1/4).
  const at::Tensor kept = draw(at::ones({1 << 20}, at::kFloat), 0.5, 3).ne(0).to(at::kDouble);
  const double same_pair = (kept.slice(0, 0, -1, 2) * kept.slice(0, 1, at::indexing::None, 2)).mean().item<double>();
  const double across = (kept.slice(0, 1, -1, 2) * kept.slice(0, 2, at::indexing::None, 2)).mean().item<double>();
  EXPECT_NEAR(same_pair, 0.25, 3e-3);
  EXPECT_NEAR(across, 0.25, 3e-3);
}

TEST(ParallelDropout, TheGeneratorStateAloneDecidesTheMask) {
  const at::Tensor x = at::rand({300, 700});
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const at::Tensor one_thread = draw(x, 0.1, 11);
  at::set_num_threads(2);
  const at::Tensor two_threads = draw(x, 0.1, 11);
  at::set_num_threads(threads);
  EXPECT_TRUE(at::equal(one_thread, two_threads));
  EXPECT_FALSE(at::equal(one_thread, draw(x, 0.1, 12)));
  at::manual_seed(5);
  const at::Tensor first = parallel_dropout(x, 0.1, true), second = parallel_dropout(x, 0.1, true);
  EXPECT_FALSE(at::equal(first, second));  // each call draws a new seed from the generator
}

TEST(ParallelDropout, GradientIsTheMaskTimesTheScale) {
  const at::Tensor x = (at::rand({64, 33}, at::kDouble) + 1.0).requires_grad_(true);
  const at::Tensor weights = at::randn({64, 33}, at::kDouble);
  const at::Tensor out = draw(x, 0.25, 9);
  (out * weights).sum().backward();
  const at::Tensor expected = out.detach().ne(0).to(at::kDouble) * weights / 0.75;
  EXPECT_TRUE(at::allclose(x.grad(), expected, 1e-15, 0.0));
}

TEST(ParallelDropout, EvaluationAndZeroProbabilityAreTheIdentity) {
  const at::Tensor x = at::rand({5, 7});
  EXPECT_TRUE(parallel_dropout(x, 0.5, false).is_same(x));
  EXPECT_TRUE(parallel_dropout(x, 0.0, true).is_same(x));
  EXPECT_TRUE(at::equal(parallel_dropout(x, 1.0, true), at::zeros_like(x)));
  EXPECT_THROW(parallel_dropout(x, 1.5, true), std::exception);
}

TEST(DotProductAttention, CpuMathPathEqualsScaledDotProductAttention) {
  // p = 1e-12: the written-out path runs and drops an element with probability 2^-32 (none here).
  const at::Tensor q = at::randn({3, 4, 9, 8}, at::kDouble), k = at::randn({3, 4, 9, 8}, at::kDouble),
                   v = at::randn({3, 4, 9, 8}, at::kDouble);
  at::Tensor bool_mask = at::ones({3, 1, 1, 9}, at::kBool);
  bool_mask.index_put_({1, 0, 0, at::indexing::Slice(5, at::indexing::None)}, false);
  const at::Tensor additive = at::randn({3, 4, 9, 9}, at::kDouble);
  for (const at::Tensor& mask : {bool_mask, additive}) {
    const at::Tensor expected = at::scaled_dot_product_attention(q, k, v, mask, 0.0);
    EXPECT_TRUE(at::allclose(dot_product_attention(q, k, v, mask, 1e-12), expected, 1e-10, 1e-12));
  }
}

}  // namespace
}  // namespace negatron::model
