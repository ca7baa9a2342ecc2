#include "train/config_io.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include "common/check.h"
#include "common/options_json.h"
#include "losses/registry.h"

namespace negatron::train {
namespace {

using Json = nlohmann::json;

// ---- YAML <-> JSON -------------------------------------------------------------------------

Json scalar_to_json(const YAML::Node& node) {
  if (node.Tag() == "!" || node.Style() == YAML::EmitterStyle::Flow) return node.as<std::string>();
  const std::string text = node.as<std::string>();
  if (text == "true" || text == "True") return true;
  if (text == "false" || text == "False") return false;
  if (text == "null" || text == "~") return nullptr;
  static const std::regex integer("[-+]?[0-9]+");
  static const std::regex real("[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?");
  if (std::regex_match(text, integer)) return std::stoll(text);
  if (std::regex_match(text, real)) return std::stod(text);
  return text;
}

Json yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return nullptr;
    case YAML::NodeType::Scalar: return node.Tag() == "!" ? Json(node.as<std::string>()) : scalar_to_json(node);
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (const auto& item : node) out.push_back(yaml_to_json(item));
      return out;
    }
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& item : node) out[item.first.as<std::string>()] = yaml_to_json(item.second);
      return out;
    }
  }
  return nullptr;
}

void emit_json(YAML::Emitter& out, const Json& value) {
  if (value.is_object()) {
    out << YAML::BeginMap;
    for (const auto& item : value.items()) {
      out << YAML::Key << item.key() << YAML::Value;
      emit_json(out, item.value());
    }
    out << YAML::EndMap;
  } else if (value.is_array()) {
    out << YAML::BeginSeq;
    for (const auto& item : value) emit_json(out, item);
    out << YAML::EndSeq;
  } else if (value.is_string()) {
    out << YAML::DoubleQuoted << value.get<std::string>();
  } else if (value.is_null()) {
    out << YAML::Null;
  } else {
    out << value.dump();
  }
}

// ---- overrides and environment ------------------------------------------------------------------

void apply_override(Json& root, const std::string& assignment) {
  const auto eq = assignment.find('=');
  NEG_CHECK(eq != std::string::npos && eq > 0, "--set expects key.path=value, got '", assignment, "'");
  const std::string path = assignment.substr(0, eq);
  Json value = yaml_to_json(YAML::Load(assignment.substr(eq + 1)));
  Json* node = &root;
  std::stringstream parts(path);
  std::vector<std::string> keys;
  for (std::string key; std::getline(parts, key, '.');) keys.push_back(key);
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string& key = keys[i];
    const bool last = i + 1 == keys.size();
    if (node->is_array()) {
      NEG_CHECK(!key.empty() && std::all_of(key.begin(), key.end(), ::isdigit), "--set ", path, ": '", key,
                "' must be a list index");
      const size_t index = std::stoul(key);
      NEG_CHECK(index < node->size(), "--set ", path, ": index ", index, " out of range (list has ", node->size(),
                " items)");
      node = &(*node)[index];
    } else {
      if (node->is_null()) *node = Json::object();
      node = &(*node)[key];
    }
    if (last) *node = value;
  }
}

void expand_environment(Json& value) {
  if (value.is_string()) {
    static const std::regex var("\\$\\{([A-Za-z_][A-Za-z0-9_]*)\\}");
    std::string text = value.get<std::string>(), out;
    std::smatch match;
    while (std::regex_search(text, match, var)) {
      const char* env = std::getenv(match[1].str().c_str());
      NEG_CHECK(env, "config uses ${", match[1].str(), "} but the environment variable is not set");
      out += match.prefix().str() + env;
      text = match.suffix().str();
    }
    value = out + text;
  } else if (value.is_structured()) {
    for (auto& item : value) expand_environment(item);
  }
}

void flatten(const Json& value, const std::string& prefix, std::vector<std::string>& out) {
  if (value.is_object() && !value.empty()) {
    for (const auto& item : value.items()) flatten(item.value(), options::join_path(prefix, item.key()), out);
  } else if (value.is_array() && !value.empty()) {
    for (size_t i = 0; i < value.size(); ++i)
      flatten(value[i], options::join_path(prefix, std::to_string(i)), out);
  } else {
    out.push_back(prefix + "=" + value.dump());
  }
}

template <class... Choices>
void check_choice(const std::string& key, const std::string& value, Choices... choices) {
  const bool ok = ((value == choices) || ...);
  std::string valid;
  ((valid += (valid.empty() ? "" : ", ") + std::string(choices)), ...);
  NEG_CHECK(ok, "config key '", key, "' = '", value, "' is not one of: ", valid);
}

/// Every dataset's loss with all its parameters, defaults filled in, so that the dumped config and the
/// model card show them and a bad parameter fails here, before any rank starts.
void resolve_losses(TrainConfig& config) {
  for (size_t i = 0; i < config.datasets.size(); ++i) {
    nlohmann::json& loss = config.datasets[i].loss;
    loss = with_error_context("config key 'datasets." + std::to_string(i) + ".loss'",
                              [&] { return losses::resolve_loss_spec(loss); });
  }
}

}  // namespace

