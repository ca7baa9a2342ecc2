#pragma once
// Correlations as scipy.stats computes them: Pearson r, and Spearman rho = Pearson of ranks with
// ties given their average rank. Binary-classification statistics as scikit-learn and
// sentence-transformers' BinaryClassificationEvaluator compute them.
#include <vector>

namespace negatron::train {

double pearson(const std::vector<double>& x, const std::vector<double>& y);
double spearman(const std::vector<double>& x, const std::vector<double>& y);
/// 1-based ranks, ties averaged.
std::vector<double> average_ranks(const std::vector<double>& values);

/// sklearn.metrics.average_precision_score for 0/1 labels: sum over distinct score thresholds, from
/// the highest, of (recall gain) x precision; tied scores form one threshold. No positives: 0.
double average_precision(const std::vector<int>& labels, const std::vector<double>& scores);
/// sklearn.metrics.matthews_corrcoef for 0/1 labels and predictions; 0 when undefined.
double matthews_corrcoef(const std::vector<int>& labels, const std::vector<int>& predicted);

/// Best accuracy over thresholds between neighbours of the scores sorted most-similar first (a stable
/// sort, so ties keep their input order), as sentence-transformers finds it: the threshold is the
/// midpoint of the two neighbours; accuracy 0 and threshold -1 when nothing is better.
struct AccuracyThreshold {
  double accuracy = 0, threshold = -1;
};
AccuracyThreshold best_accuracy_threshold(const std::vector<double>& scores, const std::vector<int>& labels,
                                          bool greater_is_better);
/// Likewise the best F1 (and its precision and recall); all 0 when there are no positives.
struct F1Threshold {
  double f1 = 0, precision = 0, recall = 0, threshold = 0;
};
F1Threshold best_f1_threshold(const std::vector<double>& scores, const std::vector<int>& labels,
                              bool greater_is_better);

}  // namespace negatron::train
