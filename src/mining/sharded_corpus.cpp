#include "mining/sharded_corpus.h"

#include "common/check.h"

namespace negatron::mining {

ShardedCorpus::ShardedCorpus(at::Tensor embeddings, int64_t first_id, distributed::Communicator& comm)
    : embeddings_(std::move(embeddings)), first_id_(first_id), comm_(comm) {
  NEG_CHECK(embeddings_.dim() == 2, "ShardedCorpus: embeddings must be [n, d]");
}

TopK ShardedCorpus::search(const at::Tensor& queries, int64_t k) const {
  const at::Tensor queries_here = queries.to(embeddings_.device(), embeddings_.scalar_type());
  const at::Tensor ids = at::arange(first_id_, first_id_ + local_rows(), embeddings_.options().dtype(at::kLong));
  const TopK local = top_k_ordered(queries_here.matmul(embeddings_.t()), ids, k);
  // [ranks * q, k] -> [q, ranks * k]: every rank's candidates of a query side by side.
  const int64_t q = queries.size(0);
  const at::Tensor scores = comm_.all_gather(local.scores.contiguous()).view({-1, q, k}).permute({1, 0, 2}).reshape({q, -1});
  const at::Tensor candidates = comm_.all_gather(local.ids.contiguous()).view({-1, q, k}).permute({1, 0, 2}).reshape({q, -1});
  return top_k_ordered(scores, candidates, k);
}

at::Tensor ShardedCorpus::pair_scores(const at::Tensor& queries, const at::Tensor& query_rows,
                                      const at::Tensor& corpus_ids) const {
  const auto device = embeddings_.device();
  const at::Tensor local_ids = corpus_ids.to(device) - first_id_;
  const at::Tensor here = (local_ids >= 0).logical_and(local_ids < local_rows());
  at::Tensor scores = at::zeros({corpus_ids.size(0)}, embeddings_.options());
  const at::Tensor pairs = here.nonzero().flatten();
  if (pairs.numel() > 0) {
    const at::Tensor q = queries.to(device, embeddings_.scalar_type()).index_select(0, query_rows.to(device).index_select(0, pairs));
    const at::Tensor c = embeddings_.index_select(0, local_ids.index_select(0, pairs));
    scores.index_copy_(0, pairs, (q * c).sum(1));
  }
  comm_.all_reduce(scores);  // each pair is held by one rank: x + 0 + ... = x exactly
  return scores.cpu();
}

}  // namespace negatron::mining
