// Multi-dataset sampling: each step draws one dataset (the same on every rank), every batch of a
// dataset once per epoch under PROPORTIONAL, datasets in turn under ROUND_ROBIN, exact resume.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "common/check.h"
#include "data/multi_dataset_sampler.h"
#include "sampler_test_support.h"

namespace negatron::data {
namespace {

MultiDatasetSampler make(MultiDatasetKind kind, int rank, int world) {
  std::vector<std::shared_ptr<BatchSampler>> samplers;
  for (int64_t rows : {100, 260, 48}) {
    SamplerSource source;
    source.rows = rows;
    samplers.push_back(std::make_shared<BatchSampler>(
        source, testing::options_for(BatchSamplerKind::kBatchSampler, 8, rank, world, 11 + rows)));
  }
  return MultiDatasetSampler(samplers, kind, 5);
}

TEST(MultiDatasetSampler, ProportionalUsesEveryBatchOnceAndRanksAgree) {
  auto rank0 = make(MultiDatasetKind::kProportional, 0, 2), rank1 = make(MultiDatasetKind::kProportional, 1, 2);
  EXPECT_EQ(rank0.steps_per_epoch(), 100 / 8 + 260 / 8 + 48 / 8);
  std::map<int, std::set<int64_t>> rows_by_dataset;
  std::map<int, int> steps_by_dataset;
  for (int64_t step = 0; step < rank0.steps_per_epoch(); ++step) {
    const auto a = rank0.next(), b = rank1.next();
    ASSERT_EQ(a.dataset_index, b.dataset_index) << "ranks drew different datasets at step " << step;
    ++steps_by_dataset[a.dataset_index];
    for (const auto* batch : {&a, &b}) {
      for (int64_t row : batch->rows) ASSERT_TRUE(rows_by_dataset[a.dataset_index].insert(row).second);
    }
  }
  EXPECT_EQ(steps_by_dataset[0], 12);
  EXPECT_EQ(steps_by_dataset[1], 32);
  EXPECT_EQ(steps_by_dataset[2], 6);
  EXPECT_EQ(rank0.position().epoch, 1);
}

TEST(MultiDatasetSampler, RoundRobinStopsWithTheSmallestDataset) {
  auto sampler = make(MultiDatasetKind::kRoundRobin, 0, 1);
  EXPECT_EQ(sampler.steps_per_epoch(), 3 * (48 / 8));
  for (int64_t step = 0; step < sampler.steps_per_epoch(); ++step) EXPECT_EQ(sampler.next().dataset_index, step % 3);
}

TEST(MultiDatasetSampler, ResumeMatchesAnUninterruptedRun) {
  auto uninterrupted = make(MultiDatasetKind::kProportional, 1, 2);
  std::vector<std::pair<int, std::vector<int64_t>>> expected;
  nlohmann::json saved;
  for (int i = 0; i < 80; ++i) {
    if (i == 37) saved = uninterrupted.state();
    auto batch = uninterrupted.next();
    expected.emplace_back(batch.dataset_index, batch.rows);
  }
  auto resumed = make(MultiDatasetKind::kProportional, 1, 2);
  resumed.restore(saved);
  for (int i = 37; i < 80; ++i) {
    auto batch = resumed.next();
    ASSERT_EQ(std::make_pair(batch.dataset_index, batch.rows), expected[i]) << "step " << i;
  }
  auto round_robin = make(MultiDatasetKind::kRoundRobin, 1, 2);
  EXPECT_THROW(round_robin.restore(saved), Error);
}

}  // namespace
}  // namespace negatron::data
