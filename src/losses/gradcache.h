#pragma once
// GradCache: the one mechanism behind every cached loss (Gao et al. 2021). It wraps any loss and
// bounds activation memory by the mini-batch, not the batch:
//   (1) embed each column in mini-batches without grad, saving the RNG state before each one;
//   (2) compute the wrapped loss on the detached, concatenated embeddings and backward
//       loss * scale to get d(loss * scale) / d(embedding) (the cache);
//   (3) re-embed each mini-batch with grad, replaying its RNG state so dropout masks match, and
//       backward(embedding, cached gradient).
// The last mini-batch is the exception: step (1) embeds it with grad and keeps its graph, and step
// (3) backwards it first without a second forward (one forward fewer per step; its activations
// live through step (2), so the peak grows by at most one mini-batch's activations while the
// loss runs).
// Loss and gradients equal the wrapped loss's (same dropout masks per mini-batch). Parameter
// gradients accumulate over mini-batches; the caller all-reduces them afterwards, once.
// Registered (register_cached_loss, next to each plain loss): CachedMultipleNegativesRankingLoss,
// CachedMultipleNegativesSymmetricRankingLoss, CachedGISTEmbedLoss = GradCache around the plain loss
// of the same parameters, plus GradCacheOptions' (mini_batch_size, mini_batch_num_tokens, ...).
// Distributed: the wrapped loss gathers in step (2); its gather backward hands each rank the
// gradient of its own rows, so step (3) is local.
// Reference: sentence_transformers/base/losses/gradcache.py (ST 6.0.1), which keeps one
// RandContext per mini-batch and trims trailing padding columns of each mini-batch (so do we).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "losses/loss.h"
#include "losses/registry.h"

namespace negatron::losses {

struct GradCacheOptions {
  int64_t mini_batch_size = 32;
  std::optional<int64_t> mini_batch_num_tokens;
  bool show_progress_bar = false;
  template <class V>
  void visit(V& v) {
    v("mini_batch_size", mini_batch_size, "rows per mini-batch (> 0)");
    v("mini_batch_num_tokens", mini_batch_num_tokens,
      "cut mini-batches by token count instead, each holding at least one row (null: by rows)");
    v("show_progress_bar", show_progress_bar, "accepted for sentence-transformers compatibility; ignored");
  }
  void validate() const;
};

/// Row ranges [begin, end) of the mini-batches of one column.
std::vector<std::pair<int64_t, int64_t>> mini_batch_ranges(const model::TokenBatch& batch,
                                                           const GradCacheOptions& options);

/// The default generators' states (CPU, and the device's when it is not the CPU).
struct RngState {
  at::Tensor cpu;
  at::Tensor device_state;
  std::optional<at::Device> device;
};
RngState capture_rng(const at::Device& device);
void restore_rng(const RngState& state);

class GradCacheLoss : public Loss {
 public:
  GradCacheLoss(std::unique_ptr<Loss> inner, GradCacheOptions options, std::string name);
  const LossSpec& spec() const override { return spec_; }
  /// Embedding level: the wrapped loss, unchanged.
  at::Tensor compute(const EmbeddingBatch& batch) override { return inner_->compute(batch); }
  /// Evaluation: embeds in mini-batches without grad; the result has no graph to the parameters
  /// (train with forward_backward).
  at::Tensor forward(model::SentenceEncoder& model, const model::Batch& batch) override;
  at::Tensor forward_backward(model::SentenceEncoder& model, const model::Batch& batch) override;
  void add_side_inputs(model::SentenceEncoder& model, const model::Batch& batch, EmbeddingBatch& embeddings) override {
    inner_->add_side_inputs(model, batch, embeddings);
  }
  std::vector<at::Tensor> parameters() override { return inner_->parameters(); }
  std::optional<LabelProblem> label_problem(const at::Tensor& labels) const override { return inner_->label_problem(labels); }

  const GradCacheOptions& options() const { return options_; }
  Loss& inner() { return *inner_; }
  /// For wrappers that must sit inside the cache (MatryoshkaLoss around a cached loss becomes
  /// GradCache(Matryoshka(plain))).
  std::unique_ptr<Loss> release_inner() { return std::move(inner_); }

 private:
  /// Step (1). `last_with_graph`: if given, the last mini-batch of the last column is embedded with
  /// grad and returned there too (its detached copy is in the result like the others).
  std::vector<std::vector<at::Tensor>> embed_no_grad(model::SentenceEncoder& model, const model::Batch& batch,
                                                     std::vector<std::vector<RngState>>* states,
                                                     at::Tensor* last_with_graph);

  std::unique_ptr<Loss> inner_;
  GradCacheOptions options_;
  LossSpec spec_;
};

/// The parameters of a cached loss: its plain loss's, then GradCache's.
template <class Plain>
struct CachedLossOptions {
  Plain loss;
  GradCacheOptions cache;
  template <class V>
  void visit(V& v) {
    loss.visit(v);
    cache.visit(v);
  }
  void validate() {
    if constexpr (detail::HasValidate<Plain>::value) loss.validate();
    cache.validate();
  }
};

/// Registers `cached_name`: GradCache around the loss `make_plain` builds, with the parameters of both.
template <class Plain>
bool register_cached_loss(const std::string& cached_name,
                          std::unique_ptr<Loss> (*make_plain)(const Plain&, const LossArgs&)) {
  using Options = CachedLossOptions<Plain>;
  return register_loss(cached_name, declared_loss<Options>(cached_name, [cached_name, make_plain](
                                                                             const Options& o, const LossArgs& args) {
    return std::unique_ptr<Loss>(std::make_unique<GradCacheLoss>(make_plain(o.loss, args), o.cache, cached_name));
  }));
}

}  // namespace negatron::losses
