#include "mining/negative_selection.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "common/check.h"

namespace negatron::mining {

int64_t resolved_range_max(const MineOptions& o, int64_t max_rows_per_anchor) {
  if (o.range_max) return *o.range_max;
  const bool filtered = o.absolute_margin || o.relative_margin || o.max_score;
  return o.range_min + o.num_negatives * (filtered ? 10 : 1) + max_rows_per_anchor;
}

std::vector<Negative> select_negatives(const QueryCandidates& q, const MineOptions& o, int64_t range_max,
                                       std::mt19937_64& rng, SelectionCounts& counts) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<Negative> survivors;
  counts.candidates += q.k;
  for (int64_t i = 0; i < q.k; ++i) {
    const float score = q.scores[i];
    const int64_t id = q.ids[i];
    if (id < 0 || std::isinf(score)) continue;
    if (!o.include_positives && std::find(q.positives->begin(), q.positives->end(), id) != q.positives->end()) continue;
    // float32 arithmetic, as sentence-transformers' float32 tensors with Python-float operands.
    if (o.absolute_margin && score + static_cast<float>(*o.absolute_margin) > q.min_positive_score) {
      ++counts.absolute_margin;
      continue;
    }
    if (o.relative_margin &&
        score > q.min_positive_score - std::fabs(q.min_positive_score) * static_cast<float>(*o.relative_margin)) {
      ++counts.relative_margin;
      continue;
    }
    if (o.max_score && score > static_cast<float>(*o.max_score)) {
      ++counts.max_score;
      continue;
    }
    if (o.min_score && score < static_cast<float>(*o.min_score)) {
      ++counts.min_score;
      continue;
    }
    survivors.push_back({score, id});
  }
  // Survivors keep the candidates' order; the window is ranks [range_min, range_max) of them.
  const auto window_end = std::min<size_t>(survivors.size(), static_cast<size_t>(range_max));
  std::vector<Negative> window;
  for (size_t i = static_cast<size_t>(o.range_min); i < window_end; ++i) window.push_back(survivors[i]);
  const size_t wanted = static_cast<size_t>(o.num_negatives);
  std::vector<Negative> chosen;
  if (o.sampling_strategy == "top") {
    chosen.assign(window.begin(), window.begin() + std::min(wanted, window.size()));
  } else {
    // ST samples positions among max(found, num_negatives) (padding included, when too few were
    // found), then sorts the sample best first.
    std::vector<size_t> positions(std::max(wanted, window.size()));
    std::iota(positions.begin(), positions.end(), 0);
    for (size_t i = 0; i < wanted; ++i) {
      std::uniform_int_distribution<size_t> pick(i, positions.size() - 1);
      std::swap(positions[i], positions[pick(rng)]);
    }
    for (size_t i = 0; i < wanted; ++i) {
      if (positions[i] < window.size()) chosen.push_back(window[positions[i]]);
    }
    std::sort(chosen.begin(), chosen.end(), [](const Negative& a, const Negative& b) {
      return a.score != b.score ? a.score > b.score : a.id < b.id;
    });
  }
  chosen.resize(wanted, Negative{-inf, -1});
  return chosen;
}

}  // namespace negatron::mining
