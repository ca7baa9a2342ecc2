#include "common/suggest.h"

#include <algorithm>
#include <cstdint>

namespace negatron {
namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t next = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = row[j];
      row[j] = next;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string nearest_name(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = SIZE_MAX;
  for (const auto& candidate : candidates) {
    size_t d = edit_distance(word, candidate);
    if (candidate.find(word) != std::string::npos || word.find(candidate) != std::string::npos)
      d = std::min<size_t>(d, 2);
    if (d < best_distance) best_distance = d, best = candidate;
  }
  return best;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  const char* separator = "";
  for (const auto& name : names) {
    out.append(separator).append(name);
    separator = ", ";
  }
  return out;
}

}  // namespace negatron
