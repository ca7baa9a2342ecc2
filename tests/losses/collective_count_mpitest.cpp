// How many collectives one in-batch loss step costs, under mpirun (np 1..4), counted twice: by the
// communicator's CommStats and by MPI itself, intercepted below through the MPI profiling interface
// (so no hidden exchange, e.g. of row counts or shapes, can slip by). With the row counts of the
// batch plan, a step of MultipleNegativesRankingLoss (all directions, hard negatives), its symmetric
// form and GISTEmbedLoss (guide embeddings travel along), plain and cached (GradCache), tiled or
// not, costs exactly one all-gather forward and one reduce-scatter backward at world size > 1, and
// nothing at world size 1.
#include <gtest/gtest.h>
#include <mpi.h>

#include "distributed/mpi_communicator.h"
#include "losses/registry.h"
#include "support/minilm.h"

namespace {

struct MpiCalls {
  int64_t gathers = 0, reduce_scatters = 0, barriers = 0, other = 0;
};
MpiCalls& mpi_calls() {
  static MpiCalls calls;
  return calls;
}

}  // namespace

// Every collective (and point-to-point call) the library could use, counted, then passed to PMPI.
extern "C" {
int MPI_Allgather(const void* s, int sc, MPI_Datatype st, void* r, int rc, MPI_Datatype rt, MPI_Comm c) {
  ++mpi_calls().gathers;
  return PMPI_Allgather(s, sc, st, r, rc, rt, c);
}
int MPI_Allgatherv(const void* s, int sc, MPI_Datatype st, void* r, const int rc[], const int d[], MPI_Datatype rt,
                   MPI_Comm c) {
  ++mpi_calls().gathers;
  return PMPI_Allgatherv(s, sc, st, r, rc, d, rt, c);
}
int MPI_Reduce_scatter(const void* s, void* r, const int rc[], MPI_Datatype t, MPI_Op o, MPI_Comm c) {
  ++mpi_calls().reduce_scatters;
  return PMPI_Reduce_scatter(s, r, rc, t, o, c);
}
int MPI_Reduce_scatter_block(const void* s, void* r, int rc, MPI_Datatype t, MPI_Op o, MPI_Comm c) {
  ++mpi_calls().reduce_scatters;
  return PMPI_Reduce_scatter_block(s, r, rc, t, o, c);
}
int MPI_Barrier(MPI_Comm c) {
  ++mpi_calls().barriers;
  return PMPI_Barrier(c);
}
int MPI_Allreduce(const void* s, void* r, int n, MPI_Datatype t, MPI_Op o, MPI_Comm c) {
  ++mpi_calls().other;
  return PMPI_Allreduce(s, r, n, t, o, c);
}
int MPI_Iallreduce(const void* s, void* r, int n, MPI_Datatype t, MPI_Op o, MPI_Comm c, MPI_Request* q) {
  ++mpi_calls().other;
  return PMPI_Iallreduce(s, r, n, t, o, c, q);
}
int MPI_Bcast(void* b, int n, MPI_Datatype t, int root, MPI_Comm c) {
  ++mpi_calls().other;
  return PMPI_Bcast(b, n, t, root, c);
}
int MPI_Reduce(const void* s, void* r, int n, MPI_Datatype t, MPI_Op o, int root, MPI_Comm c) {
  ++mpi_calls().other;
  return PMPI_Reduce(s, r, n, t, o, root, c);
}
int MPI_Gather(const void* s, int sc, MPI_Datatype st, void* r, int rc, MPI_Datatype rt, int root, MPI_Comm c) {
  ++mpi_calls().other;
  return PMPI_Gather(s, sc, st, r, rc, rt, root, c);
}
int MPI_Gatherv(const void* s, int sc, MPI_Datatype st, void* r, const int rc[], const int d[], MPI_Datatype rt,
                int root, MPI_Comm c) {
  ++mpi_calls().other;
  return PMPI_Gatherv(s, sc, st, r, rc, d, rt, root, c);
}
int MPI_Alltoall(const void* s, int sc, MPI_Datatype st, void* r, int rc, MPI_Datatype rt, MPI_Comm c) {
  ++mpi_calls().other;
  return PMPI_Alltoall(s, sc, st, r, rc, rt, c);
}
int MPI_Send(const void* b, int n, MPI_Datatype t, int dest, int tag, MPI_Comm c) {
  ++mpi_calls().other;
  return PMPI_Send(b, n, t, dest, tag, c);
}
int MPI_Recv(void* b, int n, MPI_Datatype t, int source, int tag, MPI_Comm c, MPI_Status* status) {
  ++mpi_calls().other;
  return PMPI_Recv(b, n, t, source, tag, c, status);
}
}

