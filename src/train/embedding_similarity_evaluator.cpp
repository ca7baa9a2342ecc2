#include "train/embedding_similarity_evaluator.h"

#include "common/check.h"
#include "data/text_table.h"
#include "train/statistics.h"

namespace negatron::train {
namespace {

std::vector<double> to_vector(const at::Tensor& t) {
  at::Tensor d = t.to(at::kDouble).contiguous();
  return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
}

}  // namespace

EmbeddingSimilarityEvaluator::EmbeddingSimilarityEvaluator(std::string name, std::vector<std::string> sentences1,
                                                           std::vector<std::string> sentences2,
                                                           std::vector<double> scores, int64_t batch_size)
    : name_(std::move(name)), sentences1_(std::move(sentences1)), sentences2_(std::move(sentences2)),
      scores_(std::move(scores)), batch_size_(batch_size) {
  NEG_CHECK(sentences1_.size() == sentences2_.size() && sentences1_.size() == scores_.size() && scores_.size() >= 2,
            name_, ": needs >= 2 (sentence1, sentence2, score) rows");
}

EmbeddingSimilarityEvaluator::EmbeddingSimilarityEvaluator(const EvaluatorOptions& o)
    : name_(o.name), batch_size_(o.batch_size) {
  NEG_CHECK(o.columns.size() == 2 && !o.score_column.empty(), "EmbeddingSimilarityEvaluator '", o.name,
            "' needs columns: [sentence1, sentence2] and score_column");
  data::TextTableOptions table_options;
  table_options.has_header = o.has_header;
  table_options.format = o.format;
  const data::TextTable table = data::read_text_table(o.path, table_options);
  const size_t c1 = table.column_index(o.columns[0]), c2 = table.column_index(o.columns[1]);
  const size_t cs = table.column_index(o.score_column);
  for (const auto& record : table.records) {
    sentences1_.push_back(record.fields[c1]);
    sentences2_.push_back(record.fields[c2]);
    try {
      scores_.push_back(std::stod(record.fields[cs]) / o.score_scale);
    } catch (const std::exception&) {
      NEG_FAIL(o.path, ":", record.line, ": score '", record.fields[cs], "' is not a number");
    }
  }
  NEG_CHECK(scores_.size() >= 2, o.path, ": needs at least 2 rows");
}

Metrics EmbeddingSimilarityEvaluator::evaluate(model::SentenceEncoder& model, dist::Communicator& comm) {
  const at::Tensor a = distributed_encode(model, comm, sentences1_, batch_size_).to(at::kDouble);
  const at::Tensor b = distributed_encode(model, comm, sentences2_, batch_size_).to(at::kDouble);
  const auto unit = [](const at::Tensor& x) { return x / x.norm(2, -1, true).clamp_min(1e-12); };
  const std::pair<const char*, at::Tensor> similarities[] = {
      {"cosine", (unit(a) * unit(b)).sum(-1)},
      {"dot", (a * b).sum(-1)},
      {"euclidean", -(a - b).pow(2).sum(-1).sqrt()},
      {"manhattan", -(a - b).abs().sum(-1)},
  };
  Metrics metrics;
  for (const auto& [fn, scores] : similarities) {
    const std::vector<double> predicted = to_vector(scores);
    metrics[name_ + "_pearson_" + fn] = pearson(scores_, predicted);
    metrics[name_ + "_spearman_" + fn] = spearman(scores_, predicted);
  }
  return metrics;
}

}  // namespace negatron::train
