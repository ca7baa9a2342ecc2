#pragma once
// The candidates of an in-batch-negative loss: every column it scores against, gathered from all
// ranks in one collective each way (distributed/gather.h), or this rank's own columns when the
// loss's gather_across_devices is off.
#include "distributed/gather.h"
#include "losses/loss.h"

namespace negatron::losses {

/// `locals` share this rank's rows; `rank_rows` is the batch plan's row count per rank (empty:
/// unknown, exchanged first). Without gathering: offset 0, total = local rows.
distributed::GatheredColumns gather_candidates(const LossContext& context, const std::vector<at::Tensor>& locals,
                                               const std::vector<int64_t>& rank_rows);

}  // namespace negatron::losses
