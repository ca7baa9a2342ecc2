#include "losses/triplet.h"

#include <algorithm>
#include <cctype>

#include "losses/registry.h"
#include "losses/similarity.h"

namespace negatron::losses {
namespace {

at::Tensor distance(const at::Tensor& a, const at::Tensor& b, TripletDistance metric) {
  switch (metric) {
    case TripletDistance::kEuclidean: return -pairwise_euclidean_sim(a, b);
    case TripletDistance::kCosine: return 1 - pairwise_cos_sim(a, b);
    case TripletDistance::kManhattan: return -pairwise_manhattan_sim(a, b);
  }
  NEG_FAIL("unknown TripletDistance");
}

TripletDistance triplet_distance_by_name(const std::string& name) {
  std::string bare = name;
  const std::string prefix = "TripletDistanceMetric.";
  if (bare.rfind(prefix, 0) == 0) bare = bare.substr(prefix.size());
  std::transform(bare.begin(), bare.end(), bare.begin(), [](unsigned char c) { return std::toupper(c); });
  if (bare == "EUCLIDEAN") return TripletDistance::kEuclidean;
  if (bare == "COSINE") return TripletDistance::kCosine;
  if (bare == "MANHATTAN") return TripletDistance::kManhattan;
  NEG_FAIL("TripletLoss: parameter 'distance_metric' is '", name, "' (valid: EUCLIDEAN, COSINE, MANHATTAN)");
}

class TripletLoss : public Loss {
 public:
  TripletLoss(TripletDistance metric, double margin) : metric_(metric), margin_(margin) {
    spec_ = {"TripletLoss", 3, 3, LabelKind::kNone, "(anchor, positive, negative) triplets | none"};
  }
  const LossSpec& spec() const override { return spec_; }
  at::Tensor compute(const EmbeddingBatch& batch) override {
    validate(batch);
    return triplet_loss(batch.columns[0], batch.columns[1], batch.columns[2], metric_, margin_);
  }

 private:
  LossSpec spec_;
  TripletDistance metric_;
  double margin_;
};

std::unique_ptr<Loss> make_triplet(const LossArgs& args) {
  ParamReader params("TripletLoss", args.params);
  const TripletDistance metric = triplet_distance_by_name(params.get<std::string>("distance_metric", "EUCLIDEAN"));
  const double margin = params.get<double>("triplet_margin", 5.0);
  params.finish();
  return std::make_unique<TripletLoss>(metric, margin);
}

}  // namespace

at::Tensor triplet_loss(const at::Tensor& anchor, const at::Tensor& positive, const at::Tensor& negative,
                        TripletDistance metric, double margin) {
  return at::relu(distance(anchor, positive, metric) - distance(anchor, negative, metric) + margin).mean();
}

NEGATRON_REGISTER_LOSS("TripletLoss", make_triplet);

}  // namespace negatron::losses
