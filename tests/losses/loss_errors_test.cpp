// Registry and validation errors of the part-A losses: they name the loss, the parameter and the
// expected Inputs, so a bad config is fixed from the message alone.
#include <gtest/gtest.h>

#include "support/error_of.h"

#include "common/check.h"
#include "losses/registry.h"

namespace negatron::losses {
namespace {

using negatron::testing::error_of;

std::unique_ptr<Loss> make(const std::string& name, const nlohmann::json& params = nlohmann::json::object()) {
  LossArgs args;
  args.params = params;
  return make_loss(name, args);
}

at::Tensor rows(int64_t b, int64_t d = 4) { return at::randn({b, d}, at::kDouble); }

TEST(LossErrors, UnknownNameListsKnownLosses) {
  const std::string message = error_of([] { make("BatchHardTriplet"); });
  EXPECT_NE(message.find("unknown loss 'BatchHardTriplet'"), std::string::npos) << message;
  for (const char* known : {"BatchHardTripletLoss", "CoSENTLoss", "SoftmaxLoss", "MegaBatchMarginLoss"})
    EXPECT_NE(message.find(known), std::string::npos) << message;
}

TEST(LossErrors, UnknownParameterListsValidOnes) {
  const std::string message = error_of([] { make("CoSENTLoss", {{"scael", 10}}); });
  EXPECT_NE(message.find("CoSENTLoss: unknown parameter 'scael'"), std::string::npos) << message;
  EXPECT_NE(message.find("scale"), std::string::npos) << message;
  EXPECT_NE(message.find("similarity_fct"), std::string::npos) << message;
}

TEST(LossErrors, BadEnumValuesNameTheParameter) {
  std::string message = error_of([] { make("BatchSemiHardTripletLoss", {{"distance_metric", "manhattan"}}); });
  EXPECT_NE(message.find("BatchSemiHardTripletLoss: parameter 'distance_metric'"), std::string::npos) << message;
  EXPECT_NE(message.find("cosine_distance"), std::string::npos) << message;
  message = error_of([] { make("CosineSimilarityLoss", {{"loss_fct", "KLDivLoss"}}); });
  EXPECT_NE(message.find("'loss_fct' is 'KLDivLoss'"), std::string::npos) << message;
  message = error_of([] { make("SoftmaxLoss", {{"num_labels", 3}}); });
  EXPECT_NE(message.find("'embedding_dimension' is required"), std::string::npos) << message;
  message = error_of([] { make("MarginMSELoss", {{"margin", 1.0}}); });
  EXPECT_NE(message.find("unknown parameter 'margin'"), std::string::npos) << message;
}

TEST(LossErrors, TileSizeMustBeNullZeroOrPositive) {
  for (const char* name : {"MultipleNegativesRankingLoss", "MultipleNegativesSymmetricRankingLoss", "GISTEmbedLoss",
                           "CachedMultipleNegativesRankingLoss"}) {
    for (const nlohmann::json& bad : {nlohmann::json(-1), nlohmann::json("big"), nlohmann::json(2.5)}) {
      const std::string message = error_of([&] { make(name, {{"tile_size", bad}}); });
      EXPECT_NE(message.find("parameter 'tile_size' must be null (auto), 0 (never tile) or a positive integer, got " +
                             bad.dump()),
                std::string::npos)
          << name << ": " << message;
    }
    EXPECT_NO_THROW(make(name, {{"tile_size", nullptr}}));
    EXPECT_NO_THROW(make(name, {{"tile_size", 0}}));
  }
}

TEST(LossErrors, WrongColumnCountListsInputs) {
  auto loss = make("TripletLoss");
  EmbeddingBatch batch;
  batch.columns = {rows(3), rows(3)};
  const std::string message = error_of([&] { loss->compute(batch); });
  EXPECT_NE(message.find("got 2 column(s)"), std::string::npos) << message;
  EXPECT_NE(message.find("(anchor, positive, negative) triplets"), std::string::npos) << message;
}

TEST(LossErrors, WrongLabelKindListsInputs) {
  auto loss = make("BatchHardTripletLoss");
  EmbeddingBatch batch;
  batch.columns = {rows(4)};
  batch.labels = at::rand({4}, at::kDouble);
  std::string message = error_of([&] { loss->compute(batch); });
  EXPECT_NE(message.find("1-D integer"), std::string::npos) << message;
  EXPECT_NE(message.find("class label (int)"), std::string::npos) << message;

  batch.labels = at::Tensor();
  message = error_of([&] { loss->compute(batch); });
  EXPECT_NE(message.find("missing labels"), std::string::npos) << message;

  auto distill = make("DistillKLDivLoss");
  batch.columns = {rows(4), rows(4), rows(4)};
  batch.labels = at::rand({4, 3}, at::kDouble);
  message = error_of([&] { distill->compute(batch); });
  EXPECT_NE(message.find("need [B, 2] teacher scores"), std::string::npos) << message;
}

TEST(LossErrors, SoftmaxLabelsOutOfRange) {
  auto loss = make("SoftmaxLoss", {{"num_labels", 2}, {"embedding_dimension", 4}});
  EmbeddingBatch batch;
  batch.columns = {rows(3), rows(3)};
  batch.labels = at::tensor(std::vector<int64_t>{0, 1, 2});
  const std::string message = error_of([&] { loss->compute(batch); });
  EXPECT_NE(message.find("[0, num_labels = 2)"), std::string::npos) << message;
}

}  // namespace
}  // namespace negatron::losses
