#include "data/rank_balance.h"

#include <algorithm>
#include <numeric>

#include "common/check.h"

namespace negatron::data {

std::vector<int64_t> balance_ranks(const std::vector<int64_t>& global, const std::vector<int64_t>& cost,
                                   int world_size, int64_t unit) {
  const auto rows = static_cast<int64_t>(global.size());
  NEG_CHECK(static_cast<int64_t>(cost.size()) == rows, "balance_ranks: ", cost.size(), " costs for ", rows, " rows");
  NEG_CHECK(world_size >= 1 && unit >= 1 && rows % (world_size * unit) == 0, "balance_ranks: ", rows,
            " rows do not split into ", world_size, " ranks of whole units of ", unit);
  const int64_t units = rows / unit;
  const int64_t units_per_rank = units / world_size;
  std::vector<int64_t> unit_cost(units, 0);
  for (int64_t i = 0; i < rows; ++i) unit_cost[i / unit] += cost[i];
  std::vector<int64_t> order(units);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return unit_cost[a] > unit_cost[b]; });

  std::vector<int64_t> load(world_size, 0), taken(world_size, 0);
  std::vector<int> owner(units, 0);
  for (int64_t u : order) {
    int best = -1;
    for (int r = 0; r < world_size; ++r) {
      if (taken[r] < units_per_rank && (best < 0 || load[r] < load[best])) best = r;
    }
    owner[u] = best;
    load[best] += unit_cost[u];
    ++taken[best];
  }
  std::vector<int64_t> out;
  out.reserve(rows);
  for (int r = 0; r < world_size; ++r) {
    for (int64_t u = 0; u < units; ++u) {
      if (owner[u] == r) out.insert(out.end(), global.begin() + u * unit, global.begin() + (u + 1) * unit);
    }
  }
  return out;
}

}  // namespace negatron::data
