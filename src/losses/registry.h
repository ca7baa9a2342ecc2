#pragma once
// The one place that knows every loss by name. Each loss file registers its factory with
// NEGATRON_REGISTER_LOSS; make_loss() builds one from a name and a JSON/YAML parameter map.
// Unknown names and parameters are errors that list what is valid.
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/check.h"
#include "losses/loss.h"

namespace negatron::losses {

/// What a factory receives. `model` is the model being trained (SoftmaxLoss sizes its classifier
/// from it, ContrastiveTension copies it); it may be null at embedding level (`negatron loss`).
struct LossArgs {
  nlohmann::json params = nlohmann::json::object();
  LossContext context;
  std::shared_ptr<model::SentenceEncoder> model;
};

using LossFactory = std::function<std::unique_ptr<Loss>(const LossArgs&)>;

bool register_loss(const std::string& name, LossFactory factory);
std::unique_ptr<Loss> make_loss(const std::string& name, const LossArgs& args);
std::vector<std::string> loss_names();

/// Reads params[key] with a default; throws naming the loss and key on a wrong type. Factories use
/// ParamReader so that, at the end, finish() rejects keys nobody read (typos), listing the valid ones.
class ParamReader {
 public:
  ParamReader(std::string loss, const nlohmann::json& params);
  template <typename T>
  T get(const std::string& key, T fallback);
  /// A nested loss spec {"name": ..., <params>} (wrappers).
  nlohmann::json get_json(const std::string& key, nlohmann::json fallback);
  void finish() const;

 private:
  std::string loss_;
  nlohmann::json params_;
  std::vector<std::string> known_;
};

template <typename T>
T ParamReader::get(const std::string& key, T fallback) {
  nlohmann::json value = get_json(key, nlohmann::json(fallback));
  try {
    return value.get<T>();
  } catch (const nlohmann::json::exception&) {
    NEG_FAIL(loss_, ": parameter '", key, "' has the wrong type (", value.dump(), ")");
  }
}

}  // namespace negatron::losses

#define NEGATRON_LOSS_CONCAT2(a, b) a##b
#define NEGATRON_LOSS_CONCAT(a, b) NEGATRON_LOSS_CONCAT2(a, b)
#define NEGATRON_REGISTER_LOSS(name, factory) \
  static const bool NEGATRON_LOSS_CONCAT(loss_registered_, __LINE__) [[maybe_unused]] = \
      ::negatron::losses::register_loss(name, factory)
