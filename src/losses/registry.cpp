#include "losses/registry.h"

#include <map>

#include "common/check.h"
#include "common/suggest.h"

namespace negatron::losses {
namespace {

std::map<std::string, LossRegistration>& registrations() {
  static std::map<std::string, LossRegistration> table;
  return table;
}

const LossRegistration& registration_of(const std::string& name) {
  const auto it = registrations().find(name);
  NEG_CHECK(it != registrations().end(), "unknown loss '", name, "' (did you mean '", nearest_name(name, loss_names()),
            "'? known losses: ", join_names(loss_names()), ")");
  return it->second;
}

void check_is_spec(const nlohmann::json& spec, const std::string& what) {
  NEG_CHECK(spec.is_object() && spec.contains("name") && spec["name"].is_string(), what,
            " must be a map {\"name\": <loss>, <its parameters>...}, got ", spec.dump());
}

}  // namespace

bool register_loss(const std::string& name, LossRegistration registration) {
  const bool inserted = registrations().emplace(name, std::move(registration)).second;
  NEG_CHECK(inserted, "loss '", name, "' registered twice");
  return true;
}

std::vector<std::string> loss_names() {
  std::vector<std::string> names;
  for (const auto& entry : registrations()) names.push_back(entry.first);
  return names;
}

std::unique_ptr<Loss> make_loss(const std::string& name, const LossArgs& args) {
  const LossRegistration& registration = registration_of(name);
  NEG_CHECK(args.params.is_object() || args.params.is_null(), "parameters of ", name, " must be a map, got ",
            args.params.dump());
  return registration.make(args);
}

std::unique_ptr<Loss> make_loss_from_spec(const nlohmann::json& spec, LossArgs args) {
  check_is_spec(spec, "a loss");
  args.params = spec;
  args.params.erase("name");
  return make_loss(spec.at("name").get<std::string>(), args);
}

nlohmann::json resolve_loss_spec(const nlohmann::json& spec) {
  check_is_spec(spec, "a loss");
  const std::string name = spec["name"].get<std::string>();
  const LossRegistration& registration = registration_of(name);
  nlohmann::json params = spec;
  params.erase("name");
  nlohmann::json resolved = registration.resolve(params);
  resolved["name"] = name;
  return resolved;
}

nlohmann::json resolve_wrapped_loss(const nlohmann::json& spec) {
  check_is_spec(spec, "parameter 'loss'");
  return with_error_context("parameter 'loss'", [&] { return resolve_loss_spec(spec); });
}

std::vector<options::FieldDoc> loss_option_docs(const std::string& name) { return registration_of(name).parameters(); }

const options::KeyStyle& loss_parameter_style() {
  static const options::KeyStyle style{"parameter", /*list_valid_keys=*/true, /*scalars_as_strings=*/false};
  return style;
}

}  // namespace negatron::losses
