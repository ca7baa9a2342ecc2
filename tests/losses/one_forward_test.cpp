// One encoder forward per loss call: Loss::forward stacks every column's rows into one token batch
// (padded to the widest column) and splits the embeddings back. The reference is the per-column path
// it replaced (one forward per column, then compute()), on the real all-MiniLM-L6-v2 in float64 with
// dropout off: loss and every parameter gradient agree to 1e-12 (relative to the largest gradient
// entry of the parameter), for the model-level cases of tests/python/test_loss_parity.py that go
// through Loss::forward (MegaBatchMarginLoss embeds in its own mini-batches) and more.
#include <gtest/gtest.h>

#include "losses/registry.h"
#include "support/minilm.h"

namespace negatron::losses {
namespace {

constexpr double kTolerance = 1e-12;

std::shared_ptr<model::SentenceEncoder> minilm() {
  static std::shared_ptr<model::SentenceEncoder> model = testing_support::load_minilm_float64();
  return model;
}

// Columns of different widths (the stacked batch pads the short ones), six rows each.
model::Batch texts_batch(model::SentenceEncoder& model, int columns, model::LabelKind labels) {
  const std::vector<std::vector<std::string>> texts = {
      {"A man plays guitar.", "Children are building a large sandcastle on the beach near the pier.", "Rain.",
       "Where is the nearest train station from here?", "Two dogs run.", "The committee postponed its vote."},
      {"Someone is making music on a stringed instrument in the park this morning.", "Kids at the beach.",
       "It is wet outside.", "Train station directions", "Dogs running through a field of tall grass.",
       "The vote was delayed."},
      {"A woman cooks.", "An empty beach at night.", "The sun is shining brightly over the quiet valley.",
       "How to bake bread", "A cat sleeps.", "The vote passed unanimously this afternoon after a long debate."}};
  model::Batch batch;
  for (int c = 0; c < columns; ++c) batch.columns.push_back(model.tokenize(texts[c]));
  if (labels == model::LabelKind::kFloat32) batch.labels = at::tensor({0.9, 0.7, 0.4, 0.8, 0.3, 0.6}, at::kFloat);
  if (labels == model::LabelKind::kInt64) batch.labels = at::tensor({0, 1, 2, 0, 2, 1}, at::kLong);
  return batch;
}

struct Result {
  double loss;
  std::vector<at::Tensor> grads;
};

Result run(Loss& loss, model::SentenceEncoder& model, const model::Batch& batch, bool per_column) {
  for (auto& p : model.parameters()) p.mutable_grad().reset();
  at::Tensor value;
  if (per_column) {  // the path before: one forward per column
    EmbeddingBatch embeddings;
    for (const auto& column : batch.columns) embeddings.columns.push_back(embed(model, column));
    embeddings.labels = batch.labels;
    loss.add_side_inputs(model, batch, embeddings);
    value = loss.compute(embeddings);
    value.backward();
  } else {
    value = loss.forward_backward(model, batch);
  }
  Result out{value.item<double>(), {}};
  for (auto& p : model.parameters()) out.grads.push_back(p.grad().defined() ? p.grad().clone() : at::zeros_like(p));
  return out;
}

struct Case {
  std::string name;
  nlohmann::json params;
  int columns;
  model::LabelKind labels;
};

class OneForward : public ::testing::TestWithParam<Case> {};

TEST_P(OneForward, EqualsOneForwardPerColumn) {
  const Case& c = GetParam();
  auto model = minilm();
  model->train(false);
  LossArgs args;
  args.params = c.params;
  args.model = model;
  auto loss = make_loss(c.name, args);
  for (auto& p : loss->parameters()) p.set_data(p.data().to(at::kDouble));
  const model::Batch batch = texts_batch(*model, c.columns, c.labels);
  at::manual_seed(1);
  const Result stacked = run(*loss, *model, batch, false);
  at::manual_seed(1);
  const Result per_column = run(*loss, *model, batch, true);
  EXPECT_NEAR(stacked.loss, per_column.loss, kTolerance * std::max(1.0, std::abs(per_column.loss)));
  // Per parameter, relative to its largest gradient entry, floored at 1e-3 of the largest entry of any
  // parameter: some gradients are zero in exact arithmetic (attention key biases) and hold round-off only.
  double largest = 0, worst = 0;
  for (const auto& g : per_column.grads) largest = std::max(largest, g.abs().max().item<double>());
  for (size_t i = 0; i < stacked.grads.size(); ++i) {
    const double scale = std::max(per_column.grads[i].abs().max().item<double>(), 1e-3 * largest);
    const double error = (stacked.grads[i] - per_column.grads[i]).abs().max().item<double>() / scale;
    EXPECT_LE(error, kTolerance) << c.name << ": parameter " << i << " (largest entry " << scale << ")";
    worst = std::max(worst, error);
  }
  RecordProperty("worst_relative_gradient_error", std::to_string(worst));
  model->train(true);
}

INSTANTIATE_TEST_SUITE_P(
    ModelLevelCases, OneForward,
    ::testing::Values(Case{"MultipleNegativesRankingLoss", nlohmann::json::object(), 3, model::LabelKind::kNone},
                      Case{"CoSENTLoss", nlohmann::json::object(), 2, model::LabelKind::kFloat32},
                      Case{"TripletLoss", nlohmann::json::object(), 3, model::LabelKind::kNone},
                      Case{"SoftmaxLoss", {{"num_labels", 3}}, 2, model::LabelKind::kInt64},
                      Case{"CosineSimilarityLoss", nlohmann::json::object(), 2, model::LabelKind::kFloat32}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(OneForward, StackedBatchKeepsEveryColumnsLayout) {
  auto model = minilm();
  const model::Batch batch = texts_batch(*model, 3, model::LabelKind::kNone);
  const model::TokenBatch stacked = model::stack_rows(batch.columns, model->tokenizer().pad_id());
  EXPECT_EQ(stacked.rows(), 18);
  // The layout derived on the host equals the one read back from the stacked mask.
  const model::TokenLayout from_mask = model::TokenLayout::from_mask(stacked.attention_mask);
  EXPECT_EQ(stacked.layout.lengths, from_mask.lengths);
  EXPECT_TRUE(at::equal(stacked.layout.index, from_mask.index));
  EXPECT_TRUE(at::equal(stacked.layout.cu_seqlens, from_mask.cu_seqlens));
}

}  // namespace
}  // namespace negatron::losses