void validate_config(const TrainConfig& c) {
  const auto& t = c.training;
  NEG_CHECK(!c.model.path.empty(), "config key 'model.path' is required");
  NEG_CHECK(!c.datasets.empty(), "config key 'datasets' needs at least one dataset");
  for (size_t i = 0; i < c.datasets.size(); ++i) {
    const auto& d = c.datasets[i];
    NEG_CHECK(!d.path.empty(), "config key 'datasets.", i, ".path' is required");
    NEG_CHECK(d.loss.is_object() && d.loss.contains("name"), "config key 'datasets.", i,
              ".loss' must be a map with a 'name'");
    NEG_CHECK(d.weight > 0, "config key 'datasets.", i, ".weight' must be > 0");
  }
  NEG_CHECK(t.per_device_train_batch_size > 0, "config key 'training.per_device_train_batch_size' must be > 0");
  NEG_CHECK(t.learning_rate >= 0, "config key 'training.learning_rate' must be >= 0");
  NEG_CHECK(t.warmup_ratio >= 0 && t.warmup_ratio <= 1, "config key 'training.warmup_ratio' must be in [0, 1]");
  NEG_CHECK(t.max_steps > 0 || t.num_train_epochs > 0, "set 'training.max_steps' or 'training.num_train_epochs'");
  check_choice("training.lr_scheduler_type", t.lr_scheduler_type, "linear", "cosine", "constant", "constant_with_warmup");
  check_choice("training.batch_sampler", t.batch_sampler, "batch_sampler", "no_duplicates", "group_by_label");
  check_choice("training.multi_dataset_batch_sampler", t.multi_dataset_batch_sampler, "proportional", "round_robin");
  check_choice("training.nan_policy", t.nan_policy, "abort", "skip");
  for (size_t i = 0; i < t.report_to.size(); ++i) {
    check_choice("training.report_to." + std::to_string(i), t.report_to[i], "tensorboard", "none");
  }
  check_choice("distributed.backend", c.distributed.backend, "auto", "mpi", "nccl", "local");
  check_choice("distributed.overlap_grad_reduce", c.distributed.overlap_grad_reduce, "auto", "true", "false");
  check_choice("device", c.device, "auto", "cpu", "cuda");
  check_choice("model.dtype", c.model.dtype, "float32", "float64");
  for (size_t i = 0; i < c.evaluators.size(); ++i) {
    const auto& e = c.evaluators[i];
    const std::string key = "evaluators." + std::to_string(i);
    check_choice(key + ".type", e.type, "EmbeddingSimilarityEvaluator", "TripletEvaluator",
                 "BinaryClassificationEvaluator", "InformationRetrievalEvaluator");
    NEG_CHECK(!e.path.empty(), "config key '", key, ".path' is required");
    for (size_t j = 0; j < e.similarity_fn_names.size(); ++j) {
      check_choice(key + ".similarity_fn_names." + std::to_string(j), e.similarity_fn_names[j], "cosine", "dot",
                   "euclidean", "manhattan");
    }
    NEG_CHECK(e.corpus_chunk_size > 0, "config key '", key, ".corpus_chunk_size' must be > 0");
    NEG_CHECK(e.corpus_path.empty() == e.qrels_path.empty(), "config keys '", key, ".corpus_path' and '", key,
              ".qrels_path' go together (InformationRetrievalEvaluator, BEIR layout)");
  }
}

TrainConfig parse_config(const std::string& yaml_text, const std::string& origin,
                         const std::vector<std::string>& overrides) {
  Json root;
  try {
    root = yaml_to_json(YAML::Load(yaml_text));
  } catch (const YAML::Exception& e) {
    NEG_FAIL(origin, ":", e.mark.line + 1, ":", e.mark.column + 1, ": invalid YAML: ", e.msg);
  }
  if (root.is_null()) root = Json::object();
  for (const auto& assignment : overrides) apply_override(root, assignment);
  expand_environment(root);
  TrainConfig config;
  try {
    options::read(root, config, options::KeyStyle{});
    validate_config(config);
    resolve_losses(config);
  } catch (const Error& e) {
    NEG_FAIL(origin, ": ", e.what());
  }
  return config;
}

TrainConfig load_config(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path);
  NEG_CHECK(in, "cannot open config ", path);
  std::stringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path, overrides);
}

std::string dump_config(const TrainConfig& config) {
  YAML::Emitter out;
  emit_json(out, options::to_json(config));
  return std::string(out.c_str()) + "\n";
}

nlohmann::json config_json(const TrainConfig& config) { return options::to_json(config); }

std::vector<std::string> flatten_config(const TrainConfig& config) {
  std::vector<std::string> lines;
  flatten(options::to_json(config), "", lines);
  std::sort(lines.begin(), lines.end());
  return lines;
}

}  // namespace negatron::train
