#include "losses/choice.h"

#include <algorithm>
#include <cctype>

#include "common/check.h"
#include "common/suggest.h"

namespace negatron::losses {

std::string choice_key(const std::string& name, const std::string& enum_prefix) {
  std::string key = !enum_prefix.empty() && name.rfind(enum_prefix, 0) == 0 ? name.substr(enum_prefix.size()) : name;
  std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::toupper(c); });
  return key;
}

void fail_choice(const std::string& parameter, const std::string& given, const std::vector<std::string>& valid) {
  NEG_FAIL("parameter '", parameter, "' is '", given, "' (valid: ", join_names(valid), ")");
}

}  // namespace negatron::losses
