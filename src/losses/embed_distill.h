#pragma once
// EmbedDistillLoss: regresses student embeddings onto precomputed teacher embeddings (the labels),
// per column, then averages over columns: distance_metric "mse" (mean squared error), "l2" (mean
// Euclidean distance per row) or "cosine" (mean 1 - cosine similarity). An optional learnable
// Linear projection (projection_dim) maps student embeddings to the teacher's width first.
// MSELoss (registered from this file) is EmbedDistillLoss with distance_metric "mse".
// Requirements: teacher embeddings computed once (e.g. by `negatron encode`).
// Inputs: sentences (1+ columns) | teacher embedding [B, k], shared by all columns. ST also takes
//   [B, columns, k]; the batch label kinds here are at most 2-D, so that form is not accepted.
// Loss-owned parameters: projection.weight, projection.bias (nn.Linear init). ST saves them with
//   save_projection() apart from the model; here the trainer's checkpoint must carry them.
// Relations: MarginMSELoss and DistillKLDivLoss distill scores instead of embeddings.
// Reference: Kim et al. 2023 (EmbedDistill); Reimers & Gurevych 2020 (multilingual MSE);
//   sentence_transformers/sentence_transformer/losses/{embed_distill,mse}.py (ST 6.0.1).
#include <ATen/ATen.h>

#include <cstdint>
#include <optional>
#include <string>

namespace negatron::losses {

/// MSELoss's parameters; EmbedDistillLoss adds distance_metric.
struct MSEOptions {
  std::optional<int64_t> projection_dim;
  template <class V>
  void visit(V& v) {
    v("projection_dim", projection_dim, "width of a learned Linear map from student to teacher (null: none)");
  }
  void validate() const;
};

struct EmbedDistillOptions : MSEOptions {
  std::string distance_metric = "cosine";
  template <class V>
  void visit(V& v) {
    v("distance_metric", distance_metric, "cosine | mse | l2");
    MSEOptions::visit(v);
  }
  void validate() const;
};

/// One column's distance to the teacher, reduced to a scalar ("mse", "l2", "cosine").
at::Tensor embed_distance(const at::Tensor& student, const at::Tensor& teacher, const std::string& metric);

}  // namespace negatron::losses
