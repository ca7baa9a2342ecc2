#pragma once
// The one place that knows every loss by name. Each loss file registers itself with
// NEGATRON_REGISTER_LOSS(name, factory), where the factory takes the loss's declared options:
//   std::unique_ptr<Loss> make_x(const XOptions& options, const LossArgs& args);
// XOptions lists its parameters once, with defaults and a doc line, in visit() (common/options_json.h),
// and may have validate() (called once after reading; it may also fill derived values). The registry
// then reads parameters for the loss (wrong type: the parameter and the expected type; unknown key:
// "did you mean", listing the valid ones), writes them back with every default (resolve_loss_spec:
// the resolved config, the model card) and documents them (`negatron loss --name X --help`).
// Pure-function losses need no class: see pure_loss.h.
// A factory that still takes only LossArgs reads its parameters by hand with ParamReader; such a loss
// is made and checked the same way but shows its parameters as given. To convert one: give its
// options struct a visit(), make the factory take (const XOptions&, const LossArgs&), drop ParamReader.
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>
#include <vector>

#include "common/check.h"
#include "common/options_json.h"
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

/// How the registry handles one loss. `resolve` and `parameters` are empty for losses whose
/// parameters are read by hand.
struct LossRegistration {
  LossFactory make;
  std::function<nlohmann::json(const nlohmann::json& params)> resolve;  // params with every default
  std::function<std::vector<options::FieldDoc>()> parameters;
};

bool register_loss(const std::string& name, LossRegistration registration);
/// A loss that reads its parameters by hand (ParamReader).
bool register_loss(const std::string& name, LossFactory factory);
/// A loss with declared options: `make` receives them read, defaulted and validated.
template <class Options>
bool register_loss(const std::string& name, std::unique_ptr<Loss> (*make)(const Options&, const LossArgs&));

std::unique_ptr<Loss> make_loss(const std::string& name, const LossArgs& args);
/// make_loss from a spec {"name": ..., <parameters>}; args.params is replaced by the spec's parameters.
std::unique_ptr<Loss> make_loss_from_spec(const nlohmann::json& spec, LossArgs args);
std::vector<std::string> loss_names();
/// A loss spec {"name": ..., <parameters>} with every declared parameter and its default filled in
/// (wrappers resolve the loss they wrap too); as given for losses that read parameters by hand.
/// Throws on an unknown loss or a bad parameter, naming both.
nlohmann::json resolve_loss_spec(const nlohmann::json& spec);
/// A wrapper's 'loss' parameter (MatryoshkaLoss, AdaptiveLayerLoss) resolved; errors name the parameter.
nlohmann::json resolve_wrapped_loss(const nlohmann::json& spec);
inline constexpr const char* kWrappedLossDoc = "the wrapped loss: {name: <LossClass>, <its parameters>}";
/// The declared parameters of `name`; false (and nothing) when it reads its parameters by hand.
bool loss_parameters(const std::string& name, std::vector<options::FieldDoc>& out);

/// How loss parameters are named in errors: "parameter 'margin'", unknown keys listed, strings strict.
const options::KeyStyle& loss_parameter_style();

namespace detail {
template <class T, class = void>
struct HasValidate : std::false_type {};
template <class T>
struct HasValidate<T, std::void_t<decltype(std::declval<T&>().validate())>> : std::true_type {};
}  // namespace detail

/// Reads `params` into Options for the loss `loss`, then Options::validate() if it has one.
template <class Options>
Options read_loss_options(const std::string& loss, const nlohmann::json& params) {
  return with_error_context(loss, [&] {
    Options result;
    options::read(params, result, loss_parameter_style());
    if constexpr (detail::HasValidate<Options>::value) result.validate();
    return result;
  });
}

/// The registration of a loss with declared options: `make` receives them read and validated.
template <class Options>
LossRegistration declared_loss(const std::string& name,
                               std::function<std::unique_ptr<Loss>(const Options&, const LossArgs&)> make) {
  LossRegistration registration;
  registration.make = [name, make](const LossArgs& args) {
    return make(read_loss_options<Options>(name, args.params), args);
  };
  registration.resolve = [name](const nlohmann::json& params) {
    return options::to_json(read_loss_options<Options>(name, params));
  };
  registration.parameters = [] { return options::describe<Options>(); };
  return registration;
}

template <class Options>
bool register_loss(const std::string& name, std::unique_ptr<Loss> (*make)(const Options&, const LossArgs&)) {
  return register_loss(name, declared_loss<Options>(name, make));
}

/// Reads params[key] with a default, for factories that read parameters by hand; throws naming the
/// loss and key on a wrong type. finish() rejects keys nobody read (typos), listing the valid ones.
class ParamReader {
 public:
  ParamReader(std::string loss, const nlohmann::json& params);
  template <typename T>
  T get(const std::string& key, T fallback);
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
#define NEGATRON_AT_LOAD(registration) \
  static const bool NEGATRON_LOSS_CONCAT(loss_registered_, __LINE__) [[maybe_unused]] = registration
#define NEGATRON_REGISTER_LOSS(name, factory) NEGATRON_AT_LOAD(::negatron::losses::register_loss(name, factory))
