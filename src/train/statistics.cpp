#include "train/statistics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "common/check.h"

namespace negatron::train {

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  NEG_CHECK(x.size() == y.size() && x.size() >= 2, "pearson needs two equal-length series of >= 2 values");
  const double n = static_cast<double>(x.size());
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  if (sxx == 0 || syy == 0) return std::nan("");  // constant input: undefined, as scipy
  return sxy / std::sqrt(sxx * syy);
}

std::vector<double> average_ranks(const std::vector<double>& values) {
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(values.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && values[order[j + 1]] == values[order[i]]) ++j;
    const double rank = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (size_t k = i; k <= j; ++k) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  return pearson(average_ranks(x), average_ranks(y));
}

double average_precision(const std::vector<int>& labels, const std::vector<double>& scores) {
  NEG_CHECK(labels.size() == scores.size(), "average_precision needs one score per label");
  const double positives = static_cast<double>(std::count(labels.begin(), labels.end(), 1));
  if (positives == 0) return 0.0;
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  double ap = 0, true_positives = 0, previous_recall = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    true_positives += labels[order[i]] == 1 ? 1 : 0;
    if (i + 1 < order.size() && scores[order[i + 1]] == scores[order[i]]) continue;  // one threshold per tie group
    const double precision = true_positives / static_cast<double>(i + 1);
    const double recall = true_positives / positives;
    ap += (recall - previous_recall) * precision;
    previous_recall = recall;
  }
  return ap;
}

double matthews_corrcoef(const std::vector<int>& labels, const std::vector<int>& predicted) {
  NEG_CHECK(labels.size() == predicted.size(), "matthews_corrcoef needs one prediction per label");
  // sklearn's multiclass form on the 2 x 2 confusion matrix (classes 0 and 1).
  double confusion[2][2] = {{0, 0}, {0, 0}};
  for (size_t i = 0; i < labels.size(); ++i) confusion[labels[i] == 1][predicted[i] == 1] += 1;
  const double t_sum[2] = {confusion[0][0] + confusion[0][1], confusion[1][0] + confusion[1][1]};
  const double p_sum[2] = {confusion[0][0] + confusion[1][0], confusion[0][1] + confusion[1][1]};
  const double correct = confusion[0][0] + confusion[1][1];
  const double n = static_cast<double>(labels.size());
  const double cov_ytyp = correct * n - (t_sum[0] * p_sum[0] + t_sum[1] * p_sum[1]);
  const double cov_ypyp = n * n - (p_sum[0] * p_sum[0] + p_sum[1] * p_sum[1]);
  const double cov_ytyt = n * n - (t_sum[0] * t_sum[0] + t_sum[1] * t_sum[1]);
  const double denominator = cov_ypyp * cov_ytyt;
  return denominator == 0 ? 0.0 : cov_ytyp / std::sqrt(denominator);
}

namespace {

/// Indices sorted most-similar first, ties in input order (Python's stable sorted(reverse=...)).
std::vector<size_t> most_similar_first(const std::vector<double>& scores, bool greater_is_better) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return greater_is_better ? scores[a] > scores[b] : scores[a] < scores[b];
  });
  return order;
}

}  // namespace

AccuracyThreshold best_accuracy_threshold(const std::vector<double>& scores, const std::vector<int>& labels,
                                          bool greater_is_better) {
  NEG_CHECK(labels.size() == scores.size(), "best_accuracy_threshold needs one score per label");
  const std::vector<size_t> order = most_similar_first(scores, greater_is_better);
  const double n = static_cast<double>(labels.size());
  AccuracyThreshold best;
  double positives_so_far = 0;
  double remaining_negatives = static_cast<double>(std::count(labels.begin(), labels.end(), 0));
  for (size_t i = 0; i + 1 < order.size(); ++i) {
    if (labels[order[i]] == 1) {
      positives_so_far += 1;
    } else {
      remaining_negatives -= 1;
    }
    const double accuracy = (positives_so_far + remaining_negatives) / n;
    if (accuracy > best.accuracy) {
      best.accuracy = accuracy;
      best.threshold = (scores[order[i]] + scores[order[i + 1]]) / 2;
    }
  }
  return best;
}

F1Threshold best_f1_threshold(const std::vector<double>& scores, const std::vector<int>& labels,
                              bool greater_is_better) {
  NEG_CHECK(labels.size() == scores.size(), "best_f1_threshold needs one score per label");
  const std::vector<size_t> order = most_similar_first(scores, greater_is_better);
  const double positives = static_cast<double>(std::count(labels.begin(), labels.end(), 1));
  F1Threshold best;
  double extracted = 0, correct = 0;
  for (size_t i = 0; i + 1 < order.size(); ++i) {
    extracted += 1;
    if (labels[order[i]] == 1) correct += 1;
    if (correct == 0) continue;
    const double precision = correct / extracted, recall = correct / positives;
    const double f1 = 2 * precision * recall / (precision + recall);
    if (f1 > best.f1) {
      best = {f1, precision, recall, (scores[order[i]] + scores[order[i + 1]]) / 2};
    }
  }
  return best;
}

}  // namespace negatron::train
