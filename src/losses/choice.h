#pragma once
// Parameters that name one of a fixed set (distance metrics, aggregations): sentence-transformers
// configs write them as enum members ("SiameseDistanceMetric.EUCLIDEAN") or bare names, in any
// case. choose() maps such a name to its value; the error names the parameter and lists the valid names.
#include <initializer_list>
#include <string>
#include <vector>

namespace negatron::losses {

template <class E>
struct Choice {
  const char* name;
  E value;
};

/// `name` without `enum_prefix` (when it starts with it), upper-cased.
std::string choice_key(const std::string& name, const std::string& enum_prefix = "");
[[noreturn]] void fail_choice(const std::string& parameter, const std::string& given,
                              const std::vector<std::string>& valid);

template <class E>
E choose(const std::string& parameter, const std::string& given, std::initializer_list<Choice<E>> choices,
         const std::string& enum_prefix = "") {
  const std::string key = choice_key(given, enum_prefix);
  std::vector<std::string> valid;
  for (const Choice<E>& choice : choices) {
    if (choice_key(choice.name) == key) return choice.value;
    valid.emplace_back(choice.name);
  }
  fail_choice(parameter, given, valid);
}

}  // namespace negatron::losses
