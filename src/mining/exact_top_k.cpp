#include "mining/exact_top_k.h"

#include <limits>

#include "common/check.h"

namespace negatron::mining {
namespace {

/// Reorders each row's entries by (score descending, id ascending).
void sort_rows(at::Tensor& scores, at::Tensor& ids) {
  const at::Tensor by_id = ids.argsort(/*stable=*/true, /*dim=*/1);
  scores = scores.gather(1, by_id);
  ids = ids.gather(1, by_id);
  const at::Tensor by_score = std::get<1>(scores.sort(/*stable=*/true, /*dim=*/1, /*descending=*/true));
  scores = scores.gather(1, by_score);
  ids = ids.gather(1, by_score);
}

}  // namespace

TopK top_k_ordered(const at::Tensor& scores, const at::Tensor& ids, int64_t k) {
  NEG_CHECK(scores.dim() == 2 && k >= 1, "top_k_ordered: scores must be [n, m] and k >= 1");
  const int64_t n = scores.size(0), m = scores.size(1);
  const at::Tensor row_ids = ids.dim() == 1 ? ids.unsqueeze(0).expand({n, m}) : ids;
  NEG_CHECK(row_ids.sizes() == scores.sizes(), "top_k_ordered: ids do not match the scores");
  const int64_t kept = std::min(k, m);
  TopK top;
  if (kept > 0 && n > 0) {
    auto [values, positions] = scores.topk(kept, /*dim=*/1, /*largest=*/true, /*sorted=*/true);
    at::Tensor chosen = row_ids.gather(1, positions);
    // Rows where the k-th score also occurs outside the top k: torch chose among equals; choose again
    // by id from every entry at least as good as the k-th (rare: only exact ties at the cut).
    const at::Tensor kth = values.select(1, kept - 1).unsqueeze(1);
    const at::Tensor ambiguous = ((scores >= kth).sum(1) != kept).nonzero().flatten().cpu();
    for (int64_t i = 0; i < ambiguous.numel(); ++i) {
      const int64_t row = ambiguous[i].item<int64_t>();
      const at::Tensor keep = (scores[row] >= kth[row]).nonzero().flatten();
      at::Tensor row_scores = scores[row].index_select(0, keep).unsqueeze(0);
      at::Tensor row_chosen = row_ids[row].index_select(0, keep).unsqueeze(0);
      sort_rows(row_scores, row_chosen);
      values[row].copy_(row_scores[0].narrow(0, 0, kept));
      chosen[row].copy_(row_chosen[0].narrow(0, 0, kept));
    }
    sort_rows(values, chosen);
    top = {values, chosen};
  } else {
    top = {scores.new_empty({n, 0}), row_ids.new_empty({n, 0})};
  }
  if (kept < k) {
    const float inf = std::numeric_limits<float>::infinity();
    top.scores = at::cat({top.scores, at::full({n, k - kept}, -inf, top.scores.options())}, 1);
    top.ids = at::cat({top.ids, at::full({n, k - kept}, -1, top.ids.options())}, 1);
  }
  return top;
}

}  // namespace negatron::mining
