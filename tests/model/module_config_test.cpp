// modules.json, Pooling and Dense configs: wrong types and out-of-range values are errors naming the
// file and the key, never bare JSON-library messages; module paths stay inside the model folder.
#include "model/module_config.h"

#include <gtest/gtest.h>

#include "common/json_file.h"
#include "model/transformer_config.h"
#include "support/error_of.h"

namespace negatron::model {
namespace {

using testing::error_of;

nlohmann::json json(const char* text) { return parse_json(text, "test"); }

void expect_error(const std::function<void()>& call, const std::string& file, const std::string& expected) {
  const std::string error = error_of(call);
  EXPECT_NE(error.find(file), std::string::npos) << error;
  EXPECT_NE(error.find(expected), std::string::npos) << error;
  EXPECT_EQ(error.find("[json.exception"), std::string::npos) << error;
}

TEST(ModuleConfig, ModulesJsonIsChecked) {
  const auto modules = parse_modules_json(
      json(R"([{"path": "", "type": "sentence_transformers.models.Transformer"},
              {"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}])"),
      "modules.json");
  EXPECT_EQ(modules.at(1).kind, "Pooling");
  const auto bad = [](const char* text) { return [text] { parse_modules_json(json(text), "modules.json"); }; };
  expect_error(bad(R"([{"path": "", "type": 7}])"), "modules.json", "'[0].type' must be a string");
  expect_error(bad(R"([{"path": ["x"], "type": "a.Transformer"}])"), "modules.json", "'[0].path' must be a string");
  expect_error(bad(R"(["a.Transformer"])"), "modules.json", "module 0 must be an object");
  expect_error(bad(R"({"type": "a.Transformer"})"), "modules.json", "non-empty list");
  expect_error(bad(R"([{"path": "../../etc", "type": "a.Transformer"}])"), "modules.json", "leaves the model folder");
  expect_error(bad(R"([{"path": "/etc", "type": "a.Transformer"}])"), "modules.json", "must be relative");
  expect_error(bad(R"([{"path": "", "type": "a.Pooling"}])"), "modules.json", "no Transformer");
  expect_error(bad(R"([{"path": "", "type": "a.LSTM"}])"), "modules.json", "unsupported module type 'a.LSTM'");
}

TEST(ModuleConfig, PoolingConfigIsChecked) {
  const PoolingOptions legacy = PoolingOptions::from_json(
      json(R"({"word_embedding_dimension": 384, "pooling_mode_cls_token": true})"), "p.json");
  EXPECT_EQ(legacy.modes, std::vector<std::string>{"cls"});
  const auto bad = [](const char* text) { return [text] { PoolingOptions::from_json(json(text), "1_Pooling/config.json"); }; };
  expect_error(bad(R"({"embedding_dimension": "384"})"), "1_Pooling/config.json", "'embedding_dimension' must be");
  expect_error(bad(R"({"embedding_dimension": -384})"), "1_Pooling/config.json", "must be in [1,");
  expect_error(bad(R"({"embedding_dimension": 384, "pooling_mode": 3})"), "1_Pooling/config.json", "pooling_mode");
  expect_error(bad(R"({"embedding_dimension": 384, "pooling_mode": ["mean", 1]})"), "1_Pooling/config.json",
               "pooling_mode[1]");
  expect_error(bad(R"({"embedding_dimension": 384, "pooling_mode": []})"), "1_Pooling/config.json", "empty list");
  expect_error(bad(R"({"embedding_dimension": 384, "pooling_mode": "median"})"), "1_Pooling/config.json",
               "invalid pooling mode 'median'");
  expect_error(bad(R"({"embedding_dimension": 384, "pooling_mode_mean_tokens": "yes"})"), "1_Pooling/config.json",
               "pooling_mode_mean_tokens");
  expect_error(bad(R"({"embedding_dimension": 384, "include_prompt": 1})"), "1_Pooling/config.json", "include_prompt");
  expect_error(bad(R"([384])"), "1_Pooling/config.json", "JSON object");
}

TEST(ModuleConfig, DenseConfigIsChecked) {
  const auto bad = [](const char* text) { return [text] { DenseOptions::from_json(json(text), "2_Dense/config.json"); }; };
  expect_error(bad(R"({"in_features": 4, "out_features": -2})"), "2_Dense/config.json", "out_features");
  expect_error(bad(R"({"in_features": 4.5, "out_features": 2})"), "2_Dense/config.json", "in_features");
  expect_error(bad(R"({"in_features": 4, "out_features": 2, "bias": "no"})"), "2_Dense/config.json", "bias");
  expect_error(bad(R"({"in_features": 4, "out_features": 2, "activation_function": "torch.nn.Softmax"})"),
               "2_Dense/config.json", "unsupported activation_function");
  expect_error(bad(R"({"in_features": 4})"), "2_Dense/config.json", "out_features");
}

TEST(TransformerConfigRanges, DimensionsAndProbabilitiesAreChecked) {
  const std::string base = R"({"model_type": "bert", "vocab_size": 100, "hidden_size": 32, "num_attention_heads": 4,
                                "num_hidden_layers": 2, "intermediate_size": 64, "max_position_embeddings": 64)";
  const auto config = [&](const std::string& extra) {
    return [&base, extra] { TransformerConfig::from_json(json((base + extra + "}").c_str()), "config.json"); };
  };
  EXPECT_EQ(error_of(config("")), "");
  expect_error(config(R"(, "vocab_size": -5)"), "config.json", "'vocab_size' = -5");
  expect_error(config(R"(, "vocab_size": 1e12)"), "config.json", "vocab_size");
  expect_error(config(R"(, "max_position_embeddings": 100000000000)"), "config.json", "max_position_embeddings");
  expect_error(config(R"(, "num_hidden_layers": 0)"), "config.json", "num_hidden_layers");
  expect_error(config(R"(, "hidden_size": 30)"), "config.json", "not a multiple of num_attention_heads");
  expect_error(config(R"(, "hidden_dropout_prob": 1.5)"), "config.json", "hidden_dropout_prob");
  expect_error(config(R"(, "layer_norm_eps": 0)"), "config.json", "layer_norm_eps");
  expect_error(config(R"(, "pad_token_id": 100)"), "config.json", "pad_token_id");
  expect_error(config(R"(, "hidden_act": "softmax")"), "config.json", "unsupported hidden_act 'softmax'");
  expect_error(config(R"(, "hidden_size": "32")"), "config.json", "'hidden_size' must be");
}

}  // namespace
}  // namespace negatron::model
