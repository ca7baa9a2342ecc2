// Sampler properties under real mpirun: every rank builds only its own sampler; the gathered
// local batches must equal the global batch a single process computes, cover the epoch without
// overlap, hold no duplicate text under NO_DUPLICATES and label pairs under GROUP_BY_LABEL, and be
// identical after a resume.
#include <gtest/gtest.h>
#include <mpi.h>

#include <map>
#include <set>

#include "data/batch_sampler.h"
#include "sampler_test_support.h"

namespace negatron::data {
namespace {

struct World {
  int rank = 0, size = 1;
  World() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
  }
  std::vector<int64_t> gather(const std::vector<int64_t>& local) const {
    std::vector<int64_t> all(local.size() * size);
    MPI_Allgather(local.data(), static_cast<int>(local.size()), MPI_INT64_T, all.data(), static_cast<int>(local.size()),
                  MPI_INT64_T, MPI_COMM_WORLD);
    return all;
  }
};

// 24 * 5 = 120: divisible by 1, 2, 3 and 4 ranks, and even per rank.
constexpr int64_t kBatch = 120;

void check_kind(BatchSamplerKind kind, const SamplerSource& source) {
  const World world;
  BatchSampler mine(source, testing::options_for(kind, kBatch, world.rank, world.size));
  BatchSampler reference(source, testing::options_for(kind, kBatch, 0, 1));
  ASSERT_EQ(mine.steps_per_epoch(), reference.steps_per_epoch());
  std::set<int64_t> seen;
  nlohmann::json saved;
  std::vector<std::vector<int64_t>> local_batches;
  for (int64_t step = 0; step < mine.steps_per_epoch(); ++step) {
    if (step == 2) saved = mine.state();
    const auto local = mine.next().rows;
    local_batches.push_back(local);
    const auto global = world.gather(local);
    ASSERT_EQ(global, reference.global_batch(0, step)) << "step " << step;
    if (kind == BatchSamplerKind::kNoDuplicates) {
      const auto hashes = source.hashes(global);
      ASSERT_EQ(std::set<uint64_t>(hashes.begin(), hashes.end()).size(), hashes.size()) << "step " << step;
      continue;
    }
    for (int64_t row : global) ASSERT_TRUE(seen.insert(row).second) << "row " << row << " twice in the epoch";
    if (kind == BatchSamplerKind::kGroupByLabel) {
      const auto labels = source.labels();
      std::map<int64_t, int> counts;
      for (int64_t row : local) ++counts[labels[row]];
      for (const auto& [label, count] : counts) ASSERT_GE(count, 2) << "label " << label << " on rank " << world.rank;
    }
  }
  BatchSampler resumed(source, testing::options_for(kind, kBatch, world.rank, world.size));
  resumed.restore(saved);
  for (size_t step = 2; step < local_batches.size(); ++step) ASSERT_EQ(resumed.next().rows, local_batches[step]);
}

TEST(SamplerMpi, BatchSampler) {
  SamplerSource source;
  source.rows = 1000;
  check_kind(BatchSamplerKind::kBatchSampler, source);
}

TEST(SamplerMpi, NoDuplicates) { check_kind(BatchSamplerKind::kNoDuplicates, testing::duplicate_heavy_source(1000, 2, 900)); }

TEST(SamplerMpi, GroupByLabel) { check_kind(BatchSamplerKind::kGroupByLabel, testing::labelled_source(1000, 9)); }

}  // namespace
}  // namespace negatron::data
