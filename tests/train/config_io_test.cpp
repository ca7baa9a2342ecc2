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

TEST(ConfigIo, EveryOutOfRangeValueIsRefusedByName) {
  // key=value -> the key named in the error (each value is the first bad one on its side of the range).
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"training.adam_beta1=1.5", "training.adam_beta1"},
      {"training.adam_beta1=-0.1", "training.adam_beta1"},
      {"training.adam_beta2=1", "training.adam_beta2"},
      {"training.adam_epsilon=0", "training.adam_epsilon"},
      {"training.adam_epsilon=-1e-8", "training.adam_epsilon"},
      {"training.weight_decay=-0.01", "training.weight_decay"},
      {"training.learning_rate=-1e-5", "training.learning_rate"},
      {"training.warmup_steps=-3", "training.warmup_steps"},
      {"training.warmup_ratio=1.5", "training.warmup_ratio"},
      {"training.num_train_epochs=-1", "training.num_train_epochs"},
      {"training.max_steps=-5", "training.max_steps"},
      {"training.max_steps=0", "training.max_steps"},
      {"training.max_grad_norm=-1", "training.max_grad_norm"},
      {"training.seed=-1", "training.seed"},
      {"training.eval_steps=-1", "training.eval_steps"},
      {"training.save_steps=-1", "training.save_steps"},
      {"training.save_total_limit=-2", "training.save_total_limit"},
      {"training.logging_steps=0", "training.logging_steps"},
      {"training.threads=-4", "training.threads"},
      {"training.per_device_train_batch_size=0", "training.per_device_train_batch_size"},
      {"model.max_seq_length=-128", "model.max_seq_length"},
      {"datasets.0.weight=0", "datasets.0.weight"},
      {"distributed.collective_timeout_s=-1", "distributed.collective_timeout_s"},
      {"distributed.check_replicas_every=-1", "distributed.check_replicas_every"},
      {"output_dir=''", "output_dir"},
      {"datasets.0.loss={name: 7}", "datasets.0.loss"},
      {"datasets.0.loss={scale: 3}", "datasets.0.loss"},
      {"training.learning_rate=1e999", "training.learning_rate"},
      {"training.max_steps=99999999999999999999", "training.max_steps"},
      {"training.adam_beta1=.nan", "training.adam_beta1"},
  };
  for (const auto& [assignment, key] : cases) {
    const std::string e = error_of(kMinimal, {assignment});
    EXPECT_NE(e.find("'" + key + "'"), std::string::npos) << assignment << " -> " << e;
    EXPECT_NE(e.find("test.yaml"), std::string::npos) << assignment << " -> " << e;
  }
  const std::string evaluator = std::string(kMinimal) +
      "evaluators: [{type: EmbeddingSimilarityEvaluator, path: s.tsv, columns: [a, b], score_column: s}]\n";
  for (const auto& [assignment, key] : std::vector<std::pair<std::string, std::string>>{
           {"evaluators.0.score_scale=0", "evaluators.0.score_scale"},
           {"evaluators.0.score_scale=-5", "evaluators.0.score_scale"},
           {"evaluators.0.batch_size=0", "evaluators.0.batch_size"},
           {"evaluators.0.corpus_chunk_size=0", "evaluators.0.corpus_chunk_size"}}) {
    const std::string e = error_of(evaluator, {assignment});
    EXPECT_NE(e.find("'" + key + "'"), std::string::npos) << assignment << " -> " << e;
  }
}

TEST(ConfigIo, BoundaryValuesAreAccepted) {
  const TrainConfig c = parse_config(kMinimal, "test.yaml",
                                     {"training.adam_beta1=0", "training.adam_beta2=0.999999", "training.warmup_ratio=1",
                                      "training.warmup_steps=0", "training.max_grad_norm=0", "model.max_seq_length=0",
                                      "training.max_steps=1", "training.save_total_limit=0"});
  EXPECT_EQ(c.training.max_steps, 1);
}

TEST(ConfigIo, BadOverrideValueIsNamed) {
  const std::string e = error_of(kMinimal, {"training.learning_rate=[1, 2"});
  EXPECT_NE(e.find("--set training.learning_rate=[1, 2"), std::string::npos) << e;
}

}  // namespace
}  // namespace negatron::train
