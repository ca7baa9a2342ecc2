// Tiled == whole matrix (the untiled path) in float64, to 1e-12 in the loss and in the gradient of
// every input column, for MultipleNegativesRankingLoss, its symmetric form and GISTEmbedLoss on the
// case grid of tests/python/test_inbatch_loss_parity.py (whose untiled results match
// sentence-transformers), at awkward tilings: tile 1, the primes 2, 5, 7, 13, a tile larger than
// the batch. Each case runs as one process on the global batch and as the ranks of a layout whose
// middle rank has no rows (an empty tile row; column tiles cross rank boundaries and the empty rank).
#include <gtest/gtest.h>

#include <sstream>

#include "losses/gist_embed.h"
#include "losses/multiple_negatives_ranking.h"

namespace negatron::losses {
namespace {

constexpr int64_t kRows = 12, kDim = 8, kGuideDim = 6;
constexpr double kTolerance = 1e-12;
const std::vector<int64_t> kTiles = {1, 2, 5, 7, 13, 40};
const std::vector<std::string> kAll = {"query_to_doc", "query_to_query", "doc_to_query", "doc_to_doc"};

struct Layout {
  int64_t offset, rows;
};
/// One process, then three ranks of 5, 0 and 7 rows.
const std::vector<std::vector<Layout>> kLayouts = {{{0, kRows}}, {{0, 5}, {5, 0}, {5, 7}}};

std::vector<at::Tensor> random_columns(uint64_t seed, int count, int64_t dim) {
  at::manual_seed(seed);
  std::vector<at::Tensor> out;
  for (int c = 0; c < count; ++c) out.push_back(at::randn({kRows, dim}, at::kDouble));
  return out;
}

struct Result {
  double loss = 0;
  std::vector<at::Tensor> grads;  // per global column
};

/// `loss_of(leaves)` on fresh leaves holding `columns`; gradients of every leaf (zeros if unused).
template <typename LossOf>
Result evaluate(const std::vector<at::Tensor>& columns, LossOf loss_of) {
  std::vector<at::Tensor> leaves;
  for (const auto& c : columns) leaves.push_back(c.clone().requires_grad_(true));
  const at::Tensor loss = loss_of(leaves);
  loss.backward();
  Result r;
  r.loss = loss.item<double>();
  for (const auto& l : leaves) r.grads.push_back(l.grad().defined() ? l.grad() : at::zeros_like(l));
  return r;
}

void expect_same(const Result& tiled, const Result& whole, const std::string& what) {
  EXPECT_LE(std::abs(tiled.loss - whole.loss), kTolerance * std::max(1.0, std::abs(whole.loss))) << what;
  for (size_t c = 0; c < whole.grads.size(); ++c) {
    const double scale = std::max(1.0, whole.grads[c].abs().max().item<double>());
    EXPECT_LE((tiled.grads[c] - whole.grads[c]).abs().max().item<double>(), kTolerance * scale)
        << what << ", gradient of column " << c;
  }
}

// ---- MultipleNegativesRankingLoss ---------------------------------------------------------------

struct MnrlCase {
  int negatives;
  std::vector<std::string> directions;
  std::string partition, hardness;
  double strength;
  std::string similarity;
  bool duplicates = false;
};

std::string describe(const MnrlCase& c) {
  std::ostringstream out;
  out << c.negatives << " negatives, " << c.directions.size() << " directions, " << c.partition << ", hardness '"
       << c.hardness << "' " << c.strength << ", " << c.similarity << (c.duplicates ? ", duplicates" : "");
  return out.str();
}

std::vector<MnrlCase> mnrl_cases() {
  const std::vector<std::pair<std::vector<std::string>, std::string>> directions = {
      {{"query_to_doc"}, "joint"},
      {{"query_to_doc"}, "per_direction"},
      {{"query_to_doc", "doc_to_query"}, "joint"},
      {{"query_to_doc", "doc_to_query"}, "per_direction"},
      {{"query_to_doc", "query_to_query"}, "joint"},
      {{"query_to_doc", "doc_to_doc"}, "joint"},
      {kAll, "joint"}};
  std::vector<MnrlCase> cases;
  for (int negatives : {0, 1, 3}) {
    for (const auto& [d, partition] : directions) cases.push_back({negatives, d, partition, "", 0.0, "cos_sim"});
    for (const char* hardness : {"in_batch_negatives", "hard_negatives", "all_negatives"}) {
      cases.push_back({negatives, {"query_to_doc"}, "joint", hardness, 5.0, "cos_sim"});
      cases.push_back({negatives, kAll, "joint", hardness, 9.0, "cos_sim"});
    }
    cases.push_back({negatives, {"query_to_doc"}, "joint", "", 0.0, "dot_score"});
    cases.push_back({negatives, {"query_to_doc", "doc_to_query"}, "per_direction", "all_negatives", 2.0, "dot_score"});
  }
  cases.push_back({1, kAll, "joint", "", 0.0, "cos_sim", true});
  cases.push_back({1, {"query_to_doc", "doc_to_query"}, "per_direction", "", 0.0, "euclidean_sim"});
  cases.push_back({1, kAll, "joint", "all_negatives", 0.5, "manhattan_sim"});
  return cases;
}

Result run_mnrl(const MnrlCase& c, const std::vector<at::Tensor>& columns, const std::vector<Layout>& layout,
                int64_t tile) {
  MultipleNegativesRankingOptions o;
  o.scale = c.similarity == "cos_sim" ? 20.0 : 0.5;
  o.similarity_fct = c.similarity;
  o.directions = c.directions;
  o.partition_mode = c.partition;
  o.hardness_mode = c.hardness;
  o.hardness_strength = c.strength;
  o.tiling.tile_size = tile;
  return evaluate(columns, [&](const std::vector<at::Tensor>& leaves) {
    at::Tensor sum = at::zeros({}, at::kDouble);
    for (const Layout& rank : layout) {  // each rank's mean, weighted by its share of the rows
      InBatchInputs in;
      in.anchors = leaves[0].narrow(0, rank.offset, rank.rows);
      in.anchors_global = leaves[0];
      in.docs.assign(leaves.begin() + 1, leaves.end());
      in.offset = rank.offset;
      sum = sum + multiple_negatives_ranking_loss(in, o) * (static_cast<double>(rank.rows) / kRows);
    }
    return sum;
  });
}

void check_mnrl(const MnrlCase& c) {
  std::vector<at::Tensor> columns = random_columns(17 + c.negatives, 2 + c.negatives, kDim);
  if (c.duplicates) {
    columns[1][5].copy_(columns[1][2]);  // tied logits
    columns[2][0].copy_(columns[0][0]);  // a hard negative equal to its anchor
  }
  for (const auto& layout : kLayouts) {
    const Result whole = run_mnrl(c, columns, layout, 0);
    for (int64_t tile : kTiles) {
      expect_same(run_mnrl(c, columns, layout, tile), whole,
                  "tile " + std::to_string(tile) + ", " + std::to_string(layout.size()) + " rank(s)");
    }
  }
}

// One test over the whole grid (not one per case: each ctest entry costs a process start).
TEST(TiledMnrl, EqualsWholeMatrixOnTheParityGrid) {
  for (const MnrlCase& c : mnrl_cases()) {
    SCOPED_TRACE(describe(c));
    check_mnrl(c);
  }
}

// ---- GISTEmbedLoss ------------------------------------------------------------------------------

struct GistCase {
  int columns;
  std::string strategy;
  double margin;
  bool contrast_anchors, contrast_positives;
  bool duplicates = false;
};

std::string describe(const GistCase& c) {
  std::ostringstream out;
  out << c.columns << " columns, " << c.strategy << " " << c.margin << ", anchors " << c.contrast_anchors
       << ", positives " << c.contrast_positives << (c.duplicates ? ", duplicates" : "");
  return out.str();
}

std::vector<GistCase> gist_cases() {
  std::vector<GistCase> cases;
  for (int columns : {2, 3})
    for (const auto& [strategy, margin] : std::vector<std::pair<std::string, double>>{
             {"absolute", 0.0}, {"absolute", 0.1}, {"relative", 0.0}, {"relative", 0.05}})
      for (bool anchors : {true, false})
        for (bool positives : {true, false}) cases.push_back({columns, strategy, margin, anchors, positives});
  cases.push_back({3, "absolute", 0.0, true, true, true});
  return cases;
}

Result run_gist(const GistCase& c, const std::vector<at::Tensor>& columns, const std::vector<at::Tensor>& guide,
                const std::vector<Layout>& layout, int64_t tile) {
  GistEmbedOptions o;
  o.temperature = 0.05;
  o.margin_strategy = c.strategy;
  o.margin = c.margin;
  o.contrast_anchors = c.contrast_anchors;
  o.contrast_positives = c.contrast_positives;
  o.tiling.tile_size = tile;
  return evaluate(columns, [&](const std::vector<at::Tensor>& leaves) {
    at::Tensor sum = at::zeros({}, at::kDouble);
    for (const Layout& rank : layout) {
      GistInputs in;
      in.anchors = leaves[0].narrow(0, rank.offset, rank.rows);
      in.anchor_guide = guide[0].narrow(0, rank.offset, rank.rows);
      in.all_anchors = leaves[0];
      in.all_anchor_guide = guide[0];
      in.positives = leaves[1];
      in.positive_guide = guide[1];
      if (c.columns == 3) {
        in.negatives = leaves[2];
        in.negative_guide = guide[2];
      }
      in.offset = rank.offset;
      sum = sum + gist_embed_loss(in, o) * (static_cast<double>(rank.rows) / kRows);
    }
    return sum;
  });
}

void check_gist(const GistCase& c) {
  std::vector<at::Tensor> columns = random_columns(5 + c.columns, c.columns, kDim);
  // A guide correlated with the model, so that some (not all) candidates are filtered.
  std::vector<at::Tensor> guide;
  for (const auto& column : columns) guide.push_back(column.narrow(1, 0, kGuideDim) + 0.8 * at::randn({kRows, kGuideDim}, at::kDouble));
  guide[1][3].copy_(guide[0][7]);  // a guided false negative
  if (c.duplicates) {  // a duplicated positive: its guide score ties the threshold exactly
    columns[1][5].copy_(columns[1][2]);
    guide[1][5].copy_(guide[1][2]);
  }
  for (const auto& layout : kLayouts) {
    const Result whole = run_gist(c, columns, guide, layout, 0);
    for (int64_t tile : kTiles) {
      expect_same(run_gist(c, columns, guide, layout, tile), whole,
                  "tile " + std::to_string(tile) + ", " + std::to_string(layout.size()) + " rank(s)");
    }
  }
}

TEST(TiledGist, EqualsWholeMatrixOnTheParityGrid) {
  for (const GistCase& c : gist_cases()) {
    SCOPED_TRACE(describe(c));
    check_gist(c);
  }
}

// ---- the option -----------------------------------------------------------------------------------

TEST(TileOptions, AutoTilesOnlyLargeScoreMatrices) {
  TileOptions automatic;
  EXPECT_EQ(automatic.resolve(kAutoTileSize, kAutoTileSize), 0);  // one tile's worth: whole
  EXPECT_EQ(automatic.resolve(kAutoTileSize, kAutoTileSize + 1), kAutoTileSize);
  TileOptions never;
  never.tile_size = 0;
  EXPECT_EQ(never.resolve(1 << 20, 1 << 20), 0);
  TileOptions fixed;
  fixed.tile_size = 3;
  EXPECT_EQ(fixed.resolve(2, 2), 3);
  TileOptions bad;
  bad.tile_size = -2;
  EXPECT_THROW(bad.validate(), std::exception);
}

TEST(TileOptions, AutoEqualsWholeAboveTheThreshold) {
  // Just above one tile's worth of entries: auto tiles, a full tile and a 52-row/column remainder.
  const int64_t rows = kAutoTileSize + 52;
  at::manual_seed(3);
  const std::vector<at::Tensor> columns = {at::randn({rows, 4}, at::kDouble), at::randn({rows, 4}, at::kDouble)};
  MultipleNegativesRankingOptions automatic, whole;
  whole.tiling.tile_size = 0;
  whole.hardness_mode = automatic.hardness_mode = "in_batch_negatives";
  whole.hardness_strength = automatic.hardness_strength = 2.0;
  auto run = [&](const MultipleNegativesRankingOptions& o) {
    return evaluate(columns, [&](const std::vector<at::Tensor>& leaves) {
      InBatchInputs in;
      in.anchors = leaves[0];
      in.docs = {leaves[1]};
      return multiple_negatives_ranking_loss(in, o);
    });
  };
  expect_same(run(automatic), run(whole), "auto");
}

}  // namespace
}  // namespace negatron::losses
