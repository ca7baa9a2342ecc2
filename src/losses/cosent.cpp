#include "losses/cosent.h"

#include "distributed/gather.h"
#include "losses/registry.h"

namespace negatron::losses {
namespace {

class CoSENTLoss : public Loss {
 public:
  /// `tuples`: AnglELoss's (anchor, positive, negatives...) form with optional labels.
  CoSENTLoss(std::string name, double scale, SimilarityFn similarity, bool tuples, LossContext context)
      : scale_(scale), similarity_(similarity), tuples_(tuples), context_(std::move(context)) {
    spec_ = {std::move(name), 2, tuples ? -1 : 2, LabelKind::kFloat32,
             tuples ? "(sentence_A, sentence_B) pairs | float similarity score; or (anchor, positive, negative_1, "
                      "...) | none"
                    : "(sentence_A, sentence_B) pairs | float similarity score"};
  }
  const LossSpec& spec() const override { return spec_; }

  at::Tensor compute(const EmbeddingBatch& batch) override {
    if (tuples_ && batch.columns.size() > 2 && !batch.labels.defined()) {
      EmbeddingBatch labelled = batch;
      labelled.labels = at::ones({batch.columns[0].size(0)}, batch.columns[0].options().dtype(at::kFloat));
      return compute(labelled);
    }
    validate(batch);
    if (batch.columns.size() == 2) return global_loss(similarity_(batch.columns[0], batch.columns[1]), batch.labels);
    // (anchor, candidate_k) pairs, k = 1..n: the positive keeps the row's label, negatives get 1 - label.
    const int64_t negatives = static_cast<int64_t>(batch.columns.size()) - 2;
    const at::Tensor anchors = batch.columns[0].repeat({negatives + 1, 1});
    const at::Tensor candidates = at::cat(at::TensorList(batch.columns).slice(1), 0);
    const at::Tensor labels = at::cat({batch.labels, (1 - batch.labels).repeat({negatives})}, 0);
    return global_loss(similarity_(anchors, candidates), labels);
  }

  // Every pair of the global batch is ranked against every other, so the pair scores (with their
  // gradients) and labels of all ranks are gathered; each rank then holds the whole-batch loss.
  at::Tensor global_loss(const at::Tensor& local_scores, const at::Tensor& local_labels) {
    if (!context_.gather_across_devices) return cosent_from_scores(local_scores * scale_, local_labels);
    const at::Tensor scores = distributed::all_gather_with_grad(*context_.comm, local_scores).global;
    const at::Tensor labels = distributed::all_gather_no_grad(*context_.comm, local_labels).global;
    return cosent_from_scores(scores * scale_, labels);
  }

  at::Tensor forward(model::SentenceEncoder& model, const model::Batch& batch) override {
    if (!tuples_ || batch.columns.size() <= 2 || batch.labels.defined()) return Loss::forward(model, batch);
    model::Batch labelled = batch;
    labelled.labels = at::ones({batch.columns[0].input_ids.size(0)}, at::kFloat);
    return Loss::forward(model, labelled);
  }

 private:
  LossSpec spec_;
  double scale_;
  SimilarityFn similarity_;
  bool tuples_;
  LossContext context_;
};

std::unique_ptr<Loss> make_cosent(const CoSENTOptions& options, const LossArgs& args) {
  return std::make_unique<CoSENTLoss>("CoSENTLoss", options.scale, cosent_similarity(options.similarity_fct), false,
                                      args.context);
}

std::unique_ptr<Loss> make_angle(const AnglEOptions& options, const LossArgs& args) {
  return std::make_unique<CoSENTLoss>("AnglELoss", options.scale, pairwise_angle_sim, true, args.context);
}

}  // namespace

at::Tensor pairwise_angle_sim(const at::Tensor& x_in, const at::Tensor& y_in) {
  at::Tensor x = x_in, y = y_in;
  if (x.size(1) % 2 != 0) {  // odd width: pad one zero so the halves are the same size
    x = at::constant_pad_nd(x, {0, 1}, 0);
    y = at::constant_pad_nd(y, {0, 1}, 0);
  }
  const auto xs = x.chunk(2, 1), ys = y.chunk(2, 1);
  const at::Tensor &a = xs[0], &b = xs[1], &c = ys[0], &d = ys[1];
  const at::Tensor z = (c.pow(2) + d.pow(2)).sum(1, true);
  at::Tensor re = (a * c + b * d) / z;
  at::Tensor im = (b * c - a * d) / z;
  const at::Tensor dz = (a.pow(2) + b.pow(2)).sum(1, true).pow(0.5);
  const at::Tensor dw = (c.pow(2) + d.pow(2)).sum(1, true).pow(0.5);
  re = re / (dz / dw);
  im = im / (dz / dw);
  return at::cat({re, im}, 1).sum(1).abs();
}

SimilarityFn cosent_similarity(const std::string& name) {
  if (name == "pairwise_angle_sim" || name == "angle") return pairwise_angle_sim;
  return pairwise_similarity_by_name(name, "parameter 'similarity_fct' (or pairwise_angle_sim)");
}

void CoSENTOptions::validate() const { cosent_similarity(similarity_fct); }

at::Tensor cosent_from_scores(const at::Tensor& scaled_scores, const at::Tensor& labels) {
  at::Tensor scores = scaled_scores.unsqueeze(1) - scaled_scores.unsqueeze(0);  // [i, j] = s_i - s_j
  const at::Tensor ordered = (labels.unsqueeze(1) < labels.unsqueeze(0)).to(at::kFloat);
  scores = scores - (1 - ordered) * 1e12;  // unordered pairs drop out of the logsumexp
  scores = at::cat({at::zeros({1}, scores.options()), scores.reshape(-1)}, 0);
  return at::logsumexp(scores, {0});
}

NEGATRON_REGISTER_LOSS("CoSENTLoss", make_cosent);
NEGATRON_REGISTER_LOSS("AnglELoss", make_angle);

}  // namespace negatron::losses
