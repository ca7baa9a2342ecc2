// The distributed layout of MultipleNegativesRankingLoss and GISTEmbedLoss, in one process: each
// simulated rank scores its local anchors against the global candidates with labels offset by its
// first row; the row-weighted sum over ranks must equal the single-process loss on the global batch,
// in value and in gradient w.r.t. every global row (hard negatives must stay aligned with anchors).
#include <gtest/gtest.h>

#include "losses/gist_embed.h"
#include "losses/multiple_negatives_ranking.h"

namespace negatron::losses {
namespace {

struct Global {
  at::Tensor anchors;
  std::vector<at::Tensor> docs;
};

Global make_global(int64_t rows, int64_t negatives, int64_t dim) {
  at::manual_seed(7);
  Global g;
  g.anchors = at::randn({rows, dim}, at::kDouble).requires_grad_(true);
  for (int64_t c = 0; c < 1 + negatives; ++c) g.docs.push_back(at::randn({rows, dim}, at::kDouble).requires_grad_(true));
  return g;
}

InBatchInputs rank_inputs(const Global& g, int64_t offset, int64_t rows) {
  InBatchInputs in;
  in.anchors = g.anchors.narrow(0, offset, rows);
  in.anchors_global = g.anchors;
  in.docs = g.docs;
  in.offset = offset;
  return in;
}

std::vector<at::Tensor> grads(const Global& g) {
  std::vector<at::Tensor> out{g.anchors.grad().clone()};
  for (const auto& d : g.docs) out.push_back(d.grad().clone());
  g.anchors.mutable_grad().reset();
  for (const auto& d : g.docs) d.mutable_grad().reset();
  return out;
}

void expect_close(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    const double scale = b[i].abs().max().item<double>();
    EXPECT_LE((a[i] - b[i]).abs().max().item<double>(), 1e-12 * std::max(1.0, scale)) << "column " << i;
  }
}

class MnrlLayout : public ::testing::TestWithParam<std::tuple<std::vector<std::string>, std::string, std::string>> {};

TEST_P(MnrlLayout, RanksSumToSingleProcess) {
  MultipleNegativesRankingOptions o;
  std::string hardness;
  std::tie(o.directions, o.partition_mode, hardness) = GetParam();
  if (!hardness.empty()) o.hardness_mode = hardness;
  o.hardness_strength = hardness.empty() ? 0.0 : 5.0;
  const std::vector<int64_t> counts = {3, 5, 4};  // uneven ranks
  const int64_t total = 12;
  const Global g = make_global(total, 2, 6);

  at::Tensor single = multiple_negatives_ranking_loss(rank_inputs(g, 0, total), o);
  single.backward();
  const auto expected = grads(g);

  at::Tensor sum = at::zeros({}, at::kDouble);
  int64_t offset = 0;
  for (int64_t rows : counts) {
    // Rank loss = mean over its anchors; the trainer weights it by rows / total.
    sum = sum + multiple_negatives_ranking_loss(rank_inputs(g, offset, rows), o) * (static_cast<double>(rows) / total);
    offset += rows;
  }
  sum.backward();
  EXPECT_NEAR(sum.item<double>(), single.item<double>(), 1e-12);
  expect_close(grads(g), expected);
}

INSTANTIATE_TEST_SUITE_P(
    Directions, MnrlLayout,
    ::testing::Values(
        std::make_tuple(std::vector<std::string>{"query_to_doc"}, "joint", ""),
        std::make_tuple(std::vector<std::string>{"query_to_doc", "doc_to_query"}, "per_direction", ""),
        std::make_tuple(std::vector<std::string>{"query_to_doc", "query_to_query", "doc_to_query", "doc_to_doc"},
                        "joint", ""),
        std::make_tuple(std::vector<std::string>{"query_to_doc"}, "joint", "hard_negatives"),
        std::make_tuple(std::vector<std::string>{"query_to_doc"}, "joint", "in_batch_negatives"),
        std::make_tuple(std::vector<std::string>{"query_to_doc", "doc_to_doc"}, "joint", "all_negatives")));

TEST(MnrlLayout, HardNegativeOfAnotherRankIsNotOwn) {
  // Rank 1 of 2 (offset 4): its anchor 0 must treat global negative row 4 as its own hard negative.
  // Make that negative identical to the anchor: with hard_negatives hardness only the own negative
  // gets the penalty, so the loss must grow by exactly the effect of that one logit.
  const Global g = make_global(8, 1, 4);
  {
    at::NoGradGuard no_grad;
    g.docs[1][4].copy_(g.anchors[4]);
  }
  MultipleNegativesRankingOptions plain, hard;
  hard.hardness_mode = "hard_negatives";
  hard.hardness_strength = 3.0;
  // Rank 1's first anchor alone (one row at offset 4).
  const InBatchInputs in = rank_inputs(g, 4, 1);
  const at::Tensor a = multiple_negatives_ranking_loss(in, plain);
  const at::Tensor b = multiple_negatives_ranking_loss(in, hard);
  // Recompute by hand: logits of anchor 4 against [positives | negatives], penalty on column 8 + 4.
  at::NoGradGuard no_grad;
  at::Tensor logits = cos_sim(g.anchors.narrow(0, 4, 1), at::cat(g.docs, 0)) * 20.0;
  const double expected_plain = (at::logsumexp(logits, {1}) - logits[0][4]).item<double>();
  logits[0][12] += 3.0 * 1.0;  // cos(anchor, itself) = 1
  const double expected_hard = (at::logsumexp(logits, {1}) - logits[0][4]).item<double>();
  EXPECT_NEAR(a.item<double>(), expected_plain, 1e-12);
  EXPECT_NEAR(b.item<double>(), expected_hard, 1e-12);
}

TEST(GistLayout, RanksSumToSingleProcess) {
  const int64_t total = 9;
  const std::vector<int64_t> counts = {4, 5};
  at::manual_seed(3);
  at::Tensor anchors = at::randn({total, 5}, at::kDouble).requires_grad_(true);
  at::Tensor positives = at::randn({total, 5}, at::kDouble).requires_grad_(true);
  at::Tensor negatives = at::randn({total, 5}, at::kDouble).requires_grad_(true);
  at::Tensor ga = anchors.detach() + 0.3 * at::randn({total, 5}, at::kDouble);
  at::Tensor gp = positives.detach() + 0.3 * at::randn({total, 5}, at::kDouble);
  at::Tensor gn = negatives.detach() + 0.3 * at::randn({total, 5}, at::kDouble);
  GistEmbedOptions o;
  o.margin = 0.05;
  o.temperature = 0.05;
  // The single-process reference has anchor-anchor scores over the global batch; ST (and negatron)
  // score anchors only against local anchors, so compare with contrast_anchors off.
  o.contrast_anchors = false;
  auto inputs = [&](int64_t offset, int64_t rows) {
    GistInputs in;
    in.anchors = anchors.narrow(0, offset, rows);
    in.anchor_guide = ga.narrow(0, offset, rows);
    in.positives = positives;
    in.positive_guide = gp;
    in.negatives = negatives;
    in.negative_guide = gn;
    in.offset = offset;
    return in;
  };
  at::Tensor single = gist_embed_loss(inputs(0, total), o);
  single.backward();
  std::vector<at::Tensor> expected{anchors.grad().clone(), positives.grad().clone(), negatives.grad().clone()};
  for (auto* t : {&anchors, &positives, &negatives}) t->mutable_grad().reset();
  at::Tensor sum = at::zeros({}, at::kDouble);
  int64_t offset = 0;
  for (int64_t rows : counts) {
    sum = sum + gist_embed_loss(inputs(offset, rows), o) * (static_cast<double>(rows) / total);
    offset += rows;
  }
  sum.backward();
  EXPECT_NEAR(sum.item<double>(), single.item<double>(), 1e-12);
  expect_close({anchors.grad(), positives.grad(), negatives.grad()}, expected);
}

}  // namespace
}  // namespace negatron::losses
