#include "train/binary_classification_evaluator.h"

#include <algorithm>
#include <unordered_map>

#include "common/check.h"
#include "train/statistics.h"

namespace negatron::train {
namespace {

int parse_label(const std::string& text, const std::string& positive_label, const std::string& path,
                int64_t line) {
  if (!positive_label.empty()) return text == positive_label ? 1 : 0;
  double value = -1;
  try {
    size_t used = 0;
    value = std::stod(text, &used);
    if (used != text.size()) value = -1;
  } catch (const std::exception&) {
  }
  NEG_CHECK(value == 0 || value == 1, path, ":", line, ": label '", text,
            "' is not 0 or 1 (set positive_label to map text labels)");
  return static_cast<int>(value);
}

}  // namespace

BinaryClassificationEvaluator::BinaryClassificationEvaluator(const EvaluatorOptions& o)
    : name_(o.name), batch_size_(o.batch_size) {
  const std::string what = "BinaryClassificationEvaluator '" + o.name + "'";
  NEG_CHECK(o.columns.size() == 2 && !o.score_column.empty(), what,
            " needs columns: [sentence1, sentence2] and score_column (the 0/1 label)");
  similarity_fn_names_ = similarity_fn_names_or(o.similarity_fn_names, {"cosine", "dot", "euclidean", "manhattan"},
                                                what);
  EvaluatorTable table = read_evaluator_table(o, {o.columns[0], o.columns[1], o.score_column});
  sentences1_ = std::move(table.columns[0]);
  sentences2_ = std::move(table.columns[1]);
  for (size_t i = 0; i < table.lines.size(); ++i) {
    labels_.push_back(parse_label(table.columns[2][i], o.positive_label, o.path, table.lines[i]));
  }
  NEG_CHECK(labels_.size() >= 2, o.path, ": needs at least 2 rows");
}

std::string BinaryClassificationEvaluator::primary_metric() const {
  return prefixed_metric(name_, similarity_fn_names_.size() > 1 ? "max_ap" : similarity_fn_names_[0] + "_ap");
}

Metrics BinaryClassificationEvaluator::evaluate(model::SentenceEncoder& model, distributed::Communicator& comm) {
  // Each distinct text is embedded once (as ST does), then looked up for both sides.
  std::vector<std::string> unique;
  std::unordered_map<std::string, int64_t> index;
  std::vector<int64_t> rows1, rows2;
  for (auto* side : {&sentences1_, &sentences2_}) {
    auto& rows = side == &sentences1_ ? rows1 : rows2;
    for (const auto& text : *side) {
      const auto [it, inserted] = index.emplace(text, static_cast<int64_t>(unique.size()));
      if (inserted) unique.push_back(text);
      rows.push_back(it->second);
    }
  }
  const at::Tensor embeddings = distributed_encode(model, comm, unique, batch_size_).to(at::kDouble);
  const at::Tensor a = embeddings.index_select(0, at::tensor(rows1, at::kLong));
  const at::Tensor b = embeddings.index_select(0, at::tensor(rows2, at::kLong));
  const auto unit = [](const at::Tensor& x) { return x / x.norm(2, -1, true).clamp_min(1e-12); };

  static const char* const kMetricNames[] = {"accuracy", "accuracy_threshold", "f1", "f1_threshold",
                                             "precision", "recall", "ap", "mcc"};
  Metrics metrics;
  std::map<std::string, double> best;  // metric -> max over similarity functions
  for (const std::string& fn : similarity_fn_names_) {
    // Similarities (greater is better) or distances (smaller is better), as ST thresholds them.
    const bool greater_is_better = fn == "cosine" || fn == "dot";
    at::Tensor scores;
    if (fn == "cosine") scores = (unit(a) * unit(b)).sum(-1);
    if (fn == "dot") scores = (a * b).sum(-1);
    if (fn == "euclidean") scores = (a - b).pow(2).sum(-1).sqrt();
    if (fn == "manhattan") scores = (a - b).abs().sum(-1);
    const std::vector<double> values = to_doubles(scores);
    const AccuracyThreshold accuracy = best_accuracy_threshold(values, labels_, greater_is_better);
    const F1Threshold f1 = best_f1_threshold(values, labels_, greater_is_better);
    std::vector<double> ranking = values;  // higher = more similar, for average precision
    if (!greater_is_better) for (double& v : ranking) v = -v;
    std::vector<int> predicted(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      predicted[i] = greater_is_better ? values[i] >= f1.threshold : values[i] <= f1.threshold;
    }
    const double results[] = {accuracy.accuracy, accuracy.threshold, f1.f1, f1.threshold, f1.precision, f1.recall,
                              average_precision(labels_, ranking), matthews_corrcoef(labels_, predicted)};
    for (size_t m = 0; m < std::size(kMetricNames); ++m) {
      metrics[prefixed_metric(name_, fn + "_" + kMetricNames[m])] = results[m];
      auto [it, inserted] = best.emplace(kMetricNames[m], results[m]);
      if (!inserted) it->second = std::max(it->second, results[m]);
    }
  }
  if (similarity_fn_names_.size() > 1) {
    for (const auto& [metric, value] : best) metrics[prefixed_metric(name_, "max_" + metric)] = value;
  }
  return metrics;
}

}  // namespace negatron::train
