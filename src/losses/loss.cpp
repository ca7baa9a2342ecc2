#include "losses/loss.h"

#include "common/check.h"

namespace negatron::losses {
namespace {

const char* describe_labels(LabelKind kind) {
  switch (kind) {
    case LabelKind::kNone: return "none";
    case LabelKind::kInt64: return "int (class id per row)";
    case LabelKind::kFloat32: return "float (score per row)";
    case LabelKind::kFloat32Vector: return "float vector per row";
  }
  return "?";
}

std::string describe(const LossSpec& spec) {
  std::string columns = spec.max_columns < 0 ? std::to_string(spec.min_columns) + " or more"
                        : spec.min_columns == spec.max_columns
                            ? std::to_string(spec.min_columns)
                            : std::to_string(spec.min_columns) + " to " + std::to_string(spec.max_columns);
  return spec.name + " expects " + columns + " text column(s) and labels: " + describe_labels(spec.labels) +
         " (Inputs: " + spec.inputs + ")";
}

void check_columns(const LossSpec& spec, size_t count) {
  const bool ok = static_cast<int>(count) >= spec.min_columns &&
                  (spec.max_columns < 0 || static_cast<int>(count) <= spec.max_columns);
  NEG_CHECK(ok, "got ", count, " column(s); ", describe(spec));
}

void check_labels(const LossSpec& spec, const at::Tensor& labels, int64_t rows) {
  if (spec.labels == LabelKind::kNone) return;
  NEG_CHECK(labels.defined(), "missing labels; ", describe(spec));
  NEG_CHECK(labels.size(0) == rows, "labels have ", labels.size(0), " rows, the batch has ", rows, "; ",
            describe(spec));
  switch (spec.labels) {
    case LabelKind::kInt64:
      NEG_CHECK(!labels.is_floating_point() && labels.dim() == 1, "labels must be a 1-D integer tensor, got ",
                labels.scalar_type(), " of rank ", labels.dim(), "; ", describe(spec));
      break;
    case LabelKind::kFloat32:
      NEG_CHECK(labels.dim() == 1, "labels must be 1-D scores, got rank ", labels.dim(), "; ", describe(spec));
      break;
    case LabelKind::kFloat32Vector:
      NEG_CHECK(labels.is_floating_point() && labels.dim() == 2, "labels must be [B, k] floats, got ",
                labels.scalar_type(), " of rank ", labels.dim(), "; ", describe(spec));
      break;
    case LabelKind::kNone: break;
  }
}

}  // namespace

void Loss::validate(const EmbeddingBatch& batch) const {
  check_columns(spec(), batch.columns.size());
  check_labels(spec(), batch.labels, batch.columns.front().size(0));
  if (batch.labels.defined() && batch.labels.is_cpu()) {
    if (auto problem = label_problem(batch.labels)) NEG_FAIL(spec().name, ": row ", problem->row, ": ", problem->message);
  }
}

void Loss::validate(const model::Batch& batch) const {
  check_columns(spec(), batch.columns.size());
  check_labels(spec(), batch.labels, batch.columns.front().input_ids.size(0));
}

at::Tensor embed(model::SentenceEncoder& model, const model::TokenBatch& batch) {
  return model.forward(batch).sentence_embedding;
}

std::vector<at::Tensor> embed_columns(model::SentenceEncoder& model, const std::vector<model::TokenBatch>& columns) {
  if (columns.size() == 1) return {embed(model, columns.front())};
  const at::Tensor all = embed(model, model::stack_rows(columns, model.tokenizer().pad_id()));
  std::vector<at::Tensor> out;
  int64_t begin = 0;
  for (const auto& column : columns) {
    out.push_back(all.narrow(0, begin, column.rows()));
    begin += column.rows();
  }
  return out;
}

at::Tensor Loss::forward(model::SentenceEncoder& model, const model::Batch& batch) {
  validate(batch);
  EmbeddingBatch embeddings;
  embeddings.columns = embed_columns(model, batch.columns);
  embeddings.labels = batch.labels;
  embeddings.rank_rows = batch.rank_rows;
  add_side_inputs(model, batch, embeddings);
  return compute(embeddings);
}

at::Tensor Loss::forward_backward(model::SentenceEncoder& model, const model::Batch& batch) {
  at::Tensor loss = forward(model, batch);
  notify_final_backward();
  loss.backward();
  return loss.detach();
}

}  // namespace negatron::losses
