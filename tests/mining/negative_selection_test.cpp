// select_negatives on hand-made candidate lists, each expectation worked out from
// sentence-transformers' mine_hard_negatives rules (util/hard_negatives.py): positives and padding
// dropped, margins against the smallest positive score, max/min score, then ranks
// [range_min, range_max) of the survivors. (tests/python/test_mine.py checks the whole command
// against mine_hard_negatives itself.)
#include <gtest/gtest.h>

#include <limits>
#include <set>

#include "mining/negative_selection.h"

namespace negatron::mining {
namespace {

const float kInf = std::numeric_limits<float>::infinity();

struct Case {
  std::vector<float> scores;
  std::vector<int64_t> ids;
  std::vector<int64_t> positives;
  float min_positive = 0.8f;
  std::vector<Negative> select(const MineOptions& o, int64_t range_max, SelectionCounts* counts = nullptr,
                               uint64_t seed = 1) const {
    SelectionCounts local;
    std::mt19937_64 rng(seed);
    return select_negatives({scores.data(), ids.data(), static_cast<int64_t>(scores.size()), &positives, min_positive},
                            o, range_max, rng, counts ? *counts : local);
  }
};

std::vector<int64_t> ids_of(const std::vector<Negative>& negatives) {
  std::vector<int64_t> ids;
  for (const auto& n : negatives) ids.push_back(n.id);
  return ids;
}

const Case kCase{{0.95f, 0.9f, 0.85f, 0.7f, 0.6f, 0.5f, -kInf}, {10, 11, 12, 13, 14, 15, -1}, {11}};

TEST(SelectNegatives, TopSkipsPositivesAndPadding) {
  MineOptions o;
  o.num_negatives = 3;
  EXPECT_EQ(ids_of(kCase.select(o, 6)), (std::vector<int64_t>{10, 12, 13}));
}

TEST(SelectNegatives, RangeMinCountsSurvivorsAndRangeMaxCutsThem) {
  MineOptions o;
  o.num_negatives = 3;
  o.range_min = 2;  // survivors 10, 12, 13, 14, 15: skip 10 and 12
  EXPECT_EQ(ids_of(kCase.select(o, 6)), (std::vector<int64_t>{13, 14, 15}));
  EXPECT_EQ(ids_of(kCase.select(o, 4)), (std::vector<int64_t>{13, 14, -1}));  // window [2, 4)
}

TEST(SelectNegatives, MarginsAgainstTheSmallestPositiveScore) {
  MineOptions o;
  o.num_negatives = 2;
  o.absolute_margin = 0.15;  // drop score + 0.15 > 0.8: 0.95, 0.85, 0.7
  SelectionCounts counts;
  EXPECT_EQ(ids_of(kCase.select(o, 6, &counts)), (std::vector<int64_t>{14, 15}));
  EXPECT_EQ(counts.absolute_margin, 3);
  o.absolute_margin.reset();
  o.relative_margin = 0.3;  // drop score > 0.8 - 0.8 * 0.3 = 0.56
  EXPECT_EQ(ids_of(kCase.select(o, 6)), (std::vector<int64_t>{15, -1}));
  Case negative_positive = kCase;
  negative_positive.min_positive = -0.4f;  // threshold -0.4 - 0.4 * 0.3 = -0.52: nothing survives
  EXPECT_EQ(ids_of(negative_positive.select(o, 6)), (std::vector<int64_t>{-1, -1}));
}

TEST(SelectNegatives, MaxAndMinScore) {
  MineOptions o;
  o.num_negatives = 3;
  o.max_score = 0.9;
  o.min_score = 0.55;
  EXPECT_EQ(ids_of(kCase.select(o, 6)), (std::vector<int64_t>{12, 13, 14}));
}

TEST(SelectNegatives, IncludePositivesKeepsThem) {
  MineOptions o;
  o.num_negatives = 2;
  o.include_positives = true;
  EXPECT_EQ(ids_of(kCase.select(o, 6)), (std::vector<int64_t>{10, 11}));
}

TEST(SelectNegatives, RandomDrawsDistinctSurvivorsBestFirst) {
  MineOptions o;
  o.num_negatives = 3;
  o.sampling_strategy = "random";
  std::set<std::vector<int64_t>> seen;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const auto chosen = kCase.select(o, 4, nullptr, seed);
    ASSERT_EQ(chosen.size(), 3u);
    EXPECT_GT(chosen[0].score, chosen[1].score);
    EXPECT_GT(chosen[1].score, chosen[2].score);
    for (const auto& n : chosen) EXPECT_TRUE(n.id == 10 || (n.id >= 12 && n.id <= 14)) << n.id;  // window [0, 4)
    seen.insert(ids_of(chosen));
  }
  EXPECT_EQ(seen.size(), 4u);  // all 4 choose 3 subsets of the 4 survivors in the window
}

TEST(ResolvedRangeMax, DefaultsOfMineHardNegatives) {
  MineOptions o;
  o.num_negatives = 3;
  o.range_min = 2;
  EXPECT_EQ(resolved_range_max(o, 4), 2 + 3 + 4);
  o.max_score = 0.9;
  EXPECT_EQ(resolved_range_max(o, 4), 2 + 30 + 4);
  o.range_max = 11;
  EXPECT_EQ(resolved_range_max(o, 4), 11);
}

}  // namespace
}  // namespace negatron::mining