namespace negatron::losses {
namespace {

using model::SentenceEncoder;

/// Rank r's rows: 1 on rank 1, 2 + r % 2 elsewhere (uneven, and a rank smaller than the rest).
std::vector<int64_t> plan(int world) {
  std::vector<int64_t> rows;
  for (int r = 0; r < world; ++r) rows.push_back(r == 1 ? 1 : 2 + r % 2);
  return rows;
}

struct Counted {
  int64_t all_gathers, reduce_scatters, all_reduces, broadcasts;  // CommStats
  int64_t mpi_gathers, mpi_reduce_scatters, mpi_other;            // intercepted MPI calls
};

template <typename Step>
Counted count(distributed::Communicator& comm, Step step) {
  const distributed::CommStats before = comm.stats();
  const MpiCalls mpi_before = mpi_calls();
  step();
  const distributed::CommStats& after = comm.stats();
  return {after.all_gather_calls - before.all_gather_calls,
          after.reduce_scatter_calls - before.reduce_scatter_calls,
          after.all_reduce_calls - before.all_reduce_calls,
          after.broadcast_calls - before.broadcast_calls,
          mpi_calls().gathers - mpi_before.gathers,
          mpi_calls().reduce_scatters - mpi_before.reduce_scatters,
          mpi_calls().other - mpi_before.other};
}

void expect_one_each_way(const Counted& c, int world, const std::string& what, int64_t gathers = 1) {
  const int64_t expected = world > 1 ? 1 : 0;
  EXPECT_EQ(c.all_gathers, world > 1 ? gathers : 0) << what;
  EXPECT_EQ(c.mpi_gathers, world > 1 ? gathers : 0) << what;
  EXPECT_EQ(c.reduce_scatters, expected) << what;
  EXPECT_EQ(c.mpi_reduce_scatters, expected) << what;
  EXPECT_EQ(c.all_reduces, 0) << what;
  EXPECT_EQ(c.broadcasts, 0) << what;
  EXPECT_EQ(c.mpi_other, 0) << what;
}

std::unique_ptr<Loss> make(const std::string& name, nlohmann::json params,
                           std::shared_ptr<distributed::Communicator> comm) {
  LossArgs args;
  args.params = std::move(params);
  args.context.comm = std::move(comm);
  return make_loss(name, args);
}

TEST(CollectiveCount, InterceptionSeesTheLibrarysCalls) {
  // Without this the counts below could be zero because nothing was intercepted.
  auto comm = distributed::make_mpi_communicator();
  const int64_t before = mpi_calls().barriers;
  comm->barrier();
  EXPECT_EQ(mpi_calls().barriers - before, 1);
}

TEST(CollectiveCount, EmbeddingLevelStepOfEveryInBatchLoss) {
  auto comm = distributed::make_mpi_communicator();
  const int world = comm->world_size();
  const std::vector<int64_t> rows = plan(world);
  const int64_t mine = rows[comm->rank()];
  const std::vector<std::pair<std::string, nlohmann::json>> losses = {
      {"MultipleNegativesRankingLoss",
       {{"directions", {"query_to_doc", "query_to_query", "doc_to_query", "doc_to_doc"}},
        {"hardness_mode", "all_negatives"},
        {"hardness_strength", 3.0}}},
      {"MultipleNegativesSymmetricRankingLoss", nlohmann::json::object()},
      {"GISTEmbedLoss", {{"margin", 0.05}}}};
  for (const auto& [name, params] : losses) {
    for (int tile : {0, 1, 2}) {
      nlohmann::json p = params;
      p["tile_size"] = tile;
      auto loss = make(name, p, comm);
      at::manual_seed(7 + comm->rank());
      EmbeddingBatch batch;
      for (int c = 0; c < 3; ++c) {
        batch.columns.push_back(at::randn({mine, 6}, at::kDouble).requires_grad_(true));
        batch.guide.push_back(at::randn({mine, 4}, at::kFloat));  // another dtype and width
      }
      batch.rank_rows = rows;
      const std::string what = name + " tile " + std::to_string(tile);
      expect_one_each_way(count(*comm, [&] { loss->compute(batch).backward(); }), world, what);
      // Without the plan the row counts cost one more all-gather, and nothing else.
      batch.rank_rows.clear();
      for (auto& c : batch.columns) c.mutable_grad().reset();
      expect_one_each_way(count(*comm, [&] { loss->compute(batch).backward(); }), world, what + " without plan", 2);
    }
  }
}

std::shared_ptr<SentenceEncoder> minilm() {
  static std::shared_ptr<SentenceEncoder> model = [] {
    auto m = SentenceEncoder::load(testing_support::minilm_dir());
    m->eval();
    return m;
  }();
  return model;
}

TEST(CollectiveCount, ModelLevelStepPlainAndCached) {
  auto comm = distributed::make_mpi_communicator();
  const int world = comm->world_size();
  const std::vector<int64_t> rows = plan(world);
  const std::vector<std::string> texts = {"A man plays a guitar.", "Stocks fell sharply.", "The cat sleeps.",
                                          "Rain is expected tomorrow.", "She reads a book."};
  model::Batch batch;
  batch.texts.resize(3);
  for (int64_t i = 0; i < rows[comm->rank()]; ++i)
    for (int c = 0; c < 3; ++c) batch.texts[c].push_back(texts[(comm->rank() + i + c) % texts.size()]);
  for (const auto& column : batch.texts) batch.columns.push_back(minilm()->tokenize(column));
  batch.rank_rows = rows;
  const std::vector<std::pair<std::string, nlohmann::json>> losses = {
      {"MultipleNegativesRankingLoss", {{"directions", {"query_to_doc", "doc_to_query"}}}},
      {"CachedMultipleNegativesRankingLoss", {{"mini_batch_size", 1}, {"tile_size", 2}}},
      {"CachedMultipleNegativesSymmetricRankingLoss", {{"mini_batch_size", 2}}},
      {"CachedGISTEmbedLoss", {{"mini_batch_size", 1}, {"guide", testing_support::minilm_dir()}, {"tile_size", 1}}}};
  for (const auto& [name, params] : losses) {
    auto loss = make(name, params, comm);
    expect_one_each_way(count(*comm, [&] { loss->forward_backward(*minilm(), batch); }), world, name);
    minilm()->zero_grad();
  }
}

}  // namespace
}  // namespace negatron::losses
