#pragma once
// The candidates of an in-batch-negative loss: every column it scores against, gathered from all
// ranks in one collective each way (distributed/gather.h), or this rank's own columns when the
// loss's gather_across_devices is off.
#include <optional>

#include "distributed/gather.h"
#include "losses/loss.h"

namespace negatron::losses {

/// `context` with a loss's gather_across_devices parameter applied; null keeps the run's setting
/// (distributed.gather_across_devices).
LossContext with_gather_parameter(LossContext context, std::optional<bool> gather_across_devices);
inline constexpr const char* kGatherDoc =
    "contrast with every rank's candidates (null: distributed.gather_across_devices, on by default; "
    "sentence-transformers defaults to false)";

/// `locals` share this rank's rows; `rank_rows` is the batch plan's row count per rank (empty:
/// unknown, exchanged first). Without gathering: offset 0, total = local rows.
distributed::GatheredColumns gather_candidates(const LossContext& context, const std::vector<at::Tensor>& locals,
                                               const std::vector<int64_t>& rank_rows);

}  // namespace negatron::losses
