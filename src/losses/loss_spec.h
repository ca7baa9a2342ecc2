#pragma once
// A loss as a config holds it: {"name": <loss class>, <its parameters>...}. Torch-free, so that the
// config reader (and its torch-free fuzz build) resolves specs without the losses' headers.
#include <nlohmann/json.hpp>

namespace negatron::losses {

/// The spec with every declared parameter and its default filled in (wrappers resolve the loss they
/// wrap too). Throws on an unknown loss or a bad parameter, naming both. Defined by the registry.
nlohmann::json resolve_loss_spec(const nlohmann::json& spec);

}  // namespace negatron::losses
