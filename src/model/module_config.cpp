#include "model/module_config.h"

#include "common/check.h"
#include "common/json_file.h"

namespace negatron::model {
namespace {

constexpr const char* kModes[] = {"cls", "max", "mean", "mean_sqrt_len_tokens", "weightedmean", "lasttoken"};
constexpr std::pair<const char*, const char*> kLegacyKeys[] = {
    {"pooling_mode_cls_token", "cls"},
    {"pooling_mode_max_tokens", "max"},
    {"pooling_mode_mean_tokens", "mean"},
    {"pooling_mode_mean_sqrt_len_tokens", "mean_sqrt_len_tokens"},
    {"pooling_mode_weightedmean_tokens", "weightedmean"},
    {"pooling_mode_lasttoken", "lasttoken"},
};
constexpr std::pair<const char*, const char*> kActivations[] = {
    {"torch.nn.modules.activation.Tanh", "tanh"},       {"torch.nn.modules.linear.Identity", "identity"},
    {"torch.nn.modules.activation.ReLU", "relu"},       {"torch.nn.modules.activation.GELU", "gelu"},
    {"torch.nn.modules.activation.Sigmoid", "sigmoid"}, {"torch.nn.modules.activation.SiLU", "silu"},
};

void check_mode(const std::string& mode, const std::string& origin) {
  for (const char* known : kModes) {
    if (mode == known) return;
  }
  NEG_FAIL(origin, ": invalid pooling mode '", mode,
           "' (valid: cls, max, mean, mean_sqrt_len_tokens, weightedmean, lasttoken)");
}

int64_t dimension(const JsonFile& file, const nlohmann::json& json, const char* key) {
  const auto value = file.required<int64_t>(json, key);
  NEG_CHECK(value > 0 && value <= kMaxFeatureDimension, file.origin(), ": '", key, "' = ", value, " must be in [1, ",
            kMaxFeatureDimension, "]");
  return value;
}

// "sentence_transformers.models.Pooling" and the v6 paths both end in the class name.
std::string module_class(const std::string& type) {
  const auto dot = type.rfind('.');
  return dot == std::string::npos ? type : type.substr(dot + 1);
}

/// A module path must stay inside the model folder: relative, no ".." component.
void check_module_path(const std::string& path, const std::string& origin) {
  NEG_CHECK(path.empty() || path.front() != '/', origin, ": module path '", path, "' must be relative to the model folder");
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    NEG_CHECK(path.compare(start, slash - start, "..") != 0, origin, ": module path '", path,
              "' leaves the model folder");
    start = slash + 1;
  }
  NEG_CHECK(path.find('\0') == std::string::npos, origin, ": module path has a NUL byte");
}

}  // namespace

PoolingOptions PoolingOptions::from_json(const nlohmann::json& json, const std::string& origin) {
  const JsonFile file(origin);
  NEG_CHECK(json.is_object(), origin, ": expected a JSON object");
  PoolingOptions options;
  options.embedding_dimension =
      dimension(file, json, json.contains("embedding_dimension") ? "embedding_dimension" : "word_embedding_dimension");
  if (const nlohmann::json* mode = JsonFile::find(json, "pooling_mode")) {
    options.modes = mode->is_string() ? std::vector<std::string>{mode->get<std::string>()}
                                      : file.get<std::vector<std::string>>(*mode, "pooling_mode");
    NEG_CHECK(!options.modes.empty(), origin, ": 'pooling_mode' is an empty list");
  } else {
    std::vector<std::string> legacy;
    for (const auto& [key, mode] : kLegacyKeys) {
      if (file.get_or<bool>(json, key, false)) legacy.emplace_back(mode);
    }
    if (!legacy.empty()) options.modes = legacy;
  }
  for (const auto& m : options.modes) check_mode(m, origin);
  options.include_prompt = file.get_or<bool>(json, "include_prompt", true);
  return options;
}

nlohmann::json PoolingOptions::to_json() const {
  nlohmann::json json;
  json["embedding_dimension"] = embedding_dimension;
  json["pooling_mode"] = modes.size() == 1 ? nlohmann::json(modes[0]) : nlohmann::json(modes);
  json["include_prompt"] = include_prompt;
  return json;
}

const char* dense_activation_name(const std::string& class_path, const std::string& origin) {
  for (const auto& [full, name] : kActivations) {
    if (class_path == full) return name;
  }
  NEG_FAIL(origin, ": unsupported activation_function '", class_path,
           "' (supported: Tanh, Identity, ReLU, GELU, Sigmoid, SiLU from torch.nn)");
}

DenseOptions DenseOptions::from_json(const nlohmann::json& json, const std::string& origin) {
  const JsonFile file(origin);
  NEG_CHECK(json.is_object(), origin, ": Dense config must be a JSON object with in_features and out_features");
  DenseOptions o;
  o.in_features = dimension(file, json, "in_features");
  o.out_features = dimension(file, json, "out_features");
  o.bias = file.get_or<bool>(json, "bias", true);
  o.activation_function = file.get_or<std::string>(json, "activation_function", o.activation_function);
  o.use_residual = file.get_or<bool>(json, "use_residual", false);
  dense_activation_name(o.activation_function, origin);
  return o;
}

nlohmann::json DenseOptions::to_json() const {
  nlohmann::json json{{"in_features", in_features}, {"out_features", out_features}, {"bias", bias},
                      {"activation_function", activation_function}};
  if (use_residual) json["use_residual"] = true;
  return json;
}

std::vector<ModuleEntry> parse_modules_json(const nlohmann::json& json, const std::string& origin) {
  NEG_CHECK(json.is_array() && !json.empty(), origin, ": expected a non-empty list of modules");
  const JsonFile file(origin);
  std::vector<ModuleEntry> modules;
  int transformers = 0;
  for (size_t i = 0; i < json.size(); ++i) {
    const std::string where = "[" + std::to_string(i) + "].";
    NEG_CHECK(json[i].is_object(), origin, ": module ", i, " must be an object with 'type' and 'path'");
    ModuleEntry entry;
    entry.type = file.get_or<std::string>(json[i], "type", "", where);
    entry.path = file.get_or<std::string>(json[i], "path", "", where);
    entry.kind = module_class(entry.type);
    check_module_path(entry.path, origin);
    NEG_CHECK(entry.kind == "Transformer" || entry.kind == "Pooling" || entry.kind == "Dense" ||
                  entry.kind == "Normalize",
              origin, ": unsupported module type '", entry.type,
              "' (supported: Transformer, Pooling, Dense, Normalize)");
    transformers += entry.kind == "Transformer";
    modules.push_back(std::move(entry));
  }
  NEG_CHECK(transformers == 1, origin, transformers == 0 ? ": no Transformer module" : ": more than one Transformer module");
  return modules;
}

}  // namespace negatron::model
