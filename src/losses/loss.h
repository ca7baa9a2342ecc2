#pragma once
// The loss interface. A loss's math is a pure function of embeddings (compute); the model-level
// entry points (forward, forward_backward) embed token batches and call it. Distributed losses get
// the communicator through LossContext and gather with distributed::all_gather_with_grad; at world size 1
// that is the identity, so no loss branches on world size.
#include <ATen/ATen.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "distributed/communicator.h"
#include "model/batch.h"
#include "model/sentence_encoder.h"

namespace negatron::losses {

using model::LabelKind;  // what the label column of a batch holds (model/batch.h)

/// A loss's contract, shown in errors: the sentence-transformers "Inputs" table.
struct LossSpec {
  std::string name;
  int min_columns = 1;
  int max_columns = 1;  // -1: any number (hard negatives)
  LabelKind labels = LabelKind::kNone;
  std::string inputs;  // e.g. "(anchor, positive) pairs | none"
  bool in_batch_negatives = false;
};

/// Embedding-level input: this rank's rows.
struct EmbeddingBatch {
  std::vector<at::Tensor> columns;  // [B, d] each, in column order
  at::Tensor labels;                // see LabelKind; undefined when none
  std::vector<at::Tensor> guide;    // GIST: guide-model embeddings per column (no grad)
  /// Every rank's row count in rank order, from the batch plan (model::Batch::rank_rows); in-batch
  /// losses gather with it and exchange no sizes. Empty: unknown (the gather exchanges them).
  std::vector<int64_t> rank_rows;
};

/// A label value the loss cannot take: its position in the batch and why.
struct LabelProblem {
  int64_t row = 0;
  std::string message;
};

struct LossContext {
  std::shared_ptr<distributed::Communicator> comm = distributed::make_local_communicator();
  /// In-batch-negative losses gather candidates from every rank. Defaults on; sentence-transformers
  /// defaults it off, which at world size > 1 silently shrinks the negatives to the local batch.
  bool gather_across_devices = true;
};

class Loss {
 public:
  virtual ~Loss() = default;
  virtual const LossSpec& spec() const = 0;

  /// Differentiable scalar on embeddings: the mean over this rank's anchors (global candidates).
  virtual at::Tensor compute(const EmbeddingBatch& batch) = 0;

  /// Embeds every column with `model` (in train mode as the model is), then compute().
  virtual at::Tensor forward(model::SentenceEncoder& model, const model::Batch& batch);

  /// forward + backward of the loss; returns the detached loss. Cached (GradCache) losses
  /// override this to embed in mini-batches. Callers all-reduce parameter gradients afterwards.
  /// Every override calls notify_final_backward() right before its last backward.
  virtual at::Tensor forward_backward(model::SentenceEncoder& model, const model::Batch& batch);

  /// Called (if set) right before the backward after which forward_backward changes no parameter
  /// gradient: the trainer arms its overlapped gradient averager with it, so that GradCache's
  /// per-mini-batch backwards start no all-reduce and only the last one does. Cleared with {}.
  void set_final_backward_callback(std::function<void()> callback) { final_backward_ = std::move(callback); }

  /// Inputs the loss derives from the batch itself, without gradient, before compute() (GIST's guide
  /// embeddings). forward() and the wrappers (GradCache, Matryoshka, AdaptiveLayer) call it.
  virtual void add_side_inputs(model::SentenceEncoder& /*model*/, const model::Batch& /*batch*/,
                               EmbeddingBatch& /*embeddings*/) {}

  /// Checks label values on the host (SoftmaxLoss: classes in [0, num_labels)); by default every value
  /// is fine. Training runs it on the prefetch thread before the labels reach the device, so a step
  /// reads nothing back for it; validate() runs it where the labels already are on the host.
  virtual std::optional<LabelProblem> label_problem(const at::Tensor& /*host_labels*/) const { return std::nullopt; }

  /// Trainable parameters the loss owns (SoftmaxLoss classifier, DAE decoder); saved with the model.
  virtual std::vector<at::Tensor> parameters() { return {}; }
  /// parameters() with names (SoftmaxLoss: "classifier.weight", ...); the default names them by position.
  virtual std::vector<std::pair<std::string, at::Tensor>> named_parameters() {
    std::vector<std::pair<std::string, at::Tensor>> named;
    for (auto& p : parameters()) named.emplace_back(std::to_string(named.size()), p);
    return named;
  }

  /// Checks column count and label kind; the error lists the spec's Inputs.
  void validate(const EmbeddingBatch& batch) const;
  void validate(const model::Batch& batch) const;

 protected:
  void notify_final_backward() {
    if (final_backward_) final_backward_();
  }

 private:
  std::function<void()> final_backward_;
};

/// Embeds one token batch.
at::Tensor embed(model::SentenceEncoder& model, const model::TokenBatch& batch);
/// Embeds every column with ONE encoder forward over all their rows (stacked, padded to the widest)
/// and splits the result back per column; the building block of forward().
std::vector<at::Tensor> embed_columns(model::SentenceEncoder& model, const std::vector<model::TokenBatch>& columns);

}  // namespace negatron::losses
