#include "common/options_json.h"

#include <algorithm>
#include <sstream>

#include "common/check.h"
#include "common/suggest.h"

namespace negatron::options {

std::string KeyStyle::name(const std::string& path) const {
  return path.empty() ? "the " + noun + "s" : noun + " '" + path + "'";
}

std::string join_path(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

std::string shown(const Json& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace); }

namespace detail {

void fail_type(const KeyStyle& style, const std::string& path, const char* expected, const Json& got) {
  NEG_FAIL(style.name(path), " must be ", expected, ", got ", shown(got));
}

void reject_unknown_keys(const Json& json, const std::vector<std::string>& known, const KeyStyle& style,
                         const std::string& path) {
  if (!json.is_object()) return;
  for (const auto& item : json.items()) {
    if (std::find(known.begin(), known.end(), item.key()) != known.end()) continue;
    const std::string unknown = "unknown " + style.name(join_path(path, item.key()));
    NEG_CHECK(!known.empty(), unknown, " (there are none to set here)");
    const std::string valid = style.list_valid_keys ? " valid: " + join_names(known) : "";
    NEG_FAIL(unknown, " (did you mean '", join_path(path, nearest_name(item.key(), known)), "'?", valid, ")");
  }
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');) parts.push_back(part);
  return parts;
}

}  // namespace detail
}  // namespace negatron::options
