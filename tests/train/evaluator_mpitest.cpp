// Evaluators at world size > 1 (mpirun -np 1..4): distributed_encode splits the texts over the
// ranks and gathers the embeddings, so every rank must get exactly the metrics of one process
// evaluating alone (a local communicator, in the same process: the np 1 result). Covers uneven
// splits (11 rows over 3 ranks), ranks with no texts at all (2 rows over 3 or 4 ranks) and the
// retrieval evaluator's chunked corpus, each chunk split over the ranks.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <sstream>

#include "common/remove_tree.h"
#include "distributed/mpi_communicator.h"
#include "support/minilm.h"
#include "train/evaluator.h"

namespace negatron::train {
namespace {

std::vector<std::string> first_lines(const std::string& path, size_t count) {
  std::ifstream in(std::string(NEGATRON_SOURCE_DIR) + "/" + path);
  std::vector<std::string> lines;
  for (std::string line; lines.size() < count && std::getline(in, line);) lines.push_back(line);
  return lines;
}

class DistributedEvaluators : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    comm_ = distributed::make_mpi_communicator();
    keep_model_ = testing_support::load_minilm_float64();
    model_ = keep_model_.get();
    char pattern[] = "/tmp/negatron-evaluators-XXXXXX";
    dir_ = ::mkdtemp(pattern);  // one folder per rank
  }
  static void TearDownTestSuite() {
    remove_tree(dir_);
    keep_model_.reset();
    comm_.reset();
  }

  static std::string write(const std::string& name, const std::vector<std::string>& lines) {
    const std::string path = dir_ + "/" + name;
    std::ofstream out(path);
    for (const auto& line : lines) out << line << "\n";
    return path;
  }

  void SetUp() override {
    if (comm_->world_size() == 1) GTEST_SKIP() << "one rank: nothing is distributed";
  }

  /// The metrics over MPI equal those of this process alone, key by key.
  static void expect_same_metrics(const EvaluatorOptions& options) {
    auto evaluator = make_evaluator(options);
    const Metrics distributed = evaluator->evaluate(*model_, *comm_);
    auto local = distributed::make_local_communicator();
    const Metrics alone = make_evaluator(options)->evaluate(*model_, *local);
    ASSERT_EQ(distributed.size(), alone.size());
    ASSERT_FALSE(alone.empty());
    for (const auto& [name, value] : alone) {
      ASSERT_TRUE(distributed.count(name)) << name;
      EXPECT_NEAR(distributed.at(name), value, 1e-9) << name << " at world size " << comm_->world_size();
    }
  }

  static std::shared_ptr<distributed::Communicator> comm_;
  static model::SentenceEncoder* model_;
  static std::shared_ptr<model::SentenceEncoder> keep_model_;
  static std::string dir_;
};

std::shared_ptr<distributed::Communicator> DistributedEvaluators::comm_;
model::SentenceEncoder* DistributedEvaluators::model_ = nullptr;
std::shared_ptr<model::SentenceEncoder> DistributedEvaluators::keep_model_;
std::string DistributedEvaluators::dir_;

EvaluatorOptions sts_options(const std::string& path) {
  EvaluatorOptions o;
  o.type = "EmbeddingSimilarityEvaluator";
  o.name = "sts";
  o.path = path;
  o.format = "tsv";
  o.has_header = false;
  o.columns = {"5", "6"};
  o.score_column = "4";
  o.score_scale = 5;
  o.batch_size = 4;
  return o;
}

TEST_F(DistributedEvaluators, EmbeddingSimilarityUnevenSplit) {
  expect_same_metrics(sts_options(write("sts.tsv", first_lines("data/stsbenchmark/sts-dev.csv", 11))));
}

TEST_F(DistributedEvaluators, EmbeddingSimilarityWithRanksThatGetNoText) {
  expect_same_metrics(sts_options(write("sts2.tsv", first_lines("data/stsbenchmark/sts-dev.csv", 2))));
}

TEST_F(DistributedEvaluators, Triplet) {
  EvaluatorOptions o;
  o.type = "TripletEvaluator";
  o.name = "snli";
  o.path = write("triplets.tsv", first_lines("data/snli/triplets_dev.tsv", 8));
  o.columns = {"anchor", "positive", "negative"};
  o.batch_size = 3;
  expect_same_metrics(o);
}

TEST_F(DistributedEvaluators, BinaryClassification) {
  EvaluatorOptions o;
  o.type = "BinaryClassificationEvaluator";
  o.name = "pairs";
  o.path = write("pairs.tsv", first_lines("data/snli/pairs_dev.tsv", 10));
  o.columns = {"sentence1", "sentence2"};
  o.score_column = "label";
  o.positive_label = "entailment";
  expect_same_metrics(o);
}

TEST_F(DistributedEvaluators, InformationRetrievalPairs) {
  EvaluatorOptions o;
  o.type = "InformationRetrievalEvaluator";
  o.name = "ir";
  o.path = write("ir.tsv", first_lines("data/snli/triplets_dev.tsv", 8));
  o.columns = {"anchor", "positive", "negative"};
  o.corpus_chunk_size = 5;  // several chunks, each split over the ranks
  expect_same_metrics(o);
}

TEST_F(DistributedEvaluators, InformationRetrievalBeir) {
  EvaluatorOptions o;
  o.type = "InformationRetrievalEvaluator";
  o.name = "beir";
  o.path = write("queries.jsonl", {R"({"_id": "q1", "text": "Who is riding a horse?"})",
                                   R"({"_id": "q2", "text": "What is the man feeding the snake?"})"});
  o.corpus_path = write("corpus.jsonl", {R"({"_id": "d1", "text": "A child is riding a horse."})",
                                         R"({"_id": "d2", "text": "The man is feeding a mouse to the snake."})",
                                         R"({"_id": "d3", "text": "A woman is slicing an onion."})",
                                         R"({"_id": "d4", "text": "Two dogs play in the snow."})",
                                         R"({"_id": "d5", "text": "A man plays the guitar."})"});
  o.qrels_path = write("qrels.tsv", {"query-id\tcorpus-id\tscore", "q1\td1\t1", "q2\td2\t1", "q2\td3\t0"});
  o.corpus_chunk_size = 2;
  expect_same_metrics(o);
}

}  // namespace
}  // namespace negatron::train
