// balance_ranks (data/rank_balance.h) and BatchSampler's balance_tokens: every rank keeps exactly
// batch/world rows, the global batch is only reordered, pairs stay together, and the per-rank
// token loads end up within one unit's cost of each other, far below the plain split's spread.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "common/check.h"
#include "data/batch_sampler.h"
#include "data/rank_balance.h"
#include "sampler_test_support.h"

namespace negatron::data {
namespace {

std::vector<int64_t> slice_loads(const std::vector<int64_t>& order, const std::map<int64_t, int64_t>& cost_of,
                                 int world) {
  const size_t per_rank = order.size() / world;
  std::vector<int64_t> loads(world, 0);
  for (size_t i = 0; i < order.size(); ++i) loads[i / per_rank] += cost_of.at(order[i]);
  return loads;
}

int64_t spread(const std::vector<int64_t>& loads) {
  return *std::max_element(loads.begin(), loads.end()) - *std::min_element(loads.begin(), loads.end());
}

TEST(RankBalance, ReordersWithinSlicesOfEqualSizeAndEvensTheLoad) {
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> length(3.0, 0.8);  // skewed, like sentence lengths
  int64_t plain_spread_total = 0, balanced_spread_total = 0;
  for (int world : {1, 2, 3, 4, 8}) {
    for (int64_t unit : {1, 2}) {
      for (int64_t per_rank_units : {1, 2, 5, 16}) {
        const int64_t rows = world * per_rank_units * unit;
        std::vector<int64_t> global(rows), cost(rows);
        std::map<int64_t, int64_t> cost_of;
        for (int64_t i = 0; i < rows; ++i) {
          global[i] = 1000 + 17 * i;  // row ids unrelated to positions
          cost[i] = 1 + static_cast<int64_t>(length(rng));
          cost_of[global[i]] = cost[i];
        }
        const std::vector<int64_t> out = balance_ranks(global, cost, world, unit);
        SCOPED_TRACE("world " + std::to_string(world) + " unit " + std::to_string(unit) + " rows " +
                     std::to_string(rows));
        ASSERT_EQ(out.size(), global.size());
        EXPECT_TRUE(std::is_permutation(out.begin(), out.end(), global.begin()));
        EXPECT_EQ(balance_ranks(global, cost, world, unit), out);  // deterministic
        const size_t per_rank = rows / world;
        int64_t max_unit_cost = 0;
        for (int64_t u = 0; u < rows / unit; ++u) {
          int64_t c = 0;
          for (int64_t k = 0; k < unit; ++k) c += cost[u * unit + k];
          max_unit_cost = std::max(max_unit_cost, c);
        }
        for (int r = 0; r < world; ++r) {
          // Units stay whole and in their global order inside a slice.
          int64_t last_position = -1;
          for (size_t k = r * per_rank; k < (r + 1) * per_rank; k += unit) {
            const int64_t position = (out[k] - 1000) / 17;
            ASSERT_EQ(position % unit, 0);
            for (int64_t j = 1; j < unit; ++j) ASSERT_EQ(out[k + j], global[position + j]);
            EXPECT_GT(position, last_position);
            last_position = position;
          }
        }
        const int64_t balanced = spread(slice_loads(out, cost_of, world));
        const int64_t plain = spread(slice_loads(global, cost_of, world));
        EXPECT_LE(balanced, max_unit_cost);
        EXPECT_LE(balanced, plain);
        plain_spread_total += plain;
        balanced_spread_total += balanced;
      }
    }
  }
  EXPECT_LT(balanced_spread_total * 2, plain_spread_total);  // measured: 1092 vs 3127
}

TEST(RankBalance, RejectsBatchesThatDoNotSplitIntoWholeUnits) {
  EXPECT_THROW(balance_ranks({1, 2, 3}, {1, 1, 1}, 2), Error);
  EXPECT_THROW(balance_ranks({1, 2, 3, 4}, {1, 1, 1, 1}, 4, 2), Error);
  EXPECT_THROW(balance_ranks({1, 2}, {1}, 1), Error);
}

SamplerSource with_costs(SamplerSource source) {
  source.token_cost = [](const std::vector<int64_t>& rows) {
    std::vector<int64_t> cost;
    for (int64_t r : rows) cost.push_back(1 + (r * r * 31) % 97);
    return cost;
  };
  return source;
}

TEST(RankBalance, SamplerSplitsTheSameGlobalBatchByTokens) {
  const int64_t batch = 24;
  for (BatchSamplerKind kind :
       {BatchSamplerKind::kBatchSampler, BatchSamplerKind::kNoDuplicates, BatchSamplerKind::kGroupByLabel}) {
    SamplerSource source = kind == BatchSamplerKind::kGroupByLabel ? testing::labelled_source(500, 7)
                                                                   : testing::duplicate_heavy_source(500, 2, 400);
    source = with_costs(source);
    for (int world : {1, 2, 4}) {
      for (int64_t step : {0, 3}) {
        BatchSampler reference(source, testing::options_for(kind, batch, 0, world));
        const std::vector<int64_t> global = reference.global_batch(0, step);
        std::vector<int64_t> gathered;
        std::vector<int64_t> loads;
        for (int rank = 0; rank < world; ++rank) {
          SamplerOptions options = testing::options_for(kind, batch, rank, world);
          options.balance_tokens = true;
          BatchSampler sampler(source, options);
          const std::vector<int64_t> local = sampler.batch(0, step).rows;
          ASSERT_EQ(static_cast<int64_t>(local.size()), batch / world);
          int64_t load = 0;
          for (int64_t cost : source.token_cost(local)) load += cost;
          loads.push_back(load);
          gathered.insert(gathered.end(), local.begin(), local.end());
          if (kind == BatchSamplerKind::kGroupByLabel) {  // same-label pairs stay on one rank
            const std::vector<int64_t> labels = source.labels();
            for (size_t k = 0; k < local.size(); k += 2) EXPECT_EQ(labels[local[k]], labels[local[k + 1]]);
          }
        }
        SCOPED_TRACE(batch_sampler_kind_name(kind) + " world " + std::to_string(world));
        EXPECT_TRUE(std::is_permutation(gathered.begin(), gathered.end(), global.begin()));
        if (world == 1) EXPECT_EQ(gathered, global);
        const std::vector<int64_t> costs = source.token_cost(global);
        const int64_t heaviest_unit = 2 * *std::max_element(costs.begin(), costs.end());
        EXPECT_LE(spread(loads), heaviest_unit);
      }
    }
  }
}

TEST(RankBalance, SamplerNeedsTokenCounts) {
  SamplerOptions options = testing::options_for(BatchSamplerKind::kBatchSampler, 8, 0, 2);
  options.balance_tokens = true;
  SamplerSource source;
  source.rows = 100;
  EXPECT_THROW(BatchSampler(source, options), Error);
}

}  // namespace
}  // namespace negatron::data
