// W ranks == 1 rank for the in-batch losses, under mpirun (np 1..4) with uneven local batches (and
// with rank 1 holding no rows at all): each rank's loss, scaled as the trainer scales it
// (local_rows * W / global_rows), gives its local rows W times the single-process gradient of those
// rows (the trainer's average over ranks then divides by W, see distributed/gather.h), and the
// row-weighted sum of the rank losses is the global loss. The ranks evaluate tiled (tile 2, row
// counts from the plan) and whole (tile 0, counts exchanged); the reference is one process, whole.
#include <gtest/gtest.h>

#include "distributed/mpi_communicator.h"
#include "losses/registry.h"

namespace negatron::losses {
namespace {

struct Setup {
  std::vector<at::Tensor> global_columns, global_guide;
  int64_t offset = 0, rows = 0, total = 0;
};

std::vector<int64_t> rank_rows(int world, bool empty_rank) {
  std::vector<int64_t> rows;
  for (int r = 0; r < world; ++r) rows.push_back(empty_rank && r == 1 ? 0 : 2 + r);
  return rows;
}

Setup make_setup(distributed::Communicator& comm, int columns, const std::vector<int64_t>& rows) {
  Setup s;
  for (int r = 0; r < comm.world_size(); ++r) {
    if (r == comm.rank()) s.offset = s.total;
    s.total += rows[r];
  }
  s.rows = rows[comm.rank()];
  at::manual_seed(99);
  for (int c = 0; c < columns; ++c) {
    s.global_columns.push_back(at::randn({s.total, 6}, at::kDouble));
    s.global_guide.push_back(s.global_columns.back().narrow(1, 0, 4) + 0.5 * at::randn({s.total, 4}, at::kDouble));
  }
  return s;
}

void check_layout(const std::string& name, const nlohmann::json& params, int columns, bool empty_rank,
                  bool with_plan) {
  auto comm = distributed::make_mpi_communicator();
  const std::vector<int64_t> rows = rank_rows(comm->world_size(), empty_rank);
  const Setup s = make_setup(*comm, columns, rows);
  const double world = comm->world_size();

  LossArgs single_args;
  single_args.params = params;
  single_args.params["tile_size"] = 0;
  auto single = make_loss(name, single_args);
  EmbeddingBatch global;
  for (const auto& c : s.global_columns) global.columns.push_back(c.clone().requires_grad_(true));
  global.guide = s.global_guide;
  at::Tensor reference = single->compute(global);
  reference.backward();

  LossArgs args;
  args.params = params;
  args.context.comm = comm;
  auto loss = make_loss(name, args);
  EmbeddingBatch local;
  for (const auto& c : s.global_columns) local.columns.push_back(c.narrow(0, s.offset, s.rows).clone().requires_grad_(true));
  for (const auto& g : s.global_guide) local.guide.push_back(g.narrow(0, s.offset, s.rows).clone());
  if (with_plan) local.rank_rows = rows;
  at::Tensor value = loss->compute(local);
  (value * (static_cast<double>(s.rows) * world / static_cast<double>(s.total))).backward();

  at::Tensor weighted = (value.detach() * (static_cast<double>(s.rows) / static_cast<double>(s.total))).reshape({1});
  comm->all_reduce(weighted);
  EXPECT_NEAR(weighted.item<double>(), reference.item<double>(), 1e-12) << name;
  for (int c = 0; c < columns; ++c) {
    const at::Tensor expected = global.columns[c].grad().narrow(0, s.offset, s.rows) * world;
    const at::Tensor got = local.columns[c].grad();
    ASSERT_TRUE(got.defined()) << name << " column " << c;
    if (s.rows == 0) continue;
    EXPECT_LE((got - expected).abs().max().item<double>(), 1e-12 * std::max(1.0, expected.abs().max().item<double>()))
        << name << " column " << c << " on rank " << comm->rank();
  }
}

void check_equivalence(const std::string& name, const nlohmann::json& params, int columns) {
  for (bool empty_rank : {false, true}) {
    for (int tile : {0, 2}) {
      SCOPED_TRACE(std::string(empty_rank ? "rank 1 empty, " : "") + "tile " + std::to_string(tile));
      nlohmann::json tiled = params;
      tiled["tile_size"] = tile;
      check_layout(name, tiled, columns, empty_rank, /*with_plan=*/tile > 0);
    }
  }
}

TEST(InBatchGather, MnrlAllDirectionsHardNegatives) {
  check_equivalence("MultipleNegativesRankingLoss",
                    {{"directions", {"query_to_doc", "query_to_query", "doc_to_query", "doc_to_doc"}},
                     {"hardness_mode", "all_negatives"},
                     {"hardness_strength", 4.0}},
                    4);
}

TEST(InBatchGather, MnrlSymmetric) { check_equivalence("MultipleNegativesSymmetricRankingLoss", {}, 2); }

TEST(InBatchGather, MnrlHardNegativesOnly) {
  check_equivalence("MultipleNegativesRankingLoss", {{"hardness_mode", "hard_negatives"}, {"hardness_strength", 5.0}},
                    3);
}

TEST(InBatchGather, Gist) {
  // Anchors are contrasted with every rank's anchors (sentence-transformers: the local block only).
  check_equivalence("GISTEmbedLoss", {{"margin", 0.05}, {"temperature", 0.05}}, 3);
  check_equivalence("GISTEmbedLoss",
                    {{"contrast_anchors", false}, {"margin_strategy", "relative"}, {"margin", 0.1}, {"temperature", 0.05}},
                    2);
}

}  // namespace
}  // namespace negatron::losses
