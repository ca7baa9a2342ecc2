// Sampler properties with every rank built in one process: disjoint coverage, equal local sizes,
// world-size independence, NO_DUPLICATES and GROUP_BY_LABEL invariants, exact resume.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "common/check.h"
#include "data/batch_sampler.h"
#include "sampler_test_support.h"

namespace negatron::data {
namespace {

using testing::duplicate_heavy_source;
using testing::labelled_source;
using testing::options_for;

SamplerSource plain_source(int64_t rows) {
  SamplerSource source;
  source.rows = rows;
  return source;
}

// Concatenation of every rank's local batch, in rank order.
std::vector<int64_t> gathered(const SamplerSource& source, BatchSamplerKind kind, int64_t batch, int world,
                              int64_t epoch, int64_t step) {
  std::vector<int64_t> rows;
  for (int rank = 0; rank < world; ++rank) {
    BatchSampler sampler(source, options_for(kind, batch, rank, world));
    auto local = sampler.batch(epoch, step).rows;
    EXPECT_EQ(static_cast<int64_t>(local.size()), batch / world);
    rows.insert(rows.end(), local.begin(), local.end());
  }
  return rows;
}

TEST(BatchSampler, EpochCoverageIsDisjointAcrossStepsAndRanks) {
  const int64_t rows = 1003, batch = 24;
  for (int world : {1, 2, 3, 4}) {
    std::set<int64_t> seen;
    const int64_t steps = BatchSampler(plain_source(rows), options_for(BatchSamplerKind::kBatchSampler, batch, 0, world))
                              .steps_per_epoch();
    EXPECT_EQ(steps, rows / batch);  // drop_last
    for (int64_t step = 0; step < steps; ++step) {
      for (int64_t row : gathered(plain_source(rows), BatchSamplerKind::kBatchSampler, batch, world, 0, step)) {
        ASSERT_TRUE(seen.insert(row).second) << "row " << row << " twice in epoch, world " << world;
        ASSERT_LT(row, rows);
      }
    }
    EXPECT_EQ(static_cast<int64_t>(seen.size()), steps * batch);
  }
}

TEST(BatchSampler, GlobalBatchDoesNotDependOnWorldSizeButOnEpoch) {
  const auto one = gathered(plain_source(500), BatchSamplerKind::kBatchSampler, 12, 1, 3, 5);
  EXPECT_EQ(gathered(plain_source(500), BatchSamplerKind::kBatchSampler, 12, 4, 3, 5), one);
  EXPECT_EQ(gathered(plain_source(500), BatchSamplerKind::kBatchSampler, 12, 3, 3, 5), one);
  EXPECT_NE(gathered(plain_source(500), BatchSamplerKind::kBatchSampler, 12, 1, 4, 5), one);
}

TEST(BatchSampler, RejectsBatchNotDivisibleByWorld) {
  EXPECT_THROW((BatchSampler(plain_source(100), options_for(BatchSamplerKind::kBatchSampler, 10, 0, 3))), Error);
  EXPECT_THROW((BatchSampler(plain_source(5), options_for(BatchSamplerKind::kBatchSampler, 8, 0, 1))), Error);
}

TEST(NoDuplicates, NoTextHashRepeatsInsideAnyGlobalBatch) {
  // 450 distinct texts for 1200 text slots: every global batch meets duplicates. With 4000 distinct
  // texts duplicates are rare, and nearly every row is used once per epoch.
  for (uint64_t distinct : {450, 4000}) {
  const auto source = duplicate_heavy_source(600, 2, distinct);
  for (int world : {1, 2, 3}) {
    const int64_t batch = 24;
    BatchSampler probe(source, options_for(BatchSamplerKind::kNoDuplicates, batch, 0, world));
    std::set<int64_t> all_rows;
    for (int64_t step = 0; step < probe.steps_per_epoch(); ++step) {
      const auto rows = gathered(source, BatchSamplerKind::kNoDuplicates, batch, world, 1, step);
      const auto hashes = source.hashes(rows);
      EXPECT_EQ(std::set<uint64_t>(hashes.begin(), hashes.end()).size(), hashes.size()) << "step " << step;
      all_rows.insert(rows.begin(), rows.end());
    }
    EXPECT_GT(all_rows.size(), distinct > 1000 ? 570u : 400u);  // most rows are used despite the deferrals
  }
  }
}

TEST(NoDuplicates, FailsClearlyWhenTooFewDistinctTexts) {
  BatchSampler sampler(duplicate_heavy_source(100, 1, 5), options_for(BatchSamplerKind::kNoDuplicates, 10, 0, 1));
  try {
    sampler.batch(0, 0);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("distinct texts"), std::string::npos) << e.what();
  }
}

TEST(GroupByLabel, EveryLabelInAGlobalAndLocalBatchAppearsAtLeastTwice) {
  const auto source = labelled_source(777, 13);
  const auto labels = source.labels();
  for (int world : {1, 2, 4}) {
    const int64_t batch = 16;
    std::set<int64_t> seen;
    BatchSampler probe(source, options_for(BatchSamplerKind::kGroupByLabel, batch, 0, world));
    for (int64_t step = 0; step < probe.steps_per_epoch(); ++step) {
      const auto rows = gathered(source, BatchSamplerKind::kGroupByLabel, batch, world, 2, step);
      for (int rank = 0; rank < world; ++rank) {
        std::map<int64_t, int> counts;
        for (int64_t i = rank * batch / world; i < (rank + 1) * batch / world; ++i) ++counts[labels[rows[i]]];
        for (const auto& [label, count] : counts) EXPECT_GE(count, 2) << "label " << label << " rank " << rank;
      }
      for (int64_t row : rows) ASSERT_TRUE(seen.insert(row).second);
    }
  }
  EXPECT_THROW((BatchSampler(source, options_for(BatchSamplerKind::kGroupByLabel, 12, 0, 4))), Error);  // local 3 odd
}

TEST(BatchSampler, ResumeContinuesWithTheSameBatchesForEveryKind) {
  struct Case {
    BatchSamplerKind kind;
    SamplerSource source;
  };
  const std::vector<Case> cases = {{BatchSamplerKind::kBatchSampler, plain_source(90)},
                                   {BatchSamplerKind::kNoDuplicates, duplicate_heavy_source(90, 3, 120)},
                                   {BatchSamplerKind::kGroupByLabel, labelled_source(90, 4)}};
  for (const auto& c : cases) {
    BatchSampler uninterrupted(c.source, options_for(c.kind, 8, 1, 2));
    std::vector<std::vector<int64_t>> expected;
    nlohmann::json saved;
    for (int i = 0; i < 30; ++i) {  // crosses epoch boundaries (steps per epoch ~ 10)
      if (i == 13) saved = uninterrupted.state();
      expected.push_back(uninterrupted.next().rows);
    }
    BatchSampler resumed(c.source, options_for(c.kind, 8, 1, 2));
    resumed.restore(saved);
    for (int i = 13; i < 30; ++i) ASSERT_EQ(resumed.next().rows, expected[i]) << batch_sampler_kind_name(c.kind) << " " << i;
    BatchSampler other_seed(c.source, options_for(c.kind, 8, 1, 2, 99));
    EXPECT_THROW(other_seed.restore(saved), Error);
  }
}

}  // namespace
}  // namespace negatron::data
