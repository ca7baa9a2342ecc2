#include "train/embedding_similarity_evaluator.h"

#include <cmath>
#include <optional>

#include "common/check.h"
#include "data/row_checks.h"
#include "train/statistics.h"

namespace negatron::train {
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
  NEG_CHECK(std::isfinite(o.score_scale) && o.score_scale > 0, "EmbeddingSimilarityEvaluator '", o.name,
            "': score_scale ", o.score_scale, " must be > 0 (gold scores are divided by it)");
  EvaluatorTable table = read_evaluator_table(o, {o.columns[0], o.columns[1], o.score_column});
  sentences1_ = std::move(table.columns[0]);
  sentences2_ = std::move(table.columns[1]);
  for (size_t i = 0; i < table.lines.size(); ++i) {
    const std::string& score = table.columns[2][i];
    const std::optional<double> value = data::parse_double(score);
    NEG_CHECK(value, o.path, ":", table.lines[i], ": score '", score, "' is not a finite number");
    scores_.push_back(*value / o.score_scale);
    NEG_CHECK(std::isfinite(scores_.back()), o.path, ":", table.lines[i], ": score '", score,
              "' divided by score_scale ", o.score_scale, " is not finite");
  }
  NEG_CHECK(scores_.size() >= 2, o.path, ": needs at least 2 rows");
}

Metrics EmbeddingSimilarityEvaluator::evaluate(model::SentenceEncoder& model, distributed::Communicator& comm) {
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
    const std::vector<double> predicted = to_doubles(scores);
    metrics[name_ + "_pearson_" + fn] = pearson(scores_, predicted);
    metrics[name_ + "_spearman_" + fn] = spearman(scores_, predicted);
  }
  return metrics;
}

}  // namespace negatron::train
