#pragma once
// The one place that knows every loss by name. Each loss file registers itself with
// NEGATRON_REGISTER_LOSS(name, factory), where the factory takes the loss's declared options:
//   std::unique_ptr<Loss> make_x(const XOptions& options, const LossArgs& args);
// XOptions lists its parameters once, with defaults and a doc line, in visit() (common/options_json.h),
// and may have validate() (called once after reading; it may also fill derived values). The registry
// then reads parameters for the loss (wrong type: the parameter and the expected type; unknown key:
// "did you mean", listing the valid ones), writes them back with every default (resolve_loss_spec:
// the resolved config, the model card) and documents them (`negatron loss --name X --help`).
// Pure-function losses need no class: see pure_loss.h; cached losses: register_cached_loss (gradcache.h).
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>
#include <vector>

#include "common/check.h"
#include "common/options_json.h"
#include "losses/loss.h"
#include "losses/loss_spec.h"

namespace negatron::losses {

/// What a factory receives. `model` is the model being trained (SoftmaxLoss sizes its classifier
/// from it, ContrastiveTension copies it); it may be null at embedding level (`negatron loss`).
struct LossArgs {
  nlohmann::json params = nlohmann::json::object();
  LossContext context;
  std::shared_ptr<model::SentenceEncoder> model;
};

using LossFactory = std::function<std::unique_ptr<Loss>(const LossArgs&)>;

/// How the registry handles one loss.
struct LossRegistration {
  LossFactory make;
  std::function<nlohmann::json(const nlohmann::json& params)> resolve;  // params with every default
  std::function<std::vector<options::FieldDoc>()> parameters;
};

bool register_loss(const std::string& name, LossRegistration registration);
/// A loss with declared options: `make` receives them read, defaulted and validated.
template <class Options>
bool register_loss(const std::string& name, std::unique_ptr<Loss> (*make)(const Options&, const LossArgs&));

std::unique_ptr<Loss> make_loss(const std::string& name, const LossArgs& args);
/// make_loss from a spec {"name": ..., <parameters>}; args.params is replaced by the spec's parameters.
std::unique_ptr<Loss> make_loss_from_spec(const nlohmann::json& spec, LossArgs args);
std::vector<std::string> loss_names();
/// A wrapper's 'loss' parameter (MatryoshkaLoss, AdaptiveLayerLoss) resolved; errors name the parameter.
nlohmann::json resolve_wrapped_loss(const nlohmann::json& spec);
inline constexpr const char* kWrappedLossDoc = "the wrapped loss: {name: <LossClass>, <its parameters>}";
/// The declared parameters of `name`, in declaration order.
std::vector<options::FieldDoc> loss_option_docs(const std::string& name);

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

}  // namespace negatron::losses

#define NEGATRON_LOSS_CONCAT2(a, b) a##b
#define NEGATRON_LOSS_CONCAT(a, b) NEGATRON_LOSS_CONCAT2(a, b)
#define NEGATRON_AT_LOAD(registration) \
  static const bool NEGATRON_LOSS_CONCAT(loss_registered_, __LINE__) [[maybe_unused]] = registration
#define NEGATRON_REGISTER_LOSS(name, factory) NEGATRON_AT_LOAD(::negatron::losses::register_loss(name, factory))
