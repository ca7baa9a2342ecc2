#include "losses/registry.h"

#include <map>

#include "common/check.h"

namespace negatron::losses {
namespace {

std::map<std::string, LossFactory>& factories() {
  static std::map<std::string, LossFactory> table;
  return table;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

bool register_loss(const std::string& name, LossFactory factory) {
  const bool inserted = factories().emplace(name, std::move(factory)).second;
  NEG_CHECK(inserted, "loss '", name, "' registered twice");
  return true;
}

std::vector<std::string> loss_names() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : factories()) names.push_back(name);
  return names;
}

std::unique_ptr<Loss> make_loss(const std::string& name, const LossArgs& args) {
  auto it = factories().find(name);
  NEG_CHECK(it != factories().end(), "unknown loss '", name, "'; known losses: ", joined(loss_names()));
  NEG_CHECK(args.params.is_object() || args.params.is_null(), "parameters of ", name, " must be a map, got ",
            args.params.dump());
  return it->second(args);
}

ParamReader::ParamReader(std::string loss, const nlohmann::json& params)
    : loss_(std::move(loss)), params_(params.is_null() ? nlohmann::json::object() : params) {}

nlohmann::json ParamReader::get_json(const std::string& key, nlohmann::json fallback) {
  known_.push_back(key);
  auto it = params_.find(key);
  return it == params_.end() ? fallback : *it;
}

void ParamReader::finish() const {
  for (const auto& item : params_.items()) {
    bool known = false;
    for (const auto& k : known_) known = known || k == item.key();
    NEG_CHECK(known, loss_, ": unknown parameter '", item.key(), "' (valid: ", joined(known_), ")");
  }
}

}  // namespace negatron::losses
