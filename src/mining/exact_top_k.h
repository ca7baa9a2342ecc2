#pragma once
// Exact top-k under one total order: score descending, then id ascending. torch.topk leaves the
// order of equal scores unspecified (and which of them make the cut at the k-th place), which would
// make the result depend on how the corpus is split over ranks; texts that tokenize alike embed alike,
// so exact ties are real. With a total order, the top k of the union of per-rank top-k lists is the
// top k of the whole corpus, at any rank count.
#include <ATen/ATen.h>

#include <cstdint>

namespace negatron::mining {

/// Rows of the k best candidates, best first: scores [n, k] float32, ids [n, k] int64. Rows with
/// fewer than k candidates are padded with score -inf and id -1 (as sentence-transformers pads).
struct TopK {
  at::Tensor scores, ids;
};

/// The k best entries of each row of `scores` [n, m]; `ids` names the columns: [m] (the same for every
/// row) or [n, m]. Runs where the tensors are (CPU or GPU).
TopK top_k_ordered(const at::Tensor& scores, const at::Tensor& ids, int64_t k);

}  // namespace negatron::mining
