#include "losses/global_orthogonal_regularization.h"

#include "common/check.h"
#include "losses/choice.h"
#include "losses/pure_loss.h"
#include "losses/similarity.h"

namespace negatron::losses {
namespace {

bool sums(const std::string& aggregation) {
  return choose<bool>("aggregation", aggregation, {{"mean", false}, {"sum", true}});
}

}  // namespace

void GorOptions::validate() const {
  similarity_by_name(similarity_fct, "parameter 'similarity_fct'");
  sums(aggregation);
  NEG_CHECK(mean_weight.value_or(0) != 0 || second_moment_weight.value_or(0) != 0,
            "at least one of mean_weight or second_moment_weight must be non-zero");
}

at::Tensor global_orthogonal_regularization(const std::vector<at::Tensor>& columns, const at::Tensor& /*labels*/,
                                            const GorOptions& options) {
  const SimilarityFn similarity_fn = similarity_by_name(options.similarity_fct, "similarity_fct");
  std::vector<at::Tensor> mean_terms, second_moment_terms;
  for (const auto& embeddings : columns) {
    const int64_t batch = embeddings.size(0);
    const at::Tensor self = at::eye(batch, embeddings.options().dtype(at::kBool));
    const at::Tensor similarity = similarity_fn(embeddings, embeddings).masked_fill(self, 0.0);
    const double off_diagonal = static_cast<double>(batch * (batch - 1));
    mean_terms.push_back((similarity.sum() / off_diagonal).pow(2));
    const at::Tensor second_moment = similarity.pow(2).sum() / off_diagonal;
    second_moment_terms.push_back(at::relu(second_moment - 1.0 / static_cast<double>(embeddings.size(1))));
  }
  const bool sum_aggregation = sums(options.aggregation);
  auto aggregate = [&](const std::vector<at::Tensor>& terms) {
    const at::Tensor stacked = at::stack(terms);
    return sum_aggregation ? stacked.sum() : stacked.mean();
  };
  const double mean_weight = options.mean_weight.value_or(0);
  const double second_moment_weight = options.second_moment_weight.value_or(0);
  at::Tensor loss;
  if (mean_weight != 0) loss = mean_weight * aggregate(mean_terms);
  if (second_moment_weight != 0) {
    const at::Tensor term = second_moment_weight * aggregate(second_moment_terms);
    loss = loss.defined() ? loss + term : term;
  }
  return loss;
}

NEGATRON_REGISTER_PURE_LOSS({"GlobalOrthogonalRegularizationLoss", 1, -1, LabelKind::kNone,
                             "any number of columns | none"},
                            global_orthogonal_regularization);

}  // namespace negatron::losses
