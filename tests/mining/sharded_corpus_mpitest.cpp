// ShardedCorpus under mpirun (np 1..4): the corpus split over the ranks (every N-th row, a rank
// possibly holding nothing) gives, on every rank, exactly top_k_ordered of the whole score matrix
// computed by one process (float64 dot products, rounded); pair_scores equals the one-process dot
// products. Duplicate corpus rows make exact ties, so the split could only agree through the total
// order; one row per rank (np 3, 3 rows) is where float32 BLAS kernels would round differently.
#include <gtest/gtest.h>

#include "distributed/mpi_communicator.h"
#include "mining/sharded_corpus.h"

namespace negatron::mining {
namespace {

at::Tensor corpus_embeddings(int64_t rows) {
  at::manual_seed(3);
  at::Tensor corpus = at::randn({rows, 8});
  corpus.narrow(0, 10, 5).copy_(corpus.narrow(0, 0, 5));    // exact duplicates -> tied scores
  corpus.narrow(0, rows - 4, 4).copy_(corpus.narrow(0, 2, 4));
  return corpus / corpus.norm(2, 1, true);
}

TEST(ShardedCorpus, SearchEqualsOneProcessOnTheWholeCorpus) {
  auto comm = distributed::make_mpi_communicator();
  for (int64_t rows : {3, 37}) {
    const at::Tensor corpus = corpus_embeddings(std::max<int64_t>(rows, 20)).narrow(0, 0, rows).contiguous();
    const at::Tensor queries = at::cat({corpus.narrow(0, 0, 3), at::randn({4, 8})}).contiguous();  // same seed everywhere
    std::vector<int64_t> mine;  // every world_size-th row, in descending order (the rows need not be sorted)
    for (int64_t r = rows - 1; r >= 0; --r) {
      if (r % comm->world_size() == comm->rank()) mine.push_back(r);
    }
    const at::Tensor ids = at::tensor(mine, at::kLong);
    const ShardedCorpus sharded(corpus.index_select(0, ids), ids, *comm);
    for (int64_t k : {1, 4, 9}) {
      const TopK got = sharded.search(queries, k);
      const at::Tensor scores = queries.to(at::kDouble).matmul(corpus.to(at::kDouble).t()).to(at::kFloat);
      const TopK expected = top_k_ordered(scores, at::arange(rows, at::kLong), k);
      EXPECT_TRUE(at::equal(got.ids, expected.ids)) << "rows " << rows << " k " << k;
      EXPECT_TRUE(at::equal(got.scores, expected.scores)) << "rows " << rows << " k " << k;
    }
    const at::Tensor query_rows = at::tensor({0, 1, 6, 6}, at::kLong), corpus_ids = at::tensor(std::vector<int64_t>{0, rows - 1, 2, 1}, at::kLong);
    const at::Tensor pairs = sharded.pair_scores(queries, query_rows, corpus_ids);
    const at::Tensor expected =
        (queries.index_select(0, query_rows).to(at::kDouble) * corpus.index_select(0, corpus_ids).to(at::kDouble)).sum(1).to(at::kFloat);
    EXPECT_TRUE(at::equal(pairs, expected));
  }
}

}  // namespace
}  // namespace negatron::mining
