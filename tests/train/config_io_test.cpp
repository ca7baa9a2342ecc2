#include "train/config_io.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "common/check.h"

namespace negatron::train {
namespace {

const char* kMinimal = R"(
model: {path: /models/minilm}
datasets:
  - {name: nli, path: /data/nli, loss: {name: MultipleNegativesRankingLoss, scale: 20}}
)";

std::string error_of(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  try {
    parse_config(yaml, "test.yaml", overrides);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ConfigIo, DefaultsAreFilledAndLossParamsKept) {
  const TrainConfig c = parse_config(kMinimal, "test.yaml");
  EXPECT_EQ(c.training.per_device_train_batch_size, 32);
  EXPECT_EQ(c.training.lr_scheduler_type, "linear");
  EXPECT_EQ(c.datasets.at(0).loss.at("scale").get<int>(), 20);
  EXPECT_TRUE(c.distributed.gather_across_devices);
}

TEST(ConfigIo, LossParametersAreResolvedWithEveryDefault) {
  const TrainConfig c = parse_config(std::string(kMinimal) + "  - {path: /data/sts, loss: {name: CoSENTLoss}}\n",
                                     "test.yaml");
  // sentence-transformers 6: CoSENTLoss(model, scale=20.0, similarity_fct=util.pairwise_cos_sim)
  EXPECT_EQ(c.datasets.at(1).loss, nlohmann::json::parse(
                                       R"({"name": "CoSENTLoss", "scale": 20.0, "similarity_fct": "pairwise_cos_sim"})"));
  const std::string dumped = dump_config(c);
  EXPECT_NE(dumped.find("similarity_fct: \"pairwise_cos_sim\""), std::string::npos) << dumped;
  EXPECT_EQ(flatten_config(parse_config(dumped, "dump.yaml")), flatten_config(c));
}

TEST(ConfigIo, BadLossParametersNameTheDataset) {
  const std::string e = error_of(std::string(kMinimal) + "  - {path: /data/sts, loss: {name: CoSENTLoss, scael: 1}}\n");
  EXPECT_NE(e.find("test.yaml: config key 'datasets.1.loss': CoSENTLoss: unknown parameter 'scael' (did you mean "
                   "'scale'?"),
            std::string::npos)
      << e;
}

TEST(ConfigIo, UnknownKeySuggestsNearest) {
  const std::string e = error_of(std::string(kMinimal) + "training: {learning_rat: 1e-5}\n");
  EXPECT_NE(e.find("unknown config key 'training.learning_rat'"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'training.learning_rate'"), std::string::npos) << e;
  EXPECT_NE(e.find("test.yaml"), std::string::npos) << e;
}

TEST(ConfigIo, WrongTypeNamesKey) {
  const std::string e = error_of(std::string(kMinimal) + "training: {per_device_train_batch_size: many}\n");
  EXPECT_NE(e.find("'training.per_device_train_batch_size' must be an integer"), std::string::npos) << e;
}

TEST(ConfigIo, OverridesReachLeavesAndListItems) {
  const TrainConfig c = parse_config(kMinimal, "test.yaml",
                                     {"training.learning_rate=1e-5", "datasets.0.loss.scale=30",
                                      "training.frozen_parameters=a,b"});
  EXPECT_DOUBLE_EQ(c.training.learning_rate, 1e-5);
  EXPECT_EQ(c.datasets.at(0).loss.at("scale").get<int>(), 30);
  EXPECT_EQ(c.training.frozen_parameters, (std::vector<std::string>{"a", "b"}));
  EXPECT_NE(error_of(kMinimal, {"datasets.3.path=x"}).find("index 3 out of range"), std::string::npos);
}

TEST(ConfigIo, ChoicesAreValidated) {
  const std::string e = error_of(kMinimal, {"training.lr_scheduler_type=cosine_restarts"});
  EXPECT_NE(e.find("'training.lr_scheduler_type' = 'cosine_restarts' is not one of"), std::string::npos) << e;
}

TEST(ConfigIo, EnvironmentIsExpanded) {
  setenv("NEGATRON_TEST_MODEL_DIR", "/from/env", 1);
  const TrainConfig c = parse_config(kMinimal, "test.yaml", {"model.path=${NEGATRON_TEST_MODEL_DIR}/m"});
  EXPECT_EQ(c.model.path, "/from/env/m");
  EXPECT_NE(error_of(kMinimal, {"model.path=${NEGATRON_SURELY_UNSET_VAR}"}).find("NEGATRON_SURELY_UNSET_VAR"),
            std::string::npos);
}

TEST(ConfigIo, DumpRoundTrips) {
  const TrainConfig c = parse_config(kMinimal, "test.yaml", {"training.seed=7"});
  const TrainConfig again = parse_config(dump_config(c), "dump.yaml");
  EXPECT_EQ(flatten_config(c), flatten_config(again));
  EXPECT_EQ(again.training.seed, 7);
}

TEST(ConfigIo, InvalidYamlNamesLine) {
  const std::string e = error_of("model: {path: x\ndatasets: [");
  EXPECT_NE(e.find("test.yaml:"), std::string::npos) << e;
  EXPECT_NE(e.find("invalid YAML"), std::string::npos) << e;
}

}  // namespace
}  // namespace negatron::train
