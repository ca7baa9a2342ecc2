#pragma once
// Correlations as scipy.stats computes them: Pearson r, and Spearman rho = Pearson of ranks with
// ties given their average rank.
#include <vector>

namespace negatron::train {

double pearson(const std::vector<double>& x, const std::vector<double>& y);
double spearman(const std::vector<double>& x, const std::vector<double>& y);
/// 1-based ranks, ties averaged.
std::vector<double> average_ranks(const std::vector<double>& values);

}  // namespace negatron::train
