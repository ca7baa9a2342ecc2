#pragma once
// A corpus of embeddings split over ranks, searched exactly: each rank holds some corpus rows (those
// it encoded itself, any subset), scores a chunk of queries against them and keeps its k best per
// query; the ranks' lists are all-gathered and merged into the global k best, the same list on every
// rank (exact_top_k.h's total order makes it independent of the split). Memory per rank: its corpus
// rows plus one chunk of queries x its rows of scores, never queries x corpus.
// Scores are dot products summed in float64 and rounded to float32. A float32 matmul rounds
// differently for different matrix shapes (the BLAS picks other kernels), so scores, and the order of
// near ties, would change with the rank count; the float64 sum rounds to the same float32 whatever
// the shapes (unless it lands within ~1e-16 of a float32 rounding boundary), at twice the cost of
// float32 scoring, which is small next to encoding (d multiply-adds per score).
#include <ATen/ATen.h>

#include <cstdint>

#include "distributed/communicator.h"
#include "mining/exact_top_k.h"

namespace negatron::mining {

class ShardedCorpus {
 public:
  /// `embeddings`: this rank's rows [n, d], normalized; `ids`: their corpus ids [n] (distinct over
  /// all ranks).
  ShardedCorpus(at::Tensor embeddings, at::Tensor ids, distributed::Communicator& comm);

  /// Global top k of every query ([q, d], the same on every rank) by dot product; on every rank.
  TopK search(const at::Tensor& queries, int64_t k) const;
  /// Dot product of pairs (queries[query_rows[i]], corpus[corpus_ids[i]]) wherever the corpus row is
  /// held: [pairs] float32, the same on every rank.
  at::Tensor pair_scores(const at::Tensor& queries, const at::Tensor& query_rows, const at::Tensor& corpus_ids) const;

  int64_t local_rows() const { return embeddings_.size(0); }

 private:
  at::Tensor embeddings_, ids_;  // float64, sorted by id
  distributed::Communicator& comm_;
};

}  // namespace negatron::mining
