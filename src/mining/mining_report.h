#pragma once
// The summary mine_hard_negatives prints after mining: positive, negative and difference scores
// (count, mean, median, std, min, quartiles, max), the candidates each filter removed, and how many
// rows could not get their negatives. Logged on rank 0.
#include "mining/mined_dataset.h"
#include "mining/negative_selection.h"

namespace negatron::mining {

void log_mining_report(const MinedRows& rows, const SelectionCounts& counts, const MineOptions& options);

}  // namespace negatron::mining
