#include "losses/multiple_negatives_symmetric_ranking.h"

#include "losses/gradcache.h"

namespace negatron::losses {

MultipleNegativesSymmetricRankingOptions::MultipleNegativesSymmetricRankingOptions() {
  directions = {"query_to_doc", "doc_to_query"};
  partition_mode = "per_direction";
}

namespace {

std::unique_ptr<Loss> make_mnsrl(const MultipleNegativesSymmetricRankingOptions& options, const LossArgs& args) {
  const LossContext context = with_gather_parameter(args.context, options.gather_across_devices);
  return std::make_unique<MultipleNegativesRankingLoss>(options, context, "MultipleNegativesSymmetricRankingLoss");
}

NEGATRON_REGISTER_LOSS("MultipleNegativesSymmetricRankingLoss", make_mnsrl);
NEGATRON_AT_LOAD(register_cached_loss("CachedMultipleNegativesSymmetricRankingLoss", make_mnsrl));

}  // namespace
}  // namespace negatron::losses
