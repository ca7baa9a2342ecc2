#include "mining/sharded_corpus.h"

#include "common/check.h"

namespace negatron::mining {

ShardedCorpus::ShardedCorpus(at::Tensor embeddings, at::Tensor ids, distributed::Communicator& comm) : comm_(comm) {
  NEG_CHECK(embeddings.dim() == 2 && ids.dim() == 1 && ids.size(0) == embeddings.size(0),
            "ShardedCorpus: embeddings must be [n, d] with one id per row");
  const auto [sorted, order] = ids.to(embeddings.device(), at::kLong).sort();
  ids_ = sorted;
  embeddings_ = embeddings.index_select(0, order).to(at::kDouble);
}

TopK ShardedCorpus::search(const at::Tensor& queries, int64_t k) const {
  const at::Tensor queries_here = queries.to(embeddings_.device(), at::kDouble);
  const TopK local = top_k_ordered(queries_here.matmul(embeddings_.t()).to(at::kFloat), ids_, k);
  // [ranks * q, k] -> [q, ranks * k]: every rank's candidates of a query side by side.
  const int64_t q = queries.size(0);
  const at::Tensor scores = comm_.all_gather(local.scores.contiguous()).view({-1, q, k}).permute({1, 0, 2}).reshape({q, -1});
  const at::Tensor candidates = comm_.all_gather(local.ids.contiguous()).view({-1, q, k}).permute({1, 0, 2}).reshape({q, -1});
  return top_k_ordered(scores, candidates, k);
}

at::Tensor ShardedCorpus::pair_scores(const at::Tensor& queries, const at::Tensor& query_rows,
                                      const at::Tensor& corpus_ids) const {
  const auto device = embeddings_.device();
  const at::Tensor wanted = corpus_ids.to(device);
  const at::Tensor local_ids = at::searchsorted(ids_, wanted).clamp_max(std::max<int64_t>(0, local_rows() - 1));
  at::Tensor scores = at::zeros({corpus_ids.size(0)}, embeddings_.options().dtype(at::kFloat));
  const at::Tensor pairs =
      local_rows() == 0 ? at::empty({0}, wanted.options()) : ids_.index_select(0, local_ids).eq(wanted).nonzero().flatten();
  if (pairs.numel() > 0) {
    const at::Tensor q = queries.to(device, at::kDouble).index_select(0, query_rows.to(device).index_select(0, pairs));
    const at::Tensor c = embeddings_.index_select(0, local_ids.index_select(0, pairs));
    scores.index_copy_(0, pairs, (q * c).sum(1).to(at::kFloat));
  }
  comm_.all_reduce(scores);  // each pair is held by one rank: x + 0 + ... = x exactly
  return scores.cpu();
}

}  // namespace negatron::mining
