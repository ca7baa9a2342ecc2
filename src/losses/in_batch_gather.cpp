#include "losses/in_batch_gather.h"

namespace negatron::losses {

LossContext with_gather_parameter(LossContext context, std::optional<bool> gather_across_devices) {
  if (gather_across_devices) context.gather_across_devices = *gather_across_devices;
  return context;
}

distributed::GatheredColumns gather_candidates(const LossContext& context, const std::vector<at::Tensor>& locals,
                                               const std::vector<int64_t>& rank_rows) {
  if (context.gather_across_devices) return distributed::all_gather_columns(*context.comm, locals, rank_rows);
  distributed::GatheredColumns own;
  own.global = locals;
  own.total = locals.front().size(0);
  return own;
}

}  // namespace negatron::losses
