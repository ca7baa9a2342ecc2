#pragma once
// The JSON side of a sentence-transformers folder, without torch (so it can be fuzzed on its own):
// modules.json and the Pooling and Dense module configs. Every value is type- and range-checked;
// errors name the file and the key.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace negatron::model {

/// Largest embedding / feature width accepted from a config file.
constexpr int64_t kMaxFeatureDimension = int64_t{1} << 20;

struct PoolingOptions {
  int64_t embedding_dimension = 0;
  std::vector<std::string> modes = {"mean"};
  bool include_prompt = true;

  /// Reads the v6 keys (pooling_mode, include_prompt) and the legacy pooling_mode_* booleans.
  static PoolingOptions from_json(const nlohmann::json& json, const std::string& origin);
  /// Writes the v6 keys.
  nlohmann::json to_json() const;
  int64_t output_dimension() const { return embedding_dimension * static_cast<int64_t>(modes.size()); }
};

struct DenseOptions {
  int64_t in_features = 0;
  int64_t out_features = 0;
  bool bias = true;
  /// Python class path, as sentence-transformers writes it.
  std::string activation_function = "torch.nn.modules.activation.Tanh";
  bool use_residual = false;

  static DenseOptions from_json(const nlohmann::json& json, const std::string& origin);
  nlohmann::json to_json() const;
};

/// "tanh", "identity", ... for a Dense activation_function class path; throws naming `origin`.
const char* dense_activation_name(const std::string& class_path, const std::string& origin);

/// One entry of modules.json.
struct ModuleEntry {
  std::string kind;  // Transformer | Pooling | Dense | Normalize
  std::string type;  // as written, e.g. "sentence_transformers.models.Pooling"
  std::string path;  // relative to the model folder ("" for the folder itself)
};

/// modules.json: a non-empty list of {type, path}; paths stay inside the model folder; exactly
/// one Transformer. Unsupported module types are errors listing the supported ones.
std::vector<ModuleEntry> parse_modules_json(const nlohmann::json& json, const std::string& origin);

}  // namespace negatron::model
