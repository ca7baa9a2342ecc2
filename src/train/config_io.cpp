#include "train/config_io.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <fstream>
#include <regex>
#include <sstream>

#include "common/check.h"
#include "common/options_json.h"
#include "losses/loss_spec.h"

namespace negatron::train {
namespace {

using Json = nlohmann::json;

using options::shown;

// ---- YAML <-> JSON -------------------------------------------------------------------------

Json scalar_to_json(const YAML::Node& node) {
  if (node.Tag() == "!" || node.Style() == YAML::EmitterStyle::Flow) return node.as<std::string>();
  const std::string text = node.as<std::string>();
  if (text == "true" || text == "True") return true;
  if (text == "false" || text == "False") return false;
  if (text == "null" || text == "~") return nullptr;
  static const std::regex integer("[-+]?[0-9]+");
  static const std::regex real("[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?");
  // Numbers beyond int64 / double stay text, so the key that holds them reports "must be a number".
  if (std::regex_match(text, integer)) {
    errno = 0;
    const long long value = std::strtoll(text.c_str(), nullptr, 10);
    if (errno != ERANGE) return value;
  }
  if (std::regex_match(text, real)) {
    errno = 0;
    const double value = std::strtod(text.c_str(), nullptr);
    if (errno != ERANGE || value == 0) return value;
  }
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
    out << shown(value);
  }
}

// ---- overrides and environment ------------------------------------------------------------------

void apply_override(Json& root, const std::string& assignment) {
  const auto eq = assignment.find('=');
  NEG_CHECK(eq != std::string::npos && eq > 0, "--set expects key.path=value, got '", assignment, "'");
  const std::string path = assignment.substr(0, eq);
  Json value;
  try {
    value = yaml_to_json(YAML::Load(assignment.substr(eq + 1)));
  } catch (const YAML::Exception& e) {
    NEG_FAIL("--set ", assignment, ": the value is not valid YAML (", e.msg, ")");
  }
  Json* node = &root;
  std::stringstream parts(path);
  std::vector<std::string> keys;
  for (std::string key; std::getline(parts, key, '.');) keys.push_back(key);
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string& key = keys[i];
    const bool last = i + 1 == keys.size();
    if (node->is_array()) {
      NEG_CHECK(!key.empty() && key.size() < 10 && std::all_of(key.begin(), key.end(), ::isdigit), "--set ", path,
                ": '", key, "' must be a list index");
      const size_t index = std::stoul(key);
      NEG_CHECK(index < node->size(), "--set ", path, ": index ", index, " out of range (list has ", node->size(),
                " items)");
      node = &(*node)[index];
    } else {
      if (node->is_null()) *node = Json::object();
      NEG_CHECK(node->is_object(), "--set ", path, ": cannot set '", key, "' inside ", shown(*node),
                ", which is not a map");
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
    out.push_back(prefix + "=" + shown(value));
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

/// "config key 'K' = V must be R" unless ok.
template <typename V>
void check_range(bool ok, const std::string& key, const V& value, const char* range) {
  NEG_CHECK(ok, "config key '", key, "' = ", value, " must be ", range);
}

void validate_training(const TrainingOptions& t) {
  check_range(t.per_device_train_batch_size > 0, "training.per_device_train_batch_size", t.per_device_train_batch_size,
              "> 0");
  check_range(t.learning_rate >= 0, "training.learning_rate", t.learning_rate, ">= 0");
  check_range(t.weight_decay >= 0, "training.weight_decay", t.weight_decay, ">= 0");
  check_range(t.adam_beta1 >= 0 && t.adam_beta1 < 1, "training.adam_beta1", t.adam_beta1, "in [0, 1)");
  check_range(t.adam_beta2 >= 0 && t.adam_beta2 < 1, "training.adam_beta2", t.adam_beta2, "in [0, 1)");
  check_range(t.adam_epsilon > 0, "training.adam_epsilon", t.adam_epsilon, "> 0");
  check_range(t.warmup_ratio >= 0 && t.warmup_ratio <= 1, "training.warmup_ratio", t.warmup_ratio, "in [0, 1]");
  check_range(t.warmup_steps >= 0, "training.warmup_steps", t.warmup_steps, ">= 0");
  check_range(t.num_train_epochs >= 0, "training.num_train_epochs", t.num_train_epochs, ">= 0");
  check_range(t.max_steps == -1 || t.max_steps > 0, "training.max_steps", t.max_steps, "> 0, or -1 (use num_train_epochs)");
  NEG_CHECK(t.max_steps > 0 || t.num_train_epochs > 0, "set 'training.max_steps' or 'training.num_train_epochs'");
  check_range(t.max_grad_norm >= 0, "training.max_grad_norm", t.max_grad_norm, ">= 0 (0: no clipping)");
  check_range(t.seed >= 0, "training.seed", t.seed, ">= 0");
  check_range(t.eval_steps >= 0, "training.eval_steps", t.eval_steps, ">= 0");
  check_range(t.save_steps >= 0, "training.save_steps", t.save_steps, ">= 0");
  check_range(t.save_total_limit >= 0, "training.save_total_limit", t.save_total_limit, ">= 0");
  check_range(t.logging_steps > 0, "training.logging_steps", t.logging_steps, "> 0");
  check_range(t.threads >= 0, "training.threads", t.threads, ">= 0 (0: torch default)");
}

void validate_evaluator(const EvaluatorOptions& e, const std::string& key) {
  check_choice(key + ".type", e.type, "EmbeddingSimilarityEvaluator", "TripletEvaluator",
               "BinaryClassificationEvaluator", "InformationRetrievalEvaluator");
  NEG_CHECK(!e.path.empty(), "config key '", key, ".path' is required");
  for (size_t j = 0; j < e.similarity_fn_names.size(); ++j) {
    check_choice(key + ".similarity_fn_names." + std::to_string(j), e.similarity_fn_names[j], "cosine", "dot",
                 "euclidean", "manhattan");
  }
  check_range(e.corpus_chunk_size > 0, key + ".corpus_chunk_size", e.corpus_chunk_size, "> 0");
  check_range(e.batch_size > 0, key + ".batch_size", e.batch_size, "> 0");
  check_range(e.score_scale > 0, key + ".score_scale", e.score_scale, "> 0 (gold scores are divided by it)");
  NEG_CHECK(e.corpus_path.empty() == e.qrels_path.empty(), "config keys '", key, ".corpus_path' and '", key,
            ".qrels_path' go together (InformationRetrievalEvaluator, BEIR layout)");
}

}  // namespace

void validate_config(const TrainConfig& c) {
  const auto& t = c.training;
  NEG_CHECK(!c.model.path.empty(), "config key 'model.path' is required");
  check_range(c.model.max_seq_length >= 0, "model.max_seq_length", c.model.max_seq_length, ">= 0 (0: the model's own)");
  NEG_CHECK(!c.output_dir.empty(), "config key 'output_dir' is empty");
  NEG_CHECK(!c.datasets.empty(), "config key 'datasets' needs at least one dataset");
  for (size_t i = 0; i < c.datasets.size(); ++i) {
    const auto& d = c.datasets[i];
    const std::string key = "datasets." + std::to_string(i);
    NEG_CHECK(!d.path.empty(), "config key '", key, ".path' is required");
    NEG_CHECK(d.loss.is_object() && d.loss.contains("name") && d.loss["name"].is_string(), "config key '", key,
              ".loss' must be a map with a 'name' (a loss class name), got ", shown(d.loss));
    check_range(d.weight > 0, key + ".weight", d.weight, "> 0");
  }
  validate_training(t);
  check_range(c.distributed.check_replicas_every >= 0, "distributed.check_replicas_every",
              c.distributed.check_replicas_every, ">= 0");
  check_range(c.distributed.collective_timeout_s >= 0, "distributed.collective_timeout_s",
              c.distributed.collective_timeout_s, ">= 0 (0: off)");
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
  for (size_t i = 0; i < c.evaluators.size(); ++i) validate_evaluator(c.evaluators[i], "evaluators." + std::to_string(i));
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
  NEG_CHECK(root.is_object(), origin, ": a training config is a YAML map of keys (model, datasets, training, ...), "
            "got ", shown(root));
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
