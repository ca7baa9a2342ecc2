#pragma once
// "Did you mean ...?" for names typed by people: config keys, loss parameters, loss names.
#include <string>
#include <vector>

namespace negatron {

/// The candidate closest to `word` by edit distance (a candidate that contains `word`, or is
/// contained in it, counts as distance 2 at most); "" when there are no candidates.
std::string nearest_name(const std::string& word, const std::vector<std::string>& candidates);

/// "a, b, c".
std::string join_names(const std::vector<std::string>& names);

}  // namespace negatron
