#include "losses/multiple_negatives_symmetric_ranking.h"

#include "losses/registry.h"

namespace negatron::losses {
namespace {

std::unique_ptr<Loss> make_mnsrl(const LossArgs& args) {
  ParamReader params("MultipleNegativesSymmetricRankingLoss", args.params);
  LossContext context = args.context;
  MultipleNegativesRankingOptions options = read_mnrl_options(params, context, /*symmetric=*/true);
  params.finish();
  return std::make_unique<MultipleNegativesRankingLoss>(options, context, "MultipleNegativesSymmetricRankingLoss");
}

NEGATRON_REGISTER_LOSS("MultipleNegativesSymmetricRankingLoss", make_mnsrl);

}  // namespace
}  // namespace negatron::losses
