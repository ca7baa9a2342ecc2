#pragma once
// YAML <-> TrainConfig. The only yaml-cpp user. Errors name the key path ("training.lr" ->
// "unknown key 'training.lr' (did you mean 'training.learning_rate'?)") and the file.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "train/options.h"

namespace negatron::train {

/// Reads a YAML file, applies `key.path=value` overrides (values parsed as YAML scalars/flow
/// collections; list items by index: datasets.0.path=...), expands ${ENV} in strings, validates.
TrainConfig load_config(const std::string& path, const std::vector<std::string>& overrides = {});
/// Same from YAML text (tests).
TrainConfig parse_config(const std::string& yaml_text, const std::string& origin,
                         const std::vector<std::string>& overrides = {});
/// The resolved config, every default included, as YAML.
std::string dump_config(const TrainConfig& config);
/// The same as JSON.
nlohmann::json config_json(const TrainConfig& config);
/// Flattened "a.b.c=value" lines (sorted), for the cross-rank consistency check.
std::vector<std::string> flatten_config(const TrainConfig& config);
/// Checks values that have a fixed set of choices or ranges; errors name the key.
void validate_config(const TrainConfig& config);

}  // namespace negatron::train
