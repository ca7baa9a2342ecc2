#include "losses/batch_triplet_common.h"

#include "common/check.h"
#include "losses/similarity.h"

namespace negatron::losses {
namespace {

class BatchTripletLoss : public Loss {
 public:
  BatchTripletLoss(std::string name, BatchTripletFn fn, BatchTripletOptions options) : fn_(fn), options_(options) {
    spec_.name = std::move(name);
    spec_.labels = LabelKind::kInt64;
    spec_.inputs = "single sentences | class label (int)";
  }
  const LossSpec& spec() const override { return spec_; }
  at::Tensor compute(const EmbeddingBatch& batch) override {
    validate(batch);
    return fn_(batch.columns[0], batch.labels.to(batch.columns[0].device()), options_);
  }

 private:
  LossSpec spec_;
  BatchTripletFn fn_;
  BatchTripletOptions options_;
};

}  // namespace

BatchDistance batch_distance_by_name(const std::string& name, const std::string& loss) {
  std::string bare = name;
  const std::string prefix = "BatchHardTripletLossDistanceFunction.";
  if (bare.rfind(prefix, 0) == 0) bare = bare.substr(prefix.size());
  if (bare == "euclidean_distance" || bare == "eucledian_distance") return BatchDistance::kEuclidean;
  if (bare == "cosine_distance") return BatchDistance::kCosine;
  NEG_FAIL(loss, ": parameter 'distance_metric' is '", name,
           "' (valid: euclidean_distance (alias eucledian_distance), cosine_distance)");
}

at::Tensor batch_distance_matrix(const at::Tensor& embeddings, BatchDistance metric) {
  if (metric == BatchDistance::kCosine) return 1 - cos_sim(embeddings, embeddings);
  const at::Tensor dot = at::mm(embeddings, embeddings.t());
  const at::Tensor square_norm = at::diag(dot);
  at::Tensor distances = square_norm.unsqueeze(0) - 2.0 * dot + square_norm.unsqueeze(1);
  distances = distances.masked_fill(distances < 0, 0);
  // sqrt has an infinite slope at 0: add a tiny offset there and mask the result (as ST does).
  const at::Tensor zero = distances.eq(0).to(at::kFloat);
  distances = distances + zero * 1e-16;
  return (1.0 - zero) * at::sqrt(distances);
}

at::Tensor anchor_positive_mask(const at::Tensor& labels) {
  const at::Tensor not_self = at::eye(labels.size(0), labels.options().dtype(at::kBool)).logical_not();
  return (labels.unsqueeze(0) == labels.unsqueeze(1)) & not_self;
}

at::Tensor anchor_negative_mask(const at::Tensor& labels) { return labels.unsqueeze(0) != labels.unsqueeze(1); }

LossFactory batch_triplet_factory(const std::string& name, BatchTripletFn fn, bool has_margin) {
  return [name, fn, has_margin](const LossArgs& args) -> std::unique_ptr<Loss> {
    ParamReader params(name, args.params);
    BatchTripletOptions options;
    options.distance_metric =
        batch_distance_by_name(params.get<std::string>("distance_metric", "euclidean_distance"), name);
    if (has_margin) options.margin = params.get<double>("margin", options.margin);
    params.finish();
    return std::make_unique<BatchTripletLoss>(name, fn, options);
  };
}

}  // namespace negatron::losses
