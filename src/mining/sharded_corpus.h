#pragma once
// A corpus of embeddings split over ranks, searched exactly: each rank holds corpus rows
// [first_id, first_id + n) (it encoded them itself), scores a chunk of queries against them and keeps
// its k best per query; the ranks' lists are all-gathered and merged into the global k best, the
// same list on every rank (exact_top_k.h's total order makes it independent of the split). Memory per
// rank: its corpus rows plus one chunk of queries x its rows of scores, never queries x corpus.
#include <ATen/ATen.h>

#include <cstdint>

#include "distributed/communicator.h"
#include "mining/exact_top_k.h"

namespace negatron::mining {

class ShardedCorpus {
 public:
  /// `embeddings`: this rank's rows [n, d], normalized; `first_id`: the corpus id of its first row.
  ShardedCorpus(at::Tensor embeddings, int64_t first_id, distributed::Communicator& comm);

  /// Global top k of every query ([q, d], the same on every rank) by dot product; on every rank.
  TopK search(const at::Tensor& queries, int64_t k) const;
  /// Dot product of pairs (queries[query_rows[i]], corpus[corpus_ids[i]]) wherever the corpus row is
  /// held: [pairs] float32, the same on every rank.
  at::Tensor pair_scores(const at::Tensor& queries, const at::Tensor& query_rows, const at::Tensor& corpus_ids) const;

  int64_t local_rows() const { return embeddings_.size(0); }
  int64_t first_id() const { return first_id_; }

 private:
  at::Tensor embeddings_;
  int64_t first_id_;
  distributed::Communicator& comm_;
};

}  // namespace negatron::mining
