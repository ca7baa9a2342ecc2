#include "losses/margin_mse.h"

#include "common/check.h"
#include "losses/pure_loss.h"
#include "losses/similarity.h"

namespace negatron::losses {
namespace {

const char* kInputs =
    "(query, positive, negative_1, ..., negative_n) | [B] or [B, n] teacher margins, or [B, n + 1] teacher scores";

/// The spec knows one label kind, [B, k]; [B] margins are taken as [B, 1].
at::Tensor as_matrix(const at::Tensor& labels) { return labels.dim() == 1 ? labels.unsqueeze(1) : labels; }

}  // namespace

void MarginMSEOptions::validate() const { pairwise_similarity_by_name(similarity_fct, "parameter 'similarity_fct'"); }

at::Tensor margin_mse_loss(const std::vector<at::Tensor>& columns, const at::Tensor& teacher,
                           const MarginMSEOptions& options) {
  const SimilarityFn similarity = pairwise_similarity_by_name(options.similarity_fct, "similarity_fct");
  const int64_t batch = columns[0].size(0);
  const int64_t negatives = static_cast<int64_t>(columns.size()) - 2;
  at::Tensor labels = as_matrix(teacher.detach());
  if (labels.size(1) == negatives + 1) labels = labels.slice(1, 0, 1) - labels.slice(1, 1);
  NEG_CHECK(labels.dim() == 2 && labels.size(0) == batch && labels.size(1) == negatives, "MarginMSELoss: labels of shape ",
            labels.sizes(), " for ", negatives, " negative column(s); expected [", batch, "] or [", batch, ", ",
            negatives, "] margins or [", batch, ", ", negatives + 1, "] scores (Inputs: ", kInputs, ")");
  const at::Tensor positive = similarity(columns[0], columns[1]);
  std::vector<at::Tensor> margins;
  for (size_t k = 2; k < columns.size(); ++k) margins.push_back(positive - similarity(columns[0], columns[k]));
  const at::Tensor predicted = at::stack(margins, 1);
  return at::mse_loss(predicted, labels.to(predicted.scalar_type()));
}

NEGATRON_REGISTER_PURE_LOSS({"MarginMSELoss", 3, -1, LabelKind::kFloat32Vector, kInputs}, margin_mse_loss, as_matrix);

}  // namespace negatron::losses
