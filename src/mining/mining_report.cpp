#include "mining/mining_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/log.h"

namespace negatron::mining {
namespace {

/// torch.quantile's linear interpolation on sorted values.
double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return NAN;
  const double at = q * static_cast<double>(sorted.size() - 1);
  const auto low = static_cast<size_t>(std::floor(at));
  const size_t high = std::min(low + 1, sorted.size() - 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (at - static_cast<double>(low));
}

struct Column {
  std::vector<double> values;
  double stat(const std::string& name) const {
    if (values.empty()) return NAN;
    double sum = 0;
    for (double v : values) sum += v;
    const double mean = sum / static_cast<double>(values.size());
    if (name == "Mean") return mean;
    if (name == "Std") {
      double squares = 0;
      for (double v : values) squares += (v - mean) * (v - mean);
      return values.size() > 1 ? std::sqrt(squares / static_cast<double>(values.size() - 1)) : NAN;
    }
    std::vector<double> sorted = values;
    std::sort(sorted.begin(), sorted.end());
    if (name == "Median") return sorted[(sorted.size() - 1) / 2];  // torch.median: the lower middle
    if (name == "Min") return sorted.front();
    if (name == "Max") return sorted.back();
    return quantile(sorted, name == "25%" ? 0.25 : name == "50%" ? 0.5 : 0.75);
  }
};

}  // namespace

void log_mining_report(const MinedRows& rows, const SelectionCounts& counts, const MineOptions& o) {
  Column positive, negative, difference;
  const int64_t stride = rows.width + 1;
  for (int64_t r = 0; r < rows.rows(); ++r) {
    const double pos = rows.scores[r * stride];
    positive.values.push_back(pos);
    for (int64_t i = 1; i < stride; ++i) {
      negative.values.push_back(rows.scores[r * stride + i]);
      difference.values.push_back(pos - rows.scores[r * stride + i]);
    }
  }
  char line[160];
  std::snprintf(line, sizeof line, "%-6s %14s %14s %14s", "Metric", "Positive", "Negative", "Difference");
  log::info0(line);
  std::snprintf(line, sizeof line, "%-6s %14zu %14zu", "Count", positive.values.size(), negative.values.size());
  log::info0(line);
  for (const char* name : {"Mean", "Median", "Std", "Min", "25%", "50%", "75%", "Max"}) {
    std::snprintf(line, sizeof line, "%-6s %14.4f %14.4f %14.4f", name, positive.stat(name), negative.stat(name),
                  difference.stat(name));
    log::info0(line);
  }
  const std::pair<const char*, int64_t> skips[] = {{"absolute_margin", counts.absolute_margin},
                                                   {"relative_margin", counts.relative_margin},
                                                   {"max_score", counts.max_score},
                                                   {"min_score", counts.min_score}};
  for (const auto& [name, skipped] : skips) {
    if (skipped == 0) continue;
    log::info0("Skipped ", skipped, " potential negatives (",
               100.0 * static_cast<double>(skipped) / static_cast<double>(std::max<int64_t>(1, counts.candidates)),
               "%) due to the ", name, ".");
  }
  if (rows.missing > 0) {
    log::info0("Could not find enough negatives for ", rows.missing,
               o.output_format == "triplet" ? " negative slot(s)" : " (anchor, positive) pair(s)",
               "; consider adjusting --range-max, --range-min, the margins or --max-score.");
  }
}

}  // namespace negatron::mining
