// top_k_ordered against a brute-force reference: every row's entries sorted by (score descending,
// id ascending) in plain C++, the first k kept, -inf/-1 padding when a row is shorter than k. Scores
// are drawn from a few values so that ties (also across the k-th place) are everywhere.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <limits>
#include <random>

#include "mining/exact_top_k.h"

namespace negatron::mining {
namespace {

std::vector<std::pair<float, int64_t>> reference_row(const at::Tensor& scores, const at::Tensor& ids, int64_t row,
                                                     int64_t k) {
  std::vector<std::pair<float, int64_t>> entries;
  for (int64_t j = 0; j < scores.size(1); ++j) {
    entries.emplace_back(scores[row][j].item<float>(), ids.dim() == 1 ? ids[j].item<int64_t>() : ids[row][j].item<int64_t>());
  }
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  entries.resize(static_cast<size_t>(k), {-std::numeric_limits<float>::infinity(), -1});
  return entries;
}

void expect_matches_reference(const at::Tensor& scores, const at::Tensor& ids, int64_t k) {
  const TopK top = top_k_ordered(scores, ids, k);
  ASSERT_EQ(top.scores.sizes(), (std::vector<int64_t>{scores.size(0), k}));
  for (int64_t row = 0; row < scores.size(0); ++row) {
    const auto expected = reference_row(scores, ids, row, k);
    for (int64_t i = 0; i < k; ++i) {
      EXPECT_EQ(top.scores[row][i].item<float>(), expected[i].first) << "row " << row << " place " << i;
      EXPECT_EQ(top.ids[row][i].item<int64_t>(), expected[i].second) << "row " << row << " place " << i;
    }
  }
}

TEST(TopKOrdered, TiesBrokenByIdEverywhere) {
  std::mt19937 rng(7);
  for (int64_t columns : {1, 5, 40, 300}) {
    at::Tensor scores = at::empty({24, columns}, at::kFloat);
    for (int64_t i = 0; i < scores.numel(); ++i) scores.view(-1)[i] = static_cast<float>(rng() % 4) * 0.25f;
    // Shuffled ids, so that column order and id order disagree.
    std::vector<int64_t> order(columns);
    std::iota(order.begin(), order.end(), 1000);
    std::shuffle(order.begin(), order.end(), rng);
    const at::Tensor ids = at::tensor(order, at::kLong);
    for (int64_t k : {1, 3, 7, 64}) expect_matches_reference(scores, ids, k);
  }
}

TEST(TopKOrdered, PerRowIdsAndPaddingAsInAMerge) {
  // What ShardedCorpus merges: candidate lists of several ranks side by side, padded with -inf/-1.
  const float inf = std::numeric_limits<float>::infinity();
  const at::Tensor scores = at::tensor({0.5f, 0.5f, -inf, 0.9f, 0.5f, -inf, 0.1f, 0.2f, 0.3f, 0.3f, 0.3f, 0.3f}).view({2, 6});
  const at::Tensor ids = at::tensor({7, 3, -1, 12, 4, -1, 5, 1, 9, 2, 8, 0}, at::kLong).view({2, 6});
  for (int64_t k : {1, 2, 3, 4, 6, 9}) expect_matches_reference(scores, ids, k);
}

TEST(TopKOrdered, EmptyCorpusGivesPaddingOnly) {
  const TopK top = top_k_ordered(at::empty({3, 0}), at::empty({0}, at::kLong), 2);
  EXPECT_TRUE(top.ids.eq(-1).all().item<bool>());
  EXPECT_TRUE(top.scores.isinf().all().item<bool>());
}

}  // namespace
}  // namespace negatron::mining
